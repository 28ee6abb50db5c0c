"""Codecs hand raw bytes to binary bodies inside a collecting scope, base64 outside."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import xarray as xr

from dasf_jupyter.codecs import CodecError, codec_for_value, decode_by_schema, encode_value
from dasf_jupyter.codecs.attachments import MIN_ATTACHMENT, as_bytes, collecting, wire_bytes
from dasf_jupyter.protocol.body import placeholder_prefix


def _grid(n: int = 64) -> xr.DataArray:
    data = np.arange(n * n, dtype="f8").reshape(n, n)
    return xr.DataArray(data, dims=("y", "x"), coords={"x": np.arange(n)}, name="grid")


def test_outside_a_scope_large_values_are_base64_text():
    raw = bytes(range(256)) * 64
    assert wire_bytes(raw) == base64.b64encode(raw).decode()


def test_inside_a_scope_large_values_become_placeholders_small_ones_stay_inline():
    big, small = b"a" * MIN_ATTACHMENT, b"b" * 10
    with collecting() as attachments:
        assert attachments is not None
        marker = wire_bytes(big)
        inline = wire_bytes(small)
    assert marker.startswith(placeholder_prefix(attachments.nonce))
    assert [bytes(b) for b in attachments.buffers] == [big]
    assert inline == base64.b64encode(small).decode()
    with collecting(enabled=False) as none:
        assert none is None and wire_bytes(big) == base64.b64encode(big).decode()


@pytest.mark.parametrize(
    "value",
    [_grid(), _grid().to_dataset(), np.linspace(0, 1, 5000), b"\x00\x01" * 4000],
    ids=["DataArray", "Dataset", "ndarray", "bytes"],
)
def test_each_codec_round_trips_through_an_attachment(value):
    codec = codec_for_value(value)
    assert codec is not None
    with collecting() as attachments:
        wire = codec.encode(value)
    assert attachments is not None and len(attachments.buffers) == 1
    raw = memoryview(attachments.buffers[0]).cast("B")
    # put the attachment where its placeholder was, as a receiver does
    wire = {**wire, "data": raw} if isinstance(wire, dict) else raw
    back = codec.decode(wire)
    if isinstance(value, (xr.DataArray, xr.Dataset)):
        assert back.identical(value)
    elif isinstance(value, np.ndarray):
        assert np.array_equal(back, value) and back.flags.writeable
    else:
        assert back == value


def test_attachment_is_the_same_bytes_as_the_base64_wire_form():
    grid = _grid()
    text = encode_value(grid)
    with collecting() as attachments:
        encode_value(grid)
    assert attachments is not None
    assert bytes(attachments.buffers[0]) == base64.b64decode(text)


def test_schema_decoding_accepts_raw_bytes_in_optional_codec_fields():
    grid = _grid()
    schema = {
        "anyOf": [
            {"type": "string", "x-dasf-codec": "xarray.DataArray/netcdf3-base64"},
            {"type": "null"},
        ]
    }
    raw = base64.b64decode(encode_value(grid))
    assert decode_by_schema(memoryview(raw), schema).identical(grid)
    assert decode_by_schema(None, schema) is None


def test_as_bytes_refuses_what_is_neither_bytes_nor_base64():
    with pytest.raises(CodecError, match="not valid base64"):
        as_bytes("not base64!", "value")
    with pytest.raises(CodecError, match="must be base64 text"):
        as_bytes(12, "value")
