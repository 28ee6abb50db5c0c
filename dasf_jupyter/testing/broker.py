"""An in-memory DASF broker: our broker's wire protocol in one process, without ports.

Producer, consumer and ``status-ping`` sockets at the URLs ``BrokerUrl`` builds, publish
acks with the ``consumers`` count, shared subscriptions (round robin per subscription name),
consumer acks, binary frames, the unserved hold (and ``dasf_no_hold``), request deadlines,
answers for requests orphaned by a departing backend, liveness probes and the discovery API.
The frames are made and checked by the same functions as in the real broker
(:mod:`dasf_jupyter.broker.frames`, :mod:`dasf_jupyter.broker.inflight`).

Not modelled: permissions and topic ownership, backlog bounds, Redis, the database.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from ..broker import frames
from ..broker.inflight import (
    InFlightRequests,
    expired,
    final_response_route,
    mark_delivery,
    route_of,
)
from ..errors import BrokerRefused, ConnectionLost, PayloadTooLarge, ProtocolError
from ..protocol import MessageType
from ..protocol.binary import BINARY_FRAMES_HEADER, BINARY_FRAMES_VERSION, binary_to_text
from ..transport.base import Frame, HttpAnswer
from .clock import Scheduler
from .discovery import TopicRegistry
from .hold import Held, UnservedHold
from .routes import Route, RouteError, parse_route
from .sockets import MemorySocket
from .topics import MESSAGE, PROBE, Queued, Topics
from .transport import MemoryTransport

#: the path below which the broker's websocket routes live (``memory://<name>/ws``)
WS_PATH = "/ws"


@dataclass(frozen=True)
class _Consumer:
    topic: str
    subscription: str
    token: int
    binary: bool


class InMemoryBroker:
    """A DASF broker living in this process; connect through :attr:`transport` to :attr:`url`.

    ``token``: if set, every socket and HTTP request must carry ``Authorization: Token
    <token>``. ``unserved_timeout`` and ``orphan_grace`` are our broker's
    ``DASF_UNSERVED_TIMEOUT`` and ``DASF_ORPHAN_GRACE``; ``max_message_size`` its frame limit.
    """

    def __init__(
        self,
        name: str = "dasf",
        *,
        token: str | None = None,
        unserved_timeout: float = 30.0,
        orphan_grace: float = 30.0,
        max_message_size: int = 64 << 20,
    ) -> None:
        self.name = name
        #: the broker's base URL, e.g. ``memory://dasf/ws``
        self.url = f"memory://{name}{WS_PATH}"
        self.token = token
        self.orphan_grace = orphan_grace
        self.max_message_size = max_message_size
        #: ``(topic, properties)`` of the latest accepted publishes, oldest first
        self.published: deque[tuple[str, dict[str, Any]]] = deque(maxlen=10_000)
        #: the :class:`~dasf_jupyter.transport.base.Transport` that reaches this broker
        self.transport = MemoryTransport(self)
        self._lock = threading.RLock()
        self._topics = Topics()
        self._registry = TopicRegistry()
        self._hold = UnservedHold(unserved_timeout)
        self._inflight = InFlightRequests()
        self._consumers: dict[MemorySocket, _Consumer] = {}
        self._sockets: set[MemorySocket] = set()
        self._unacked: dict[str, str] = {}
        self._tokens = itertools.count(1)
        self._clock = Scheduler(f"dasf-memory-{name}")
        self._closed = False

    # -- what tests look at -----------------------------------------------------------------

    def subscriptions(self, topic: str) -> dict[str, int]:
        """Consumer sockets per subscription name of ``topic``."""
        with self._lock:
            return self._topics.subscriptions(topic)

    def consumers(self, topic: str) -> int:
        """Consumer sockets of ``topic`` over all its subscriptions."""
        return sum(self.subscriptions(topic).values())

    def unacked(self) -> list[str]:
        """Message ids a consumer received and did not acknowledge (yet)."""
        with self._lock:
            return list(self._unacked)

    @property
    def held(self) -> int:
        """Requests waiting for a consumer of their topic (the unserved hold)."""
        with self._lock:
            return self._hold.count

    def kick(self, topic: str) -> int:
        """Cut the consumer sockets of ``topic`` as a crash would; return how many."""
        with self._lock:
            socks = [s for s, c in self._consumers.items() if c.topic == topic]
            for sock in socks:
                sock.close_by_broker(ConnectionLost(f"connection to {sock.url} closed: kicked"))
                self._detach(sock, "its connection was lost")
        return len(socks)

    # -- the transport's entry points -------------------------------------------------------

    def open_socket(
        self, url: str, headers: Mapping[str, str] | None = None, max_size: int | None = None
    ) -> MemorySocket:
        """Open a websocket to ``url`` (what :meth:`MemoryTransport.open` does)."""
        self._check_reachable(url)
        refusal = self._auth_refusal(headers or {})
        if refusal:
            raise BrokerRefused(f"HTTP 401: {refusal}", url)
        try:
            route = parse_route(url, WS_PATH)
        except RouteError as exc:
            raise BrokerRefused(f"HTTP {exc.status}: {exc.reason}", url) from None
        answer_headers = {BINARY_FRAMES_HEADER: BINARY_FRAMES_VERSION}
        if route.kind == "consume":
            binary = _header(headers or {}, BINARY_FRAMES_HEADER) == BINARY_FRAMES_VERSION
            sock = MemorySocket(
                url,
                answer_headers,
                on_send=self._consumer_sent,
                on_close=self._closed_by_client,
                take=self._take,
                max_size=max_size,
            )
            self._attach(sock, route, binary)
            return sock
        on_send = self._status_reply if route.kind == "status" else partial(self._publish, route)
        sock = MemorySocket(
            url,
            answer_headers,
            on_send=on_send,
            on_close=self._closed_by_client,
            max_size=max_size,
        )
        with self._lock:
            self._check_reachable(url)
            self._sockets.add(sock)
        return sock

    def http_get(self, url: str, headers: Mapping[str, str] | None = None) -> HttpAnswer:
        """Answer a GET on the broker's HTTP API (``/api/topics/`` and ``/api/topics/<t>/``)."""
        self._check_reachable(url)
        refusal = self._auth_refusal(headers or {})
        if refusal:
            return HttpAnswer(401, json.dumps({"detail": refusal}).encode("utf-8"))
        with self._lock:
            return self._registry.answer(url, self._topics.subscriptions)

    # -- sockets ----------------------------------------------------------------------------

    def _attach(self, sock: MemorySocket, route: Route, binary: bool) -> None:
        topic = route.topic
        with self._lock:
            self._check_reachable(sock.url)
            self._sockets.add(sock)
            self._consumers[sock] = _Consumer(
                topic, route.subscription, next(self._tokens), binary
            )
            self._topics.attach(topic, route.subscription, sock)
            self._registry.seen(topic)
            if not self._registry.is_response_topic(topic, self._topics.subscriptions):
                for kind in (MessageType.PING, MessageType.API_INFO):
                    sock.deliver((PROBE, frames.probe_text(kind.value), None))
                self._registry.pinged(topic)
            for item in self._hold.release(topic):
                self._topics.route(topic, item.delivery, item.message_id)

    def _take(self, sock: MemorySocket, item: Queued) -> Frame | None:
        """The frame a consumer receives for a queued item (None: dropped as expired)."""
        kind, message, message_id = item
        with self._lock:
            consumer = self._consumers.get(sock)
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

    def _consumer_sent(self, sock: MemorySocket, frame: Frame) -> None:
        """A consumer's ack ``{"messageId": ...}``; anything else is ignored, as ours does."""
        if self._too_big(sock, frame):
            return
        try:
            obj = json.loads(frame)
        except (ValueError, RecursionError):
            return
        if isinstance(obj, dict) and isinstance(obj.get("messageId"), str):
            with self._lock:
                self._unacked.pop(obj["messageId"], None)

    def _closed_by_client(self, sock: MemorySocket) -> None:
        grace = self.orphan_grace
        with self._lock:
            self._sockets.discard(sock)
            self._detach(sock, f"it closed its connection and sent no answer within {grace:g} s")

    def _detach(self, sock: MemorySocket, why: str) -> None:
        """Forget a consumer socket: requeue what it did not receive, answer its orphans."""
        consumer = self._consumers.pop(sock, None)
        self._sockets.discard(sock)
        if consumer is None:
            return
        sub = self._topics.detach(consumer.topic, consumer.subscription, sock)
        left = [(m, mid) for kind, m, mid in sock.drain() if kind == MESSAGE]
        lost = [m for m, mid in left if sub is None or not Topics.deliver(sub, m, mid)]
        answered: set[tuple[str, str]] = set()
        for message in lost:
            route = route_of(message)
            if route is not None and route not in answered:  # fragments: one answer
                answered.add(route)
                why_lost = "the request was still queued in the broker"
                text = frames.orphan_error_text(consumer.topic, route[1], why_lost, False)
                self._topics.route(route[0], text, None)
        if not self._topics.subscriptions(consumer.topic):
            self._registry.offline(consumer.topic)
        if self._closed:
            return
        if sock.closed_by_client:
            self._clock.call_later(self.orphan_grace, partial(self._answer_orphans, consumer, why))
        else:
            self._answer_orphans(consumer, why)

    def _answer_orphans(self, consumer: _Consumer, why: str) -> None:
        with self._lock:
            for topic, (response_topic, context) in self._inflight.take(consumer.token):
                text = frames.orphan_error_text(topic, context, why)
                self._topics.route(response_topic, text, None)

    # -- publishing -------------------------------------------------------------------------

    def _publish(self, route: Route, sock: MemorySocket, frame: Frame) -> None:
        """Route one publish frame and answer it with an ack, as our broker's Publisher does."""
        if self._too_big(sock, frame):
            return
        topic = route.topic
        try:
            parsed = frames.parse_any_publish(frame)
            context = parsed.get("context")
            message_id = parsed.get("messageId") or frames.new_message_id()
            delivery = frames.delivery_of(frame, parsed, message_id, frames.now_iso())
        except ProtocolError as exc:
            sock.deliver(frames.ack_text(str(exc), None, frames.context_of(frame), None))
            return
        delivery = mark_delivery(delivery, parsed)
        with self._lock:
            response_topic = frames.response_topic_of(parsed)
            if response_topic is not None:
                self._registry.response_topics.add(response_topic)
            self._registry.seen(topic)
            self.published.append((topic, frames.properties_of(parsed)))
            answered = final_response_route(parsed, topic)
            if answered is not None:
                self._inflight.answered(answered)
            consumers = self._topics.route(topic, delivery, message_id)
            if consumers == 0 and frames.expects_reply(parsed) and not frames.no_hold(parsed):
                self._hold_request(topic, Held(parsed, delivery, message_id))
        sock.deliver(frames.ack_text("ok", message_id, context, consumers))

    def _hold_request(self, topic: str, item: Held) -> None:
        if self._hold.hold(topic, item):
            self._clock.call_later(self._hold.timeout, partial(self._expire_held, topic, item))
            return
        why = "the broker holds too many unserved requests to wait for one"
        self._answer_held(topic, item, why)

    def _expire_held(self, topic: str, item: Held) -> None:
        with self._lock:
            if self._hold.expire(topic, item):
                self._answer_held(topic, item)

    def _answer_held(self, topic: str, item: Held, why: str = "") -> None:
        reply = self._hold.error_reply(topic, item, why)
        if reply is not None:
            self._topics.route(reply[0], reply[1], None)

    def _status_reply(self, sock: MemorySocket, frame: Frame) -> None:
        """A backend's answer to a probe, on ``status-ping``: recorded for discovery."""
        if self._too_big(sock, frame):
            return
        try:
            parsed = frames.parse_any_publish(frame)
        except ProtocolError as exc:
            sock.deliver(frames.ack_text(str(exc), None, frames.context_of(frame), 0))
            return
        with self._lock:
            refusal = self._registry.record_reply(frames.properties_of(parsed))
        message_id = parsed.get("messageId") or frames.new_message_id()
        sock.deliver(frames.ack_text(refusal or "ok", message_id, parsed.get("context"), 0))

    def _too_big(self, sock: MemorySocket, frame: Frame) -> bool:
        """Close ``sock`` with close code 1009's error if ``frame`` is over the size limit."""
        if len(frame) <= self.max_message_size:
            return False
        sock.close_by_broker(
            PayloadTooLarge(
                f"the broker at {self.url} refused a message over its size limit "
                f"({len(frame)} > {self.max_message_size} bytes); send smaller fragments "
                "(fragment_size=) or raise the broker's --max-message-size"
            )
        )
        with self._lock:
            self._detach(sock, "its connection was lost, close code 1009")
        return True

    # -- reachability and lifetime ----------------------------------------------------------

    def _check_reachable(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("memory", "http", "https") or parts.netloc != self.name:
            raise ConnectionLost(f"cannot connect to {url}: this in-memory broker is {self.url}")
        if self._closed:
            raise ConnectionLost(f"cannot connect to {url}: the in-memory broker is closed")

    def _auth_refusal(self, headers: Mapping[str, str]) -> str | None:
        if self.token is None:
            return None
        given = _header(headers, "Authorization")
        if not given:
            return "this broker needs a token: pass token=..."
        scheme, _, key = given.partition(" ")
        if scheme.lower() not in ("token", "bearer") or key.strip() != self.token:
            return "invalid token"
        return None

    def close(self) -> None:
        """Close every socket (clients see ConnectionLost) and answer held requests."""
        with self._lock:
            if self._closed:
                return
            for topic, item in self._hold.take_all():
                why = f"no backend module consumed topic '{topic}' before the broker shut down"
                self._answer_held(topic, item, why)
            self._closed = True
            socks = list(self._sockets)
            self._sockets.clear()
            self._consumers.clear()
        self._clock.stop()
        for sock in socks:
            sock.close_by_broker(ConnectionLost(f"connection to {sock.url} closed: broker closed"))

    def __enter__(self) -> InMemoryBroker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<InMemoryBroker {self.url}{' closed' if self._closed else ''}>"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)
