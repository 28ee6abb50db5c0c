"""Encode/decode values guided by the JSON schema of the field they belong to.

The client knows a remote function only through its JSON schema; these walkers follow
``$ref``, ``anyOf``/``oneOf``/``allOf``, arrays, objects and ``additionalProperties`` and apply
the codec named by ``x-dasf-codec`` wherever it appears. Schemas that carry no marker leave
values as plain JSON, except ``format: date-time``/``date`` strings, which become
``datetime``/``date``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .registry import CODEC_KEY, Codec, CodecError, codec_by_name, codec_for_value
from .values import encode_value

_MAX_DEPTH = 64  # recursive schemas ($ref cycles) meet finite data; this only stops runaways


def decode_by_schema(
    value: Any, schema: dict[str, Any], defs: dict[str, Any] | None = None
) -> Any:
    """JSON value → Python value, decoding fields marked with ``x-dasf-codec``.

    Unknown codecs leave the value unchanged; ``defs`` defaults to the schema's ``$defs``.
    """
    defs = defs if defs is not None else schema.get("$defs", {})
    return _decode(value, schema, defs, 0)


def encode_by_schema(
    value: Any, schema: dict[str, Any], defs: dict[str, Any] | None = None
) -> Any:
    """Python value → JSON-able value for a field with this schema."""
    defs = defs if defs is not None else schema.get("$defs", {})
    return _encode(value, schema, defs, 0)


def _resolve(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` (and single-entry ``allOf``) until a concrete schema appears."""
    for _ in range(_MAX_DEPTH):
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if isinstance(ref, str):
            target = defs.get(ref.rsplit("/", 1)[-1], {})
            # keys next to $ref (description, x-dasf-codec …) stay in force
            extra = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **extra}
            continue
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            schema = {**{k: v for k, v in schema.items() if k != "allOf"}, **all_of[0]}
            continue
        return schema
    return {}


def _variants(schema: dict[str, Any]) -> list[Any] | None:
    for key in ("anyOf", "oneOf"):
        variants = schema.get(key)
        if isinstance(variants, list):
            return variants
    return None


def _decode(value: Any, schema: Any, defs: dict[str, Any], depth: int) -> Any:
    schema = _resolve(schema, defs)
    if depth > _MAX_DEPTH or not schema:
        return value
    codec_name = schema.get(CODEC_KEY)
    if isinstance(codec_name, str):
        codec = codec_by_name(codec_name)
        return value if codec is None or value is None else _apply_decode(codec, value)
    variants = _variants(schema)
    if variants is not None:
        return _decode_variant(value, variants, defs, depth)
    if isinstance(value, list):
        return _decode_array(value, schema, defs, depth)
    if isinstance(value, dict):
        return _map_object(value, schema, defs, depth, _decode)
    if isinstance(value, str):
        return _decode_string(value, schema.get("format"))
    return value


def _apply_decode(codec: Codec, value: Any) -> Any:
    try:
        return codec.decode(value)
    except CodecError:
        raise
    except Exception as exc:  # library errors (pandas, xarray) become one clear error type
        raise CodecError(f"cannot decode {codec.name}: {type(exc).__name__}: {exc}") from None


def _decode_variant(value: Any, variants: list[Any], defs: dict[str, Any], depth: int) -> Any:
    if value is None:
        return None
    for variant in variants:
        resolved = _resolve(variant, defs)
        if not _json_fits(value, resolved):
            continue
        try:
            return _decode(value, resolved, defs, depth + 1)
        except (ValueError, TypeError, KeyError):
            continue  # a codec that could not read it: try the next variant
    return value


def _decode_array(
    value: list[Any], schema: dict[str, Any], defs: dict[str, Any], depth: int
) -> Any:
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list):  # tuples
        rest = schema.get("items", {})
        return tuple(
            _decode(v, prefix[i] if i < len(prefix) else rest, defs, depth + 1)
            for i, v in enumerate(value)
        )
    items = schema.get("items")
    if not items:
        return value
    return [_decode(v, items, defs, depth + 1) for v in value]


def _map_object(
    value: dict[str, Any],
    schema: dict[str, Any],
    defs: dict[str, Any],
    depth: int,
    walk: Callable[..., Any],
) -> Any:
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    extra = extra if isinstance(extra, dict) else None
    out = {}
    for key, item in value.items():
        sub = props.get(key, extra)
        out[key] = walk(item, sub, defs, depth + 1) if sub else item
    return out


def _decode_string(value: str, fmt: Any) -> Any:
    try:
        if fmt == "date-time":
            # Python 3.10's fromisoformat does not know the "Z" suffix
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if fmt == "date":
            return dt.date.fromisoformat(value)
    except ValueError:
        return value
    return value


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    # raw bytes: a binary body's attachment where a codec's base64 text would be
    "string": lambda v: isinstance(v, (str, bytes, bytearray, memoryview)),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _json_fits(value: Any, schema: dict[str, Any]) -> bool:
    """Shallow check: does the JSON value have the schema's type/const/enum?"""
    if "const" in schema and schema["const"] != value:
        return False
    if isinstance(schema.get("enum"), list) and value not in schema["enum"]:
        return False
    types = schema.get("type")
    if types is None:
        return True
    types = types if isinstance(types, list) else [types]
    return any(_JSON_TYPES.get(t, lambda v: True)(value) for t in types)


def _encode(value: Any, schema: Any, defs: dict[str, Any], depth: int) -> Any:
    schema = _resolve(schema, defs)
    if depth > _MAX_DEPTH or not schema or value is None:
        return encode_value(value)
    codec_name = schema.get(CODEC_KEY)
    if isinstance(codec_name, str):
        codec = codec_by_name(codec_name)
        if codec is not None and not _is_wire_json(value):
            return codec.encode(codec.decode(value) if _needs_coercion(codec, value) else value)
        return encode_value(value)
    variants = _variants(schema)
    if variants is not None:
        return _encode_variant(value, variants, defs, depth)
    if isinstance(value, (list, tuple)) and not schema.get("prefixItems"):
        items = schema.get("items")
        return [_encode(v, items, defs, depth + 1) if items else encode_value(v) for v in value]
    if isinstance(value, dict):
        return _map_object(value, schema, defs, depth, _encode_or_plain)
    return encode_value(value)


def _encode_or_plain(value: Any, schema: Any, defs: dict[str, Any], depth: int) -> Any:
    return _encode(value, schema, defs, depth) if schema else encode_value(value)


def _encode_variant(value: Any, variants: list[Any], defs: dict[str, Any], depth: int) -> Any:
    own = codec_for_value(value)
    resolved = [_resolve(v, defs) for v in variants]
    if own is not None:  # prefer the variant that names this value's codec
        for schema in resolved:
            if schema.get(CODEC_KEY) == own.name:
                return own.encode(value)
    for schema in resolved:
        if CODEC_KEY not in schema and not _variants(schema):
            encoded = encode_value(value)
            if _json_fits(encoded, schema):
                return _encode(value, schema, defs, depth + 1)
    for schema in resolved:  # plain data for a codec field (a nested list for an ndarray …)
        codec = codec_by_name(schema.get(CODEC_KEY, ""))
        if codec is not None and not _is_wire_json(value):
            try:
                return codec.encode(codec.decode(value))
            except (ValueError, TypeError):
                continue
    return encode_value(value)


def _is_wire_json(value: Any) -> bool:
    """Already-encoded text (e.g. base64 the caller produced) passes through unchanged."""
    return isinstance(value, str)


def _needs_coercion(codec: Codec, value: Any) -> bool:
    """True when ``value`` is not yet the codec's type (a list for an ndarray field …)."""
    tp = codec.loaded_type()
    return tp is None or not isinstance(value, tp)
