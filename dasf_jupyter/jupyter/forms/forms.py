"""Forms for one function, one class (constructor + method) and a whole module."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from .fields.base import HELP_STYLE, LABEL_WIDTH, FieldContext, InvalidInput
from .group import FieldGroup
from .progress import ProgressSink
from .run_panel import Runner, RunPanel
from .schema import collect_defs


def user_namespace() -> dict[str, Any]:
    """The notebook's variables when running in IPython, else a fresh dict."""
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    return shell.user_ns if shell is not None else {}


def _header(title: str, description: str) -> w.HTML:
    text = f"<h4 style='margin:4px 0'>{html.escape(title)}</h4>"
    if description:
        text += f"<div style='{HELP_STYLE};white-space:pre-wrap'>{html.escape(description)}</div>"
    return w.HTML(text)


class _RunnableForm(w.VBox):
    """What function and class forms share: fields, validation and a run panel."""

    run_panel: RunPanel
    name: str

    def __repr__(self) -> str:
        # the text/plain of the cell output: what a saved notebook shows where widgets
        # cannot render (untrusted, no kernel, GitHub), instead of a widget tree dump
        return f"{type(self).__name__} {self.name!r} (run this cell to show the form)"

    @property
    def request(self) -> dict[str, Any]:
        """The request object as sent to the module (discriminators included)."""
        raise NotImplementedError

    def validate(self) -> dict[str, str]:
        """``{field path: message}``; messages appear next to the fields; empty = valid."""
        raise NotImplementedError

    def fill(self, values: dict[str, Any]) -> None:
        """Put ``values`` (Python or JSON values, by argument name) into the fields."""
        raise NotImplementedError

    def run(self) -> bool:
        """Validate and start the call in the background (as the Run button does)."""
        return self.run_panel.run()

    def wait(self, timeout: float) -> bool:
        """Block until the running call finished or was abandoned; ``False`` on timeout."""
        return self.run_panel.wait(timeout)

    @property
    def result(self) -> Any:
        """The result of the last finished call."""
        return self.run_panel.result

    @property
    def error(self) -> BaseException | None:
        """The error of the last finished call, if it failed."""
        return self.run_panel.error

    @property
    def result_name(self) -> w.Text:
        """The variable name the result is stored under in the namespace."""
        return self.run_panel.result_name

    @property
    def run_button(self) -> w.Button:
        return self.run_panel.run_button

    @property
    def cancel_button(self) -> w.Button:
        return self.run_panel.cancel_button

    @property
    def progress(self) -> w.IntProgress:
        return self.run_panel.progress

    @property
    def output(self) -> w.Output:
        return self.run_panel.output


class FunctionForm(_RunnableForm):
    """A form for one function of a module: one field per argument, Run, progress, result.

    ``runner(request, sink)`` receives the request object (``{"func_name": ..., **value}``)
    and a :class:`ProgressSink`; it runs on a worker thread and returns the result.
    """

    def __init__(
        self,
        function_api: dict[str, Any],
        *,
        defs: dict[str, Any] | None = None,
        namespace: dict[str, Any] | None = None,
        runner: Runner | None = None,
        title: str | None = None,
    ) -> None:
        self.api = function_api
        self.name: str = function_api["name"]
        schema = function_api.get("rpc_schema") or {}
        self.namespace = user_namespace() if namespace is None else namespace
        ctx = FieldContext(
            defs=collect_defs({"$defs": defs or {}}, schema), namespace=self.namespace
        )
        self.fields = FieldGroup(schema, ctx)
        self.run_panel = RunPanel(
            request=lambda: self.request,
            validate=self.validate,
            runner=runner,
            namespace=self.namespace,
            result_name=f"{self.name}_result",
        )
        header = _header(title or self.name, str(schema.get("description") or ""))
        super().__init__(children=[header, self.fields, self.run_panel])

    @property
    def value(self) -> dict[str, Any]:
        """The current arguments as Python values (empty optional ones left out)."""
        return self.fields.value

    @property
    def request(self) -> dict[str, Any]:
        return {"func_name": self.name, **self.value}

    def fill(self, values: dict[str, Any]) -> None:
        self.fields.set_value(values)

    def validate(self) -> dict[str, str]:
        return self.fields.validate()


class ClassForm(_RunnableForm):
    """A form for a class: constructor fields, a method selector and that method's fields."""

    def __init__(
        self,
        class_api: dict[str, Any],
        *,
        defs: dict[str, Any] | None = None,
        namespace: dict[str, Any] | None = None,
        runner: Runner | None = None,
        title: str | None = None,
        method: str | None = None,
    ) -> None:
        self.api = class_api
        self.name: str = class_api["name"]
        schema = class_api.get("rpc_schema") or {}
        self.namespace = user_namespace() if namespace is None else namespace
        self._methods = {m["name"]: m for m in class_api.get("methods", [])}
        if not self._methods:
            raise ValueError(f"class {self.name!r} has no methods to call")
        self._ctx = FieldContext(
            defs=collect_defs({"$defs": defs or {}}, schema), namespace=self.namespace
        )
        self.constructor = FieldGroup(schema, self._ctx)
        self._groups: dict[str, FieldGroup] = {}  # kept so switching back keeps the input
        self.method_selector = w.Dropdown(
            options=list(self._methods),
            description="method",
            style={"description_width": LABEL_WIDTH},
        )
        self.method_box = w.VBox()
        self.method_selector.observe(lambda _change: self._show_method(), "value")
        if method is not None:
            self.method_selector.value = method
        self._show_method()
        self.run_panel = RunPanel(
            request=lambda: self.request,
            validate=self.validate,
            runner=runner,
            namespace=self.namespace,
            result_name=f"{self.name.lower()}_result",
        )
        header = _header(title or self.name, str(schema.get("description") or ""))
        ctor_box = w.VBox([w.HTML("<b>constructor</b>"), self.constructor])
        super().__init__(
            children=[header, ctor_box, self.method_selector, self.method_box, self.run_panel]
        )

    @property
    def method_fields(self) -> FieldGroup:
        """The fields of the selected method."""
        return self._groups[self.method_selector.value]

    def _show_method(self) -> None:
        name = self.method_selector.value
        if name not in self._groups:
            method_schema = self._methods[name].get("rpc_schema") or {}
            ctx = FieldContext(
                defs={**self._ctx.defs, **collect_defs(method_schema)},
                namespace=self.namespace,
            )
            self._groups[name] = FieldGroup(method_schema, ctx)
        description = str(self._methods[name].get("rpc_schema", {}).get("description") or "")
        help_line = w.HTML(f"<span style='{HELP_STYLE}'>{html.escape(description)}</span>")
        self.method_box.children = [help_line, self._groups[name]]

    @property
    def value(self) -> dict[str, Any]:
        """``{"class_name", ctor args..., "function": {"func_name", method args...}}``."""
        method = {"func_name": self.method_selector.value, **self.method_fields.value}
        return {"class_name": self.name, **self.constructor.value, "function": method}

    @property
    def request(self) -> dict[str, Any]:
        return self.value

    def fill(self, values: dict[str, Any]) -> None:
        """Fill constructor arguments; a ``function`` entry selects and fills a method."""
        values = dict(values)
        values.pop("class_name", None)
        method = dict(values.pop("function", None) or {})
        self.constructor.set_value(values)
        if "func_name" in method:
            name = method.pop("func_name")
            if name not in self._methods:
                raise InvalidInput(f"class {self.name!r} has no method {name!r}")
            self.method_selector.value = name
        self.method_fields.set_value(method)

    def validate(self) -> dict[str, str]:
        return {**self.constructor.validate(), **self.method_fields.validate("function.")}


class ModuleForm(w.VBox):
    """A member selector over all functions and classes of a module, showing the chosen form."""

    def __init__(
        self,
        api_info: dict[str, Any],
        *,
        namespace: dict[str, Any] | None = None,
        runner: Runner | None = None,
        title: str | None = None,
    ) -> None:
        self.api_info = api_info
        self.namespace = user_namespace() if namespace is None else namespace
        self.runner = runner
        self._defs = collect_defs(api_info.get("rpc_schema"))
        self._apis: dict[str, tuple[type[_RunnableForm], dict[str, Any]]] = {
            f["name"]: (FunctionForm, f) for f in api_info.get("functions", [])
        }
        self._apis.update({c["name"]: (ClassForm, c) for c in api_info.get("classes", [])})
        if not self._apis:
            raise ValueError("the module has no functions or classes")
        self._forms: dict[str, _RunnableForm] = {}
        self.member_selector = w.Dropdown(
            options=list(self._apis),
            description="member",
            style={"description_width": LABEL_WIDTH},
        )
        self.holder = w.VBox()
        self.member_selector.observe(lambda _change: self._show(), "value")
        self._show()
        module_title = title or str((api_info.get("rpc_schema") or {}).get("title") or "")
        super().__init__(children=[_header(module_title, ""), self.member_selector, self.holder])

    def __repr__(self) -> str:
        return f"ModuleForm of {len(self._apis)} members (run this cell to show the form)"

    def form(self, member: str) -> _RunnableForm:
        """The (cached) form of one member."""
        if member not in self._forms:
            cls, api = self._apis[member]
            self._forms[member] = cls(
                api, defs=self._defs, namespace=self.namespace, runner=self.runner
            )
        return self._forms[member]

    @property
    def current(self) -> _RunnableForm:
        """The form of the selected member."""
        return self.form(self.member_selector.value)

    def _show(self) -> None:
        self.holder.children = [self.current]

    @property
    def value(self) -> dict[str, Any]:
        """The selected member's request object."""
        return self.current.request

    def validate(self) -> dict[str, str]:
        return self.current.validate()


def form_for(
    api_info: dict[str, Any], member: str | None = None, **kw: Any
) -> FunctionForm | ClassForm | ModuleForm:
    """A form for ``member`` (``"func"``, ``"Class"`` or ``"Class.method"``) or the module."""
    if member is None:
        return ModuleForm(api_info, **kw)
    defs = collect_defs(api_info.get("rpc_schema"))
    class_name, _, method = member.partition(".")
    for function in api_info.get("functions", []):
        if function["name"] == member:
            return FunctionForm(function, defs=defs, **kw)
    for class_api in api_info.get("classes", []):
        if class_api["name"] == class_name:
            if method and method not in {m["name"] for m in class_api.get("methods", [])}:
                raise ValueError(f"class {class_name!r} has no method {method!r}")
            return ClassForm(class_api, defs=defs, method=method or None, **kw)
    names = [f["name"] for f in api_info.get("functions", [])]
    names += [c["name"] for c in api_info.get("classes", [])]
    raise ValueError(f"the module has no member {member!r}; members: {', '.join(names)}")


__all__ = ["ClassForm", "FunctionForm", "ModuleForm", "ProgressSink", "form_for"]
