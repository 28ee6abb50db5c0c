"""The one mapping from a JSON-schema shape to the field widget class that edits it."""

from __future__ import annotations

from typing import Any

from .fields.base import Field, FieldContext
from .fields.choice_of_shapes import OptionalField, UnionField
from .fields.collections import DictField, ListField, ObjectField
from .fields.data import AnyField, DataField
from .fields.dates import DateField, DateTimeField, TimeField
from .fields.scalars import BoolField, ChoiceField, FloatField, IntField, TextField
from .schema import SchemaError, resolve, split_optional

#: schema kind → field class; extend or override to change how a kind is edited
FIELD_TYPES: dict[str, type[Field]] = {
    "data": DataField,
    "optional": OptionalField,
    "union": UnionField,
    "choice": ChoiceField,
    "date": DateField,
    "date-time": DateTimeField,
    "time": TimeField,
    "integer": IntField,
    "number": FloatField,
    "string": TextField,
    "boolean": BoolField,
    "array": ListField,
    "dict": DictField,
    "object": ObjectField,
    "any": AnyField,
}

_STRING_FORMATS = ("date", "date-time", "time")

#: deepest nesting of fields in a form; deeper means a model that contains itself
MAX_DEPTH = 24


def schema_kind(schema: dict[str, Any]) -> str:
    """The key of :data:`FIELD_TYPES` for a resolved schema (checked most specific first)."""
    if "x-dasf-codec" in schema:
        return "data"
    if split_optional(schema) is not None:
        return "optional"
    if isinstance(schema.get("anyOf") or schema.get("oneOf"), list):
        return "union"
    if "enum" in schema or "const" in schema:
        return "choice"
    kind = schema.get("type")
    if kind == "string" and schema.get("format") in _STRING_FORMATS:
        return str(schema["format"])
    if kind == "object" or "properties" in schema:
        if schema.get("properties"):
            return "object"
        return "dict" if isinstance(schema.get("additionalProperties"), dict) else "any"
    return kind if kind in FIELD_TYPES else "any"


def _normalise(schema: dict[str, Any]) -> dict[str, Any]:
    """``type: [X, "null"]`` rewritten to the ``anyOf`` form that pydantic usually emits."""
    kind = schema.get("type")
    if not (isinstance(kind, list) and "null" in kind and len(kind) == 2):
        return schema
    other = next(k for k in kind if k != "null")
    inner = {k: v for k, v in schema.items() if k != "default"}
    outer: dict[str, Any] = {
        k: schema[k] for k in ("title", "description", "default") if k in schema
    }
    return {**outer, "anyOf": [{**inner, "type": other}, {"type": "null"}]}


def build_field(
    schema: dict[str, Any], ctx: FieldContext, *, name: str, required: bool, bare: bool = False
) -> Field:
    """The field widget for one property ``schema`` (``$ref``s resolved against ``ctx.defs``)."""
    if ctx.depth >= MAX_DEPTH:
        raise SchemaError(f"{name!r} nests deeper than {MAX_DEPTH} levels (a recursive model?)")
    resolved = _normalise(resolve(schema, ctx.defs))
    ctx.depth += 1
    try:
        return FIELD_TYPES[schema_kind(resolved)](
            resolved, ctx, name=name, required=required, bare=bare
        )
    finally:
        ctx.depth -= 1
