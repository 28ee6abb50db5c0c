"""Frames the broker reads and writes, as pure functions on JSON text (no I/O).

Incoming frames are checked by :mod:`dasf_jupyter.protocol.wire`, the validator every peer
uses; this module adds what only the broker writes (acks, deliveries, its own errors).
"""

from __future__ import annotations

import json
import os
import struct
import threading
from datetime import datetime, timezone
from typing import Any

from ..errors import ProtocolError
from ..protocol import MessageType, Prop, Status, encode_text_payload, wire
from ..protocol.binary import MAX_HEADER, decode_binary_frame, header_end, with_header_fields
from ..protocol.wire import looks_binary

__all__ = [
    "REPLY_EXPECTED",
    "ack_text",
    "binary_delivery_of",
    "context_of",
    "delivery_of",
    "delivery_text",
    "delivery_text_of",
    "expects_reply",
    "looks_binary",
    "new_message_id",
    "no_hold",
    "now_iso",
    "orphan_error_text",
    "parse_any_publish",
    "parse_binary_publish",
    "parse_publish",
    "probe_text",
    "properties_of",
    "response_topic_of",
    "unserved_error_text",
]

#: message types whose sender waits for a ``response`` on its response topic
REPLY_EXPECTED = frozenset({MessageType.REQUEST.value, MessageType.INFO.value, "api_info"})

#: compact JSON; one encoder, as ``json.dumps`` with options builds a new one per call
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
#: message ids made per read of the OS's randomness
_ID_BATCH = 256
_ids: list[str] = []
_ids_lock = threading.Lock()
os.register_at_fork(after_in_child=_ids.clear)  # a child never repeats its parent's ids


def now_iso() -> str:
    """Server time as ISO 8601 in UTC (the ``publishTime`` of deliveries)."""
    return datetime.now(timezone.utc).isoformat()


def new_message_id() -> str:
    """A random UUID (version 4) as text, as ``str(uuid.uuid4())`` gives."""
    with _ids_lock:
        if not _ids:
            _ids.extend(_random_uuids(_ID_BATCH))
        return _ids.pop()


def _random_uuids(count: int) -> list[str]:
    """``count`` version-4 UUIDs from one ``os.urandom`` call (not one syscall per id)."""
    raw = bytearray(os.urandom(16 * count))
    for i in range(0, len(raw), 16):
        raw[i + 6] = raw[i + 6] & 0x0F | 0x40  # version 4
        raw[i + 8] = raw[i + 8] & 0x3F | 0x80  # RFC 4122 variant
    h = raw.hex()
    cuts = ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
    return ["-".join(h[j + a : j + b] for a, b in cuts) for j in range(0, len(h), 32)]


def parse_publish(text: str | bytes) -> dict[str, Any]:
    """Parse and check a text publish frame; :class:`ProtocolError` says why it is refused."""
    return wire.parse_text_frame(text)


def parse_binary_publish(data: bytes) -> dict[str, Any]:
    """The header of a binary publish frame, checked like :func:`parse_publish` checks text."""
    return wire.parse_binary_frame(data)[0]


def parse_any_publish(data: str | bytes) -> dict[str, Any]:
    """:func:`parse_binary_publish` or :func:`parse_publish`, whichever ``data`` is."""
    return wire.parse_frame(data)[0]


def context_of(text: str | bytes) -> Any:
    """Best-effort ``context`` of a frame that failed to parse (for the refusal ack)."""
    if looks_binary(text):
        try:
            obj: Any = decode_binary_frame(text)[0]
        except ProtocolError:
            return None
    else:
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            return None
    return obj.get("context") if isinstance(obj, dict) else None


def properties_of(frame: dict[str, Any]) -> dict[str, Any]:
    props = frame.get("properties")
    return props if isinstance(props, dict) else {}


def response_topic_of(frame: dict[str, Any]) -> str | None:
    value = properties_of(frame).get(Prop.RESPONSE_TOPIC)
    return value if isinstance(value, str) and value else None


def expects_reply(frame: dict[str, Any]) -> bool:
    """True when the sender waits for a ``response`` (so an unserved topic must answer)."""
    props = properties_of(frame)
    return props.get(Prop.MESSAGE_TYPE) in REPLY_EXPECTED and response_topic_of(frame) is not None


def no_hold(frame: dict[str, Any]) -> bool:
    """True when the sender asked not to be held for a topic without consumers."""
    return properties_of(frame).get(Prop.NO_HOLD) in ("1", 1, True)


def delivery_text(frame: dict[str, Any], message_id: str, publish_time: str) -> str:
    """The publisher's object verbatim plus ``messageId`` and ``publishTime``."""
    out = dict(frame)
    out["messageId"] = message_id
    out["publishTime"] = publish_time
    return _encode(out)


def delivery_text_of(
    text: str | bytes, frame: dict[str, Any], message_id: str, publish_time: str
) -> str:
    """Like :func:`delivery_text`, but splices the two fields into the publisher's own text.

    Re-serialising a 50 MB frame costs the broker more CPU than anything else it does; the
    publisher's text is already valid JSON of an object (``frame`` was parsed from it).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    body = text.lstrip()
    if not frame or "messageId" in frame or "publishTime" in frame or not body.startswith("{"):
        return delivery_text(frame, message_id, publish_time)
    head = json.dumps({"messageId": message_id, "publishTime": publish_time})[:-1]
    return f"{head},{body[1:]}"


def binary_delivery_of(
    data: bytes | memoryview,
    message_id: str,
    publish_time: str,
    header: dict[str, Any] | None = None,
) -> bytes:
    """The binary publish ``data`` with ``messageId`` and ``publishTime`` in its header.

    ``header``: the frame's header as parsed; when given (and without those fields), they
    are spliced into the header's JSON text instead of parsing and encoding it again.
    """
    fields = {"messageId": message_id, "publishTime": publish_time}
    if header is None or "messageId" in header or "publishTime" in header:
        return with_header_fields(data, fields)
    end = header_end(data)
    body = bytes(data[4:end]).strip()  # a JSON object: it parsed as ``header``
    added = _encode(fields).encode("utf-8")
    head = added if body[1:].lstrip().startswith(b"}") else added[:-1] + b"," + body[1:]
    if len(head) >= MAX_HEADER:
        raise ProtocolError(f"binary frame header of {len(head)} bytes is too large")
    return b"".join((struct.pack(">I", len(head)), head, memoryview(data)[end:]))


def delivery_of(
    data: str | bytes, frame: dict[str, Any], message_id: str, publish_time: str
) -> str | bytes:
    """The delivery of a publish: binary for a binary frame, spliced text otherwise."""
    if looks_binary(data):
        return binary_delivery_of(data, message_id, publish_time, frame)
    return delivery_text_of(data, frame, message_id, publish_time)


def ack_text(result: str, message_id: str | None, context: Any, consumers: int | None) -> str:
    """A publish ack; ``consumers`` is our extension (reference clients ignore it)."""
    obj: dict[str, Any] = {"result": result, "messageId": message_id, "context": context}
    if consumers is not None:
        obj["consumers"] = consumers
    return _encode(obj)


def unserved_error_text(request: dict[str, Any], topic: str, timeout: float, why: str = "") -> str:
    """The error ``response`` sent to a caller whose request no backend consumed in time."""
    props = properties_of(request)
    text = f"no backend module consumed topic '{topic}' within {timeout:g} s"
    frame = {
        "payload": encode_text_payload(text + (f" ({why})" if why else "")),
        "properties": {
            Prop.MESSAGE_TYPE: MessageType.RESPONSE.value,
            Prop.STATUS: Status.ERROR.value,
            Prop.REQUEST_CONTEXT: props.get(Prop.REQUEST_CONTEXT),
            Prop.SOURCE_TOPIC: topic,
        },
        "context": props.get(Prop.REQUEST_CONTEXT),
    }
    return delivery_text(frame, new_message_id(), now_iso())


def orphan_error_text(topic: str, context: str, why: str, delivered: bool = True) -> str:
    """The error ``response`` for a request whose backend went away before answering it."""
    advice = (
        "the request may have run partly, fully or not at all — retry it if that is safe"
        if delivered
        else "it never reached the module and did not run — it is safe to retry"
    )
    text = (
        f"the backend module serving topic '{topic}' disconnected before answering ({why}); "
        + advice
    )
    frame = {
        "payload": encode_text_payload(text),
        "properties": {
            Prop.MESSAGE_TYPE: MessageType.RESPONSE.value,
            Prop.STATUS: Status.ERROR.value,
            Prop.REQUEST_CONTEXT: context,
            Prop.SOURCE_TOPIC: topic,
            Prop.ERROR_TYPE: "BackendDisconnected",
        },
        "context": context,
    }
    return delivery_text(frame, new_message_id(), now_iso())


def probe_text(message_type: str, response_topic: str = "status-ping") -> str:
    """A broker-originated ``ping`` or ``api_info`` request, answered on ``status-ping``."""
    frame = {
        "payload": "",
        "properties": {
            Prop.REQUEST_CONTEXT: 1,
            Prop.MESSAGE_TYPE: message_type,
            Prop.RESPONSE_TOPIC: response_topic,
        },
    }
    return delivery_text(frame, new_message_id(), now_iso())
