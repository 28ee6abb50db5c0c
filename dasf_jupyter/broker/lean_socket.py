"""Less memory per idle socket: what uvicorn's websockets protocol keeps, made smaller.

Measured with tracemalloc over 1,500 idle sockets (benchmarks/README.md, row 6): uvicorn's
protocol gives every connection an ``asyncio.Queue`` (four deques, ~3 KiB), an
``asyncio.Event`` (one deque, ~760 B) and keeps the parsed handshake request and response
(headers, ~5 KiB) for the life of the socket. :class:`LeanQueue` and :class:`LeanEvent` do
the same jobs with a list and futures made only while someone waits; the handshake objects are
dropped (and the request's headers emptied) once the handshake is complete: the ASGI scope
keeps its own copy of the headers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .oversize import DrainingWebSocketProtocol


class LeanQueue:
    """An unbounded FIFO for one reader: ``put_nowait``, ``get``, ``get_nowait``, ``empty``."""

    __slots__ = ("_head", "_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._head = 0
        self._waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        return len(self._items) - self._head

    def empty(self) -> bool:
        return self._head >= len(self._items)

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> Any:
        """The oldest item; :class:`asyncio.QueueEmpty` when there is none."""
        items, head = self._items, self._head
        if head >= len(items):
            raise asyncio.QueueEmpty
        item = items[head]
        if head + 1 == len(items):
            self._items, self._head = [], 0  # empty again: nothing kept
        else:
            items[head] = None
            self._head = head + 1
        return item

    async def get(self) -> Any:
        """Wait for an item (one reader at a time, as uvicorn's ``receive`` is)."""
        while self.empty():
            if self._waiter is not None:
                raise RuntimeError("LeanQueue has one reader at a time")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self.get_nowait()


class LeanEvent:
    """``asyncio.Event`` without a deque per instance: waiters are listed only while waiting."""

    __slots__ = ("_value", "_waiters")

    def __init__(self) -> None:
        self._value = False
        self._waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        self._value = True
        waiters, self._waiters = self._waiters, None
        for fut in waiters or ():
            if not fut.done():
                fut.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        fut = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(fut)
        try:
            return await fut
        finally:
            if self._waiters is not None and fut in self._waiters:
                self._waiters.remove(fut)


class LeanWebSocketProtocol(DrainingWebSocketProtocol):
    """uvicorn's websockets protocol with :class:`LeanQueue`, :class:`LeanEvent` and no
    handshake objects kept after the handshake."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = LeanQueue()  # type: ignore[assignment]
        self.writable = LeanEvent()  # type: ignore[assignment]
        self.writable.set()

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and getattr(self, "response", None) is not None:
            # uvicorn reads request and response only until the handshake is answered; the
            # websockets parser's generator frame still holds the request: empty its headers
            self.request.headers.clear()
            self.request = self.response = None  # type: ignore[assignment]
