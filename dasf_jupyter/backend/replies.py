"""The messages a module sends back to a caller: responses, errors, progress and log lines."""

from __future__ import annotations

import logging
from typing import Any

from ..protocol import (
    Envelope,
    MessageType,
    Prop,
    Status,
    encode_json_payload,
    encode_text_payload,
)
from ..security import RequestSecurity
from .feedback import ProgressSink
from .output import LogSink
from .sealing import Outgoing, Send, sealed
from .tracebacks import TracebackPolicy, module_traceback, wants_traceback

log = logging.getLogger(__name__)


class Replies:
    """Builds the replies of the module on ``topic`` (its ``source_topic``)."""

    def __init__(self, topic: str, send_traceback: TracebackPolicy = False) -> None:
        self.topic = topic
        self.send_traceback = send_traceback

    def reply(
        self, topic: str, context: str, kind: MessageType, payload: str = "", **properties: Any
    ) -> Outgoing:
        """A reply to ``context`` on ``topic`` with the properties every reply carries."""
        props = dict(properties)
        props[Prop.REQUEST_CONTEXT] = context
        props[Prop.MESSAGE_TYPE] = kind.value
        props[Prop.SOURCE_TOPIC] = self.topic
        return Outgoing(topic, Envelope(payload=payload, properties=props, context=context))

    def error(
        self,
        topic: str,
        context: str,
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
        wanted = wants_traceback(self.send_traceback, topic)
        if wanted and isinstance(error, BaseException) and not encrypted:
            props[Prop.TRACEBACK] = module_traceback(error)
        log.info("request %s on %s failed: %s", context, self.topic, message)
        payload = encode_text_payload(message)
        outgoing = self.reply(topic, context, MessageType.RESPONSE, payload, **props)
        return sealed(outgoing, sec) if encrypted and sec is not None else outgoing

    def progress_sink(self, topic: str, context: str, send: Send | None) -> ProgressSink:
        """Publishes a running call's progress reports (dropped without ``send``)."""

        def sink(report: dict[str, Any], status: str) -> None:
            if send is not None:
                props = {Prop.STATUS: status}
                payload = encode_json_payload(report)
                send(self.reply(topic, context, MessageType.PROGRESS, payload, **props))

        return sink

    def output_sink(self, topic: str, context: str, send: Send) -> LogSink:
        """Publishes what a running call prints or logs, as ``log`` messages."""

        def sink(record: dict[str, Any]) -> None:
            send(self.reply(topic, context, MessageType.LOG, encode_json_payload(record)))

        return sink
