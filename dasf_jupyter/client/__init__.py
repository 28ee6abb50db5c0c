"""Call DASF backend modules from Python.

>>> from dasf_jupyter.client import connect
>>> with connect("ws://localhost:8000/ws", token=None) as conn:
...     climate = conn.module("climate")          # discovers the api_info
...     help(climate.add)                         # real signature and docstring
...     climate.add(2, b=3)                       # -> 5
...     future = climate.slow_mean.submit([1, 2], on_progress=print)
...     grid = climate.make_grid(8)               # -> xarray.DataArray
"""

from .connection import Connection, connect
from .discovery import ModuleInfo
from .options import Security
from .stubs import RemoteClass, RemoteFunction, RemoteModule, RemoteObject

__all__ = [
    "Connection",
    "ModuleInfo",
    "RemoteClass",
    "RemoteFunction",
    "RemoteModule",
    "RemoteObject",
    "Security",
    "connect",
]
