"""What a backend module does with each message: pure logic, envelopes in, envelopes out.

:meth:`Dispatcher.route` answers ``ping``/``info``/``api_info`` at once and turns a
``request`` into a :class:`Job`; :meth:`Dispatcher.run` executes a job (in a worker thread)
and returns the response envelopes. No sockets here: the caller publishes what comes back
(PROTOCOL.md §5–§8).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

from ..codecs.attachments import collecting
from ..errors import PayloadTooLarge, ProtocolError
from ..log_limits import LimitedWarnings
from ..protocol import (
    DEFAULT_FRAGMENT_SIZE,
    Envelope,
    FragmentAssembler,
    MessageType,
    Prop,
    Status,
    b64encode,
    encode_json_payload,
    encode_text_payload,
    fragment_index,
    is_rpc_message,
    split_payload,
)
from ..protocol.body import (
    BINARY_BODY,
    decode_payload_value,
    encode_body_parts,
)
from ..protocol.buffers import Buffer
from ..protocol.fragment_limits import FragmentLimits
from ..protocol.fragments import split_parts
from ..security import RequestSecurity, SecurityError, SecurityPolicy, SignatureMissing
from ..transport.urls import check_topic
from .config import log_summary_interval, module_limits
from .output import forward_output
from .progress import ProgressReporter
from .reply_topics import RefusedReplyTopics, may_reply_to
from .sealing import Outgoing, Send, concerns, sealed, sealing
from .tracebacks import TracebackPolicy, module_traceback, wants_traceback

log = logging.getLogger(__name__)

VALIDATION_PREFIX = "error validating request: "
EXECUTION_PREFIX = "error executing request: "
OVERFLOW_MESSAGE = "request rejected due to queue overflow, try again later"
SHUTDOWN_MESSAGE = "request rejected because the module is shutting down, try again later"
NO_INFO_MESSAGE = "This module does not provide capability information."
#: answered at once, without any check: only to status-ping or a caller's response topic
_PROBES = (MessageType.PING, MessageType.INFO, MessageType.API_INFO)


@dataclass(frozen=True)
class Job:
    """A ``request`` accepted for execution."""

    request: Envelope
    topic: str
    context: str


@dataclass
class Decision:
    """The outcome of routing one delivered message."""

    replies: list[Outgoing] = field(default_factory=list)
    job: Job | None = None


class Dispatcher:
    """Routes delivered messages and runs requests against a module schema.

    ``schema`` provides ``parse_request(data) -> BoundCall`` (see :mod:`.schema`);
    ``info``/``api_info`` are the texts answered to ``info``/``api_info`` messages.
    """

    def __init__(
        self,
        topic: str,
        schema: Any,
        *,
        info: str | None = None,
        api_info: str | None = None,
        send_traceback: TracebackPolicy = False,
        fragment_size: int = DEFAULT_FRAGMENT_SIZE,
        forward_output: bool = False,
        max_request_size: int | None = None,
        fragment_limits: FragmentLimits | None = None,
        security: SecurityPolicy | None = None,
    ) -> None:
        if fragment_size <= 0:
            raise ValueError("fragment_size must be positive")
        self.topic = topic
        self.schema = schema
        self.info = info
        self.api_info = api_info
        self.send_traceback = send_traceback
        self.fragment_size = fragment_size
        self.forward_output = forward_output
        #: opens sealed requests, checks signatures, seals replies (None: plain only)
        self.security = security
        limits = fragment_limits or module_limits()
        if max_request_size is not None:
            limits = replace(limits, max_payload=max_request_size)
        self.fragment_limits = limits
        # a sender is a response topic: the caller the error replies go back to
        self._fragments: FragmentAssembler = limits.assembler(sender=_response_topic_of)
        self._fragments_lock = threading.Lock()
        #: messages ignored because they asked for a reply on a foreign topic
        self.refused_reply_topics = RefusedReplyTopics(topic)
        #: warnings about malformed input, rate-limited per reason (anyone may publish it)
        self.warnings = LimitedWarnings(log, log_summary_interval())

    # -- routing (receive loop; must be quick) --------------------------------------------

    def route(self, envelope: Envelope) -> Decision:
        """Decide what to do with one delivered message."""
        if not is_rpc_message(envelope):
            self.warnings.warn(
                "messages without response_topic, requestContext or messageType",
                "ignoring a message without response_topic, requestContext and messageType: %s",
                _describe(envelope),
            )
            return Decision()
        kind = envelope.message_type
        topic = envelope.response_topic
        context = envelope.request_context
        assert topic is not None and context is not None
        try:
            check_topic(topic)
        except ValueError as exc:
            self.warnings.warn(
                "messages with an invalid response_topic", "ignoring a %s message: %s", kind, exc
            )
            return Decision()
        if kind in _PROBES and not may_reply_to(self.topic, topic):
            # a probe costs the sender nothing and is answered unchecked: never reflect it
            self.refused_reply_topics.record(kind, topic)
            return Decision()
        if kind == MessageType.PING:
            return Decision([self.reply(topic, context, MessageType.PONG)])
        if kind == MessageType.INFO:
            info = self.info if self.info is not None else NO_INFO_MESSAGE
            return Decision([self.reply(topic, context, MessageType.RESPONSE, info=info)])
        if kind == MessageType.API_INFO:
            # the reference falls back to an "info" sentence when it has no api_info
            extra = {Prop.API_INFO: self.api_info} if self.api_info is not None else {}
            if not extra:
                extra = {Prop.INFO: "This module does not provide api information."}
            return Decision([self.reply(topic, context, MessageType.RESPONSE, **extra)])
        if kind == MessageType.REQUEST:
            return self._request(envelope, topic, context)
        if kind == MessageType.PONG:
            log.info("pong received from %s (context %s)", topic, context)
        elif kind == MessageType.RESPONSE:
            log.debug("ignoring a response message (context %s)", context)
        else:
            self.warnings.warn(
                "messages of unsupported types", "ignoring unsupported message type %r", kind
            )
        return Decision()

    def _request(self, envelope: Envelope, topic: str, context: str) -> Decision:
        """A job for a whole request; fragments of a large request are collected first."""
        job = Job(envelope, topic, context)
        try:
            index = fragment_index(envelope.properties)
            if index is None:
                return Decision(job=job)
        except ProtocolError as exc:
            return Decision([self.error_reply(job, f"invalid request fragments: {exc}", exc)])
        with self._fragments_lock:
            try:
                payload = self._fragments.add((topic, context), *index, envelope.wire_payload())
                error = None
            except ProtocolError as exc:
                payload, error = None, exc
            dropped = self._fragments.take_dropped()
        replies = [self._dropped_reply(key, why) for key, why in dropped]
        replies += self.expire_fragments()
        if error is not None:
            replies.append(self.error_reply(job, f"invalid request fragments: {error}", error))
        if payload is None:
            return Decision(replies)
        props = {
            k: v
            for k, v in envelope.properties.items()
            if k not in (Prop.FRAGMENT, Prop.NUM_FRAGMENTS)
        }
        if isinstance(payload, str):
            whole = Envelope(payload, props, envelope.context, envelope.message_id)
        else:
            whole = Envelope("", props, envelope.context, envelope.message_id, data=payload)
        return Decision(replies, job=Job(whole, topic, context))

    def expire_fragments(self) -> list[Outgoing]:
        """Drop fragment sets incomplete for longer than their timeout; error replies for them.

        Called for each fragment and by the serve loop's idle tick, so an idle set goes
        within its timeout plus that tick, not only when the next fragment arrives.
        """
        with self._fragments_lock:
            self._fragments.expire(self.fragment_limits.timeout)
            dropped = self._fragments.take_dropped()
        return [self._dropped_reply(key, why) for key, why in dropped]

    def _dropped_reply(self, key: Any, why: str) -> Outgoing:
        """The error response for a fragmented request dropped before it was complete."""
        topic, context = key
        message = f"request dropped before all its fragments arrived: {why}"
        job = Job(Envelope("", {}), topic, context)
        return self.error_reply(job, message, PayloadTooLarge.__name__)

    def reply(
        self, topic: str, context: str, kind: MessageType, payload: str = "", **properties: Any
    ) -> Outgoing:
        """A reply to ``context`` on ``topic`` with the properties every reply carries."""
        props = dict(properties)
        props[Prop.REQUEST_CONTEXT] = context
        props[Prop.MESSAGE_TYPE] = kind.value
        props[Prop.SOURCE_TOPIC] = self.topic
        return Outgoing(topic, Envelope(payload=payload, properties=props, context=context))

    def rejection(self, job: Job, message: str = OVERFLOW_MESSAGE) -> list[Outgoing]:
        """The error response for a request the pool could not take."""
        return [self.error_reply(job, message, "QueueOverflow")]

    # -- running a request (worker thread) --------------------------------------------------

    def run(self, job: Job, send: Send | None = None) -> list[Outgoing]:
        """Validate and execute ``job``; return its response envelope(s).

        Progress and log messages go through ``send`` while the call runs. Every failure
        becomes an error response; nothing raises.
        """
        try:
            payload, sec = self._open(job)
        except (SecurityError, ProtocolError) as exc:
            # refused before a reply key is known: the refusal goes back unsealed
            return [self.error_reply(job, str(exc), exc)]
        if send is not None and sec is not None and sec.sealed:
            send = sealing(send, sec)
        try:
            data = decode_payload_value(payload, job.request.properties.get(Prop.BODY))
        except ProtocolError as exc:
            return [self.error_reply(job, _prefixed(VALIDATION_PREFIX, exc), exc, sec)]
        del payload
        try:
            bound = self.schema.parse_request(data)
        except Exception as exc:  # RequestValidationError and anything a schema may raise
            return [self.error_reply(job, _prefixed(VALIDATION_PREFIX, exc), exc, sec)]
        caller = sec.caller if sec is not None else None
        if getattr(bound, "needs_caller", False) and caller is None:
            missing = SignatureMissing(
                f"{bound!r} needs to know who calls: sign the request with an identity "
                "(`dasf keygen`, then connect(..., identity=PATH))"
            )
            return [self.error_reply(job, str(missing), missing, sec)]
        reporter = self._reporter_for(job, bound, data, send)
        try:
            with self._output_scope(job, send):
                value = bound.execute(reporter=reporter, caller=caller)
        except Exception as exc:
            if reporter is not None:
                reporter.finish(Status.ERROR)
            return [self.error_reply(job, _prefixed(EXECUTION_PREFIX, exc), exc, sec)]
        sealed_reply = sec is not None and sec.sealed
        binary = job.request.properties.get(Prop.ACCEPT) == BINARY_BODY and not sealed_reply
        try:
            # each step drops its input at once: a large result must not be held four times
            with collecting(binary) as attachments:
                encoded = bound.encode_result(value)
            del value
            text = json.dumps(encoded, separators=(",", ":"), ensure_ascii=False)
            del encoded
            body = text.encode("utf-8")
            del text
            parts: list[Buffer] = [body]
            del body
            if attachments is not None and attachments.buffers:
                # kept as parts: a large result is never joined into one more copy
                parts = encode_body_parts(parts[0], attachments.buffers, attachments.nonce)
                attachments.buffers.clear()
            else:
                attachments = None
        except Exception as exc:
            if reporter is not None:
                reporter.finish(Status.ERROR)
            message = f"{EXECUTION_PREFIX}cannot encode the result: {exc}"
            return [self.error_reply(job, message, exc, sec)]
        if reporter is not None:
            reporter.finish(Status.SUCCESS)
        if not sealed_reply:  # raw bytes: a binary frame where the broker takes one
            extra = {Prop.BODY: BINARY_BODY} if attachments is not None else {}
            return self._raw_success(job, parts, extra)
        (whole,) = parts
        size = len(whole)
        holder = [b64encode(whole)]
        del whole
        return self._success(job, holder, size, sec)

    def _open(self, job: Job) -> tuple[str | Buffer, RequestSecurity | None]:
        """The plain request payload and its security context (opened and verified)."""
        policy, props = self.security, job.request.properties
        if policy is None or not concerns(policy, props):
            return job.request.wire_payload(), None
        return policy.inbound(props, job.request.as_text().payload, self.topic)

    def _raw_success(self, job: Job, parts: list[Buffer], extra: dict[str, Any]) -> list[Outgoing]:
        """Success replies carrying the body (``parts``) raw, fragmented like its base64.

        ``parts`` is emptied, so the caller holds no reference to the body any more.
        """
        props = {Prop.STATUS: Status.SUCCESS.value, **extra}
        reply = self.reply(job.topic, job.context, MessageType.RESPONSE, **props)
        if sum(memoryview(p).nbytes for p in parts) <= self.fragment_size:
            return [Outgoing(job.topic, replace(reply.envelope, data=b"".join(parts)))]
        chunks = split_parts(parts, self.fragment_size)
        parts.clear()
        n = len(chunks)
        base = reply.envelope.properties
        return [
            Outgoing(
                job.topic,
                Envelope(
                    "",
                    {**base, Prop.FRAGMENT: i, Prop.NUM_FRAGMENTS: n},
                    context=job.context,
                    data=chunk,
                ),
            )
            for i, chunk in enumerate(chunks)
        ]

    def success_replies(
        self, job: Job, body: bytes, sec: RequestSecurity | None = None
    ) -> list[Outgoing]:
        """The success response for JSON ``body``, fragmented above ``fragment_size``."""
        return self._success(job, [b64encode(body)], len(body), sec)

    def _success(
        self, job: Job, holder: list[str], size: int, sec: RequestSecurity | None
    ) -> list[Outgoing]:
        """Success replies for the base64 payload in ``holder`` (taken out, so it can be freed).

        ``size`` is the unencoded length: the reference compares that, then cuts the base64.
        """
        payload = holder.pop()
        status = {Prop.STATUS: Status.SUCCESS.value}
        props = self.reply(job.topic, job.context, MessageType.RESPONSE, **status)
        if sec is not None and sec.sealed:
            # seal the whole result first: fragments carry ciphertext only
            sealed, sealed_props = sec.outbound(payload, props.envelope.properties)
            del payload
            holder.append(sealed)
            del sealed
            return self._fragmented(job, holder, sealed_props)
        if size <= self.fragment_size:
            return [self.reply(job.topic, job.context, MessageType.RESPONSE, payload, **status)]
        holder.append(payload)
        del payload
        return self._fragmented(job, holder, props.envelope.properties, force=True)

    def _fragmented(
        self, job: Job, holder: list[str], props: dict[str, Any], force: bool = False
    ) -> list[Outgoing]:
        payload = holder.pop()
        chunks = split_payload(payload, self.fragment_size)
        if len(chunks) == 1 and not force:
            return [Outgoing(job.topic, Envelope(payload, props, context=job.context))]
        del payload
        n = len(chunks)
        return [
            Outgoing(
                job.topic,
                Envelope(
                    chunk, {**props, Prop.FRAGMENT: i, Prop.NUM_FRAGMENTS: n}, context=job.context
                ),
            )
            for i, chunk in enumerate(chunks)
        ]

    def error_reply(
        self,
        job: Job,
        message: str,
        error: BaseException | str,
        sec: RequestSecurity | None = None,
    ) -> Outgoing:
        """An error response: text payload plus the error type (and traceback) properties.

        Sealed (``sec`` of a sealed request) when the request was: the text may carry data.
        """
        props: dict[str, Any] = {Prop.STATUS: Status.ERROR.value}
        props[Prop.ERROR_TYPE] = error if isinstance(error, str) else type(error).__name__
        encrypted = sec is not None and sec.sealed
        # properties travel in clear, so a sealed reply carries no traceback
        wanted = wants_traceback(self.send_traceback, job.topic)
        if wanted and isinstance(error, BaseException) and not encrypted:
            props[Prop.TRACEBACK] = module_traceback(error)
        log.info("request %s on %s failed: %s", job.context, self.topic, message)
        outgoing = self.reply(
            job.topic, job.context, MessageType.RESPONSE, encode_text_payload(message), **props
        )
        return sealed(outgoing, sec) if encrypted and sec is not None else outgoing

    def _reporter_for(
        self, job: Job, bound: Any, data: Any, send: Send | None
    ) -> ProgressReporter | None:
        param = getattr(bound, "reporter_param", None)
        if not param:
            return None
        config = _reporter_config(data, param, getattr(bound, "method", None) is not None)

        def sink(report: dict[str, Any], status: str) -> None:
            if send is not None:
                props = {Prop.STATUS: status}
                payload = encode_json_payload(report)
                send(self.reply(job.topic, job.context, MessageType.PROGRESS, payload, **props))

        name = getattr(bound, "method", None) or getattr(bound, "member", None) or ""
        return ProgressReporter.from_request(config, sink, default_message=str(name))

    def _output_scope(self, job: Job, send: Send | None):
        if not self.forward_output or send is None:
            return nullcontext()
        return _forwarding(self, job, send)


@contextmanager
def _forwarding(dispatcher: Dispatcher, job: Job, send: Send) -> Iterator[None]:
    def sink(record: dict[str, Any]) -> None:
        payload = encode_json_payload(record)
        send(dispatcher.reply(job.topic, job.context, MessageType.LOG, payload))

    with forward_output(sink):
        yield


def _reporter_config(data: Any, param: str, is_method: bool) -> Any:
    """The report object the caller sent for the reporter parameter, if any."""
    if not isinstance(data, dict):
        return None
    if is_method and isinstance(data.get("function"), dict) and param in data["function"]:
        return data["function"][param]
    return data.get(param)


def _response_topic_of(key: Any) -> str:
    """The sender of a fragmented request: its response topic (keys are (topic, context))."""
    return key[0]


def _prefixed(prefix: str, exc: BaseException) -> str:
    """The reference's error text; schema errors may carry the prefix already."""
    text = str(exc) or type(exc).__name__
    return text if text.startswith(prefix) else prefix + text


def _describe(envelope: Envelope) -> str:
    keys = sorted(map(str, envelope.properties))[:10]
    return f"messageId={envelope.message_id!r} properties={keys}"
