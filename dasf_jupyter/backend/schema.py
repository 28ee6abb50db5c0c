"""The schema of a backend module: request parsing, calls, ``info`` and ``api_info`` answers.

Models and JSON schemas follow the reference (demessaging): ``Func<Name>`` for functions,
``Class<Name>`` with a nested ``function`` for class methods (``MethClass<Class><Method>``),
and the module union titled by the topic.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Union

from pydantic import Field, RootModel, ValidationError, create_model

from ..errors import DasfError
from .members import load_members
from .schema_config import MemberConfig, configure
from .schema_models import ClassEntry, FunctionEntry, build_class, build_function
from .schema_params import ParamSpec, SchemaError

__all__ = [
    "BoundCall",
    "MemberConfig",
    "ModuleSchema",
    "RequestValidationError",
    "ResultValidationError",
    "SchemaError",
    "configure",
    "load_members",
]

PREFIX = "error validating request: "


class RequestValidationError(DasfError, ValueError):
    """A request does not match the module's schema; ``str()`` is a readable report."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        self.errors = errors or []
        super().__init__(PREFIX + message)


class ResultValidationError(DasfError, ValueError):
    """A function's return value does not match its return annotation."""


def _readable(exc: ValidationError, where: str) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(request)"
        got = "" if err["type"] == "missing" else f" (got {err.get('input')!r:.80})"
        lines.append(f"{where}: {loc}: {err['msg']}{got}")
    return "; ".join(lines)


def _kwargs(
    params: list[ParamSpec], model: Any, reporter: Any, caller: Any = None
) -> tuple[list, dict]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in params:
        if p.is_caller:
            if caller is None and p.default is not inspect.Parameter.empty:
                continue  # unsigned request: the function's own default applies
            value = caller
        elif p.is_reporter:
            value = reporter if reporter is not None else _reporter_default(p)
        else:
            value = getattr(model, p.name)
        if p.positional_only:
            args.append(value)
        else:
            kwargs[p.name] = value
    return args, kwargs


def _reporter_default(p: ParamSpec) -> Any:
    return None if p.default is inspect.Parameter.empty else p.default


class BoundCall:
    """A validated request, ready to run."""

    member: str  #: function name, or class name
    method: str | None  #: method name for class calls
    reporter_param: str | None  #: name of the progress-reporter parameter, if any

    def __init__(
        self,
        entry: FunctionEntry,
        model: Any,
        cls_entry: ClassEntry | None = None,
        ctor_model: Any = None,
    ) -> None:
        self._entry = entry
        self._model = model
        self._cls_entry = cls_entry
        self._ctor_model = ctor_model
        self.member = cls_entry.name if cls_entry else entry.name
        self.method = entry.name if cls_entry else None
        ctor_reporter = cls_entry.signature.reporter_param if cls_entry else None
        self.reporter_param = entry.signature.reporter_param or ctor_reporter
        #: a parameter needs the verified caller, so unsigned requests cannot run
        self.needs_caller = entry.signature.needs_caller or bool(
            cls_entry and cls_entry.signature.needs_caller
        )

    def execute(self, reporter: Any = None, caller: Any = None) -> Any:
        """Run the function (or construct the class and call the method).

        ``caller`` (the verified :class:`~dasf_jupyter.security.Caller` or None) goes to
        parameters annotated ``Caller``.
        """
        args, kwargs = _kwargs(self._entry.signature.params, self._model, reporter, caller)
        if self._cls_entry is None:
            return self._entry.func(*args, **kwargs)
        c_args, c_kwargs = _kwargs(
            self._cls_entry.signature.params, self._ctor_model, reporter, caller
        )
        instance = self._cls_entry.cls(*c_args, **c_kwargs)
        return getattr(instance, self._entry.name)(*args, **kwargs)

    def encode_result(self, value: Any) -> Any:
        """Validate ``value`` against the return annotation and return it JSON-able."""
        try:
            return self._entry.encode_result(value)
        except ValidationError as exc:
            where = f"{self.member}.{self.method}" if self.method else self.member
            raise ResultValidationError(
                "the return value does not match the return annotation: " + _readable(exc, where)
            ) from None

    def __repr__(self) -> str:
        target = f"{self.member}.{self.method}" if self.method else self.member
        return f"BoundCall({target})"


class ModuleSchema:
    """Functions and classes of a backend module, as pydantic models and JSON schemas."""

    def __init__(
        self,
        topic: str,
        members: Sequence[Callable | type],
        description: str | None = None,
        config: Mapping[str, MemberConfig] | None = None,
    ) -> None:
        if not members:
            raise SchemaError(f"module {topic!r}: no functions or classes to serve")
        config = dict(config or {})
        self.topic = topic
        self.description = description
        self.members: dict[str, Callable | type] = {}
        self.functions: dict[str, FunctionEntry] = {}
        self.classes: dict[str, ClassEntry] = {}
        for member in members:
            self._add(member, config)
        self._union = self._build_union()
        self._api_info: dict | None = None

    def _add(self, member: Callable | type, config: dict[str, MemberConfig]) -> None:
        name = getattr(member, "__name__", None)
        if not name or not callable(member):
            raise SchemaError(f"module {self.topic!r}: cannot serve {member!r}")
        if name in self.members:
            raise SchemaError(f"module {self.topic!r}: two members are called {name!r}")
        if inspect.isclass(member):
            self.classes[name] = build_class(member, config.get(name), config)
        else:
            self.functions[name] = build_function(member, config.get(name))
        self.members[name] = member

    def _build_union(self) -> type[RootModel]:
        models = [
            (self.classes[n] if n in self.classes else self.functions[n]).model
            for n in self.members
        ]
        union: Any = Union[tuple(models)]  # noqa: UP007
        model = create_model(
            "ModuleRequest",
            __base__=RootModel,
            root=(union, Field(description="The member to call.")),
        )
        model.model_config["title"] = self.topic
        return model

    def info_schema(self) -> dict:
        """JSON schema of the whole request union (the reference's ``info`` answer)."""
        return self._union.model_json_schema()

    def api_info(self) -> dict:
        """The reference's ``ModuleAPIModel``: classes, functions and the request schema."""
        if self._api_info is None:
            self._api_info = {
                "classes": [self.classes[n].api_info() for n in self.members if n in self.classes],
                "functions": [
                    self.functions[n].api_info() for n in self.members if n in self.functions
                ],
                "rpc_schema": self.info_schema(),
            }
        return json.loads(json.dumps(self._api_info))  # a fresh copy callers may change

    def parse_request(self, data: Any) -> BoundCall:
        """Validate a decoded request; raises RequestValidationError with a readable report."""
        data = _as_object(data)
        if "class_name" in data:
            return self._parse_class_call(data)
        if "func_name" not in data:
            raise RequestValidationError(
                "the request names no member: expected 'func_name' or 'class_name'; "
                f"this module offers {self._offer()}"
            )
        name = data["func_name"]
        entry = self.functions.get(name) if isinstance(name, str) else None
        if entry is None:
            raise RequestValidationError(
                f"unknown function {name!r}; this module offers {self._offer()}"
            )
        return BoundCall(entry, _validate(entry.model, data, name))

    def _parse_class_call(self, data: dict) -> BoundCall:
        name = data["class_name"]
        cls_entry = self.classes.get(name) if isinstance(name, str) else None
        if cls_entry is None:
            raise RequestValidationError(
                f"unknown class {name!r}; this module offers {self._offer()}"
            )
        call = data.get("function")
        methods = ", ".join(repr(m) for m in cls_entry.methods)
        if not isinstance(call, dict) or "func_name" not in call:
            raise RequestValidationError(
                f"{name}: 'function' must be an object with 'func_name' (one of {methods})"
            )
        entry = (
            cls_entry.methods.get(call["func_name"])
            if isinstance(call["func_name"], str)
            else None
        )
        if entry is None:
            raise RequestValidationError(
                f"unknown method {call['func_name']!r} of {name}; available: {methods}"
            )
        ctor_data = {k: v for k, v in data.items() if k != "function"}
        # validate both parts so one report names every wrong field
        problems: list[RequestValidationError] = []
        parts = []
        for model, part, where in (
            (cls_entry.constructor_model, ctor_data, name),
            (entry.model, call, f"{name}.{entry.name}"),
        ):
            try:
                parts.append(_validate(model, part, where))
            except RequestValidationError as exc:
                problems.append(exc)
        if problems:
            raise RequestValidationError(
                "; ".join(str(p).removeprefix(PREFIX) for p in problems),
                [e for p in problems for e in p.errors],
            )
        return BoundCall(entry, parts[1], cls_entry, parts[0])

    def _offer(self) -> str:
        parts = [f"function {n!r}" for n in self.functions]
        parts += [f"class {n!r}" for n in self.classes]
        return ", ".join(parts)


def _as_object(data: Any) -> dict:
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RequestValidationError(f"the request is not UTF-8 text: {exc}") from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise RequestValidationError(f"the request is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RequestValidationError(
            f"the request must be a JSON object, got {type(data).__name__}"
        )
    return data


def _validate(model: Any, data: dict, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: list[dict[str, Any]] = [dict(e) for e in exc.errors(include_url=False)]
        raise RequestValidationError(_readable(exc, where), errors) from None
