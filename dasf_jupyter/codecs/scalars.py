"""Small codecs: ``bytes`` as base64 text.

datetime/date/time, Enum, UUID, Decimal and friends need no codec marker: pydantic's JSON
schema already says what they are (``format: date-time`` …) and :func:`encode_value` writes
their usual JSON forms (ISO 8601 text, the enum's value, …).
"""

from __future__ import annotations

from typing import Any

from .attachments import as_bytes, wire_bytes
from .registry import Codec, CodecError, register

BYTES_NAME = "bytes/base64"


def encode_bytes(value: bytes | bytearray | memoryview) -> str:
    """Encode bytes as base64 text (or an attachment of a binary body)."""
    return wire_bytes(value)


def decode_bytes(value: Any) -> bytes:
    """Base64 text → bytes (bytes pass through)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if not isinstance(value, str):
        raise CodecError(f"expected base64 text for bytes, got {type(value).__name__}")
    return bytes(as_bytes(value, "bytes value"))


BYTES = register(
    Codec(
        BYTES_NAME,
        "builtins",
        "bytes",
        encode_bytes,
        decode_bytes,
        {"type": "string", "contentEncoding": "base64"},
    )
)
