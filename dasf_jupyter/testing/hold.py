"""Requests to topics nobody consumes: held until a consumer comes or the time is up.

As in :mod:`dasf_jupyter.broker.unserved`: a ``request``/``info``/``api_info`` with a
response topic and without ``dasf_no_hold`` waits up to ``timeout`` seconds, then its caller
gets the error ``no backend module consumed topic '<topic>' within <N> s``.
Not thread-safe by itself: the broker calls it under its lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..broker import frames

#: at most this many requests are held (then refused at once, as our broker does)
MAX_HELD = 1000


@dataclass(eq=False)
class Held:
    """One held request: its parsed frame, its delivery and the delivery's message id."""

    frame: dict[str, Any]
    delivery: Any
    message_id: str


class UnservedHold:
    """Held requests per topic, in arrival order."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._held: dict[str, list[Held]] = {}

    @property
    def count(self) -> int:
        return sum(len(items) for items in self._held.values())

    def hold(self, topic: str, item: Held) -> bool:
        """Hold ``item``; False when the hold is full (answer the caller at once)."""
        if self.count >= MAX_HELD:
            return False
        self._held.setdefault(topic, []).append(item)
        return True

    def release(self, topic: str) -> list[Held]:
        """The requests held for ``topic`` (a consumer has come)."""
        return self._held.pop(topic, [])

    def expire(self, topic: str, item: Held) -> bool:
        """Forget ``item`` if it is still held; True if it was (answer its caller)."""
        items = self._held.get(topic, [])
        if item not in items:
            return False
        items.remove(item)
        if not items:
            del self._held[topic]
        return True

    def take_all(self) -> list[tuple[str, Held]]:
        """Everything held, forgotten (the broker closes)."""
        held, self._held = self._held, {}
        return [(topic, item) for topic, items in held.items() for item in items]

    def error_reply(self, topic: str, item: Held, why: str = "") -> tuple[str, str] | None:
        """``(response topic, error delivery)`` for the caller of ``item``."""
        response_topic = frames.response_topic_of(item.frame)
        if response_topic is None:
            return None
        return response_topic, frames.unserved_error_text(item.frame, topic, self.timeout, why)
