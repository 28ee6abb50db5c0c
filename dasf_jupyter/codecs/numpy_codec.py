"""numpy arrays as JSON: ``{"dtype", "shape", "data"}``.

Wire form (codec ``numpy.ndarray/json``)::

    {"dtype": "<f8", "shape": [2, 3], "data": "<base64 of the raw little-endian bytes, C order>"}

``dtype`` is numpy's ``dtype.str`` (byte order explicit), so the bytes decode losslessly and fast
(one ``frombuffer``, no per-element work) for bool, integer, float, complex, datetime64,
timedelta64 and fixed-width ``S``/``U`` strings. Object arrays cannot be shipped as raw bytes
(they hold pointers), so for them ``data`` is the flat JSON list of the elements in C order and
``dtype`` is ``"|O"``. Structured (record) dtypes are refused. Decoding never interprets
received bytes as objects: an ``O`` dtype with base64 data is an error.

Lenient input (for clients that only speak plain JSON): a nested list or a scalar is accepted
and passed to ``numpy.asarray``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .attachments import as_bytes, wire_bytes
from .registry import Codec, CodecError, register

NAME = "numpy.ndarray/json"

#: dtype kinds whose raw bytes are plain data (safe to rebuild with ``frombuffer``)
_RAW_KINDS = frozenset("biufcmMSU")


def encode_ndarray(arr: np.ndarray, element_encoder: Any = None) -> dict[str, Any]:
    """Encode an array as ``{"dtype", "shape", "data"}``."""
    arr = np.asarray(arr)
    kind = arr.dtype.kind
    if kind in _RAW_KINDS:
        little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        # a byte view of the C-ordered data: no copy when the array is contiguous already
        raw = np.ascontiguousarray(little).reshape(-1).view(np.uint8).data
        return {"dtype": little.dtype.str, "shape": list(arr.shape), "data": wire_bytes(raw)}
    if kind == "O":
        encode = element_encoder or _default_element_encoder()
        flat = [encode(item) for item in arr.ravel(order="C")]
        return {"dtype": "|O", "shape": list(arr.shape), "data": flat}
    raise CodecError(f"numpy arrays of dtype {arr.dtype} (kind {kind!r}) cannot be encoded")


def decode_ndarray(value: Any) -> np.ndarray:
    """Rebuild an array from its wire form; plain lists/scalars go through ``asarray``."""
    if isinstance(value, np.ndarray):
        return value
    if not isinstance(value, dict):
        return np.asarray(value)
    try:
        dtype = np.dtype(value["dtype"])
        shape = tuple(int(n) for n in value["shape"])
        data = value["data"]
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"not a numpy array wire form ({exc!r}): expects dtype, shape, data"
        raise CodecError(msg) from None
    if any(n < 0 for n in shape):
        raise CodecError(f"negative dimension in shape {list(shape)}")
    count = math.prod(shape)
    if isinstance(data, (str, bytes, bytearray, memoryview)):
        return _from_raw(data, dtype, shape, count)
    if isinstance(data, list):
        if len(data) != count:
            raise CodecError(f"{len(data)} elements do not fill shape {list(shape)}")
        if dtype.kind == "O":
            out = np.empty(count, dtype=object)
            for i, item in enumerate(data):  # element-wise: items may be lists themselves
                out[i] = item
            return out.reshape(shape)
        try:
            return np.asarray([_none_to_nan(v) for v in data], dtype=dtype).reshape(shape)
        except (TypeError, ValueError) as exc:
            raise CodecError(f"cannot build a {dtype.str} array from the list: {exc}") from None
    raise CodecError("numpy array data must be a base64 string or a list")


def _from_raw(data: Any, dtype: np.dtype, shape: tuple[int, ...], count: int) -> np.ndarray:
    """From base64 text or the raw bytes of a binary-body attachment."""
    if dtype.kind not in _RAW_KINDS:
        # raw bytes of object/structured dtypes would be reinterpreted as pointers
        raise CodecError(f"dtype {dtype.str} cannot be sent as raw bytes")
    raw = memoryview(as_bytes(data, "numpy array data")).cast("B")
    if len(raw) != count * dtype.itemsize:
        raise CodecError(
            f"{len(raw)} bytes do not fit shape {list(shape)} of dtype {dtype.str} "
            f"({count * dtype.itemsize} expected)"
        )
    # bytearray makes the result writable without a second copy
    return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


def _none_to_nan(v: Any) -> Any:
    return float("nan") if v is None else v


def _default_element_encoder() -> Any:
    from .values import encode_value  # late import: values imports this module

    return encode_value


JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "dtype": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
        "data": {"anyOf": [{"type": "string", "contentEncoding": "base64"}, {"type": "array"}]},
    },
    "required": ["dtype", "shape", "data"],
}

NDARRAY = register(
    Codec(
        name=NAME,
        module="numpy",
        type_name="ndarray",
        encode=encode_ndarray,
        decode=decode_ndarray,
        json_schema=JSON_SCHEMA,
    )
)
