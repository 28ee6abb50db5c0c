"""Progress reports and printed output that a running call sends back to its caller."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from .output import LogSink, forward_output
from .progress import ProgressReporter

#: publishes one progress report with its status
ProgressSink = Callable[[dict[str, Any], str], None]


def reporter_for(bound: Any, data: Any, sink: ProgressSink) -> ProgressReporter | None:
    """The reporter passed to a call that takes one (``bound.reporter_param``), else None.

    ``data`` is the decoded request: the caller may send the report to start from.
    """
    param = getattr(bound, "reporter_param", None)
    if not param:
        return None
    is_method = getattr(bound, "method", None) is not None
    config = _reporter_config(data, param, is_method)
    name = getattr(bound, "method", None) or getattr(bound, "member", None) or ""
    return ProgressReporter.from_request(config, sink, default_message=str(name))


def forwarding(sink: LogSink | None) -> AbstractContextManager[Any]:
    """A scope in which printed output and logging go to ``sink`` (none if ``sink`` is None)."""
    return nullcontext() if sink is None else forward_output(sink)


def _reporter_config(data: Any, param: str, is_method: bool) -> Any:
    """The report object the caller sent for the reporter parameter, if any."""
    if not isinstance(data, dict):
        return None
    if is_method and isinstance(data.get("function"), dict) and param in data["function"]:
        return data["function"][param]
    return data.get(param)
