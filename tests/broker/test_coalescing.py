"""Coalesced writes (broker/coalescing.py): the real uvicorn protocol over a recording transport.

Not about sockets: what matters is how many ``write`` calls the protocol makes and what
they hold, which a recording transport shows exactly (a real socket merges writes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

from dasf_jupyter.broker.coalescing import COALESCE_LIMIT, DEFER, CoalescingWebSocketProtocol

HANDSHAKE = (
    b"GET /ws/t HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


class RecordingTransport(asyncio.Transport):
    """Keeps every ``write`` as one entry."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        pass


def texts_in(data: bytes) -> list[str]:
    """The text frames in server-to-client bytes (unmasked frames)."""
    out, view = [], memoryview(data)
    while view:
        frame, used = _parse_one(view)
        if frame.opcode is Opcode.TEXT:
            out.append(frame.data.decode())
        view = view[used:]
    return out


def _parse_one(view: memoryview) -> tuple[Frame, int]:
    length = view[1] & 0x7F
    start = 2
    if length == 126:
        length, start = int.from_bytes(view[2:4], "big"), 4
    elif length == 127:
        length, start = int.from_bytes(view[2:10], "big"), 10
    return Frame(Opcode(view[0] & 0x0F), bytes(view[start : start + length])), start + length


Script = Callable[[Callable[[dict], Awaitable[None]], RecordingTransport], Awaitable[None]]


async def run_app(script: Script) -> tuple[CoalescingWebSocketProtocol, RecordingTransport]:
    """Serve one websocket whose application runs ``script(send, transport)`` once accepted."""
    done = asyncio.Event()
    transport = RecordingTransport()

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        await script(send, transport)
        done.set()
        await receive()  # until the test disconnects

    config = Config(app, ws=CoalescingWebSocketProtocol, lifespan="off", log_level="warning")
    config.load()
    protocol = CoalescingWebSocketProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    protocol.connection_made(transport)
    protocol.data_received(HANDSHAKE)
    await asyncio.wait_for(done.wait(), 5)
    return protocol, transport


def send_text(text: str, defer: bool) -> dict:
    return {"type": "websocket.send", "text": text, DEFER: defer}


def test_deferred_frames_of_one_turn_leave_in_one_write_in_order():
    async def main():
        writes_within_turn: list[int] = []

        async def script(send, transport):
            for i in range(5):
                await send(send_text(f"ack {i}", True))
            writes_within_turn.append(len(transport.writes))

        protocol, transport = await run_app(script)
        assert writes_within_turn == [1]  # only the handshake response so far
        await next_turns()
        assert [texts_in(w) for w in transport.writes[1:]] == [[f"ack {i}" for i in range(5)]]
        protocol.connection_lost(None)

    asyncio.run(main())


def test_an_undeferred_frame_is_written_at_once_after_the_deferred_ones():
    async def main():
        async def script(send, transport):
            await send(send_text("ack", True))
            await send(send_text("delivery", False))
            # one write, at once: the deferred ack and the frame that followed it, in order
            assert [texts_in(w) for w in transport.writes[1:]] == [["ack", "delivery"]]

        protocol, transport = await run_app(script)
        await next_turns()
        assert len(transport.writes) == 2  # the scheduled flush found nothing left
        protocol.connection_lost(None)

    asyncio.run(main())


def test_deferred_bytes_over_the_limit_are_written_without_waiting():
    big = "x" * COALESCE_LIMIT

    async def main():
        async def script(send, transport):
            await send(send_text("small", True))
            await send(send_text(big, True))
            # within the same turn, so transport flow control can stop the sender
            assert [texts_in(w) for w in transport.writes[1:]] == [["small", big]]

        protocol, _ = await run_app(script)
        protocol.connection_lost(None)

    asyncio.run(main())


async def next_turns() -> None:
    """Let the event loop run the callbacks scheduled so far (the deferred flush)."""
    for _ in range(3):
        await asyncio.sleep(0)
