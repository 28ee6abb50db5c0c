"""Arbitrary JSON never crashes the decoders: a result or a CodecError/ValueError."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dasf_jupyter.codecs import CodecError, decode_by_schema
from dasf_jupyter.codecs.numpy_codec import decode_ndarray

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)

wire_like = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from(["<f8", "|O", "<i4", "|b1", "i4,f8", "bogus", "<U3", "<M8[ns]"]),
        "shape": st.lists(st.integers(-2, 5), max_size=3),
        "data": st.text(alphabet="AQIDBA=+/x", max_size=24) | st.lists(json_values, max_size=6),
    }
)


@settings(max_examples=300, deadline=None)
@given(wire_like | json_values)
def test_numpy_decoder_returns_array_or_raises_value_error(value: object) -> None:
    try:
        out = decode_ndarray(value)
    except ValueError:  # CodecError is a ValueError
        return
    assert isinstance(out, np.ndarray)


@settings(max_examples=200, deadline=None)
@given(json_values, st.sampled_from(["numpy.ndarray/json", "pandas.Series/split-json"]))
def test_schema_decoder_fails_only_with_value_errors(value: object, codec: str) -> None:
    schema = {"anyOf": [{"x-dasf-codec": codec}, {"type": "null"}]}
    with contextlib.suppress(ValueError):
        decode_by_schema(value, schema)


@settings(max_examples=200, deadline=None)
@given(
    json_values, st.sampled_from(["pandas.DataFrame/split-json", "xarray.Dataset/netcdf3-base64"])
)
def test_direct_codec_fields_fail_only_with_codec_errors(value: object, codec: str) -> None:
    # pandas warns about ragged records it still accepts; the warning is not the point here
    warnings.simplefilter("ignore")
    with contextlib.suppress(CodecError):
        decode_by_schema(value, {"x-dasf-codec": codec})
