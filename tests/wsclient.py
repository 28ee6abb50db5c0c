"""A websocket opened directly, not in a ``with`` block (for tests that hold several)."""

from __future__ import annotations

import inspect
from typing import Any

from websockets.sync.client import ClientConnection, connect

# websockets ≥ 17.1 warns (an error in this suite) unless a directly returned connection is
# asked for explicitly; older versions do not know the parameter
_LEGACY = {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}


def open_websocket(url: str, **options: Any) -> ClientConnection:
    """``websockets.sync.client.connect(url, **options)``, to be closed by the caller."""
    return connect(url, **options, **_LEGACY)
