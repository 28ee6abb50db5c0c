"""A message over the size limit is refused with close code 1009 the sender can read.

uvicorn closes the TCP connection right after queueing the close frame; the sender is still
writing its oversized message, so the kernel answers with a reset and the close frame is
lost: the sender sees a bare "connection reset". Here the broker sends the close frame
(1009 and the limit), then keeps reading and discarding what the sender still sends, until
the sender closes its side (or ``DRAIN_TIMEOUT``/``DRAIN_LIMITS`` run out).
"""

from __future__ import annotations

import logging

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import PayloadTooBig

log = logging.getLogger(__name__)

#: the longest the broker keeps draining an oversized message (seconds)
DRAIN_TIMEOUT = 30.0
#: the most bytes it discards, as a multiple of the message size limit
DRAIN_LIMITS = 4


class DrainingWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets protocol, draining an oversized message before it closes."""

    _draining = False
    _drained = 0

    def handle_parser_exception(self) -> None:
        if not isinstance(self.conn.parser_exc, PayloadTooBig) or self.conn.close_sent is None:
            super().handle_parser_exception()
            return
        code, reason = self.conn.close_sent.code, self.conn.close_sent.reason
        log.info("closing %s with %d: %s", self.scope_path(), code, reason)
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        # the close frame, then our half of the TCP connection: the sender reads both and
        # closes; what it still sends meanwhile is drained, not answered with a reset
        self.transport.write(b"".join(self.conn.data_to_send()))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.close_sent = True
        self.stop_keepalive()
        self._draining = True
        # as close_timer: uvicorn then leaves the transport open when the application ends
        self.close_timer = self.loop.call_later(DRAIN_TIMEOUT, self._stop_draining)

    def scope_path(self) -> str:
        return str(getattr(self, "scope", {}).get("path", "?"))

    def data_received(self, data: bytes) -> None:
        if not self._draining:
            super().data_received(data)
            return
        self._drained += len(data)
        if self._drained > DRAIN_LIMITS * (self.config.ws_max_size or 0):
            self._stop_draining()

    def eof_received(self) -> bool | None:  # type: ignore[override]  # asyncio's signature
        if self._draining:
            self._stop_draining()  # the sender finished: close our side now
        return super().eof_received()

    def _stop_draining(self) -> None:
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        self._draining = False
        if not self.transport.is_closing():
            self.transport.close()
