"""Subscriptions of an in-memory broker and the choice of the consumer for each message.

Pulsar semantics as in :mod:`dasf_jupyter.broker.hub`: every subscription of a topic gets
each message once; the consumer sockets of one subscription take turns (round robin), except
that all fragments of one request go to the consumer that got its first fragment.
Not thread-safe by itself: the broker calls it under its lock.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from ..broker.inflight import affinity_key, is_last_fragment
from .sockets import MemorySocket

#: what a consumer socket's queue holds: a subscription message and its id, or a probe
Queued = tuple[str, Any, str | None]
MESSAGE, PROBE = "message", "probe"


@dataclass
class Subscription:
    """The consumer sockets of one (topic, subscription name) and whose turn it is."""

    consumers: list[MemorySocket] = field(default_factory=list)
    turn: int = 0
    #: affinity key of a fragmented request -> the consumer that gets all its fragments
    claims: OrderedDict[str, MemorySocket] = field(default_factory=OrderedDict)

    def next_consumer(self, message: Any) -> MemorySocket | None:
        """The consumer for ``message``: the fragment's claimed one, else the next in turn."""
        key = affinity_key(message)
        chosen = self.claims.get(key) if key is not None else None
        if chosen is None or chosen not in self.consumers:
            if not self.consumers:
                return None
            self.turn %= len(self.consumers)
            chosen = self.consumers[self.turn]
            self.turn += 1
            if key is not None:
                self.claims[key] = chosen
                if len(self.claims) > 10_000:
                    self.claims.popitem(last=False)
        if key is not None and is_last_fragment(message):
            self.claims.pop(key, None)
        return chosen


class Topics:
    """Subscriptions per topic; routes messages to one consumer per subscription."""

    def __init__(self) -> None:
        self._subs: dict[str, dict[str, Subscription]] = {}

    def attach(self, topic: str, name: str, sock: MemorySocket) -> None:
        subs = self._subs.setdefault(topic, {})
        subs.setdefault(name, Subscription()).consumers.append(sock)

    def detach(self, topic: str, name: str, sock: MemorySocket) -> Subscription | None:
        """Remove ``sock``; return its subscription if consumers remain, else None."""
        subs = self._subs.get(topic, {})
        sub = subs.get(name)
        if sub is None:
            return None
        if sock in sub.consumers:
            sub.consumers.remove(sock)
        if sub.consumers:
            return sub
        del subs[name]
        if not subs:
            del self._subs[topic]
        return None

    def subscriptions(self, topic: str) -> dict[str, int]:
        """Consumer sockets per subscription name of ``topic``."""
        return {name: len(s.consumers) for name, s in self._subs.get(topic, {}).items()}

    def route(self, topic: str, message: Any, message_id: str | None) -> int:
        """Queue ``message`` once per subscription of ``topic``; return how many took it."""
        return sum(
            self.deliver(sub, message, message_id) for sub in self._subs.get(topic, {}).values()
        )

    @staticmethod
    def deliver(sub: Subscription, message: Any, message_id: str | None) -> bool:
        """Queue ``message`` for one consumer of ``sub``; False if none is left to take it."""
        for _ in range(len(sub.consumers)):
            sock = sub.next_consumer(message)
            if sock is None:
                return False
            if sock.deliver((MESSAGE, message, message_id)):
                return True
            sub.claims = OrderedDict((k, s) for k, s in sub.claims.items() if s is not sock)
        return False
