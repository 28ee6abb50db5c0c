"""One end of an in-memory websocket: whole frames in a queue, the same errors as websockets."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConnectionLost, PayloadTooLarge
from ..transport.base import Frame

#: what the broker does with a frame the client sends
OnSend = Callable[["MemorySocket", Frame], None]
#: called once when the client closes the socket
OnClose = Callable[["MemorySocket"], None]
#: turns a queued item into the frame ``recv`` returns (None: skip it)
Take = Callable[["MemorySocket", Any], "Frame | None"]


def _as_frame(_sock: MemorySocket, item: Any) -> Frame | None:
    return item if isinstance(item, (str, bytes)) else None


class MemorySocket:
    """A :class:`~dasf_jupyter.transport.base.FrameSocket` whose peer is an in-memory broker.

    ``send`` hands the frame to the broker in the caller's thread; the broker puts frames for
    the client with :meth:`deliver`. A socket the client closed raises ConnectionLost at
    once; one the broker closed hands out what it queued, then raises the broker's reason.
    """

    def __init__(
        self,
        url: str,
        response_headers: Mapping[str, str],
        *,
        on_send: OnSend,
        on_close: OnClose,
        take: Take = _as_frame,
        max_size: int | None = None,
    ) -> None:
        self.url = url
        self.response_headers: Mapping[str, str] = dict(response_headers)
        self._on_send = on_send
        self._on_close = on_close
        self._take = take
        self._max_size = max_size
        self._cond = threading.Condition()
        self._queue: deque[Any] = deque()
        self._closed = False
        self._peer_error: ConnectionLost | PayloadTooLarge | None = None

    @property
    def closed_by_client(self) -> bool:
        """True once the client called :meth:`close` (a clean close, code 1000)."""
        return self._closed

    @property
    def closed(self) -> bool:
        """True once either side closed the socket."""
        return self._closed or self._peer_error is not None

    def send(self, frame: Frame) -> None:
        with self._cond:
            self._raise_if_closed()
        self._on_send(self, frame)

    def recv(self, timeout: float | None = None) -> Frame:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            item = self._next(deadline)
            frame = self._take(self, item)
            if frame is None:
                continue
            if self._max_size is not None and len(frame) > self._max_size:
                self.close()  # like websockets: a frame over max_size fails the connection
                raise ConnectionLost(
                    f"connection to {self.url} closed: a frame of {len(frame)} bytes exceeds "
                    f"max_size {self._max_size}"
                )
            return frame

    def _next(self, deadline: float | None) -> Any:
        with self._cond:
            while True:
                if self._closed:
                    raise ConnectionLost(f"connection to {self.url} closed")
                if self._queue:
                    return self._queue.popleft()
                if self._peer_error is not None:
                    raise self._peer_error
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"no frame from {self.url} in time")
                self._cond.wait(remaining)

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._on_close(self)

    # -- the broker's side ------------------------------------------------------------------

    def deliver(self, item: Any) -> bool:
        """Queue ``item`` for the client; False if the socket is closed."""
        with self._cond:
            if self.closed:
                return False
            self._queue.append(item)
            self._cond.notify()
            return True

    def drain(self) -> list[Any]:
        """Take back everything the client has not received yet."""
        with self._cond:
            items = list(self._queue)
            self._queue.clear()
            return items

    def close_by_broker(self, error: ConnectionLost | PayloadTooLarge) -> None:
        """The broker closes: the client receives what is queued, then ``error``."""
        with self._cond:
            if self._peer_error is None:
                self._peer_error = error
            self._cond.notify_all()

    def _raise_if_closed(self) -> None:
        if self._closed:
            raise ConnectionLost(f"connection to {self.url} closed")
        if self._peer_error is not None:
            raise self._peer_error

    def __repr__(self) -> str:
        return f"<MemorySocket {self.url} {'closed' if self.closed else 'open'}>"
