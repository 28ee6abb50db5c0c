"""Running one request: decode, execute, encode, frame — envelopes in, envelopes out.

Each stage is a method whose input is an argument and whose output is its return value;
:meth:`Runner.run` calls them nested, so a stage's input lives only in the frame that
consumes it and is freed when that stage returns. That is what keeps a large result from
being held several times over (value, JSON, body, fragments) without ``del``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..codecs.attachments import Attachments, collecting
from ..errors import DasfError, ProtocolError
from ..protocol import Envelope, MessageType, Prop, Status
from ..protocol.body import BINARY_BODY, decode_payload_value, encode_body_parts
from ..protocol.buffers import Buffer
from ..protocol.fragments import fragment_envelope
from ..security import RequestSecurity, SecurityError, SecurityPolicy, SignatureMissing
from ..security.caller import Caller
from .feedback import forwarding, reporter_for
from .progress import ProgressReporter
from .replies import Replies
from .sealing import Outgoing, Send, concerns, sealing

VALIDATION_PREFIX = "error validating request: "
EXECUTION_PREFIX = "error executing request: "


@dataclass(frozen=True)
class Job:
    """A ``request`` accepted for execution."""

    request: Envelope
    topic: str
    context: str


@dataclass(frozen=True)
class Call:
    """A validated request on its way through :meth:`Runner.run`."""

    job: Job
    bound: Any  #: the schema's ``BoundCall``
    sec: RequestSecurity | None
    caller: Caller | None
    reporter: ProgressReporter | None
    send: Send | None
    #: the reply may be a binary body (the caller accepts one and it is not sealed)
    binary: bool


@dataclass(frozen=True)
class Body:
    """A reply body as consecutive buffers (never joined): JSON, or a binary body."""

    parts: list[Buffer]
    binary: bool


class RequestFailed(DasfError):
    """A stage of :meth:`Runner.run` failed; ``reply`` is the error response to send."""

    def __init__(self, reply: Outgoing) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass
class Runner:
    """Runs requests against a module ``schema`` (``parse_request(data) -> BoundCall``)."""

    schema: Any
    replies: Replies
    fragment_size: int
    #: forward what a call prints or logs as ``log`` messages
    forward_output: bool = False
    #: opens sealed requests, checks signatures, seals replies (None: plain only)
    security: SecurityPolicy | None = None

    def run(self, job: Job, send: Send | None = None) -> list[Outgoing]:
        """Validate and execute ``job``; return its response envelope(s).

        Progress and log messages go through ``send`` while the call runs. Every failure
        becomes an error response; nothing raises.
        """
        try:
            call = self._decode(job, send)
            # nested, never bound to a name here: see the module docstring
            return self._frame(call, self._body(call, *self._json(call, self._execute(call))))
        except RequestFailed as failed:
            return [failed.reply]

    def error(
        self, job: Job, message: str, error: BaseException | str, sec: RequestSecurity | None
    ) -> Outgoing:
        return self.replies.error(job.topic, job.context, message, error, sec)

    # -- stages -------------------------------------------------------------------------

    def _decode(self, job: Job, send: Send | None) -> Call:
        """Open and verify the request; decode and validate its arguments."""
        try:
            payload, sec = self._open(job)
        except (SecurityError, ProtocolError) as exc:
            # refused before a reply key is known: the refusal goes back unsealed
            raise RequestFailed(self.error(job, str(exc), exc, None)) from None
        if send is not None and sec is not None and sec.sealed:
            send = sealing(send, sec)
        return self._validate(job, send, sec, self._arguments(job, sec, payload))

    def _open(self, job: Job) -> tuple[str | Buffer, RequestSecurity | None]:
        """The plain request payload and its security context (opened and verified)."""
        policy, props = self.security, job.request.properties
        if policy is None or not concerns(policy, props):
            return job.request.wire_payload(), None
        return policy.inbound(props, job.request.as_text().payload, self.replies.topic)

    def _arguments(self, job: Job, sec: RequestSecurity | None, payload: Any) -> Any:
        """The request's JSON value (a binary body's attachments resolved)."""
        try:
            return decode_payload_value(payload, job.request.properties.get(Prop.BODY))
        except ProtocolError as exc:
            raise self._invalid(job, exc, sec) from None

    def _validate(
        self, job: Job, send: Send | None, sec: RequestSecurity | None, data: Any
    ) -> Call:
        """The call ``data`` asks for, checked against the schema and the caller's identity."""
        try:
            bound = self.schema.parse_request(data)
        except Exception as exc:  # RequestValidationError and anything a schema may raise
            raise self._invalid(job, exc, sec) from None
        caller = sec.caller if sec is not None else None
        if getattr(bound, "needs_caller", False) and caller is None:
            refusal = SignatureMissing(
                f"{bound!r} needs to know who calls: sign the request with an identity "
                "(`dasf keygen`, then connect(..., identity=PATH))"
            )
            raise RequestFailed(self.error(job, str(refusal), refusal, sec))
        progress = self.replies.progress_sink(job.topic, job.context, send)
        reporter = reporter_for(bound, data, progress)
        accepts = job.request.properties.get(Prop.ACCEPT) == BINARY_BODY
        sealed_reply = sec is not None and sec.sealed
        return Call(job, bound, sec, caller, reporter, send, accepts and not sealed_reply)

    def _execute(self, call: Call) -> Any:
        """The return value of the call (what it prints is forwarded if configured)."""
        job, send = call.job, call.send
        forward = self.forward_output and send is not None
        sink = self.replies.output_sink(job.topic, job.context, send) if forward and send else None
        try:
            with forwarding(sink):
                return call.bound.execute(reporter=call.reporter, caller=call.caller)
        except Exception as exc:
            raise self._failed(call, _prefixed(EXECUTION_PREFIX, exc), exc) from None

    def _json(self, call: Call, value: Any) -> tuple[str, Attachments | None]:
        """The JSON text of ``value``; large byte values taken out for a binary body."""
        try:
            with collecting(call.binary) as attachments:
                encoded = call.bound.encode_result(value)
            return json.dumps(encoded, separators=(",", ":"), ensure_ascii=False), attachments
        except Exception as exc:
            raise self._encoding_failed(call, exc) from None

    def _body(self, call: Call, text: str, attachments: Attachments | None) -> Body:
        """The reply body: JSON, or a binary body when there are attachments."""
        try:
            if attachments is None or not attachments.buffers:
                return Body([text.encode("utf-8")], binary=False)
            parts = encode_body_parts(text.encode("utf-8"), attachments.buffers, attachments.nonce)
            return Body(parts, binary=True)
        except Exception as exc:
            raise self._encoding_failed(call, exc) from None

    def _frame(self, call: Call, body: Body) -> list[Outgoing]:
        """The success response carrying ``body``: sealed if the request was, fragmented."""
        if call.reporter is not None:
            call.reporter.finish(Status.SUCCESS)
        job = call.job
        props = {Prop.STATUS: Status.SUCCESS.value}
        if body.binary:
            props[Prop.BODY] = BINARY_BODY
        reply = self.replies.reply(job.topic, job.context, MessageType.RESPONSE, **props)
        if call.sec is not None and call.sec.sealed:
            # the whole result is sealed first: fragments carry ciphertext only
            (plain,) = body.parts
            payload, sealed_props = call.sec.seal(bytes(plain), reply.envelope.properties)
            sealed = Envelope(payload, sealed_props, context=job.context)
            messages = fragment_envelope(sealed, self.fragment_size)
        else:  # raw bytes: binary frames where the broker takes them
            messages = fragment_envelope(reply.envelope, self.fragment_size, body.parts)
        return [Outgoing(job.topic, message) for message in messages]

    # -- failures -----------------------------------------------------------------------

    def _invalid(self, job: Job, exc: Exception, sec: RequestSecurity | None) -> RequestFailed:
        """A request that does not decode or validate (before anything ran)."""
        return RequestFailed(self.error(job, _prefixed(VALIDATION_PREFIX, exc), exc, sec))

    def _failed(self, call: Call, message: str, exc: Exception) -> RequestFailed:
        """The failure of a call that has started: its progress report ends in error too."""
        if call.reporter is not None:
            call.reporter.finish(Status.ERROR)
        return RequestFailed(self.error(call.job, message, exc, call.sec))

    def _encoding_failed(self, call: Call, exc: Exception) -> RequestFailed:
        return self._failed(call, f"{EXECUTION_PREFIX}cannot encode the result: {exc}", exc)


def _prefixed(prefix: str, exc: BaseException) -> str:
    """The reference's error text; schema errors may carry the prefix already."""
    text = str(exc) or type(exc).__name__
    return text if text.startswith(prefix) else prefix + text
