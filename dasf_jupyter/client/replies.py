"""What a client makes of the messages a backend sends back (pure functions, no sockets)."""

from __future__ import annotations

import json
from typing import Any

from ..errors import ProtocolError, RemoteError
from ..protocol import Prop, Status, decode_json_payload, decode_text_payload
from ..protocol.body import decode_payload_value

#: a payload as it arrived: base64 text, or the raw bytes of binary frames
Payload = str | bytes | memoryview

#: the reference backend prefixes the text of exceptions raised by the called function
_REFERENCE_PREFIXES = ("error executing request: ",)


def remote_error(text: str, properties: dict[str, Any], topic: str | None) -> RemoteError:
    """Build a :class:`RemoteError` from an error response's text and properties."""
    message = text.strip()
    for prefix in _REFERENCE_PREFIXES:
        if message.startswith(prefix):
            message = message[len(prefix) :]
    exc_type = properties.get(Prop.ERROR_TYPE)
    exc_type = exc_type if isinstance(exc_type, str) and exc_type else None
    if exc_type and message.startswith(f"{exc_type}: "):
        message = message[len(exc_type) + 2 :]  # the type is shown once, by RemoteError
    traceback = properties.get(Prop.TRACEBACK)
    where = f" (topic {topic!r})" if topic else ""
    if not message:
        message = "the backend reported an error without a message"
    return RemoteError(
        f"{message}{where}",
        exc_type=exc_type,
        traceback=traceback if isinstance(traceback, str) else None,
        topic=topic,
    )


def response_value(payload: Payload, properties: dict[str, Any], topic: str | None) -> Any:
    """The JSON result of a whole (reassembled) ``response``; raise RemoteError on errors.

    A binary body's attachments appear as memoryviews where the JSON had placeholders.
    """
    if properties.get(Prop.STATUS) == Status.ERROR.value:
        raise remote_error(decode_text_payload(payload), properties, topic)
    for key in (Prop.API_INFO, Prop.INFO):
        if key in properties:
            return _json_property(properties[key], key)
    return decode_payload_value(payload, properties.get(Prop.BODY))


def _json_property(value: Any, key: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        if key == Prop.API_INFO:
            raise ProtocolError(f"the {key!r} property is not valid JSON: {value[:200]}") from None
        return value  # the reference puts a plain sentence into 'info' when it has no schema


def progress_report(payload: Payload) -> dict[str, Any]:
    """The report of a ``progress`` message (a deprogressapi report as a dict)."""
    report = decode_json_payload(payload)
    if not isinstance(report, dict):
        raise ProtocolError(f"progress payload must be a JSON object, got {type(report).__name__}")
    return report


def log_record(payload: Payload) -> dict[str, Any]:
    """The record of a ``log`` message: JSON ``{"level", "message", ...}`` or plain text."""
    text = decode_text_payload(payload)
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        record = None
    if isinstance(record, dict) and "message" in record:
        return record
    return {"level": "INFO", "message": text}
