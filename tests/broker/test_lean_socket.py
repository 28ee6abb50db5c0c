"""The lean per-socket state of broker/lean_socket.py: queue, event, handshake objects dropped."""

from __future__ import annotations

import asyncio

import pytest

from dasf_jupyter.broker.lean_socket import LeanEvent, LeanQueue

from .test_coalescing import run_app, texts_in


def test_queue_is_fifo_and_get_waits_for_a_put():
    async def main():
        queue = LeanQueue()
        queue.put_nowait(1)
        queue.put_nowait(2)
        assert (queue.qsize(), await queue.get(), await queue.get()) == (2, 1, 2)
        assert queue.empty()
        reader = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)  # one turn: the reader is waiting now
        assert not reader.done()
        queue.put_nowait(3)
        assert await asyncio.wait_for(reader, 1) == 3
        with pytest.raises(asyncio.QueueEmpty):
            queue.get_nowait()

    asyncio.run(main())


def test_queue_keeps_order_across_partial_reads_and_survives_a_cancelled_reader():
    async def main():
        queue = LeanQueue()
        reader = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
        for i in range(5):
            queue.put_nowait(i)
        got = [queue.get_nowait(), queue.get_nowait()]
        queue.put_nowait(5)
        got += [await queue.get() for _ in range(4)]
        assert got == [0, 1, 2, 3, 4, 5] and queue.empty()

    asyncio.run(main())


def test_event_wakes_every_waiter_and_clear_makes_them_wait_again():
    async def main():
        event = LeanEvent()
        waiters = [asyncio.ensure_future(event.wait()) for _ in range(3)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)
        event.set()
        assert await asyncio.wait_for(asyncio.gather(*waiters), 1) == [True, True, True]
        assert await event.wait() is True  # set: returns at once
        event.clear()
        late = asyncio.ensure_future(event.wait())
        await asyncio.sleep(0)
        assert not late.done() and not event.is_set()
        event.set()
        assert await asyncio.wait_for(late, 1) is True

    asyncio.run(main())


def test_protocol_uses_the_lean_parts_and_drops_the_handshake_once_accepted():
    async def main():
        async def script(send, transport):
            await send({"type": "websocket.send", "text": "hello"})

        protocol, transport = await run_app(script)
        request = protocol.conn.parser.gi_frame.f_locals.get("request")  # websockets' parser
        assert request is None or not list(request.headers.raw_items())
        assert isinstance(protocol.queue, LeanQueue)
        assert isinstance(protocol.writable, LeanEvent)
        assert protocol.request is None and protocol.response is None
        assert transport.writes[0].startswith(b"HTTP/1.1 101")
        assert texts_in(transport.writes[1]) == ["hello"]
        protocol.connection_lost(None)

    asyncio.run(main())
