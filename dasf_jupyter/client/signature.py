"""Python signatures and numpy-style docstrings made from a remote member's JSON schema."""

from __future__ import annotations

import datetime as dt
import inspect
import keyword
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Union

from ..codecs import CODEC_KEY, codec_by_name
from ..errors import ArgumentError

#: properties that select the member; they are never parameters
_SELECTORS = ("func_name", "class_name", "function")

_JSON_TYPES: dict[str, Any] = {
    "integer": int,
    "number": float,
    "string": str,
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}
_FORMATS: dict[str, Any] = {"date-time": dt.datetime, "date": dt.date, "time": dt.time}


class _Omitted:
    """Default of a parameter the backend fills in itself (no JSON default to show)."""

    def __repr__(self) -> str:
        return "<backend default>"


OMITTED: Any = _Omitted()


def annotation_for(schema: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    """A Python annotation that matches a JSON schema as closely as the schema says."""
    if not isinstance(schema, dict) or depth > 8:
        return Any
    codec = schema.get(CODEC_KEY)
    if isinstance(codec, str):
        found = codec_by_name(codec)
        return f"{found.module}.{found.type_name}" if found else Any
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        target = defs.get(name, {})
        if CODEC_KEY in target or "enum" in target:
            return annotation_for(target, defs, depth + 1)
        return target.get("title", name)  # a nested model: show its name
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            options = [annotation_for(s, defs, depth + 1) for s in schema[key]]
            return _union(options)
    if "const" in schema:
        return Literal[schema["const"]]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return Literal[tuple(schema["enum"])]
    return _typed(schema, defs, depth)


def _typed(schema: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        return _union([_typed({**schema, "type": k}, defs, depth) for k in kind])
    if kind == "string" and schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    if kind == "array":
        if isinstance(schema.get("prefixItems"), list):
            items = tuple(annotation_for(s, defs, depth + 1) for s in schema["prefixItems"])
            return tuple.__class_getitem__(items) if items else tuple
        if "items" in schema:
            return list.__class_getitem__(annotation_for(schema["items"], defs, depth + 1))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        value = annotation_for(schema["additionalProperties"], defs, depth + 1)
        return dict.__class_getitem__((str, value))
    return _JSON_TYPES.get(kind, Any) if isinstance(kind, str) else Any


def _union(options: list[Any]) -> Any:
    if Any in options:
        return Any
    unique = list(dict.fromkeys(options))
    if not unique:
        return Any
    has_none = type(None) in unique
    rest = [o for o in unique if o is not type(None)]
    if not rest:
        return None
    inner = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
    return Optional[inner] if has_none else inner  # noqa: UP045


def type_text(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return "Any"
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)


@dataclass
class RemoteParameters:
    """The parameters of one remote call: signature, schemas and doc text."""

    signature: inspect.Signature
    schemas: dict[str, dict[str, Any]]
    defs: dict[str, Any]
    descriptions: dict[str, str] = field(default_factory=dict)
    extra_names: set[str] = field(default_factory=set)  # not identifiers: keyword-only

    @classmethod
    def from_schema(
        cls, rpc_schema: dict[str, Any], return_schema: dict[str, Any] | None = None
    ) -> RemoteParameters:
        defs = rpc_schema.get("$defs") or {}
        props = rpc_schema.get("properties") or {}
        required = set(rpc_schema.get("required") or [])
        params: list[inspect.Parameter] = []
        schemas: dict[str, dict[str, Any]] = {}
        descriptions: dict[str, str] = {}
        extra: set[str] = set()
        keyword_only = False
        for name, schema in props.items():
            if name in _SELECTORS or not isinstance(schema, dict) or schema.get("is_reporter"):
                continue  # progress reports come back through on_progress instead
            schemas[name] = schema
            descriptions[name] = str(schema.get("description") or "")
            if not name.isidentifier() or keyword.iskeyword(name):
                extra.add(name)
                continue
            default = inspect.Parameter.empty
            if name not in required:
                default = schema.get("default", OMITTED)
            elif params and params[-1].default is not inspect.Parameter.empty:
                keyword_only = True  # a required one after optional ones: no positional use
            kind = (
                inspect.Parameter.KEYWORD_ONLY
                if keyword_only
                else inspect.Parameter.POSITIONAL_OR_KEYWORD
            )
            annotation = annotation_for(schema, defs)
            params.append(inspect.Parameter(name, kind, default=default, annotation=annotation))
        if extra:
            params.append(inspect.Parameter("extra", inspect.Parameter.VAR_KEYWORD))
        returns = annotation_for(return_schema, defs) if return_schema else Any
        if return_schema and not return_schema.get("type") and not _is_structured(return_schema):
            returns = Any
        signature = inspect.Signature(params, return_annotation=returns)
        return cls(signature, schemas, defs, descriptions, extra)

    def bind(self, label: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Map call arguments to parameter names; :class:`ArgumentError` (a TypeError) if bad."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ArgumentError(f"{label}: {exc}") from None
        values = {k: v for k, v in bound.arguments.items() if k != "extra"}
        for name, value in bound.arguments.get("extra", {}).items():
            if name not in self.extra_names:
                known = ", ".join(self.schemas) or "none"
                raise ArgumentError(
                    f"{label}: got an unexpected keyword argument {name!r} (parameters: {known})"
                )
            values[name] = value
        return {k: v for k, v in values.items() if v is not OMITTED}

    def docstring(self, description: str | None, return_schema: dict[str, Any] | None) -> str:
        """Numpy-style docstring from the schema's descriptions."""
        lines = [description.strip() if description else "(no description)"]
        params = [p for p in self.signature.parameters.values() if p.name != "extra"]
        if params or self.extra_names:
            lines += ["", "Parameters", "----------"]
        for param in params:
            optional = ", optional" if param.default is not inspect.Parameter.empty else ""
            lines.append(f"{param.name} : {type_text(param.annotation)}{optional}")
            text = self.descriptions.get(param.name, "")
            if param.default not in (inspect.Parameter.empty, OMITTED):
                text = f"{text} (default: {param.default!r})".strip()
            if text:
                lines.append(f"    {text}")
        for name in sorted(self.extra_names):
            lines.append(f"{name} : keyword only (not a Python identifier, pass via **kwargs)")
        if return_schema is not None:
            lines += ["", "Returns", "-------", type_text(self.signature.return_annotation)]
            if return_schema.get("description"):
                lines.append(f"    {return_schema['description']}")
        return "\n".join(lines)


def _is_structured(schema: dict[str, Any]) -> bool:
    keys = ("$ref", "anyOf", "oneOf", "allOf", "enum", "const", CODEC_KEY)
    return any(k in schema for k in keys)
