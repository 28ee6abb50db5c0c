"""The floor's frame: 4-byte big-endian head length, a JSON head, then raw payload bytes."""

from __future__ import annotations

import json
import struct
from typing import Any

Buffer = bytes | memoryview

_LEN = struct.Struct(">I")


def pack(head: dict[str, Any], *payload: Buffer) -> bytes:
    """One binary frame; the payload buffers are copied once, into the frame."""
    encoded = json.dumps(head, separators=(",", ":")).encode()
    return b"".join((_LEN.pack(len(encoded)), encoded, *payload))


def unpack(frame: bytes) -> tuple[dict[str, Any], memoryview]:
    """(head, payload view) of a frame; the payload is not copied."""
    (size,) = _LEN.unpack_from(frame)
    head = json.loads(frame[4 : 4 + size])
    return head, memoryview(frame)[4 + size :]


#: the relay's first frame to a consumer: it is registered, frames will reach it
SUBSCRIBED = pack({"subscribed": True})
