"""Function signatures → pydantic fields (one field per parameter)."""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Optional

from pydantic import Field

from ..codecs import pydantic_type_for
from ..errors import MemberSchemaError
from ..security.caller import Caller, caller_parameters
from .docstrings import DocInfo
from .progress import ProgressReporter
from .schema_config import MemberConfig

#: the name this package has always raised (and users catch)
SchemaError = MemberSchemaError


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a served callable."""

    name: str
    positional_only: bool
    is_reporter: bool
    default: Any  #: ``inspect.Parameter.empty`` when required
    #: filled with the verified caller, never part of the schema
    is_caller: bool = False
    #: a ``Caller`` (not ``Caller | None``) parameter: unsigned requests are refused
    caller_required: bool = False


@dataclass
class SignatureFields:
    """The pydantic fields of a callable, plus what is needed to call it."""

    fields: dict[str, tuple[Any, Any]]
    params: list[ParamSpec]

    @property
    def reporter_param(self) -> str | None:
        return next((p.name for p in self.params if p.is_reporter), None)

    @property
    def needs_caller(self) -> bool:
        """True if a parameter must receive a verified caller (``Caller``, no default)."""
        return any(p.caller_required for p in self.params)


def snake_to_camel(*words: str) -> str:
    """``("Func", "make_da")`` → ``"FuncMakeDa"`` (the reference's model names)."""
    parts = [p for w in words for p in w.split("_")]
    return "".join(p[:1].upper() + p[1:] for p in parts)


def discriminator_field(key: str, name: str) -> tuple[Any, Any]:
    """The ``func_name``/``class_name`` constant that selects a member."""
    return (
        Literal[name],
        Field(description=f"The name of the function. Must be {name!r}"),
    )


def is_reporter_annotation(annotation: Any) -> bool:
    """True for our ``ProgressReporter`` and deprogressapi reports (also inside Optional)."""
    if typing.get_origin(annotation) is not None:
        return any(is_reporter_annotation(a) for a in typing.get_args(annotation))
    if not inspect.isclass(annotation):
        return False
    if issubclass(annotation, ProgressReporter):
        return True
    deprogress = sys.modules.get("deprogressapi")
    base = getattr(deprogress, "BaseReport", None)
    return base is not None and issubclass(annotation, base)


def resolved_hints(func: Callable, owner: str) -> dict[str, Any]:
    """Type hints with string annotations (``from __future__ import annotations``) resolved."""
    try:
        return typing.get_type_hints(func, include_extras=True)
    except Exception as exc:  # NameError, TypeError … from user annotations
        raise SchemaError(f"{owner}: cannot resolve the type annotations: {exc}") from None


def signature_fields(
    func: Callable,
    owner: str,
    doc: DocInfo,
    config: MemberConfig,
    reserved: tuple[str, ...],
    *,
    skip_first: bool = False,
) -> SignatureFields:
    """Build pydantic fields for the parameters of ``func``."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{owner}: cannot read the signature: {exc}") from None
    hints = resolved_hints(func, owner)
    parameters = list(sig.parameters.values())[1 if skip_first else 0 :]
    fields: dict[str, tuple[Any, Any]] = {}
    params: list[ParamSpec] = []
    callers = set(caller_parameters(func))
    for param in parameters:
        _check_param(param, owner, reserved)
        annotation = hints.get(param.name, Any)
        if param.name in callers:
            # the backend supplies the verified caller: callers cannot send or forge it
            required = annotation is Caller and param.default is inspect.Parameter.empty
            spec = ParamSpec(param.name, False, False, param.default, True, required)
            if param.kind is inspect.Parameter.POSITIONAL_ONLY:
                raise SchemaError(f"{owner}: the Caller parameter {param.name!r} must be named")
            params.append(spec)
            continue
        reporter = is_reporter_annotation(annotation)
        fields[param.name] = _field_for(param, annotation, reporter, doc, config)
        params.append(
            ParamSpec(
                param.name,
                param.kind is inspect.Parameter.POSITIONAL_ONLY,
                reporter,
                param.default,
            )
        )
    unknown = set(config.field_params) - set(fields)
    if unknown:
        raise SchemaError(f"{owner}: field_params for unknown parameters {sorted(unknown)}")
    return SignatureFields(fields, params)


def _check_param(param: inspect.Parameter, owner: str, reserved: tuple[str, ...]) -> None:
    if param.kind is inspect.Parameter.VAR_POSITIONAL:
        raise SchemaError(
            f"{owner}: *{param.name} is not supported; DASF passes arguments by name, "
            "so give every parameter a name (e.g. a list parameter instead of *args)"
        )
    if param.kind is inspect.Parameter.VAR_KEYWORD:
        raise SchemaError(
            f"{owner}: **{param.name} is not supported; DASF needs every parameter in the "
            "schema, so list them explicitly (or take one dict parameter)"
        )
    if param.name in reserved:
        raise SchemaError(f"{owner}: the parameter name {param.name!r} is reserved by DASF")


def _field_for(
    param: inspect.Parameter,
    annotation: Any,
    reporter: bool,
    doc: DocInfo,
    config: MemberConfig,
) -> tuple[Any, Any]:
    kws: dict[str, Any] = {}
    if param.name in doc.params:
        kws["description"] = doc.params[param.name]
    if reporter:
        # the runtime supplies the reporter; a caller may only send a report-config object,
        # which is accepted and ignored (as the reference does)
        kws.update(default=None, json_schema_extra={"is_reporter": True})
        return (Optional[dict[str, Any]], Field(**kws))
    if param.default is not inspect.Parameter.empty:
        kws["default"] = param.default
    kws.update(config.field_params.get(param.name, {}))
    return (pydantic_type_for(annotation), Field(**kws))
