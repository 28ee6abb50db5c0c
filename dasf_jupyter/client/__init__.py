"""Call DASF backend modules from Python: ``connect(url).module(topic).fn(...)``."""

from .connection import Connection, connect
from .discovery import ModuleInfo
from .stubs import RemoteClass, RemoteFunction, RemoteModule, RemoteObject

__all__ = [
    "Connection",
    "ModuleInfo",
    "RemoteClass",
    "RemoteFunction",
    "RemoteModule",
    "RemoteObject",
    "connect",
]
