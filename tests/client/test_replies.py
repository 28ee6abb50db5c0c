"""What the client makes of reply payloads (pure functions, no sockets)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from dasf_jupyter.client.replies import log_record, remote_error, response_value
from dasf_jupyter.client.results import decode_result
from dasf_jupyter.codecs.xarray_codec import encode_xarray
from dasf_jupyter.errors import ProtocolError, RemoteError
from dasf_jupyter.protocol import encode_json_payload, encode_text_payload


def test_the_reference_prefix_is_stripped_from_remote_errors():
    error = remote_error("error executing request: division by zero", {}, "t")
    assert error.message == "division by zero (topic 't')"
    assert error.exc_type is None


def test_our_error_type_and_traceback_are_kept_and_not_repeated():
    props = {"dasf_error_type": "ValueError", "dasf_traceback": "Traceback ..."}
    error = remote_error("ValueError: bad", props, None)
    assert str(error) == "ValueError: bad"
    assert error.traceback == "Traceback ..."


def test_an_error_response_raises_remote_error():
    with pytest.raises(RemoteError, match="boom"):
        response_value(encode_text_payload("boom"), {"status": "error"}, "t")


def test_a_success_response_is_json_and_api_info_comes_from_properties():
    assert response_value(encode_json_payload([1, 2]), {"status": "success"}, "t") == [1, 2]
    assert response_value("", {"api_info": '{"functions": []}'}, "t") == {"functions": []}
    with pytest.raises(ProtocolError, match="not valid JSON"):
        response_value("", {"api_info": "{nope"}, "t")
    with pytest.raises(ProtocolError):
        response_value("!!notbase64!!", {"status": "success"}, "t")


def test_log_records_accept_json_and_plain_text():
    record = log_record(encode_json_payload({"level": "WARNING", "message": "hm"}))
    assert record == {"level": "WARNING", "message": "hm"}
    plain = log_record(encode_text_payload("just text"))
    assert plain == {"level": "INFO", "message": "just text"}


def test_untyped_netcdf_results_of_reference_backends_become_xarray():
    da = xr.DataArray(np.arange(3.0), dims="x", name="v")
    out = decode_result(encode_xarray(da), {"title": "FuncMakeGrid", "default": None})
    xr.testing.assert_identical(out, da)
    ds = xr.Dataset({"a": ("x", np.arange(2.0)), "b": ("x", np.ones(2))})
    assert isinstance(decode_result(encode_xarray(ds), {}), xr.Dataset)
    # a typed string schema is left alone, even if it looks like netCDF
    assert decode_result("Q0RGAQxx", {"type": "string"}) == "Q0RGAQxx"
