"""``/dasf/ws/<topic>[/<subscription>]``: the broker's websockets through the Jupyter server.

Behind JupyterHub/Binder the browser reaches only the Jupyter server; this handler checks
the Jupyter login (and, through Jupyter's ``check_origin``, that the page is one of this
server's), then relays frames to the broker unchanged, presenting the server's broker token in
an ``Authorization`` header (so no DASF credential reaches the browser, and none a URL or log).
It sends no ``Origin``: the broker sees a non-browser client. A broker refusal reaches the
browser as a close code (4401 for HTTP 401, 4403 for 403, ...) with the broker's reason.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any
from urllib.parse import quote

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketHandler, websocket_connect

from ...transport.close_codes import close_code_for_status, close_reason
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
        # a header, never ?token=: query strings end up in access logs
        self.upstream_headers = {"Authorization": f"Token {token}"} if token else {}
        await super().get(path, *args, **kwargs)

    async def open(self, *args: Any, **kwargs: Any) -> None:
        # tornado holds incoming messages until this coroutine returns
        request = HTTPRequest(
            self.upstream_url, headers=self.upstream_headers, connect_timeout=CONNECT_TIMEOUT
        )
        try:
            self.upstream = await websocket_connect(
                request, on_message_callback=self._from_broker, max_message_size=MAX_FRAME
            )
        except HTTPClientError as exc:
            if exc.response is None or exc.code >= 599:  # no answer at all (timeout, refused)
                self._unreachable(exc)
                return
            # the broker answered: pass its refusal on, with its own words
            body = exc.response.body.decode("utf-8", errors="replace").strip()
            reason = body or f"the DASF broker refused the connection (HTTP {exc.code})"
            log.info("the DASF broker refused %s: %s", self.request.path, reason)
            self.close(close_code_for_status(exc.code), close_reason(reason))
        except Exception as exc:
            self._unreachable(exc)

    def _unreachable(self, exc: Exception) -> None:
        # the class only: messages of connection errors may quote the request
        log.warning("DASF proxy cannot reach the broker: %s", type(exc).__name__)
        self.close(1011, "the DASF broker is not reachable")

    def _from_broker(self, message: str | bytes | None) -> None:
        if message is None:  # the broker closed its side: pass its code and reason on
            upstream = self.upstream
            code = upstream.close_code if upstream is not None else None
            reason = upstream.close_reason if upstream is not None else None
            if code in (None, 1005, 1006, 1015):  # reserved: "none", "lost", "TLS failed"
                code = 1011
            self.close(code, close_reason(reason or "the DASF broker closed the connection"))
            return
        with contextlib.suppress(Exception):  # the browser is gone; on_close cleans up
            self.write_message(message, binary=isinstance(message, bytes))

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
