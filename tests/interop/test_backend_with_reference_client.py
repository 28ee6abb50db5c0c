"""demessaging's own client calls our backend module, through dasf-broker-django and ours."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import xarray as xr
from demessaging.validators.xarray import validate_dataarray

from dasf_jupyter.backend import BackendModule, ProgressReporter
from tests.refbroker.ref_client import RefCallError, ref_call, ref_call_class

pytestmark = pytest.mark.timeout(300)

REF_API = "tests.refbroker.ref_module"  # same names and signatures as the members below


def add(a: int, b: int = 1) -> int:
    """Add two integers."""
    return a + b


def divide(a: float, b: float) -> float:
    return a / b


def make_grid(n: int) -> xr.DataArray:
    """An n x n grid with value y * n + x at (y, x)."""
    return xr.DataArray(
        np.arange(n * n, dtype="float64").reshape(n, n),
        dims=("y", "x"),
        coords={"y": np.arange(n, dtype="float64"), "x": np.arange(n, dtype="float64") * 0.5},
        name="grid",
        attrs={"units": "m"},
    )


def slow(steps: int, reporter: ProgressReporter) -> int:
    with reporter:
        for i in range(steps):
            with reporter.step(f"step {i}"):
                pass
    return steps


class Greeter:
    """Greets people."""

    def __init__(self, name: str) -> None:
        self.name = name

    def greet(self, times: int = 1) -> list[str]:
        return [f"hi {self.name}"] * times


@pytest.fixture(scope="module", params=["reference", "ours"])
def any_broker(request: pytest.FixtureRequest) -> str:
    """dasf-broker-django, and our broker (the compatibility contract names both)."""
    return request.getfixturevalue(
        "ref_broker_url" if request.param == "reference" else "broker_url"
    )


@pytest.fixture(scope="module")
def our_topic(any_broker: str) -> Iterator[str]:
    """Our module served through the broker for the whole file."""
    from tests.backend.test_serve import new_topic

    topic = new_topic()
    module = BackendModule(topic, [add, divide, make_grid, slow, Greeter])
    with module.serve_in_background(any_broker):
        yield topic


def grid_of(value: Any) -> xr.DataArray:
    return validate_dataarray(None, value)  # how demessaging decodes a DataArray result


def test_reference_client_adds(any_broker, our_topic):
    assert ref_call(any_broker, our_topic, "add", a=2, b=3) == 5


def test_reference_generated_client_fills_defaults(any_broker, our_topic):
    assert ref_call(any_broker, our_topic, "add", a=2, members_from=REF_API) == 3


def test_reference_client_calls_a_class_method(any_broker, our_topic):
    result = ref_call_class(any_broker, our_topic, "Greeter", {"name": "Ada"}, "greet", times=2)
    assert result == ["hi Ada", "hi Ada"]


def test_reference_client_decodes_an_xarray_result(any_broker, our_topic):
    grid = grid_of(ref_call(any_broker, our_topic, "make_grid", n=4))
    expected = make_grid(4)
    xr.testing.assert_identical(grid, expected)


def test_reference_generated_client_gets_the_same_grid(any_broker, our_topic):
    result = ref_call(any_broker, our_topic, "make_grid", n=3, members_from=REF_API)
    xr.testing.assert_equal(grid_of(result), make_grid(3))


def test_reference_client_gets_a_result_after_progress_messages(any_broker, our_topic):
    assert ref_call(any_broker, our_topic, "slow", steps=3) == 3


def test_reference_client_receives_our_error_text(any_broker, our_topic):
    with pytest.raises(RefCallError, match="error executing request: float division by zero"):
        ref_call(any_broker, our_topic, "divide", a=1, b=0)
