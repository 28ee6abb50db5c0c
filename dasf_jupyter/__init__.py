"""dasf-jupyter: share data-analysis functions over DASF and use them from Jupyter.

>>> import dasf_jupyter as dasf
>>> with dasf.connect("ws://127.0.0.1:8765/ws") as conn:      # a client
...     conn.module("climate").add(2, b=3)
>>> module = dasf.BackendModule.from_path("climate.py", "climate")  # a module

Everything but the errors is imported on first use: ``import dasf_jupyter`` stays fast
(no websockets, pydantic or xarray until they are needed).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    BrokerError,
    BrokerRefused,
    CallTimeout,
    ConnectionLost,
    DasfError,
    ModuleNotServed,
    PayloadTooLarge,
    ProtocolError,
    RemoteError,
)

if TYPE_CHECKING:
    from .backend import BackendModule, ProgressReporter
    from .client import Connection, RemoteModule, Security, connect
    from .jupyter import load_ipython_extension, unload_ipython_extension
    from .security import Caller

#: public name -> module that defines it (imported when the name is first used)
_LAZY = {
    "connect": "dasf_jupyter.client",
    "Connection": "dasf_jupyter.client",
    "RemoteModule": "dasf_jupyter.client",
    "Security": "dasf_jupyter.client",
    "BackendModule": "dasf_jupyter.backend",
    "ProgressReporter": "dasf_jupyter.backend",
    "Caller": "dasf_jupyter.security",
    "load_ipython_extension": "dasf_jupyter.jupyter",
    "unload_ipython_extension": "dasf_jupyter.jupyter",
}

__all__ = [
    "BackendModule",
    "BrokerError",
    "BrokerRefused",
    "CallTimeout",
    "Caller",
    "Connection",
    "ConnectionLost",
    "DasfError",
    "ModuleNotServed",
    "PayloadTooLarge",
    "ProgressReporter",
    "ProtocolError",
    "RemoteError",
    "RemoteModule",
    "Security",
    "__version__",
    "connect",
    "load_ipython_extension",
    "unload_ipython_extension",
]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # next time without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _version() -> str:
    """The installed distribution's version: pyproject.toml is the one place it is written."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("dasf-jupyter")
    except PackageNotFoundError:  # run from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
