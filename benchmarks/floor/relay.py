"""The floor relay: ``/pub/<topic>`` frames go to the next ``/sub/<topic>`` consumer.

Usage: ``python -m benchmarks.floor.relay [PORT]``; prints the harness's ready mark with its
URL, serves until stdin closes. Round-robin over a topic's consumers; a message for a topic
without consumers is dropped (no acks, no queue: this is the floor, not a broker). A
fragmented message is forwarded frame by frame as it arrives (never held whole).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Data

from benchmarks.client_worker import reply
from benchmarks.floor.wire import SUBSCRIBED
from benchmarks.idle_holder import raise_fd_limit

FD_LIMIT = 20_000  #: room for the idle-connections row (10,000 sockets and more)


class Relay:
    """Consumers per topic and the round-robin position of each topic."""

    def __init__(self) -> None:
        self.consumers: dict[str, list[ServerConnection]] = defaultdict(list)
        self.turn: dict[str, itertools.count[int]] = defaultdict(itertools.count)

    def next_consumer(self, topic: str) -> ServerConnection | None:
        consumers = self.consumers.get(topic)
        if not consumers:
            return None
        return consumers[next(self.turn[topic]) % len(consumers)]

    async def handle(self, ws: ServerConnection) -> None:
        kind, _, topic = ws.request.path.strip("/").partition("/")
        if kind == "sub" and topic:
            await self.consume(topic, ws)
        elif kind == "pub" and topic:
            await self.publish(topic, ws)
        else:
            await ws.close(1008, "path is /pub/<topic> or /sub/<topic>")

    async def consume(self, topic: str, ws: ServerConnection) -> None:
        self.consumers[topic].append(ws)
        try:
            await ws.send(SUBSCRIBED)
            await ws.wait_closed()
        finally:
            self.consumers[topic].remove(ws)

    async def publish(self, topic: str, ws: ServerConnection) -> None:
        while True:
            try:
                frames = ws.recv_streaming()
                first = await anext(frames)
            except ConnectionClosed:
                return
            consumer = self.next_consumer(topic)
            try:
                second = await anext(frames)
            except StopAsyncIteration:  # a one-frame message: forwarded as it is
                if consumer is not None:
                    await self.forward(consumer, first)
                continue
            stream = streamed(first, second, frames)
            if consumer is None:
                async for _ in stream:  # nobody consumes the topic: drop it
                    pass
            else:
                await self.forward(consumer, stream)

    async def forward(self, consumer: ServerConnection, message: Any) -> None:
        """Send a message (bytes, or an async iterator of its frames as they arrive)."""
        with contextlib.suppress(ConnectionClosed):  # a consumer gone: lost (no acks)
            await consumer.send(message)


async def streamed(first: Data, second: Data, rest: AsyncIterator[Data]) -> AsyncIterator[Data]:
    """The frames of one fragmented message, the first two already read."""
    yield first
    yield second
    async for frame in rest:
        yield frame


async def serve_until_stdin_closes(port: int) -> None:
    relay = Relay()
    async with serve(
        relay.handle,
        "127.0.0.1",
        port,
        max_size=None,
        compression=None,
        ping_interval=None,
        backlog=4096,
    ) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        reply({"ready": True, "url": f"ws://127.0.0.1:{bound}"})
        await asyncio.to_thread(sys.stdin.read)


def main(argv: list[str]) -> int:
    raise_fd_limit(FD_LIMIT)
    asyncio.run(serve_until_stdin_closes(int(argv[0]) if argv else 0))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
