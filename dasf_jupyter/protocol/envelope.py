"""The JSON frames exchanged with a DASF broker, as pure functions on text.

Four frame kinds travel on a websocket (PROTOCOL.md §3):

* publish  — producer → broker: ``{"payload", "properties", "context"}``
* ack      — broker → producer: ``{"result", "messageId", "context"}``
* delivery — broker → consumer: the publish object plus ``messageId`` and ``publishTime``
* consumer ack — consumer → broker: ``{"messageId"}``

Publish and delivery frames are checked by :mod:`.wire`, the validator the broker uses too.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProtocolError
from .binary import encode_binary_frame
from .buffers import Buffer
from .messages import MessageType, Prop
from .wire import parse_frame


@dataclass(frozen=True)
class Envelope:
    """One DASF message: a base64 ``payload`` and its ``properties``.

    ``data`` holds the payload as raw bytes instead (binary frames, see
    :mod:`.binary`); then ``payload`` is ignored and stands for ``base64(data)``.
    """

    payload: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    context: Any = None
    message_id: str | None = None
    publish_time: str | None = None
    data: Buffer | None = None

    @property
    def message_type(self) -> str | None:
        value = self.properties.get(Prop.MESSAGE_TYPE)
        return value if isinstance(value, str) else None

    @property
    def request_context(self) -> str | None:
        """``requestContext`` as text (peers send ints or strings)."""
        value = self.properties.get(Prop.REQUEST_CONTEXT)
        if value is None or isinstance(value, (dict, list)):
            return None
        return str(value)

    @property
    def response_topic(self) -> str | None:
        value = self.properties.get(Prop.RESPONSE_TOPIC)
        return value if isinstance(value, str) and value else None

    def payload_bytes(self) -> Buffer:
        """The decoded payload (raises :class:`ProtocolError` on invalid base64)."""
        return self.data if self.data is not None else b64decode(self.payload)

    def wire_payload(self) -> str | Buffer:
        """The payload as it arrived: raw bytes of a binary frame, else the base64 text."""
        return self.data if self.data is not None else self.payload

    def as_text(self) -> Envelope:
        """The same message with a base64 ``payload`` (for a text frame)."""
        if self.data is None:
            return self
        return Envelope(
            b64encode(self.data), self.properties, self.context, self.message_id, self.publish_time
        )


@dataclass(frozen=True)
class PublishAck:
    """The broker's answer to a publish."""

    result: str
    message_id: str | None
    context: Any
    error_msg: str | None = None
    #: dasf-jupyter broker extension: consumers subscribed to the topic (None = not reported)
    consumers: int | None = None

    @property
    def ok(self) -> bool:
        return self.result == "ok"


def b64encode(data: Buffer) -> str:
    return base64.b64encode(data).decode("ascii")


def strict_b64decode(text: str) -> bytes:
    """Decode base64 text, refusing stray characters (raises ``binascii.Error``/ValueError)."""
    if sys.version_info >= (3, 11):  # validates while decoding, no separate regex pass
        return binascii.a2b_base64(text, strict_mode=True)
    return base64.b64decode(text, validate=True)


def b64decode(text: str) -> bytes:
    """Strictly decode base64 text; raise :class:`ProtocolError` on anything else."""
    try:
        return strict_b64decode(text)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"payload is not valid base64: {exc}") from None


def encode_json_payload(value: Any) -> str:
    """JSON-encode ``value``, UTF-8, base64 — the payload of requests and results."""
    return b64encode(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def raw_payload(payload: str | Buffer) -> Buffer:
    """Payload bytes: base64 text is decoded, raw bytes (binary frames) pass through."""
    return b64decode(payload) if isinstance(payload, str) else payload


def decode_json_payload(payload: str | Buffer) -> Any:
    """Reverse of :func:`encode_json_payload` with clear errors for each failure.

    Raw bytes (the payload of a binary frame) are read as the UTF-8 JSON directly.
    """
    return decode_json_bytes(raw_payload(payload))


def decode_json_bytes(raw: Buffer) -> Any:
    """UTF-8 JSON bytes → value, with :class:`ProtocolError` for each kind of failure."""
    try:
        text = str(raw, "utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"payload is not valid UTF-8: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"payload is not valid JSON: {exc}") from None
    except RecursionError:  # a nesting bomb must be refused, not kill the worker's reply
        raise ProtocolError("payload is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise ProtocolError(f"payload is not valid JSON: {exc}") from None


def encode_text_payload(text: str) -> str:
    return b64encode(text.encode("utf-8"))


def decode_text_payload(payload: str | Buffer) -> str:
    """Decode a text payload (error messages); undecodable bytes are replaced, not fatal."""
    return str(raw_payload(payload), "utf-8", errors="replace")


def _load_object(text: str | bytes, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except RecursionError:
        raise ProtocolError(f"{what} is not valid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise ProtocolError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"{what} must be a JSON object, got {type(obj).__name__}")
    return obj


def _decode_frame(frame: str | bytes) -> Envelope:
    """An :class:`Envelope` of a frame checked by :func:`.wire.parse_frame` (null = absent)."""
    obj, data = parse_frame(frame)
    publish_time = obj.get("publishTime")
    return Envelope(
        payload=obj.get("payload") or "",
        properties=obj.get("properties") or {},
        context=obj.get("context"),
        message_id=obj.get("messageId"),
        publish_time=None if publish_time is None else str(publish_time),
        data=data,
    )


def encode_publish(envelope: Envelope) -> str:
    """Text of a publish frame."""
    if envelope.data is not None:
        envelope = envelope.as_text()
    rest: dict[str, Any] = {"properties": envelope.properties}
    if envelope.context is not None:
        rest["context"] = envelope.context
    return _with_payload(envelope.payload, rest)


def encode_binary_publish(envelope: Envelope) -> bytes:
    """Bytes of a binary publish frame (:mod:`.binary`), payload raw."""
    header: dict[str, Any] = {"properties": envelope.properties}
    if envelope.context is not None:
        header["context"] = envelope.context
    return encode_binary_frame(header, envelope.payload_bytes())


def _with_payload(payload: str, rest: dict[str, Any]) -> str:
    """``{"payload": payload, **rest}`` as JSON text.

    Payloads are base64 (nothing to escape), so a large one is spliced in rather than passed
    through the JSON encoder; anything else goes through ``json.dumps``.
    """
    tail = json.dumps(rest, separators=(",", ":"), ensure_ascii=False)
    # isascii is O(1); '"' and '\\' are the only printable ASCII that JSON escapes. (Control
    # characters are not base64 either; a strict JSON parser refuses such a frame.)
    if len(payload) > 4096 and payload.isascii() and '"' not in payload and "\\" not in payload:
        return '{"payload":"' + payload + '",' + tail[1:]
    head = json.dumps({"payload": payload}, separators=(",", ":"), ensure_ascii=False)
    return head[:-1] + "," + tail[1:]


def decode_publish(text: str | bytes) -> Envelope:
    """Parse a publish frame (text or binary) as the broker receives it."""
    return _decode_frame(text)


def encode_delivery(envelope: Envelope) -> str:
    """Text of a delivery frame (what a consumer receives)."""
    envelope = envelope.as_text()
    obj: dict[str, Any] = {"payload": envelope.payload, "properties": envelope.properties}
    if envelope.context is not None:
        obj["context"] = envelope.context
    if envelope.message_id is not None:
        obj["messageId"] = envelope.message_id
    if envelope.publish_time is not None:
        obj["publishTime"] = envelope.publish_time
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def decode_delivery(text: str | bytes) -> Envelope:
    """Parse a delivery frame (text or binary) as a consumer receives it."""
    return _decode_frame(text)


def encode_consumer_ack(message_id: str) -> str:
    return json.dumps({"messageId": message_id})


def encode_publish_ack(
    result: str, message_id: str | None, context: Any, consumers: int | None = None
) -> str:
    obj: dict[str, Any] = {"result": result, "messageId": message_id, "context": context}
    if consumers is not None:
        obj["consumers"] = consumers
    return json.dumps(obj, separators=(",", ":"))


def decode_publish_ack(text: str | bytes) -> PublishAck:
    obj = _load_object(text, "publish ack")
    result = obj.get("result")
    if not isinstance(result, str):
        raise ProtocolError("publish ack without a 'result' string")
    message_id = obj.get("messageId")
    error_msg = obj.get("errorMsg")
    consumers = obj.get("consumers")
    return PublishAck(
        result=result,
        message_id=None if message_id is None else str(message_id),
        context=obj.get("context"),
        error_msg=None if error_msg is None else str(error_msg),
        # bool is an int subclass; only a real count is meaningful
        consumers=consumers if type(consumers) is int else None,
    )


def is_rpc_message(envelope: Envelope) -> bool:
    """True when a backend must handle the message (PROTOCOL.md §5 shape check)."""
    return bool(envelope.response_topic and envelope.request_context and envelope.message_type)


def message_type_of(envelope: Envelope) -> MessageType | None:
    try:
        return MessageType(envelope.message_type)
    except ValueError:
        return None
