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

import json
import threading
from collections import deque
from collections.abc import Mapping
from functools import partial
from typing import Any

from ..broker import frames
from ..broker.inflight import final_response_route
from ..errors import BrokerRefused, ConnectionLost, ProtocolError
from ..protocol import STATUS_PING_TOPIC
from ..protocol.binary import BINARY_FRAMES_HEADER, BINARY_FRAMES_VERSION
from ..protocol.capabilities import CONSUMER_ACKS_HEADER, NO_CONSUMER_ACKS
from ..transport.base import Frame, HttpAnswer
from .access import auth_refusal, check_reachable, header
from .clock import Scheduler
from .consumers import ConsumerSockets
from .discovery import TopicRegistry
from .hold import Held, UnservedHold
from .publishing import read_publish, too_large
from .routes import Route, RouteError, parse_route
from .sockets import MemorySocket
from .topics import Topics
from .transport import MemoryTransport

#: the path below which the broker's websocket routes live (``memory://<name>/ws``)
WS_PATH = "/ws"


class InMemoryBroker:
    """A DASF broker living in this process; connect through :attr:`transport` to :attr:`url`.

    ``token``: if set, every socket and HTTP request must carry ``Authorization: Token
    <token>``. ``unserved_timeout`` and ``orphan_grace`` are our broker's
    ``DASF_UNSERVED_TIMEOUT`` and ``DASF_ORPHAN_GRACE``; ``max_message_size`` its frame limit.
    With ``consumer_acks=False`` it announces ``x-dasf-consumer-acks: none`` as our broker
    does, and consumers stop acking; by default it asks for acks, so :meth:`unacked` can
    show what a consumer did not acknowledge.
    """

    def __init__(
        self,
        name: str = "dasf",
        *,
        token: str | None = None,
        unserved_timeout: float = 30.0,
        orphan_grace: float = 30.0,
        max_message_size: int = 64 << 20,
        consumer_acks: bool = True,
    ) -> None:
        self.name = name
        #: the broker's base URL, e.g. ``memory://dasf/ws``
        self.url = f"memory://{name}{WS_PATH}"
        self.token = token
        self.orphan_grace = orphan_grace
        self.max_message_size = max_message_size
        self._answer_headers = {BINARY_FRAMES_HEADER: BINARY_FRAMES_VERSION}
        if not consumer_acks:
            self._answer_headers[CONSUMER_ACKS_HEADER] = NO_CONSUMER_ACKS
        #: ``(topic, properties)`` of the latest publishes (probe replies too), oldest first
        self.published: deque[tuple[str, dict[str, Any]]] = deque(maxlen=10_000)
        #: the :class:`~dasf_jupyter.transport.base.Transport` that reaches this broker
        self.transport = MemoryTransport(self)
        self._lock = threading.RLock()
        self._topics = Topics()
        self._registry = TopicRegistry()
        self._hold = UnservedHold(unserved_timeout)
        self._clock = Scheduler(f"dasf-memory-{name}")
        self._consumers = ConsumerSockets(
            self._lock, self._topics, self._registry, self._hold, self._clock
        )
        self._sockets: set[MemorySocket] = set()
        self._refusals: dict[str, str] = {}
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
            return self._consumers.unacked()

    @property
    def held(self) -> int:
        """Requests waiting for a consumer of their topic (the unserved hold)."""
        with self._lock:
            return self._hold.count

    def kick(self, topic: str) -> int:
        """Cut the consumer sockets of ``topic`` as a crash would; return how many."""
        with self._lock:
            socks = self._consumers.of_topic(topic)
            for sock in socks:
                sock.close_by_broker(ConnectionLost(f"connection to {sock.url} closed: kicked"))
                self._sockets.discard(sock)
                self._consumers.detach(sock, "its connection was lost", 0.0)
        return len(socks)

    def refuse(self, topic: str, reason: str | None) -> None:
        """Refuse every publish to ``topic`` with ``reason`` in the ack (None: accept again).

        What our broker does for a token that may not publish there.
        """
        with self._lock:
            if reason is None:
                self._refusals.pop(topic, None)
            else:
                self._refusals[topic] = reason

    # -- the transport's entry points -------------------------------------------------------

    def open_socket(
        self, url: str, headers: Mapping[str, str] | None = None, max_size: int | None = None
    ) -> MemorySocket:
        """Open a websocket to ``url`` (what :meth:`MemoryTransport.open` does)."""
        self._check_reachable(url)
        refusal = auth_refusal(self.token, headers or {})
        if refusal:
            raise BrokerRefused(f"HTTP 401: {refusal}", url)
        try:
            route = parse_route(url, WS_PATH)
        except RouteError as exc:
            raise BrokerRefused(f"HTTP {exc.status}: {exc.reason}", url) from None
        answer_headers = self._answer_headers
        if route.kind == "consume":
            binary = header(headers or {}, BINARY_FRAMES_HEADER) == BINARY_FRAMES_VERSION
            sock = MemorySocket(
                url,
                answer_headers,
                on_send=self._consumer_sent,
                on_close=self._closed_by_client,
                take=self._consumers.take,
                max_size=max_size,
            )
            with self._lock:
                self._check_reachable(url)
                self._sockets.add(sock)
                self._consumers.attach(sock, route.topic, route.subscription, binary)
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
        refusal = auth_refusal(self.token, headers or {})
        if refusal:
            return HttpAnswer(401, json.dumps({"detail": refusal}).encode("utf-8"))
        with self._lock:
            return self._registry.answer(url, self._topics.subscriptions)

    def _closed_by_client(self, sock: MemorySocket) -> None:
        grace = self.orphan_grace
        with self._lock:
            self._sockets.discard(sock)
            why = f"it closed its connection and sent no answer within {grace:g} s"
            self._consumers.detach(sock, why, None if self._closed else grace)

    def _consumer_sent(self, sock: MemorySocket, frame: Frame) -> None:
        if not self._too_big(sock, frame):
            self._consumers.acked(frame)

    # -- publishing -------------------------------------------------------------------------

    def _publish(self, route: Route, sock: MemorySocket, frame: Frame) -> None:
        """Route one publish frame and answer it with an ack, as our broker's Publisher does."""
        if self._too_big(sock, frame):
            return
        publish = read_publish(frame)
        if isinstance(publish, str):
            sock.deliver(publish)
            return
        topic, parsed = route.topic, publish.frame
        with self._lock:
            refusal = self._refusals.get(topic)
            if refusal is not None:
                sock.deliver(frames.ack_text(refusal, None, publish.context, None))
                return
            response_topic = frames.response_topic_of(parsed)
            if response_topic is not None:
                self._registry.response_topics.add(response_topic)
            self._registry.seen(topic)
            self.published.append((topic, frames.properties_of(parsed)))
            answered = final_response_route(parsed, topic)
            if answered is not None:
                self._consumers.answered(answered)
            consumers = self._topics.route(topic, publish.delivery, publish.message_id)
            if consumers == 0 and frames.expects_reply(parsed) and not frames.no_hold(parsed):
                self._hold_request(topic, Held(parsed, publish.delivery, publish.message_id))
        sock.deliver(frames.ack_text("ok", publish.message_id, publish.context, consumers))

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
            self.published.append((STATUS_PING_TOPIC, frames.properties_of(parsed)))
        message_id = parsed.get("messageId") or frames.new_message_id()
        sock.deliver(frames.ack_text(refusal or "ok", message_id, parsed.get("context"), 0))

    def _too_big(self, sock: MemorySocket, frame: Frame) -> bool:
        """Close ``sock`` as with close code 1009 if ``frame`` is over the size limit."""
        if len(frame) <= self.max_message_size:
            return False
        sock.close_by_broker(too_large(self.url, len(frame), self.max_message_size))
        with self._lock:
            self._sockets.discard(sock)
            grace = None if self._closed else 0.0
            self._consumers.detach(sock, "its connection was lost, close code 1009", grace)
        return True

    def _check_reachable(self, url: str) -> None:
        check_reachable(url, self.name, self.url, self._closed)

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
            for sock in socks:
                self._consumers.detach(sock, "the broker closed", None)
        self._clock.stop()
        for sock in socks:
            sock.close_by_broker(ConnectionLost(f"connection to {sock.url} closed: broker closed"))

    def __enter__(self) -> InMemoryBroker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<InMemoryBroker {self.url}{' closed' if self._closed else ''}>"
