"""A backend module exercising every value type the client must round-trip."""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from typing import Literal, Optional

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel

from dasf_jupyter.backend.progress import ProgressReporter

__all__ = [
    "add",
    "same_int",
    "same_float",
    "same_str",
    "same_bool",
    "same_list",
    "same_dict",
    "same_optional",
    "same_literal",
    "same_color",
    "same_datetime",
    "same_point",
    "same_array",
    "same_dataarray",
    "same_dataset",
    "same_frame",
    "same_series",
    "big_grid",
    "fail",
    "sleep",
    "count_slowly",
    "shout",
    "Counter",
]


class Color(str, enum.Enum):
    """A colour."""

    RED = "red"
    GREEN = "green"


class Point(BaseModel):
    """A point on a plane."""

    x: float
    y: float
    label: str = ""


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


def same_int(value: int) -> int:
    """Return the value."""
    return value


def same_float(value: float) -> float:
    """Return the value."""
    return value


def same_str(value: str) -> str:
    """Return the value."""
    return value


def same_bool(value: bool) -> bool:
    """Return the value."""
    return value


def same_list(value: list[int]) -> list[int]:
    """Return the value."""
    return value


def same_dict(value: dict[str, float]) -> dict[str, float]:
    """Return the value."""
    return value


def same_optional(value: Optional[int] = None) -> Optional[int]:
    """Return the value."""
    return value


def same_literal(value: Literal["a", "b"] = "a") -> Literal["a", "b"]:
    """Return the value."""
    return value


def same_color(value: Color) -> Color:
    """Return the value."""
    return value


def same_datetime(value: dt.datetime) -> dt.datetime:
    """Return the value."""
    return value


def same_point(value: Point) -> Point:
    """Return the value."""
    return value


def same_array(value: np.ndarray) -> np.ndarray:
    """Return the value."""
    return value


def same_dataarray(value: xr.DataArray) -> xr.DataArray:
    """Return the value."""
    return value


def same_dataset(value: xr.Dataset) -> xr.Dataset:
    """Return the value."""
    return value


def same_frame(value: pd.DataFrame) -> pd.DataFrame:
    """Return the value."""
    return value


def same_series(value: pd.Series) -> pd.Series:
    """Return the value."""
    return value


def big_grid(n: int) -> xr.DataArray:
    """An n x n float64 grid whose value at (y, x) is y * n + x.

    Parameters
    ----------
    n : int
        points along each axis
    """
    values = np.arange(n * n, dtype="float64").reshape(n, n)
    return xr.DataArray(values, dims=("y", "x"), name="grid", attrs={"units": "m"})


def fail(message: str) -> int:
    """Raise ValueError(message)."""
    raise ValueError(message)


def sleep(seconds: float) -> float:
    """Sleep, then return the seconds slept."""
    time.sleep(seconds)
    return seconds


def count_slowly(steps: int, reporter: ProgressReporter, delay: float = 0.05) -> int:
    """Count to steps, reporting progress after each step.

    Parameters
    ----------
    steps : int
        how many steps
    delay : float
        seconds per step
    """
    for i in range(1, steps + 1):
        time.sleep(delay)
        reporter.progress(i / steps, f"step {i} of {steps}")
    return steps


def shout(text: str) -> str:
    """Log text (forwarded to the caller as a log message) and return it upper-cased."""
    logging.getLogger("sample_module").warning("shouting %s", text)
    return text.upper()


class Counter:
    """Counts from a start value.

    Parameters
    ----------
    start : int
        the first value
    """

    def __init__(self, start: int = 0) -> None:
        self.start = start

    def plus(self, n: int) -> int:
        """Return start + n.

        Parameters
        ----------
        n : int
            the increment
        """
        return self.start + n
