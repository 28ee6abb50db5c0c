"""The consumer sockets of an in-memory broker: probes, deliveries, acks and departures.

As in our broker (``broker/consumers.py``): a new backend consumer gets a ``ping`` and an
``api_info`` probe; a request counts as delivered once the consumer receives it, and is
answered with an error if the consumer goes away without answering it (at once when the
connection is cut, after ``orphan_grace`` seconds when the module closed it); what a
departing consumer had not received goes to the other consumers of its subscription.
Called by :class:`~.broker.InMemoryBroker` under its lock (an ``RLock``).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..broker import frames
from ..broker.inflight import InFlightRequests, Route, expired, route_of
from ..protocol import MessageType
from ..protocol.binary import binary_to_text
from ..transport.base import Frame
from .clock import Scheduler
from .discovery import TopicRegistry
from .hold import UnservedHold
from .sockets import MemorySocket
from .topics import MESSAGE, PROBE, Queued, Topics


@dataclass(frozen=True)
class Consumer:
    """What the broker knows of one consumer socket."""

    topic: str
    subscription: str
    token: int
    binary: bool


class ConsumerSockets:
    """Attach, deliver to, take acks from and detach consumer sockets."""

    def __init__(
        self,
        lock: threading.RLock,
        topics: Topics,
        registry: TopicRegistry,
        hold: UnservedHold,
        clock: Scheduler,
    ) -> None:
        self._lock = lock
        self._topics = topics
        self._registry = registry
        self._hold = hold
        self._clock = clock
        self._inflight = InFlightRequests()
        self._unacked: dict[str, str] = {}
        self._tokens = itertools.count(1)
        self.by_socket: dict[MemorySocket, Consumer] = {}

    def unacked(self) -> list[str]:
        return list(self._unacked)

    def of_topic(self, topic: str) -> list[MemorySocket]:
        return [s for s, c in self.by_socket.items() if c.topic == topic]

    def answered(self, route: Route) -> None:
        """A final response for ``route`` was published: it is no orphan."""
        self._inflight.answered(route)

    def attach(self, sock: MemorySocket, topic: str, subscription: str, binary: bool) -> None:
        """Join ``sock`` to its subscription; probe it; deliver requests held for the topic."""
        self.by_socket[sock] = Consumer(topic, subscription, next(self._tokens), binary)
        self._topics.attach(topic, subscription, sock)
        self._registry.seen(topic)
        if not self._registry.is_response_topic(topic, self._topics.subscriptions):
            for kind in (MessageType.PING, MessageType.API_INFO):
                sock.deliver((PROBE, frames.probe_text(kind.value), None))
            self._registry.pinged(topic)
        for item in self._hold.release(topic):
            self._topics.route(topic, item.delivery, item.message_id)

    def take(self, sock: MemorySocket, item: Queued) -> Frame | None:
        """The frame a consumer receives for a queued item (None: dropped as expired)."""
        kind, message, message_id = item
        with self._lock:
            consumer = self.by_socket.get(sock)
            if kind == MESSAGE and consumer is not None:
                if expired(message):
                    return None  # its caller has given up: it never runs late
                route = route_of(message)
                if route is not None:
                    self._inflight.delivered(consumer.token, consumer.topic, route)
                if message_id:
                    self._unacked[message_id] = consumer.topic
        if isinstance(message, bytes) and not (consumer and consumer.binary):
            return binary_to_text(message)
        return str(message) if isinstance(message, str) else bytes(message)

    def acked(self, frame: Frame) -> None:
        """A consumer's ack ``{"messageId": ...}``; anything else is ignored, as ours does."""
        try:
            obj = json.loads(frame)
        except (ValueError, RecursionError):
            return
        if isinstance(obj, dict) and isinstance(obj.get("messageId"), str):
            with self._lock:
                self._unacked.pop(obj["messageId"], None)

    def detach(self, sock: MemorySocket, why: str, grace: float | None) -> None:
        """Forget ``sock``: requeue what it did not receive, answer its orphans.

        ``grace``: seconds the module may still answer (None: the broker is closing).
        """
        consumer = self.by_socket.pop(sock, None)
        if consumer is None:
            return
        sub = self._topics.detach(consumer.topic, consumer.subscription, sock)
        left = [(m, mid) for kind, m, mid in sock.drain() if kind == MESSAGE]
        lost = [m for m, mid in left if sub is None or not Topics.deliver(sub, m, mid)]
        self._answer_undelivered(consumer.topic, lost)
        if not self._topics.subscriptions(consumer.topic):
            self._registry.offline(consumer.topic)
        if grace is None:
            return
        if grace > 0:
            self._clock.call_later(grace, partial(self._answer_orphans, consumer, why))
        else:
            self._answer_orphans(consumer, why)

    def _answer_undelivered(self, topic: str, lost: list[Any]) -> None:
        """Requests queued for a subscription that vanished: they never ran."""
        answered: set[Route] = set()
        for message in lost:
            route = route_of(message)
            if route is not None and route not in answered:  # fragments: one answer
                answered.add(route)
                why = "the request was still queued in the broker"
                text = frames.orphan_error_text(topic, route[1], why, delivered=False)
                self._topics.route(route[0], text, None)

    def _answer_orphans(self, consumer: Consumer, why: str) -> None:
        with self._lock:
            for topic, (response_topic, context) in self._inflight.take(consumer.token):
                text = frames.orphan_error_text(topic, context, why)
                self._topics.route(response_topic, text, None)
