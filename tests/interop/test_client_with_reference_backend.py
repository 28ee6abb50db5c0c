"""Our client calls a demessaging backend module, through dasf-broker-django and our broker."""

from __future__ import annotations

import inspect
import secrets
from concurrent.futures import Future

import numpy as np
import pytest
import xarray as xr

from dasf_jupyter.client import RemoteClass, RemoteFunction, connect
from dasf_jupyter.errors import RemoteError
from tests.refbroker.backend_process import ReferenceBackend


@pytest.fixture(scope="module", params=["dasf-broker-django", "our-broker"])
def ref_module(request):
    """The demessaging ``ref_module`` behind the reference broker, and behind ours."""
    if request.param == "dasf-broker-django":
        url = request.getfixturevalue("ref_broker_url")
        topic = request.getfixturevalue("ref_module_topic")
        with connect(url, timeout=60) as conn:
            yield conn.module(topic, timeout=30)
        return
    url = request.getfixturevalue("broker_url")
    backend = ReferenceBackend(url, f"refours-{secrets.token_hex(3)}").start()
    try:
        with connect(url, timeout=60) as conn:
            yield conn.module(backend.topic, timeout=30)
    finally:
        backend.stop()


def test_functions_of_a_reference_module_are_callable(ref_module):
    assert ref_module.add(2, 3) == 5
    assert ref_module.add(a=4) == 5  # the backend fills in b's default
    assert ref_module.echo("grüße ✓") == "grüße ✓"
    assert ref_module.divide(1.0, 4.0) == 0.25


def test_signatures_and_docstrings_come_from_the_reference_schema(ref_module):
    assert isinstance(ref_module.add, RemoteFunction)
    sig = inspect.signature(ref_module.add)
    assert list(sig.parameters) == ["a", "b"]
    assert sig.parameters["a"].annotation is int
    assert sig.parameters["b"].default == 1
    assert sig.return_annotation is int
    assert "first number" in ref_module.add.__doc__
    assert "Returns" in ref_module.add.__doc__
    assert "reporter" not in inspect.signature(ref_module.slow).parameters
    assert {"add", "echo", "divide", "make_grid", "slow", "Greeter"} <= set(dir(ref_module))


def test_a_class_method_of_a_reference_module(ref_module):
    assert isinstance(ref_module.Greeter, RemoteClass)
    greeter = ref_module.Greeter("Ada")
    assert greeter.greet(times=2) == ["hi Ada", "hi Ada"]
    assert greeter.greet() == ["hi Ada"]


def test_an_xarray_result_of_a_reference_module_is_a_dataarray(ref_module):
    grid = ref_module.make_grid(4)
    assert isinstance(grid, xr.DataArray)
    np.testing.assert_array_equal(grid.values, np.arange(16.0).reshape(4, 4))
    assert grid.attrs["units"] == "m"


def test_a_one_variable_dataset_of_a_reference_module_stays_a_dataset(ref_module):
    data = ref_module.make_dataset(3)
    assert isinstance(data, xr.Dataset)
    assert data.attrs == {"title": "one variable", "institution": "ref_module"}
    assert list(data.data_vars) == ["t"] and data["t"].attrs["units"] == "K"
    np.testing.assert_array_equal(data["t"].values, [0.0, 1.0, 2.0])


def test_a_fragmented_reference_result_is_reassembled(ref_module):
    # 300 x 300 float64 is ~720 kB of netCDF: demessaging sends several fragments
    grid = ref_module.make_grid(300)
    assert grid.shape == (300, 300)
    assert float(grid.values[299, 299]) == 300 * 300 - 1


def test_a_remote_exception_becomes_remote_error(ref_module):
    with pytest.raises(RemoteError) as info:
        ref_module.divide(1.0, 0.0)
    assert "division by zero" in str(info.value)
    assert "error executing request" not in str(info.value)
    assert ref_module.add(1, 1) == 2  # the module keeps serving


def test_progress_of_a_reference_module_reaches_the_caller(ref_module):
    reports: list[dict] = []
    future = ref_module.slow.submit(3, on_progress=reports.append)
    assert isinstance(future, Future)
    assert future.result(timeout=60) == 3
    assert reports, "no progress report arrived"
    assert reports[-1]["status"] == "success"
    assert any(len(r.get("children", [])) == 3 for r in reports)


def test_missing_and_unknown_arguments_fail_locally(ref_module):
    with pytest.raises(TypeError, match="missing a required argument: 'a'"):
        ref_module.add()
    with pytest.raises(TypeError, match="unexpected keyword argument 'c'"):
        ref_module.add(1, c=2)
