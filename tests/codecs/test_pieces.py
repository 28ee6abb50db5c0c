"""PiecesWriter (codecs/pieces.py): the bytes BytesIO would hold, big writes not copied."""

from __future__ import annotations

import io

import numpy as np
import xarray as xr

from dasf_jupyter.codecs.pieces import KEEP_BY_REFERENCE, PiecesWriter
from dasf_jupyter.codecs.xarray_codec import decode_dataarray, encode_xarray


def _grid(n: int) -> xr.DataArray:
    values = np.arange(n * n, dtype="float64").reshape(n, n)
    coords = {"y": np.arange(n, dtype="float64"), "x": np.arange(n) * 0.5}
    return xr.DataArray(values, dims=("y", "x"), coords=coords, name="g", attrs={"u": "m"})


def test_netcdf_written_to_pieces_is_byte_identical_to_bytesio():
    dataset = xr.Dataset(
        {"g": _grid(120), "s": ("t", np.array(["a", "bb", "c"])), "i": ("t", np.arange(3))},
        attrs={"title": "x"},
    )
    for obj in (_grid(200), dataset):
        expected = bytes(obj.to_netcdf(format="NETCDF3_CLASSIC", engine="scipy"))
        writer = PiecesWriter()
        obj.to_netcdf(writer, format="NETCDF3_CLASSIC", engine="scipy")
        assert bytes(writer.joined()) == expected


def test_overwrites_seeks_past_the_end_and_big_writes_match_bytesio():
    big = bytes(range(256)) * (KEEP_BY_REFERENCE // 256 + 1)
    ours, ref = PiecesWriter(), io.BytesIO()
    for f in (ours, ref):
        f.write(b"header--")
        f.write(big)
        f.seek(2)
        f.write(b"XY")
        f.seek(len(big) + 20)
        f.write(b"tail")
        f.seek(8 + 10)
        f.write(b"over-big")  # lands inside the big piece
        f.seek(0, io.SEEK_END)
        f.write(b"!")
    assert ours.tell() == ref.tell()
    assert bytes(ours.joined()) == ref.getvalue()


def test_a_large_bytes_write_is_kept_by_reference():
    big = b"x" * KEEP_BY_REFERENCE
    writer = PiecesWriter()
    writer.write(big)
    assert writer.joined() is big


def test_encode_decode_roundtrip_through_the_writer():
    grid = _grid(64)
    decoded = decode_dataarray(encode_xarray(grid))
    xr.testing.assert_identical(decoded, grid)
