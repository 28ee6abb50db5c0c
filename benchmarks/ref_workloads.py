"""The benchmark functions as a demessaging module (the reference backend and client API).

Served with demessaging's CLI through ``tests.refbroker.backend_process.ReferenceBackend``
(``module="benchmarks.ref_workloads"``); the reference client builds its request models from
this file too, as a generated demessaging client would.
"""

# No ``from __future__ import annotations``: demessaging resolves the real annotation objects.
import xarray as xr
from demessaging import configure, main
from demessaging.config import ModuleConfig, WebsocketURLConfig
from demessaging.serializers.xarray import encode_xarray
from demessaging.validators.xarray import validate_dataarray

from benchmarks.workloads import build_grid

__all__ = ["echo", "add", "make_grid", "grid_mean"]


def echo(text: str) -> str:
    """Return the text unchanged.

    Parameters
    ----------
    text : str
        text to send back
    """
    return text


def add(a: int, b: int = 1) -> int:
    """Add two integers.

    Parameters
    ----------
    a : int
        first number
    b : int
        second number
    """
    return a + b


@configure(return_serializer=encode_xarray, return_validators=[validate_dataarray])
def make_grid(n: int) -> xr.DataArray:
    """Make an n x n float64 grid.

    Parameters
    ----------
    n : int
        number of points along each axis
    """
    return build_grid(n)


@configure(
    validators={"grid": [validate_dataarray]},
    serializers={"grid": encode_xarray},
)
def grid_mean(grid: xr.DataArray) -> float:
    """The mean of all values of the grid.

    Parameters
    ----------
    grid : xr.DataArray
        the grid
    """
    return float(grid.mean())


if __name__ == "__main__":
    main(config=ModuleConfig(messaging_config=WebsocketURLConfig(topic="bench")))
