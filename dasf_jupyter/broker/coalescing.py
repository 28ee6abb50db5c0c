"""Fewer socket writes: frames the broker marks as deferrable leave in one write per turn.

On loopback every ``write`` wakes the peer and costs more than everything else the broker
does for a frame (see benchmarks/README.md). A frame sent with :data:`DEFER` set in its ASGI
``websocket.send`` event is encoded at once (so frames keep their order) but written together
with the other frames of that socket at the end of the event loop's next turn, or at once when
a frame without the mark follows. Acks are sent deferred: several acks of one socket
go out in one write, and after the delivery that the same publish woke a consumer for.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from websockets.exceptions import InvalidState

from .oversize import DrainingWebSocketProtocol

#: key of a ``websocket.send`` event: the frame may wait for the next write of its socket
DEFER = "dasf.defer"
#: bytes of deferred frames after which they are written at once: a consumer that does not
#: read still blocks its pump (transport flow control), and the hub keeps what it did not take
COALESCE_LIMIT = 64 * 1024


class CoalescingWebSocketProtocol(DrainingWebSocketProtocol):
    """uvicorn's websockets protocol (draining oversized messages) with coalesced writes."""

    _flush_pending = False
    _deferred = 0  # bytes encoded and not written yet

    async def send(self, message: Any) -> None:
        if not message.get(DEFER) or not self._open_for_data(message):
            self._deferred = 0
            await super().send(message)  # writes what is pending before its own frame
            return
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        try:
            data = message.get("bytes")
            if data is None:
                data = message["text"].encode()
                self.conn.send_text(data)
            else:
                self.conn.send_binary(data)
        except InvalidState:
            raise ClientDisconnected() from None
        self._deferred += len(data)
        if self._deferred >= COALESCE_LIMIT:
            self._flush()
        elif not self._flush_pending:
            self._flush_pending = True
            self.loop.call_soon(self._flush)

    def _open_for_data(self, message: Any) -> bool:
        """A data frame on an accepted connection that is not closing (else: uvicorn's path)."""
        return (
            message.get("type") == "websocket.send"
            and self.handshake_complete
            and not self.close_sent
            and self.initial_response is None
        )

    def _flush(self) -> None:
        self._flush_pending = False
        self._deferred = 0
        if self.transport.is_closing():
            return
        output = self.conn.data_to_send()
        if output:
            self.transport.write(b"".join(output))
