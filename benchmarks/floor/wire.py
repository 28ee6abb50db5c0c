"""The floor's message: 4-byte big-endian head length, a JSON head, then raw payload bytes.

A message above :data:`FRAGMENT` bytes is sent as a fragmented websocket message (frames of
that size), so the relay can forward it while it arrives (:func:`fragments`).
"""

from __future__ import annotations

import json
import struct
from typing import Any

Buffer = bytes | memoryview

_LEN = struct.Struct(">I")
FRAGMENT = 1024 * 1024  #: websocket frame size of large messages


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


def fragments(message: bytes) -> bytes | list[memoryview]:
    """What to pass to ``send()``: the message itself, or views of its frames when large."""
    if len(message) <= FRAGMENT:
        return message
    view = memoryview(message)
    return [view[i : i + FRAGMENT] for i in range(0, len(message), FRAGMENT)]
