"""The floor backend: serves :mod:`benchmarks.workloads` on ``/sub/<topic>`` of the relay.

Usage: ``python -m benchmarks.floor.backend URL TOPIC``; prints the ready mark once
subscribed, serves until stdin closes. Each request runs inline on the event loop; the reply
goes to ``/pub/<reply topic>`` (one connection per reply topic, opened on first use).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from benchmarks import workloads
from benchmarks.client_worker import reply
from benchmarks.floor.grids import grid_from, grid_parts
from benchmarks.floor.wire import fragments, pack, unpack

OPTIONS: dict[str, Any] = {"max_size": None, "compression": None, "ping_interval": None}


def execute(head: dict[str, Any], payload: memoryview) -> bytes:
    """Run the requested function; the reply frame (result in the head, or a grid)."""
    func, kwargs = head["func"], head.get("kwargs", {})
    answer: dict[str, Any] = {"id": head["id"]}
    try:
        if func == "grid_mean":
            return pack({**answer, "result": workloads.grid_mean(grid_from(head, payload))})
        if func == "make_grid":
            grid_head, data = grid_parts(workloads.make_grid(**kwargs))
            return pack({**answer, "grid": grid_head}, *data)
        if func in ("echo", "add"):
            return pack({**answer, "result": getattr(workloads, func)(**kwargs)})
        raise ValueError(f"unknown function {func!r}")
    except Exception as exc:
        return pack({**answer, "error": f"{type(exc).__name__}: {exc}"})


class FloorBackend:
    """One subscription and the reply connections it has opened."""

    def __init__(self, url: str, topic: str) -> None:
        self.url, self.topic = url, topic
        self.replies: dict[str, ClientConnection] = {}

    async def reply_to(self, topic: str) -> ClientConnection:
        conn = self.replies.get(topic)
        if conn is None:
            conn = await connect(f"{self.url}/pub/{topic}", **OPTIONS)
            self.replies[topic] = conn
        return conn

    async def serve(self) -> None:
        async with connect(f"{self.url}/sub/{self.topic}", **OPTIONS) as sub:
            await sub.recv()  # the relay's SUBSCRIBED frame: requests will reach us now
            reply({"ready": True})
            async for frame in sub:
                head, payload = unpack(frame)
                if "func" not in head:
                    continue
                out = execute(head, payload)
                del frame, payload
                await (await self.reply_to(head["reply"])).send(fragments(out))


async def run(url: str, topic: str) -> None:
    serving = asyncio.create_task(FloorBackend(url, topic).serve())
    stdin_closed = asyncio.create_task(asyncio.to_thread(sys.stdin.read))
    await asyncio.wait({serving, stdin_closed}, return_when=asyncio.FIRST_COMPLETED)
    if serving.done():
        serving.result()  # raises what stopped it
    serving.cancel()


def main(argv: list[str]) -> int:
    url, topic = argv[0].rstrip("/"), argv[1]
    asyncio.run(run(url, topic))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
