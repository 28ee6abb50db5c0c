"""Forms wired to a connection: the runner calls the module and feeds the progress bar."""

from __future__ import annotations

from typing import Any

from ..client import Connection, RemoteModule
from .forms import ProgressSink, form_for


def request_runner(module: RemoteModule, timeout: float | None = None) -> Any:
    """A form runner that sends the form's request through the module's stubs.

    The stubs encode arguments by schema (xarray, dates …) and decode the result, exactly as
    a call from code would.
    """

    def run(request: dict[str, Any], sink: ProgressSink) -> Any:
        args = dict(request)
        if "class_name" in args:
            cls = module[args.pop("class_name")]
            method_args = dict(args.pop("function"))
            method = getattr(cls(**args), method_args.pop("func_name"))
            return method.options(timeout=timeout, on_progress=sink.update)(**method_args)
        function: Any = module[args.pop("func_name")]  # a function's name: a RemoteFunction
        return function.options(timeout=timeout, on_progress=sink.update)(**args)

    return run


def module_form(
    connection: Connection,
    topic: str,
    member: str | None,
    namespace: dict[str, Any],
    timeout: float | None = None,
) -> Any:
    """The form for ``member`` (function, class, ``Class.method``) or the whole module."""
    module = connection.module(topic)
    runner = request_runner(module, timeout)
    return form_for(module.api_info, member, namespace=namespace, runner=runner)
