"""The socket pair a client uses for one request topic, and the thread that reads replies."""

from __future__ import annotations

import logging
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace

from ..errors import (
    BrokerRefused,
    ConnectionLost,
    DasfError,
    ModuleNotServed,
    PayloadTooLarge,
    ProtocolError,
)
from ..log_limits import DEFAULT_INTERVAL, LimitedWarnings
from ..protocol import (
    FragmentAssembler,
    MessageType,
    Prop,
    PublishAck,
    b64encode,
    fragment_index,
    split_payload,
)
from ..protocol.envelope import Envelope
from ..protocol.fragment_limits import FragmentLimits
from ..protocol.fragments import Chunk, split_data
from ..security import SecurityError
from ..transport import BrokerUrl, ConsumerSocket, ProducerSocket
from . import own_topics
from .hints import not_served_hint
from .pending import PendingCall, request_ttl
from .replies import log_record, progress_report, response_value
from .reply_guard import ReplyGuard

log = logging.getLogger(__name__)

_ALPHABET = string.ascii_letters + string.digits
_REPLY_TYPES = {MessageType.RESPONSE.value, MessageType.PROGRESS.value, MessageType.LOG.value}
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

    Many calls share the pair; replies are routed to them by ``requestContext``.
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
    ) -> None:
        self.topic = topic
        self.response_topic = response_topic_for(topic)
        self.subscription = f"python-client-{uuid.uuid4().hex}"
        self._send_pong = send_pong
        self._pending: dict[str, PendingCall] = {}
        self._lock = threading.Lock()
        # each call is one sender: the replies of one call may not crowd out the others
        self._assembler: FragmentAssembler = fragment_limits.assembler(sender=lambda key: key[0])
        self._assembler_lock = threading.Lock()  # finished calls discard from other threads
        self._closed = threading.Event()
        #: warnings about malformed replies, rate-limited (anyone may publish them)
        self._warnings = LimitedWarnings(log, log_interval)
        #: drops unverified messages for sealed calls (see :mod:`.reply_guard`)
        self.guard = ReplyGuard(self.response_topic)
        # subscribe first, so that no reply can be published before we listen
        consumer_url = broker.consumer(self.response_topic, self.subscription)
        self._consumer = ConsumerSocket(consumer_url, headers, binary=True)
        try:
            self._producer = ProducerSocket(broker.producer(topic), headers, topic=topic)
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

    def send(self, call: PendingCall, envelope: Envelope, fragment_size: int | None) -> None:
        """Publish a request for ``call`` (fragmented if ``fragment_size`` is given)."""
        properties = {
            **envelope.properties,
            Prop.RESPONSE_TOPIC: self.response_topic,
            Prop.REQUEST_CONTEXT: call.context,
            # we fail the call when the ack reports no consumer: the broker must then not
            # hold the request and deliver it later, unseen (docs/delivery-semantics.md)
            Prop.NO_HOLD: "1",
            # the broker drops it undelivered once we have given up: it never runs late
            Prop.TTL: f"{request_ttl(call.remaining()):.3f}",
        }
        chunks: list[str] | list[memoryview] = []
        if fragment_size and envelope.data is not None:
            chunks = split_data(envelope.data, fragment_size)
        elif fragment_size:
            chunks = split_payload(envelope.payload, fragment_size)
        if len(chunks) > 1:
            n = len(chunks)
            messages = [
                Envelope(
                    chunk if isinstance(chunk, str) else "",
                    {**properties, Prop.FRAGMENT: i, Prop.NUM_FRAGMENTS: n},
                    data=None if isinstance(chunk, str) else chunk,
                )
                for i, chunk in enumerate(chunks)
            ]
        else:
            messages = [replace(envelope, properties=properties)]
        with self._lock:
            if self._closed.is_set():
                raise ConnectionLost(f"the connection for topic {self.topic!r} is closed")
            self._pending[call.context] = call
        call.future.add_done_callback(lambda _f: self._forget(call.context))
        try:
            for message in messages:
                ack = self._producer.publish_nowait(message)
                ack.add_done_callback(lambda f: self._check_ack(call, f))
        except DasfError as exc:
            call.fail(exc)

    def _check_ack(self, call: PendingCall, ack_future: Future[PublishAck]) -> None:
        exc = ack_future.exception()
        if isinstance(exc, BrokerRefused):
            call.fail(
                BrokerRefused(
                    f"{exc.result} — check that the topic exists and that your token may "
                    "publish to it",
                    self.topic,
                )
            )
        elif exc is not None:
            call.fail(exc)
        elif ack_future.result().consumers == 0:
            call.fail(
                ModuleNotServed(
                    f"no backend module is connected to topic {self.topic!r} (the broker "
                    f"reports no consumer); {not_served_hint(self.topic)}"
                )
            )

    def _forget(self, context: str) -> None:
        with self._lock:
            self._pending.pop(context, None)
        with self._assembler_lock:
            self._assembler.discard((context, MessageType.RESPONSE.value))
            self._assembler.discard((context, MessageType.PROGRESS.value))

    def _read_replies(self) -> None:
        last_expiry = time.monotonic()
        while not self._closed.is_set():
            try:
                envelope = self._consumer.receive(timeout=_EXPIRY_INTERVAL)
            except TimeoutError:
                envelope = None
            except ProtocolError as exc:
                self._warnings.warn(
                    "invalid frames",
                    "ignoring an invalid frame on %s: %s",
                    self.response_topic,
                    exc,
                )
                continue
            except ConnectionLost as exc:
                self._shut(ConnectionLost(f"lost the connection to the broker: {exc}"))
                return
            if envelope is not None:
                try:
                    self._dispatch(envelope)
                except Exception:  # one odd message must not stop the replies of all calls
                    log.exception("could not handle a message on %s", self.response_topic)
            if time.monotonic() - last_expiry >= _EXPIRY_INTERVAL:
                last_expiry = time.monotonic()
                self._expire_calls()
                self._warnings.flush()

    def _expire_calls(self) -> None:
        with self._lock:
            calls = list(self._pending.values())
        for call in calls:
            if call.remaining() <= 0:
                call.expire()

    def _dispatch(self, envelope: Envelope) -> None:
        kind = envelope.message_type
        if kind == MessageType.PING.value:
            self._answer_ping(envelope)
            return
        if kind not in _REPLY_TYPES:
            return  # broker probes (api_info, info, ...) are meant for backends
        with self._lock:
            call = self._pending.get(envelope.request_context or "")
        if call is None:
            return  # a late reply to a call that already ended
        sealed = self.guard.sealed(call)
        if not self.guard.admits(call, envelope):
            return
        if not sealed:
            call.touch()  # nothing to verify: any sign of life counts
        try:
            payload = self._reassemble(envelope, call.context, kind)
            if payload is None:
                return
            if sealed:
                assert call.opener is not None
                # after reassembly: fragments carry ciphertext
                text = payload if isinstance(payload, str) else b64encode(payload)
                try:
                    payload = call.opener.open(text, envelope.properties)
                except SecurityError as exc:
                    self.guard.drop(call, f"a {kind} message that does not open ({exc})")
                    return
                call.touch()  # verified: only now may it extend the deadline
            if kind == MessageType.RESPONSE.value:
                call.resolve(response_value(payload, envelope.properties, self.topic))
            elif kind == MessageType.PROGRESS.value:
                call.report_progress(progress_report(payload))
            else:
                call.report_log(log_record(payload))
        except DasfError as exc:
            if kind == MessageType.RESPONSE.value:
                call.fail(exc)
            else:
                self._warnings.warn(
                    f"bad {kind} messages",
                    "ignoring a bad %s message for %s: %s",
                    kind,
                    call.what,
                    exc,
                )

    def _reassemble(self, envelope: Envelope, context: str, kind: str) -> Chunk | None:
        index = fragment_index(envelope.properties)
        if index is None:
            return envelope.wire_payload()
        try:
            with self._assembler_lock:
                chunk = envelope.wire_payload()
                return self._assembler.add((context, kind), index[0], index[1], chunk)
        finally:
            with self._assembler_lock:
                dropped = self._assembler.take_dropped()
            if dropped:  # failed outside the lock: a failed call discards its fragments
                self._fail_dropped(dropped)

    def _fail_dropped(self, dropped: list) -> None:
        """Fail the calls whose incomplete replies were dropped to keep memory bounded."""
        for (context, kind), why in dropped:
            with self._lock:
                call = self._pending.get(context)
            if call is not None:
                call.fail(
                    PayloadTooLarge(
                        f"the {kind} to {call.what} on {self.topic!r} was dropped before all "
                        f"its fragments arrived: {why}"
                    )
                )

    def _answer_ping(self, envelope: Envelope) -> None:
        """Be polite to dasf-broker-django's liveness probes (bounded: see :mod:`.pong`)."""
        if self._send_pong is not None:
            self._send_pong(envelope, self.response_topic)

    def _shut(self, error: DasfError) -> None:
        self._closed.set()
        with self._lock:
            calls = list(self._pending.values())
        for call in calls:
            call.fail(error)

    def close(self) -> None:
        """Close both sockets; calls still pending fail with ConnectionLost."""
        self._shut(ConnectionLost(f"the connection was closed while calls on {self.topic!r} ran"))
        self._producer.close()
        self._consumer.close()
        own_topics.discard(self.response_topic)
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=5)
