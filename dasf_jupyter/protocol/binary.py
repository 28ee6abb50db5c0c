"""Binary websocket frames: a DASF frame whose payload travels as raw bytes (no base64).

A dasf-jupyter extension between our own peers and our broker (docs/binary-frames.md). A
binary frame means exactly the same as the text frame with ``"payload": base64(raw)``::

    u32 big-endian header length | header (UTF-8 JSON object, no "payload") | raw payload

Who may send one is negotiated per websocket: our broker announces
``x-dasf-binary-frames: 1`` in its handshake response, and a consumer that wants binary
deliveries sends the same header in its handshake request. The broker turns binary frames
into text frames for every consumer that did not ask, so reference peers never see one.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from ..errors import ProtocolError
from .buffers import Buffer

#: handshake header: the broker accepts binary publishes / a consumer wants binary deliveries
BINARY_FRAMES_HEADER = "x-dasf-binary-frames"
#: value of :data:`BINARY_FRAMES_HEADER` for the frame format of this module
BINARY_FRAMES_VERSION = "1"
#: a header is a few properties; this bound keeps the first byte of every frame 0x00
MAX_HEADER = 1 << 24

_LENGTH = struct.Struct(">I")


def is_binary_frame(data: Buffer | str) -> bool:
    """True for a binary frame; text (JSON) frames start with ``{`` or whitespace."""
    return not isinstance(data, str) and len(data) >= 4 and data[0] == 0


def encode_binary_frame(header: dict[str, Any], payload: Buffer = b"") -> bytes:
    """The bytes of a binary frame (``header`` must not contain ``payload``)."""
    head = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(head) >= MAX_HEADER:
        raise ProtocolError(f"binary frame header of {len(head)} bytes is too large")
    return b"".join((_LENGTH.pack(len(head)), head, payload))


def header_end(data: Buffer) -> int:
    """Offset of the payload in a binary frame; raise :class:`ProtocolError` if malformed."""
    if len(data) < 4:
        raise ProtocolError("binary frame shorter than its 4-byte header length")
    length: int = _LENGTH.unpack_from(data, 0)[0]
    if length >= MAX_HEADER or 4 + length > len(data):
        raise ProtocolError(f"binary frame header length {length} exceeds the frame")
    return 4 + length


def decode_binary_frame(data: Buffer) -> tuple[dict[str, Any], memoryview]:
    """``(header, payload)`` of a binary frame; the payload is a view, not a copy."""
    end = header_end(data)
    view = memoryview(data)
    try:
        header = json.loads(bytes(view[4:end]))
    except RecursionError:
        raise ProtocolError("binary frame header: JSON nested too deeply") from None
    except ValueError as exc:
        raise ProtocolError(f"binary frame header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError("binary frame header must be a JSON object")
    if "payload" in header:
        raise ProtocolError("binary frame header must not contain 'payload'")
    return header, view[end:]


def with_header_fields(data: Buffer, fields: dict[str, Any]) -> bytes:
    """A copy of a binary frame with ``fields`` set in its header (payload unchanged)."""
    header, payload = decode_binary_frame(data)
    header.update(fields)
    return encode_binary_frame(header, payload)


def binary_to_text(data: Buffer) -> str:
    """The equivalent text frame: the header object with ``payload`` = base64 of the bytes."""
    header, payload = decode_binary_frame(data)
    encoded = base64.b64encode(payload).decode("ascii")
    rest = json.dumps(header, separators=(",", ":"), ensure_ascii=False)
    # base64 needs no JSON escaping: splice instead of re-encoding a large string
    return '{"payload":"' + encoded + '"' + ("," + rest[1:] if len(rest) > 2 else "}")
