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

#: largest frame we accept from the broker (a result fragment is far smaller by default)
DEFAULT_MAX_MESSAGE = 256 * 1024 * 1024


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


@dataclass(frozen=True)
class SocketRequest:
    """What :meth:`Transport.open` was asked for, every argument given."""

    url: str
    headers: Mapping[str, str] | None
    open_timeout: float
    #: largest frame accepted (None: no limit)
    max_size: int | None


class Transport(Protocol):
    """Opens frame sockets to broker URLs and answers the broker's HTTP GETs."""

    def open(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        open_timeout: float = 10.0,
        max_size: int | None = DEFAULT_MAX_MESSAGE,
    ) -> FrameSocket:
        """Connect to the websocket ``url``; BrokerRefused for an HTTP refusal of the handshake,
        ConnectionLost when nothing answers.

        Transports that subclass :class:`Transport` implement :meth:`connect` and inherit this
        signature and its defaults.
        """
        return self.connect(SocketRequest(url, headers, open_timeout, max_size))

    def connect(self, request: SocketRequest) -> FrameSocket:
        """Open the socket :meth:`open` was asked for."""
        raise NotImplementedError

    def get(
        self, url: str, headers: Mapping[str, str] | None = None, *, timeout: float = 10.0
    ) -> HttpAnswer:
        """GET ``url``; ConnectionLost when nothing answers (subclasses implement fetch)."""
        return self.fetch(url, headers, timeout)

    def fetch(self, url: str, headers: Mapping[str, str] | None, timeout: float) -> HttpAnswer:
        """:meth:`get` with every argument given."""
        raise NotImplementedError
