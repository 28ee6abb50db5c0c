"""The :class:`~dasf_jupyter.transport.base.Transport` that reaches an in-memory broker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..transport.base import HttpAnswer, SocketRequest, Transport
from .sockets import MemorySocket

if TYPE_CHECKING:
    from .broker import InMemoryBroker


class MemoryTransport(Transport):
    """Opens sockets to, and GETs from, one :class:`~.broker.InMemoryBroker` (no ports).

    Pass it as ``transport=`` wherever dasf-jupyter opens connections; it is the broker's
    :attr:`~.broker.InMemoryBroker.transport`.
    """

    def __init__(self, broker: InMemoryBroker) -> None:
        self.broker = broker

    def connect(self, request: SocketRequest) -> MemorySocket:
        # no open_timeout: an in-memory broker answers at once
        return self.broker.open_socket(request.url, request.headers, max_size=request.max_size)

    def fetch(self, url: str, headers: Mapping[str, str] | None, timeout: float) -> HttpAnswer:
        return self.broker.http_get(url, headers)

    def __repr__(self) -> str:
        return f"<MemoryTransport {self.broker.url}>"
