"""Hold many idle websocket connections on a broker until stdin closes.

Usage: ``python -m benchmarks.idle_holder SOCKET_URL COUNT``. Opens COUNT sockets on
``SOCKET_URL`` (``Stack.idle_url``: a producer socket, what an idle client keeps open), a few
at a time, then reports how many are open. Everything is bounded: each connect by a
timeout, the whole opening by a deadline.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time

from websockets.asyncio.client import ClientConnection, connect

from benchmarks.client_worker import reply

CONNECT_TIMEOUT = 20.0
OPEN_DEADLINE = 120.0
PARALLEL_OPENS = 20


def raise_fd_limit(needed: int) -> None:
    """Lift the soft open-files limit towards ``needed`` (bounded by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


async def open_all(url: str, count: int) -> tuple[list[ClientConnection], list[str]]:
    """Open up to ``count`` connections; return the open ones and the first errors."""
    gate = asyncio.Semaphore(PARALLEL_OPENS)
    opened: list[ClientConnection] = []
    errors: list[str] = []

    async def one() -> None:
        async with gate:
            try:
                opened.append(await connect(url, open_timeout=CONNECT_TIMEOUT, ping_interval=None))
            except Exception as exc:  # counted; the benchmark reports how many held
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    tasks = [asyncio.create_task(one()) for _ in range(count)]
    await asyncio.wait(tasks, timeout=OPEN_DEADLINE)
    for task in tasks:
        task.cancel()
    return opened, errors


async def hold(url: str, count: int) -> None:
    started = time.monotonic()
    opened, errors = await open_all(url, count)
    reply(
        {
            "open": len(opened),
            "errors": len(errors),
            "error": errors[:1],
            "seconds": time.monotonic() - started,
        }
    )
    await asyncio.to_thread(sys.stdin.read)  # until the parent closes our stdin
    await asyncio.gather(*(conn.close() for conn in opened), return_exceptions=True)


def main(argv: list[str]) -> int:
    url, count = argv[0], int(argv[1])
    raise_fd_limit(count + 256)
    asyncio.run(hold(url, count))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
