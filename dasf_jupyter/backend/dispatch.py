"""What a backend module does with each message: pure logic, envelopes in, envelopes out.

:meth:`Dispatcher.route` answers ``ping``/``info``/``api_info`` at once and turns a
``request`` into a :class:`Job`; :meth:`Dispatcher.run` executes a job (in a worker thread,
see :mod:`.running`) and returns the response envelopes. No sockets here: the caller
publishes what comes back (PROTOCOL.md §5–§8).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import PayloadTooLarge, ProtocolError
from ..log_limits import LimitedWarnings
from ..protocol import (
    DEFAULT_FRAGMENT_SIZE,
    Envelope,
    MessageType,
    Prop,
    fragment_index,
    is_rpc_message,
)
from ..protocol.fragment_limits import FragmentLimits
from ..security import RequestSecurity, SecurityPolicy
from ..transport.urls import check_topic
from .config import log_summary_interval, module_limits
from .replies import Replies
from .reply_topics import RefusedReplyTopics, may_reply_to
from .request_fragments import Key, RequestFragments
from .running import EXECUTION_PREFIX, VALIDATION_PREFIX, Job, Runner
from .sealing import Outgoing, Send
from .tracebacks import TracebackPolicy

__all__ = [
    "EXECUTION_PREFIX",
    "OVERFLOW_MESSAGE",
    "SHUTDOWN_MESSAGE",
    "VALIDATION_PREFIX",
    "Decision",
    "Dispatcher",
    "Job",
    "Outgoing",
]

log = logging.getLogger(__name__)

OVERFLOW_MESSAGE = "request rejected due to queue overflow, try again later"
SHUTDOWN_MESSAGE = "request rejected because the module is shutting down, try again later"
NO_INFO_MESSAGE = "This module does not provide capability information."
#: answered at once, without any check: only to status-ping or a caller's response topic
_PROBES = (MessageType.PING, MessageType.INFO, MessageType.API_INFO)


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

    def __init__(  # noqa: PLR0913 (keyword-only: what BackendModule hands its dispatcher)
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
        self.fragment_size = fragment_size
        self.replies = Replies(topic, send_traceback)
        #: opens sealed requests, checks signatures, seals replies (None: plain only)
        self.security = security
        self._runner = Runner(
            schema,
            self.replies,
            fragment_size,
            forward_output=forward_output,
            security=security,
        )
        limits = fragment_limits or module_limits()
        if max_request_size is not None:
            limits = replace(limits, max_payload=max_request_size)
        self.fragment_limits = limits
        self._fragments = RequestFragments(limits)
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
        except ProtocolError as exc:
            return Decision([self.error_reply(job, f"invalid request fragments: {exc}", exc)])
        if index is None:
            return Decision(job=job)
        collected = self._fragments.add(envelope, (topic, context), index)
        replies = [self._dropped_reply(key, why) for key, why in collected.dropped]
        replies += self.expire_fragments()
        if collected.error is not None:
            message = f"invalid request fragments: {collected.error}"
            replies.append(self.error_reply(job, message, collected.error))
        if collected.whole is None:
            return Decision(replies)
        return Decision(replies, job=Job(collected.whole, topic, context))

    def expire_fragments(self) -> list[Outgoing]:
        """Drop fragment sets incomplete for longer than their timeout; error replies for them.

        Called for each fragment and by the serve loop's idle tick, so an idle set goes
        within its timeout plus that tick, not only when the next fragment arrives.
        """
        return [self._dropped_reply(key, why) for key, why in self._fragments.expire()]

    def _dropped_reply(self, key: Key, why: str) -> Outgoing:
        """The error response for a fragmented request dropped before it was complete."""
        topic, context = key
        message = f"request dropped before all its fragments arrived: {why}"
        job = Job(Envelope("", {}), topic, context)
        return self.error_reply(job, message, PayloadTooLarge.__name__)

    def reply(
        self, topic: str, context: str, kind: MessageType, payload: str = "", **properties: Any
    ) -> Outgoing:
        """A reply to ``context`` on ``topic`` with the properties every reply carries."""
        return self.replies.reply(topic, context, kind, payload, **properties)

    def error_reply(
        self,
        job: Job,
        message: str,
        error: BaseException | str,
        sec: RequestSecurity | None = None,
    ) -> Outgoing:
        """An error response to ``job`` (sealed, with ``sec`` of a sealed request)."""
        return self.replies.error(job.topic, job.context, message, error, sec)

    def rejection(self, job: Job, message: str = OVERFLOW_MESSAGE) -> list[Outgoing]:
        """The error response for a request the pool could not take."""
        return [self.error_reply(job, message, "QueueOverflow")]

    # -- running a request (worker thread) --------------------------------------------------

    def run(self, job: Job, send: Send | None = None) -> list[Outgoing]:
        """Validate and execute ``job``; return its response envelope(s) (never raises).

        Progress and log messages go through ``send`` while the call runs.
        """
        return self._runner.run(job, send)


def _describe(envelope: Envelope) -> str:
    keys = sorted(map(str, envelope.properties))[:10]
    return f"messageId={envelope.message_id!r} properties={keys}"
