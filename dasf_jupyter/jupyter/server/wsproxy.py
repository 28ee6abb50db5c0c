"""``/dasf/ws/<topic>[/<subscription>]``: the broker's websockets through the Jupyter server.

Behind JupyterHub/Binder the browser reaches only the Jupyter server; this handler checks
the Jupyter login, then relays frames to the broker unchanged, presenting the server's broker
token (so no DASF credential needs to reach the browser).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlencode

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketHandler, websocket_connect

from .handlers import BrokerLookup

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0  # s
MAX_FRAME = 64 * 1024 * 1024  # bytes; DASF fragments payloads at 512 kB, so this is generous


class BrokerSocketProxy(WebSocketMixin, BrokerLookup, WebSocketHandler, JupyterHandler):
    """Relays one websocket between the browser and the broker."""

    upstream: WebSocketClientConnection | None = None

    async def get(self, path: str, *args: Any, **kwargs: Any) -> None:
        if not self.current_user:
            raise web.HTTPError(403, "log in to the Jupyter server first")
        found = await self.broker()
        if found is None:
            raise web.HTTPError(404, "this Jupyter server has no DASF broker configured")
        url, token, _ = found
        self.upstream_url = f"{url.rstrip('/')}/{quote(path, safe='/:.-_')}"
        if token:
            self.upstream_url += "?" + urlencode({"token": token})
        await super().get(path, *args, **kwargs)

    async def open(self, *args: Any, **kwargs: Any) -> None:
        # tornado holds incoming messages until this coroutine returns
        request = HTTPRequest(self.upstream_url, connect_timeout=CONNECT_TIMEOUT)
        try:
            self.upstream = await websocket_connect(
                request, on_message_callback=self._from_broker, max_message_size=MAX_FRAME
            )
        except Exception as exc:
            log.warning("DASF proxy cannot reach the broker: %s", exc)
            self.close(1011, "the DASF broker is not reachable")

    def _from_broker(self, message: str | bytes | None) -> None:
        if message is None:  # the broker closed its side
            upstream = self.upstream
            code = upstream.close_code if upstream is not None else None
            self.close(code or 1011, "the DASF broker closed the connection")
            return
        try:
            self.write_message(message, binary=isinstance(message, bytes))
        except Exception:  # the browser is gone; on_close cleans up
            pass

    async def on_message(self, message: str | bytes) -> None:
        if self.upstream is None:
            return
        try:
            await self.upstream.write_message(message, binary=isinstance(message, bytes))
        except Exception:
            self.close(1011, "lost the connection to the DASF broker")

    def on_close(self) -> None:
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None
