"""Backend modules: plain Python functions and classes served on a DASF topic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .progress import ProgressReporter

if TYPE_CHECKING:
    from .module import BackendModule
    from .serve import ServeHandle

__all__ = ["BackendModule", "ProgressReporter", "ServeHandle"]


def __getattr__(name: str) -> Any:
    # imported on first use: a module file that only needs ProgressReporter for its
    # annotations should not pay for pydantic, the codecs and the websocket stack
    if name == "BackendModule":
        from .module import BackendModule

        return BackendModule
    if name == "ServeHandle":
        from .serve import ServeHandle

        return ServeHandle
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
