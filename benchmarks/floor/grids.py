"""A DataArray as raw bytes and back: what the floor moves where ours moves netCDF3."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr


def grid_parts(grid: xr.DataArray) -> tuple[dict[str, Any], list[memoryview]]:
    """A 2-D float64 DataArray as a head (dims, name, attrs, shape) and its raw bytes.

    Buffers (not copied): the values, then each coordinate in dim order.
    """
    values = np.ascontiguousarray(grid.values, dtype="float64")
    coords = [np.ascontiguousarray(grid[d].values, dtype="float64") for d in grid.dims]
    head = {
        "dims": list(grid.dims),
        "shape": list(values.shape),
        "name": grid.name,
        "attrs": dict(grid.attrs),
    }
    return head, [values.data, *(c.data for c in coords)]


def grid_from(head: dict[str, Any], payload: memoryview) -> xr.DataArray:
    """The DataArray of :func:`grid_parts`, viewing ``payload`` (no copy of the values)."""
    ny, nx = head["shape"]
    flat = np.frombuffer(payload, dtype="float64")
    values = flat[: ny * nx].reshape(ny, nx)
    y, x = flat[ny * nx : ny * nx + ny], flat[ny * nx + ny :]
    dims = head["dims"]
    return xr.DataArray(
        values, dims=dims, coords={dims[0]: y, dims[1]: x}, name=head["name"], attrs=head["attrs"]
    )
