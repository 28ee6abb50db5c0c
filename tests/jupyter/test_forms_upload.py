"""Data arguments from uploaded netCDF and CSV files."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from dasf_jupyter.jupyter.forms import InvalidInput, form_for
from dasf_jupyter.jupyter.forms.fields.data import codec_type, decode_upload

from .data import load_api_info


def netcdf_bytes() -> bytes:
    da = xr.DataArray(np.arange(3.0), dims="x", name="t")
    return bytes(da.to_dataset().to_netcdf(engine="scipy"))


def upload_entry(name: str, content: bytes) -> dict:
    return {
        "name": name,
        "type": "application/octet-stream",
        "size": len(content),
        "content": memoryview(content),
        "last_modified": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
    }


def test_uploaded_netcdf_becomes_the_argument():
    form = form_for(load_api_info(), "smooth", namespace={})
    field = form.fields.fields["da"]
    field.upload.value = (upload_entry("temps.nc", netcdf_bytes()),)
    assert field.picker.value == "upload: temps.nc"
    value = form.value["da"]
    assert isinstance(value, xr.DataArray)
    np.testing.assert_array_equal(value.values, [0.0, 1.0, 2.0])
    assert form.validate() == {}


def test_uploaded_csv_is_read_with_pandas_and_converted():
    content = b"a,b\n1,2\n3,4\n"
    frame = decode_upload("t.csv", content, pd.DataFrame)
    assert list(frame.columns) == ["a", "b"]
    array = decode_upload("t.csv", content, np.ndarray)
    assert array.tolist() == [[1, 2], [3, 4]]
    dataset = decode_upload("t.csv", content, xr.Dataset)
    assert set(dataset.data_vars) == {"a", "b"}


def test_unreadable_upload_shows_a_message():
    form = form_for(load_api_info(), "smooth", namespace={})
    field = form.fields.fields["da"]
    field.upload.value = (upload_entry("junk.nc", b"not netcdf"),)
    assert "cannot read junk.nc" in field.error.value
    assert form.validate() == {"da": "required"}
    with pytest.raises(InvalidInput, match="only .nc and .csv"):
        decode_upload("x.txt", b"", None)
    with pytest.raises(InvalidInput, match="expected one data variable"):
        decode_upload("t.csv", b"a,b\n1,2\n", xr.DataArray)


def test_codec_names_map_to_python_types():
    assert codec_type("xarray.DataArray/netcdf3-base64") is xr.DataArray
    assert codec_type("pandas.DataFrame/split-json") is pd.DataFrame
    assert codec_type("numpy.ndarray/json") is np.ndarray
    assert codec_type("nonexistent_mod.Type/x") is None
    assert codec_type("plain") is None


def test_deleted_variable_is_reported():
    namespace = {"grid": xr.DataArray(np.zeros(2), dims="x")}
    form = form_for(load_api_info(), "smooth", namespace=namespace)
    field = form.fields.fields["da"]
    field.picker.value = "grid"
    del namespace["grid"]
    assert form.validate() == {"da": "the variable 'grid' no longer exists"}
