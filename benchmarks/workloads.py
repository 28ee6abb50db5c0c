"""The benchmark functions, served by our ``BackendModule`` (plain annotated Python)."""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["echo", "add", "make_grid", "grid_mean"]


def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


def add(a: int, b: int = 1) -> int:
    """Add two integers."""
    return a + b


def make_grid(n: int) -> xr.DataArray:
    """An n x n float64 grid (value ``y * n + x``) with coordinates and attributes."""
    return build_grid(n)


def grid_mean(grid: xr.DataArray) -> float:
    """The mean of all values of ``grid`` (the workload for a large argument)."""
    return float(grid.mean())


def build_grid(n: int) -> xr.DataArray:
    """The grid both stacks return; also what clients send as the large argument."""
    values = np.arange(n * n, dtype="float64").reshape(n, n)
    return xr.DataArray(
        values,
        dims=("y", "x"),
        coords={"y": np.arange(n, dtype="float64"), "x": np.arange(n, dtype="float64") * 0.5},
        name="grid",
        attrs={"units": "m"},
    )


def grid_side(megabytes: float) -> int:
    """Side n of an n x n float64 grid holding about ``megabytes`` MB (10**6 bytes)."""
    return max(1, round((megabytes * 1e6 / 8) ** 0.5))
