"""The pump of one request topic: two sockets and a reader thread around a :class:`ClientSession`.

All reply routing, reassembly, verification and timeouts live in the pure session; this
module only moves envelopes between it and the sockets, applies its events to the waiting
calls (straight from the reader thread: no hand-off per call) and ticks its clock.
"""

from __future__ import annotations

import logging
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import partial

from ..errors import ConnectionLost, DasfError, ProtocolError
from ..log_limits import DEFAULT_INTERVAL, LimitedWarnings
from ..protocol import PublishAck
from ..protocol.envelope import Envelope
from ..protocol.fragment_limits import FragmentLimits
from ..transport import BrokerUrl, ConsumerSocket, ProducerSocket, Transport
from . import own_topics
from .events import Event, Failed, Log, Ping, Progress, Result
from .pending import PendingCall
from .reply_guard import ReplyGuard
from .session import ClientSession

log = logging.getLogger(__name__)

_ALPHABET = string.ascii_letters + string.digits
#: how often the reader looks for calls past their deadline (seconds)
_EXPIRY_INTERVAL = 0.5

#: ``answer(ping, own response topic)``: see :class:`~.pong.PongResponder`
PongSender = Callable[[Envelope, str], object]


def response_topic_for(topic: str) -> str:
    """A private, unguessable response topic: ``<topic>_<16 random letters/digits>``."""
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return f"{topic[:183]}_{suffix}"


class TopicChannel:
    """Producer on a request topic plus consumer on a private response topic.

    Many calls share the pair; their session routes replies by ``requestContext``.
    """

    def __init__(
        self,
        broker: BrokerUrl,
        headers: dict[str, str],
        topic: str,
        *,
        fragment_limits: FragmentLimits,
        log_interval: float = DEFAULT_INTERVAL,
        send_pong: PongSender | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.topic = topic
        self.response_topic = response_topic_for(topic)
        self.subscription = f"python-client-{uuid.uuid4().hex}"
        self._send_pong = send_pong
        self._session: ClientSession[PendingCall] = ClientSession(
            topic,
            self.response_topic,
            limits=fragment_limits,
            warnings=LimitedWarnings(log, log_interval),
        )
        self._lock = threading.Lock()  # serialises the session: senders, reader, acks
        self._closed = threading.Event()
        # subscribe first, so that no reply can be published before we listen
        consumer_url = broker.consumer(self.response_topic, self.subscription)
        self._consumer = ConsumerSocket(consumer_url, headers, binary=True, transport=transport)
        try:
            self._producer = ProducerSocket(
                broker.producer(topic), headers, topic=topic, transport=transport
            )
        except BaseException:
            self._consumer.close()
            raise
        self._reader = threading.Thread(
            target=self._read_replies, name=f"dasf-client-{topic}", daemon=True
        )
        self._reader.start()
        own_topics.register(self.response_topic)  # our own modules may send us tracebacks

    @property
    def alive(self) -> bool:
        return not self._closed.is_set() and not self._producer.closed

    @property
    def guard(self) -> ReplyGuard:
        """Screens replies of sealed calls; counts the dropped ones."""
        return self._session.guard

    def send(self, call: PendingCall, envelope: Envelope, fragment_size: int | None) -> None:
        """Publish a request for ``call`` (fragmented if ``fragment_size`` is given)."""
        with self._lock:
            messages = self._session.send_request(call, envelope, time.monotonic(), fragment_size)
        try:
            for message in messages:
                ack = self._producer.publish_nowait(message)
                ack.add_done_callback(partial(self._check_ack, call))
        except DasfError as exc:
            with self._lock:
                self._session.forget(call.context)
            call.fail(exc)

    def _check_ack(self, call: PendingCall, ack: Future[PublishAck]) -> None:
        exc = ack.exception()
        with self._lock:
            events = self._session.acked(call, ack.result() if exc is None else exc)
        _apply(events, self._answer_ping)

    def _read_replies(self) -> None:
        next_tick = time.monotonic() + _EXPIRY_INTERVAL
        while not self._closed.is_set():
            try:
                envelope: Envelope | None = self._consumer.receive(timeout=_EXPIRY_INTERVAL)
            except TimeoutError:
                envelope = None
            except ProtocolError as exc:
                self._session.warnings.warn(
                    "invalid frames",
                    "ignoring an invalid frame on %s: %s",
                    self.response_topic,
                    exc,
                )
                continue
            except ConnectionLost as exc:
                self._shut(ConnectionLost(f"lost the connection to the broker: {exc}"))
                return
            now = time.monotonic()
            if envelope is not None:
                try:
                    with self._lock:
                        events = self._session.receive(envelope, now)
                    _apply(events, self._answer_ping)
                except Exception:  # one odd message must not stop the replies of all calls
                    log.exception("could not handle a message on %s", self.response_topic)
            if now >= next_tick:
                next_tick = now + _EXPIRY_INTERVAL
                with self._lock:
                    expired = self._session.expire(now)
                _apply(expired, self._answer_ping)
                self._session.warnings.flush()

    def _answer_ping(self, ping: Envelope) -> None:
        """Be polite to dasf-broker-django's liveness probes (bounded: see :mod:`.pong`)."""
        if self._send_pong is not None:
            self._send_pong(ping, self.response_topic)

    def _shut(self, error: DasfError) -> None:
        self._closed.set()
        with self._lock:
            failed = self._session.close(error)
        _apply(failed, self._answer_ping)

    def close(self) -> None:
        """Close both sockets; calls still pending fail with ConnectionLost."""
        self._shut(ConnectionLost(f"the connection was closed while calls on {self.topic!r} ran"))
        self._producer.close()
        self._consumer.close()
        own_topics.discard(self.response_topic)
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5)


def _apply(events: Sequence[Event[PendingCall]], answer_ping: Callable[[Envelope], None]) -> None:
    """Hand each event to its call (futures resolve, callbacks run) in this thread."""
    for event in events:
        if isinstance(event, Result):
            event.call.resolve(event.value)
        elif isinstance(event, Failed):
            event.call.fail(event.error)
        elif isinstance(event, Progress):
            event.call.report_progress(event.report)
        elif isinstance(event, Log):
            event.call.report_log(event.record)
        elif isinstance(event, Ping):
            answer_ping(event.envelope)
