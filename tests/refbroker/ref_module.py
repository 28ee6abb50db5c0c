"""A demessaging backend module used as a live reference peer in interop tests.

Served with demessaging's own CLI, e.g.::

    python -m tests.refbroker.ref_module --websocket-url ws://127.0.0.1:8000/ws \
        -t my-topic listen

Members follow demessaging's documented conventions (numpy docstrings, ``configure`` with
the xarray serializer/validator, a deprogressapi reporter parameter).
"""

# No ``from __future__ import annotations``: demessaging resolves the real annotation objects.
import numpy as np
import xarray as xr
from demessaging import configure, main
from demessaging.config import ModuleConfig, WebsocketURLConfig
from demessaging.serializers.xarray import encode_xarray
from demessaging.validators.xarray import validate_dataarray, validate_dataset
from deprogressapi import ProgressReport

__all__ = ["add", "echo", "divide", "make_grid", "make_dataset", "slow", "Greeter"]


def add(a: int, b: int = 1) -> int:
    """Add two integers.

    Parameters
    ----------
    a : int
        first number
    b : int
        second number

    Returns
    -------
    int
        the sum
    """
    return a + b


def echo(text: str) -> str:
    """Return the text unchanged.

    Parameters
    ----------
    text : str
        text to send back
    """
    return text


def divide(a: float, b: float) -> float:
    """Divide a by b (raises ZeroDivisionError for b = 0).

    Parameters
    ----------
    a : float
        dividend
    b : float
        divisor
    """
    return a / b


@configure(return_serializer=encode_xarray, return_validators=[validate_dataarray])
def make_grid(n: int) -> xr.DataArray:
    """Make an n x n float64 grid whose value at (y, x) is ``y * n + x``.

    Parameters
    ----------
    n : int
        number of points along each axis

    Returns
    -------
    xr.DataArray
        the grid, with coordinates ``y`` and ``x`` and attributes
    """
    values = np.arange(n * n, dtype="float64").reshape(n, n)
    return xr.DataArray(
        values,
        dims=("y", "x"),
        coords={"y": np.arange(n, dtype="float64"), "x": np.arange(n, dtype="float64") * 0.5},
        name="grid",
        attrs={"units": "m", "source": "ref_module.make_grid"},
    )


def _dataset(cls, value):
    """demessaging's validate_dataset, but a Dataset passes as it is (newer xarray refuses
    ``xr.Dataset(dataset)``)."""
    return value if isinstance(value, xr.Dataset) else validate_dataset(cls, value)


@configure(return_serializer=encode_xarray, return_validators=[_dataset])
def make_dataset(n: int) -> xr.Dataset:
    """Make a Dataset with one variable ``t`` of n values and global attributes.

    Parameters
    ----------
    n : int
        number of values

    Returns
    -------
    xr.Dataset
        the data set, with ``title`` and ``institution`` attributes
    """
    return xr.Dataset(
        {"t": ("time", np.arange(n, dtype="float64"), {"units": "K"})},
        coords={"time": np.arange(n, dtype="float64")},
        attrs={"title": "one variable", "institution": "ref_module"},
    )


def slow(steps: int, reporter: ProgressReport = ProgressReport(step_message="Working")) -> int:
    """Run ``steps`` trivial sub-steps and report each one.

    Parameters
    ----------
    steps : int
        number of sub-steps
    reporter : ProgressReport
        the progress report (filled in by the framework)

    Returns
    -------
    int
        the number of steps done
    """
    reporter.steps = steps
    with reporter:
        for i in range(steps):
            with reporter.create_subreport(step_message=f"step {i}"):
                pass
    return steps


class Greeter:
    """Greets people.

    Parameters
    ----------
    name : str
        who to greet
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def greet(self, times: int = 1) -> list[str]:
        """Greet ``times`` times.

        Parameters
        ----------
        times : int
            repetitions

        Returns
        -------
        list of str
            one greeting per repetition
        """
        return [f"hi {self.name}"] * times


if __name__ == "__main__":
    # The topic and URL come from the command line (--websocket-url, -t, --max_payload_size).
    main(config=ModuleConfig(messaging_config=WebsocketURLConfig(topic="ref-module")))
