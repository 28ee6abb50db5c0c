"""Encode and decode values that JSON cannot carry: numpy, xarray, pandas, bytes, datetimes.

Wire forms are documented in each codec module (``numpy_codec``, ``xarray_codec``,
``pandas_codec``, ``scalars``). JSON schemas mark codec fields with ``"x-dasf-codec"`` so a
client can turn the JSON back into real objects with :func:`decode_by_schema`.
"""

from . import numpy_codec, pandas_codec, scalars, xarray_codec  # noqa: F401 - registers codecs
from .pydantic_types import pydantic_type_for
from .registry import (
    CODEC_KEY,
    Codec,
    CodecError,
    codec_by_name,
    codec_for_type,
    codec_for_value,
    register,
    registered_codecs,
)
from .schema_walk import decode_by_schema, encode_by_schema
from .values import encode_value

__all__ = [
    "CODEC_KEY",
    "Codec",
    "CodecError",
    "codec_by_name",
    "codec_for_type",
    "codec_for_value",
    "decode_by_schema",
    "encode_by_schema",
    "encode_value",
    "pydantic_type_for",
    "register",
    "registered_codecs",
]
