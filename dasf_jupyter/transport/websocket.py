"""The default transport: real websockets (``websockets.sync``) and HTTP (``urllib``)."""

from __future__ import annotations

import inspect
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from ..errors import BrokerRefused, ConnectionLost, PayloadTooLarge
from .base import DEFAULT_MAX_MESSAGE, Frame, HttpAnswer, SocketRequest, Transport

# websockets ≥ 17 warns unless a directly returned connection is requested explicitly
_LEGACY: dict[str, Any] = (
    {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}
)

#: close code of a websocket message over the peer's size limit (RFC 6455)
MESSAGE_TOO_BIG = 1009


def open_websocket(
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    open_timeout: float = 10.0,
    max_size: int | None = DEFAULT_MAX_MESSAGE,
) -> ClientConnection:
    """Open a websocket, translating handshake failures into dasf-jupyter errors."""
    try:
        return connect(
            url,
            additional_headers=dict(headers) if headers else None,
            open_timeout=open_timeout,
            max_size=max_size,
            max_queue=64,
            compression=None,  # base64/JSON payloads: deflate costs CPU for little gain
            proxy=None,
            close_timeout=2,
            **_LEGACY,
        )
    except InvalidStatus as exc:
        body = exc.response.body.decode("utf-8", "replace").strip() if exc.response.body else ""
        status = exc.response.status_code
        raise BrokerRefused(f"HTTP {status}{': ' + body if body else ''}", url) from None
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        raise ConnectionLost(f"cannot connect to {url}: {exc}") from None


def closed_error(url: str, exc: ConnectionClosed) -> ConnectionLost | PayloadTooLarge:
    """The error for a closed socket: PayloadTooLarge, with the limit, for close code 1009."""
    received = exc.rcvd
    if received is not None and received.code == MESSAGE_TOO_BIG:
        return PayloadTooLarge(
            f"the broker at {url} refused a message over its size limit ({received.reason}); "
            "send smaller fragments (fragment_size=) or raise the broker's --max-message-size"
        )
    return ConnectionLost(f"connection to {url} closed: {exc}")


class WebsocketFrameSocket:
    """A :class:`~.base.FrameSocket` over one ``websockets`` client connection."""

    def __init__(self, url: str, connection: ClientConnection) -> None:
        self.url = url
        self._ws = connection
        response = connection.response
        self.response_headers: Mapping[str, str] = response.headers if response is not None else {}

    def send(self, frame: Frame) -> None:
        try:
            self._ws.send(frame)
        except ConnectionClosed as exc:
            raise closed_error(self.url, exc) from None

    def recv(self, timeout: float | None = None) -> Frame:
        try:
            return self._ws.recv(timeout=timeout)
        except ConnectionClosed as exc:
            raise closed_error(self.url, exc) from None

    def close(self) -> None:
        self._ws.close()


class WebsocketTransport(Transport):
    """Real websockets to the broker, and ``urllib`` for its HTTP API."""

    def connect(self, request: SocketRequest) -> WebsocketFrameSocket:
        connection = open_websocket(
            request.url,
            request.headers,
            open_timeout=request.open_timeout,
            max_size=request.max_size,
        )
        return WebsocketFrameSocket(request.url, connection)

    def fetch(self, url: str, headers: Mapping[str, str] | None, timeout: float) -> HttpAnswer:
        request = urllib.request.Request(url, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                return HttpAnswer(answer.status, answer.read())
        except urllib.error.HTTPError as exc:
            with exc:  # it holds the response's socket
                return HttpAnswer(exc.code, exc.read() or b"")
        except (urllib.error.URLError, OSError) as exc:
            raise ConnectionLost(f"cannot reach {url}: {exc}") from None


#: the transport every socket uses unless one is passed in
WEBSOCKETS = WebsocketTransport()
