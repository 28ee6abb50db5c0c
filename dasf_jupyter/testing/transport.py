"""The :class:`~dasf_jupyter.transport.base.Transport` that reaches an in-memory broker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..transport.base import HttpAnswer
from .sockets import MemorySocket

if TYPE_CHECKING:
    from .broker import InMemoryBroker


class MemoryTransport:
    """Opens sockets to, and GETs from, one :class:`~.broker.InMemoryBroker` (no ports).

    Pass it as ``transport=`` wherever dasf-jupyter opens connections; it is the broker's
    :attr:`~.broker.InMemoryBroker.transport`.
    """

    def __init__(self, broker: InMemoryBroker) -> None:
        self.broker = broker

    def open(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        open_timeout: float = 10.0,
        max_size: int | None = None,
    ) -> MemorySocket:
        return self.broker.open_socket(url, headers, max_size=max_size)

    def get(
        self, url: str, headers: Mapping[str, str] | None = None, *, timeout: float = 10.0
    ) -> HttpAnswer:
        return self.broker.http_get(url, headers)

    def __repr__(self) -> str:
        return f"<MemoryTransport {self.broker.url}>"
