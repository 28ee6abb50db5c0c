"""Pure helpers that read pydantic-generated JSON schemas (no widgets here)."""

from __future__ import annotations

import copy
from typing import Any

from ...errors import FormSchemaError

#: Property names that carry the member discriminator, never shown as a field.
DISCRIMINATORS = frozenset({"func_name", "class_name"})

#: Keys of a wrapper schema that describe the *field*, not its type; they survive unwrapping.
_FIELD_KEYS = ("title", "description", "default", "is_reporter", "x-dasf-codec", "examples")


#: the name this package has always raised (and users catch)
SchemaError = FormSchemaError


def resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with ``$ref`` and single-item ``allOf`` replaced by their target.

    Field-level keys of the wrapper (description, default, ...) win over the target's, as in
    pydantic, where ``{"$ref": ..., "description": ...}`` documents the field.
    """
    seen: set[str] = set()
    current = schema
    while True:
        if "$ref" in current:
            target = _lookup(current["$ref"], defs)
            if current["$ref"] in seen:
                raise SchemaError(f"recursive $ref {current['$ref']!r} cannot become a form")
            seen.add(current["$ref"])
        elif isinstance(current.get("allOf"), list) and len(current["allOf"]) == 1:
            target = current["allOf"][0]
        else:
            return current
        extra = {k: current[k] for k in _FIELD_KEYS if k in current}
        current = {**target, **extra}


def _lookup(ref: str, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema a local ``#/$defs/Name`` (or ``#/definitions/Name``) reference points to."""
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix) and ref[len(prefix) :] in defs:
            return defs[ref[len(prefix) :]]
    raise SchemaError(f"unresolvable $ref {ref!r}; known definitions: {sorted(defs)}")


def collect_defs(*schemas: dict[str, Any] | None) -> dict[str, Any]:
    """All ``$defs``/``definitions`` of ``schemas`` merged (later schemas win)."""
    defs: dict[str, Any] = {}
    for schema in schemas:
        if schema:
            defs.update(schema.get("definitions", {}))
            defs.update(schema.get("$defs", {}))
    return defs


def split_optional(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The non-null branch of ``anyOf: [X, {"type": "null"}]``, else ``None``."""
    branches = schema.get("anyOf") or schema.get("oneOf")
    if not isinstance(branches, list):
        return None
    rest = [b for b in branches if b.get("type") != "null"]
    if len(rest) != len(branches) - 1 or not rest:
        return None
    inner = rest[0] if len(rest) == 1 else {"anyOf": rest}
    extra = {k: schema[k] for k in _FIELD_KEYS if k in schema and k != "default"}
    return {**inner, **extra}


def is_hidden(name: str, schema: dict[str, Any]) -> bool:
    """Whether a property is filled in by the framework (discriminator or progress reporter)."""
    return (name in DISCRIMINATORS and "const" in schema) or bool(schema.get("is_reporter"))


def visible_properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """``(name, property schema, required)`` of the properties a user fills in, in order."""
    required = set(schema.get("required", []))
    return [
        (name, prop, name in required)
        for name, prop in schema.get("properties", {}).items()
        if not is_hidden(name, prop)
    ]


def label_for(name: str, schema: dict[str, Any]) -> str:
    """The human label of a property: its schema title or the name made readable."""
    return str(schema.get("title") or name.replace("_", " ").capitalize())


def default_of(schema: dict[str, Any]) -> Any:
    """A private copy of the schema default (mutable defaults must not be shared)."""
    return copy.deepcopy(schema.get("default"))
