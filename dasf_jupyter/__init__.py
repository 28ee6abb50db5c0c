"""dasf-jupyter: share data-analysis functions over DASF and use them from Jupyter."""

from __future__ import annotations

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
from .jupyter import load_ipython_extension as load_ipython_extension
from .jupyter import unload_ipython_extension as unload_ipython_extension

__version__ = "0.1.0"

__all__ = [
    "BrokerError",
    "BrokerRefused",
    "CallTimeout",
    "ConnectionLost",
    "DasfError",
    "ModuleNotServed",
    "PayloadTooLarge",
    "ProtocolError",
    "RemoteError",
    "__version__",
]
