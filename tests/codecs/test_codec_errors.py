"""Bad wire data gives clear errors; nothing is unpickled or reinterpreted as objects."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import xarray as xr
from pydantic import TypeAdapter, ValidationError

from dasf_jupyter.codecs import CodecError, encode_value, pydantic_type_for
from dasf_jupyter.codecs.numpy_codec import decode_ndarray


def test_object_dtype_with_raw_bytes_is_refused() -> None:
    wire = {"dtype": "|O", "shape": [1], "data": base64.b64encode(b"\0" * 8).decode()}
    with pytest.raises(CodecError, match="cannot be sent as raw bytes"):
        decode_ndarray(wire)


def test_wrong_byte_count_is_refused() -> None:
    wire = {"dtype": "<f8", "shape": [3], "data": base64.b64encode(b"\0" * 8).decode()}
    with pytest.raises(CodecError, match="do not fit shape"):
        decode_ndarray(wire)


def test_missing_keys_are_refused() -> None:
    with pytest.raises(CodecError, match="expects dtype, shape, data"):
        decode_ndarray({"dtype": "<f8"})


def test_invalid_base64_is_a_validation_error_for_pydantic() -> None:
    adapter = TypeAdapter(pydantic_type_for(xr.DataArray))
    with pytest.raises(ValidationError, match="not valid base64"):
        adapter.validate_python("not base64 !!!")


def test_garbage_netcdf_is_a_validation_error() -> None:
    adapter = TypeAdapter(pydantic_type_for(xr.DataArray))
    with pytest.raises(ValidationError, match="DataArray"):
        adapter.validate_python(base64.b64encode(b"garbage bytes").decode())


def test_unencodable_value_raises_codec_error() -> None:
    with pytest.raises(CodecError, match="object"):
        encode_value(object())


def test_structured_dtype_is_refused() -> None:
    with pytest.raises(CodecError, match="cannot be encoded"):
        encode_value(np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]))
