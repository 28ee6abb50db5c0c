"""A small climate-analysis toolbox, served as the demo backend module."""

from __future__ import annotations

import time

import numpy as np
import xarray as xr

from dasf_jupyter.backend.progress import ProgressReporter

__all__ = ["add", "make_grid", "anomaly", "slow_mean"]


def add(a: int, b: int = 1) -> int:
    """Add two numbers.

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


def make_grid(n: int = 4) -> xr.DataArray:
    """Make an n×n temperature grid on latitude/longitude.

    Parameters
    ----------
    n : int
        number of grid points along each axis

    Returns
    -------
    xr.DataArray
        air temperature in kelvin
    """
    lat = np.linspace(-80, 80, n)
    lon = np.linspace(0, 360, n, endpoint=False)
    data = 288.0 - 30.0 * np.abs(np.sin(np.deg2rad(lat)))[:, None] + 0.0 * lon
    return xr.DataArray(
        data,
        coords={"lat": lat, "lon": lon},
        dims=("lat", "lon"),
        name="tas",
        attrs={"units": "K", "long_name": "near-surface air temperature"},
    )


def anomaly(field: xr.DataArray) -> xr.DataArray:
    """Subtract the zonal mean from a gridded field.

    Parameters
    ----------
    field : xr.DataArray
        a field with a ``lon`` dimension

    Returns
    -------
    xr.DataArray
        the field minus its mean along ``lon``
    """
    result = field - field.mean("lon")
    result.attrs = dict(field.attrs, note="zonal anomaly")
    return result


def slow_mean(values: list[float], reporter: ProgressReporter, delay: float = 0.2) -> float:
    """Average some numbers slowly, reporting progress after each one.

    Parameters
    ----------
    values : list[float]
        the numbers to average
    delay : float
        seconds to wait per number

    Returns
    -------
    float
        the mean
    """
    total = 0.0
    for i, value in enumerate(values, 1):
        time.sleep(delay)
        total += value
        reporter.progress(i / len(values), f"{i} of {len(values)} values")
    return total / len(values)
