"""A client's side of one request topic as a pure state machine: envelopes in, events out.

:class:`ClientSession` mirrors the backend :class:`~dasf_jupyter.backend.dispatch.Dispatcher`
and the TypeScript channel of the lab extension. It knows the calls in flight on one
request topic and its private response topic, and turns

* a request into the envelopes to publish (:meth:`~ClientSession.send_request`),
* a publish ack into a failure when nobody consumes the topic (:meth:`~ClientSession.acked`),
* a delivered reply into events (:meth:`~ClientSession.receive`, see :mod:`.events`):
  a result, a failure, progress, a log record, or a ping to answer,
* the clock into timeouts (:meth:`~ClientSession.expire`).

No sockets, threads, clock or environment here: the caller passes ``now`` (seconds on any
monotonic clock), publishes the envelopes, applies the events and serialises the calls
(:mod:`.channel` is that pump). A session is not thread-safe by itself.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Hashable
from dataclasses import replace
from typing import Any, Generic, cast

from ..errors import BrokerRefused, ConnectionLost, DasfError, ModuleNotServed, PayloadTooLarge
from ..log_limits import DEFAULT_INTERVAL, LimitedWarnings
from ..protocol import MessageType, Prop, PublishAck, fragment_index, split_payload
from ..protocol.envelope import Envelope
from ..protocol.fragment_limits import CLIENT_LIMITS, FragmentLimits
from ..protocol.fragments import Chunk, split_data
from ..security import SecurityError
from .calls import request_ttl
from .events import C, Event, Failed, Log, Ping, Progress, Result
from .hints import not_served_hint
from .replies import log_record, progress_report, response_value
from .reply_guard import ReplyGuard

log = logging.getLogger("dasf_jupyter.client.channel")

_RESPONSE = MessageType.RESPONSE.value
_PROGRESS = MessageType.PROGRESS.value
_LOG = MessageType.LOG.value
_PING = MessageType.PING.value
_REPLY_TYPES = frozenset((_RESPONSE, _PROGRESS, _LOG))


class ClientSession(Generic[C]):
    """The calls in flight on one request topic, replies routed by ``requestContext``."""

    def __init__(
        self,
        topic: str,
        response_topic: str,
        *,
        limits: FragmentLimits = CLIENT_LIMITS,
        warnings: LimitedWarnings | None = None,
    ) -> None:
        self.topic = topic
        self.response_topic = response_topic
        #: no more calls: every call failed when the session closed
        self.closed = False
        #: drops unverified messages for sealed calls (see :mod:`.reply_guard`)
        self.guard = ReplyGuard(response_topic)
        #: warnings about malformed replies, rate-limited (anyone may publish them)
        self.warnings = warnings or LimitedWarnings(log, interval=DEFAULT_INTERVAL)
        self._calls: dict[str, C] = {}
        # each call is one sender: the replies of one call may not crowd out the others
        self._fragments = limits.assembler(sender=_context_of)

    def __len__(self) -> int:
        return len(self._calls)

    def get(self, context: str) -> C | None:
        """The call in flight with ``context``, if any."""
        return self._calls.get(context)

    # -- requests --------------------------------------------------------------------------

    def send_request(
        self, call: C, envelope: Envelope, now: float, fragment_size: int | None = None
    ) -> list[Envelope]:
        """Start ``call``; return the envelopes that publish ``envelope`` as its request.

        Raises :class:`ConnectionLost` once the session is closed.
        """
        if self.closed:
            raise ConnectionLost(f"the connection for topic {self.topic!r} is closed")
        call.deadline = now + call.timeout
        properties = {
            **envelope.properties,
            Prop.RESPONSE_TOPIC: self.response_topic,
            Prop.REQUEST_CONTEXT: call.context,
            # we fail the call when the ack reports no consumer: the broker must then not
            # hold the request and deliver it later, unseen (docs/delivery-semantics.md)
            Prop.NO_HOLD: "1",
            # the broker drops it undelivered once we have given up: it never runs late
            Prop.TTL: f"{request_ttl(call.timeout):.3f}",
        }
        messages = _fragmented(envelope, properties, fragment_size)
        self._calls[call.context] = call
        return messages

    def acked(self, call: C, outcome: PublishAck | BaseException) -> list[Event[C]]:
        """The broker's answer to publishing one of ``call``'s request envelopes.

        A refusal fails the call with :class:`BrokerRefused`, an ack that counts no
        consumer with :class:`ModuleNotServed` (the request was not held: NO_HOLD).
        """
        if self._calls.get(call.context) is not call:
            return []
        error = self._ack_error(outcome)
        if error is None:
            return []
        self._end(call.context)
        return [Failed(call, error)]

    def _ack_error(self, outcome: PublishAck | BaseException) -> BaseException | None:
        if isinstance(outcome, PublishAck) and not outcome.ok:
            reason = outcome.result + (f" ({outcome.error_msg})" if outcome.error_msg else "")
            outcome = BrokerRefused(reason, self.topic)
        if isinstance(outcome, BrokerRefused):
            return BrokerRefused(
                f"{outcome.result} — check that the topic exists and that your token may "
                "publish to it",
                self.topic,
            )
        if isinstance(outcome, BaseException):
            return outcome
        if outcome.consumers == 0:
            return ModuleNotServed(
                f"no backend module is connected to topic {self.topic!r} (the broker "
                f"reports no consumer); {not_served_hint(self.topic)}"
            )
        return None

    # -- replies ---------------------------------------------------------------------------

    def receive(self, envelope: Envelope, now: float) -> list[Event[C]]:
        """Route one delivery of the response topic; return what it means for the calls.

        Pings become :class:`Ping`; replies of unknown or ended calls, broker probes and
        unverified messages for sealed calls are dropped. Raises nothing for bad input.
        """
        kind = envelope.message_type
        if kind == _PING:
            return [Ping(envelope)]
        if kind not in _REPLY_TYPES:
            return []  # broker probes (api_info, info, ...) are meant for backends
        call = self._calls.get(envelope.request_context or "")
        if call is None:
            return []  # a late reply to a call that already ended
        assert kind is not None
        sealed = self.guard.sealed(call)
        if not self.guard.admits(call, envelope, now):
            return []
        if not sealed:
            call.deadline = now + call.timeout  # nothing to verify: any sign of life counts
        events: list[Event[C]] = []
        try:
            payload = self._reassemble(envelope, call.context, kind, events)
            if payload is None:
                return events
            if sealed:
                payload = self._open(call, envelope, payload, kind, now)
                if payload is None:
                    return events
                call.deadline = now + call.timeout  # verified: only now may it extend it
            events.append(self._reply(call, kind, payload, envelope.properties))
        except DasfError as exc:
            if kind == _RESPONSE:
                self._end(call.context)
                events.append(Failed(call, exc))
            else:
                self.warnings.warn(
                    f"bad {kind} messages",
                    "ignoring a bad %s message for %s: %s",
                    kind,
                    call.what,
                    exc,
                )
        return events

    def _reply(self, call: C, kind: str, chunk: Chunk, props: dict[str, Any]) -> Event[C]:
        payload = memoryview(chunk) if isinstance(chunk, bytearray) else chunk
        if kind == _RESPONSE:
            value = response_value(payload, props, self.topic)  # raises RemoteError
            self._end(call.context)
            return Result(call, value)
        if kind == _PROGRESS:
            return Progress(call, progress_report(payload))
        return Log(call, log_record(payload))

    def _open(
        self, call: C, envelope: Envelope, payload: Chunk, kind: str, now: float
    ) -> str | None:
        """The plain payload of a sealed call's reply, or None (dropped) if it does not open."""
        assert call.opener is not None
        # after reassembly: fragments carry ciphertext
        text = payload if isinstance(payload, str) else base64.b64encode(payload).decode("ascii")
        try:
            return call.opener.open(text, envelope.properties)
        except SecurityError as exc:
            self.guard.drop(call, f"a {kind} message that does not open ({exc})", now)
            return None

    def _reassemble(
        self, envelope: Envelope, context: str, kind: str, events: list[Event[C]]
    ) -> Chunk | None:
        index = fragment_index(envelope.properties)
        if index is None:
            return envelope.wire_payload()
        try:
            chunk = envelope.wire_payload()
            return self._fragments.add((context, kind), index[0], index[1], chunk)
        finally:
            for key, why in self._fragments.take_dropped():
                events.extend(self._fail_dropped(key, why))

    def _fail_dropped(self, key: Hashable, why: str) -> list[Event[C]]:
        """Fail the call whose incomplete reply was dropped to keep memory bounded."""
        context, kind = cast(tuple[str, str], key)
        call = self._calls.get(context)
        if call is None:
            return []
        self._end(context)
        error = PayloadTooLarge(
            f"the {kind} to {call.what} on {self.topic!r} was dropped before all its "
            f"fragments arrived: {why}"
        )
        return [Failed(call, error)]

    # -- time and endings ------------------------------------------------------------------

    def expire(self, now: float) -> list[Failed[C]]:
        """End the calls whose deadline has passed; each fails with its timeout error."""
        late = [call for call in self._calls.values() if call.deadline <= now]
        for call in late:
            self._end(call.context)
        return [Failed(call, call.timeout_error()) for call in late]

    def forget(self, context: str) -> None:
        """Drop a call that ended elsewhere (its waiter gave up); late replies are ignored."""
        self._end(context)

    def close(self, error: BaseException) -> list[Failed[C]]:
        """Refuse new calls and fail every call in flight with ``error``."""
        self.closed = True
        calls = list(self._calls.values())
        for call in calls:
            self._end(call.context)
        return [Failed(call, error) for call in calls]

    def _end(self, context: str) -> None:
        if self._calls.pop(context, None) is not None:
            self._fragments.discard((context, _RESPONSE))
            self._fragments.discard((context, _PROGRESS))


def _context_of(key: Hashable) -> Hashable:
    return cast(tuple[str, str], key)[0]


def _fragmented(
    envelope: Envelope, properties: dict[str, Any], fragment_size: int | None
) -> list[Envelope]:
    """``envelope`` with ``properties``, split into fragments of ``fragment_size`` if given."""
    if fragment_size and envelope.data is not None:
        raw = split_data(envelope.data, fragment_size)
        if len(raw) > 1:
            n = len(raw)
            return [
                Envelope("", {**properties, Prop.FRAGMENT: i, Prop.NUM_FRAGMENTS: n}, data=chunk)
                for i, chunk in enumerate(raw)
            ]
    elif fragment_size:
        text = split_payload(envelope.payload, fragment_size)
        if len(text) > 1:
            n = len(text)
            return [
                Envelope(chunk, {**properties, Prop.FRAGMENT: i, Prop.NUM_FRAGMENTS: n})
                for i, chunk in enumerate(text)
            ]
    return [replace(envelope, properties=properties)]
