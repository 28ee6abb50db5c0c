"""The floor client: sync ``websockets``, one publish and one reply socket, replies by id.

Thread-safe. No reader thread of its own: a caller waiting for its reply reads the reply
socket itself when no other caller does (and hands the replies of others to them), so a
lone caller pays no thread hand-off beyond the one inside the ``websockets`` sync client.
"""

from __future__ import annotations

import inspect
import itertools
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from websockets.sync.client import connect

from benchmarks.floor.wire import Buffer, fragments, pack, unpack

OPTIONS: dict[str, Any] = {"max_size": None, "compression": None, "ping_interval": None}
if "legacy" in inspect.signature(connect).parameters:  # websockets >= 17.1: plain connect()
    OPTIONS["legacy"] = True


class FloorError(RuntimeError):
    """The backend raised, or no reply came in time."""


class FloorClient:
    """Calls ``func(**kwargs)`` on the backends of ``topic`` behind the relay at ``url``."""

    def __init__(self, url: str, topic: str, timeout: float = 600.0) -> None:
        url = url.rstrip("/")
        self.timeout = timeout
        self.reply_topic = f"floor-reply-{uuid.uuid4().hex}"
        self._sub = connect(f"{url}/sub/{self.reply_topic}", **OPTIONS)
        self._sub.recv(timeout=timeout)  # SUBSCRIBED: our replies will reach us
        self._pub = connect(f"{url}/pub/{topic}", **OPTIONS)
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._replies: dict[int, tuple[dict[str, Any], memoryview] | None] = {}
        self._reading = False

    def call(
        self, func: str, kwargs: dict[str, Any], payload: Sequence[Buffer] = (), **head: Any
    ) -> tuple[dict[str, Any], memoryview]:
        """One request; returns (reply head, reply payload view). Raises :class:`FloorError`."""
        call_id = next(self._ids)
        with self._cond:
            self._replies[call_id] = None
        request = {"id": call_id, "reply": self.reply_topic, "func": func, "kwargs": kwargs}
        self._pub.send(fragments(pack({**request, **head}, *payload)))
        answer, body = self._wait(call_id, time.monotonic() + self.timeout)
        if "error" in answer:
            raise FloorError(answer["error"])
        return answer, body

    def _wait(self, call_id: int, deadline: float) -> tuple[dict[str, Any], memoryview]:
        with self._cond:
            while self._replies[call_id] is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._replies.pop(call_id, None)
                    raise FloorError(f"no reply to call {call_id}")
                if self._reading:
                    self._cond.wait(left)
                    continue
                self._reading = True
                self._cond.release()
                try:
                    frame = self._sub.recv(timeout=left)
                finally:
                    self._cond.acquire()
                    self._reading = False
                    self._cond.notify_all()  # another waiter may read now
                head, body = unpack(frame)
                if head.get("id") in self._replies:
                    self._replies[head["id"]] = (head, body)
            reply = self._replies.pop(call_id)
            assert reply is not None
            return reply

    def close(self) -> None:
        self._pub.close()
        self._sub.close()
