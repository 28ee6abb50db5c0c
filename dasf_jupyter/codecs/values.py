"""Turn any supported Python value into JSON-able data (no schema needed)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import numpy as np
import pydantic_core

from .registry import CodecError, codec_for_value

_PRIMITIVES = (str, int, float, bool, type(None))


def encode_value(value: Any) -> Any:
    """Python value → JSON-able, recursing into dict/list/tuple/BaseModel.

    Uses the codec registry for numpy/xarray/pandas/bytes; datetimes and dates become ISO 8601
    text, enums their value, numpy scalars plain numbers. Raises ``CodecError`` for values
    that have no JSON form.
    """
    if isinstance(value, _PRIMITIVES) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, dict):
        return {_encode_key(k): encode_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode_value(v) for v in value]
    if isinstance(value, np.generic):
        return _encode_numpy_scalar(value)
    codec = codec_for_value(value)
    if codec is not None:
        return codec.encode(value)
    if isinstance(value, enum.Enum):
        return encode_value(value.value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    try:
        # BaseModel, dataclasses, UUID, Decimal, Path, timedelta …; fallback recurses for
        # numpy/xarray values nested inside them
        return pydantic_core.to_jsonable_python(value, fallback=_fallback, bytes_mode="base64")
    except pydantic_core.PydanticSerializationError as exc:
        raise CodecError(f"cannot encode {type(value).__name__} as JSON: {exc}") from None


def _fallback(value: Any) -> Any:
    if isinstance(value, np.generic) or codec_for_value(value) is not None:
        return encode_value(value)
    raise CodecError(f"cannot encode {type(value).__name__} as JSON")


def _encode_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    key = encode_value(key)
    if isinstance(key, bool) or key is None:
        return "true" if key is True else "false" if key is False else "null"
    if isinstance(key, (int, float, str)):
        return str(key)
    raise CodecError(f"dict key {key!r} cannot be a JSON object key")


def _encode_numpy_scalar(value: np.generic) -> Any:
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(np.datetime_as_string(value))
    if isinstance(value, np.timedelta64):
        return None if np.isnat(value) else value.astype("timedelta64[ns]").astype(np.int64).item()
    if isinstance(value, np.complexfloating):
        raise CodecError("complex numbers have no JSON form; send a numpy array instead")
    return encode_value(value.item())
