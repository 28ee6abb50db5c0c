"""The seam between dasf-jupyter's socket users and the network: a transport opens frame sockets.

Every producer and consumer socket of clients and backend modules is opened through a
:class:`Transport`. The default, :data:`WEBSOCKETS`, speaks real websockets and HTTP;
:mod:`dasf_jupyter.testing` passes an in-memory one, so a module, a client and a form can be
wired in one process without ports (the style of httpx's ``MockTransport``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

Frame = str | bytes


@runtime_checkable
class FrameSocket(Protocol):
    """One open websocket-like connection: whole frames in, whole frames out.

    ``send`` and ``recv`` raise :class:`~dasf_jupyter.errors.ConnectionLost` (or
    :class:`~dasf_jupyter.errors.PayloadTooLarge` for a peer's close code 1009) once the
    connection is closed; ``recv`` raises ``TimeoutError`` when ``timeout`` passes first.
    """

    #: headers of the handshake answer (the broker announces binary frames there)
    response_headers: Mapping[str, str]

    def send(self, frame: Frame) -> None: ...

    def recv(self, timeout: float | None = None) -> Frame: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class HttpAnswer:
    """Status and body of an HTTP GET (any status: the caller decides what an error is)."""

    status: int
    body: bytes


class Transport(Protocol):
    """Opens frame sockets to broker URLs and answers the broker's HTTP GETs."""

    def open(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        open_timeout: float = 10.0,
        max_size: int | None = None,
    ) -> FrameSocket:
        """Connect to the websocket ``url``; BrokerRefused for an HTTP refusal of the handshake,
        ConnectionLost when nothing answers."""
        ...

    def get(
        self, url: str, headers: Mapping[str, str] | None = None, *, timeout: float = 10.0
    ) -> HttpAnswer:
        """GET ``url``; ConnectionLost when nothing answers."""
        ...
