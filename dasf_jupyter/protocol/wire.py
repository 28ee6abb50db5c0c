"""The one validator of incoming publish and delivery frames (text or binary).

The broker (:mod:`dasf_jupyter.broker.frames`) and every peer (:mod:`.envelope`) parse a
frame here, so they accept the same frames and refuse the others with the same reason. The
JSON is parsed once; the checked object is returned as parsed (the broker delivers it
verbatim). Rules:

* a text frame is a JSON object in UTF-8; a binary frame (first byte 0x00, :mod:`.binary`) has one
  as its header;
* ``payload`` is a (base64) string, ``properties`` an object, ``messageId`` a string; each
  may be missing or ``null`` (the same as missing); other fields are not looked at.

Every refusal is a :class:`ProtocolError` whose text starts with ``invalid message: ``, the
text the broker sends back in its ack.
"""

from __future__ import annotations

import json
from typing import Any, TypeGuard

from ..errors import ProtocolError
from .binary import decode_binary_frame

PREFIX = "invalid message: "


def looks_binary(data: str | bytes | memoryview) -> TypeGuard[bytes | memoryview]:
    """True for a message meant as a binary frame (bytes starting with 0x00).

    Frames too short to be valid count, so they are refused as binary frames, not as JSON.
    """
    return not isinstance(data, str) and data[:1] == b"\x00"


def parse_text_frame(text: str | bytes) -> dict[str, Any]:
    """The checked JSON object of a text frame (UTF-8, as websockets carry text)."""
    try:
        # json.loads would also read UTF-16/32 bytes, which the broker cannot splice
        obj = json.loads(text if isinstance(text, str) else str(text, "utf-8"))
    except RecursionError:
        raise ProtocolError(PREFIX + "JSON nested too deeply") from None
    except ValueError as exc:  # also bad UTF-8 and integers too long to convert
        raise ProtocolError(f"{PREFIX}not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"{PREFIX}expected a JSON object, got {type(obj).__name__}")
    return check_fields(obj)


def parse_binary_frame(data: bytes | memoryview) -> tuple[dict[str, Any], memoryview]:
    """``(checked header, raw payload view)`` of a binary frame."""
    try:
        header, payload = decode_binary_frame(data)
    except ProtocolError as exc:
        raise ProtocolError(f"{PREFIX}{exc}") from None
    return check_fields(header), payload


def parse_frame(data: str | bytes | memoryview) -> tuple[dict[str, Any], memoryview | None]:
    """``(checked object, raw payload)`` of any frame; the payload is None for text frames."""
    if isinstance(data, str):
        return parse_text_frame(data), None
    if looks_binary(data):
        return parse_binary_frame(data)
    return parse_text_frame(bytes(data)), None  # bytes(b) is b: no copy


def check_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` if its fields have the types above; else raise :class:`ProtocolError`."""
    payload = obj.get("payload")
    if payload is not None and not isinstance(payload, str):
        raise ProtocolError(PREFIX + "'payload' must be a (base64) string")
    properties = obj.get("properties")
    if properties is not None and not isinstance(properties, dict):
        raise ProtocolError(PREFIX + "'properties' must be a JSON object")
    message_id = obj.get("messageId")
    if message_id is not None and not isinstance(message_id, str):
        raise ProtocolError(PREFIX + "'messageId' must be a string")
    return obj
