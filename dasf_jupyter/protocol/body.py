"""The ``dasf-jupyter-binary-1`` body: JSON plus raw byte attachments (docs/binary-frames.md §2).

Layout::

    b"DJB1" | 8-byte nonce | u32 n | u64 JSON length | n × u64 attachment length |
    JSON | attachment 0 | … | attachment n-1

In the JSON, attachment *i* stands as the string :func:`placeholder` ``(nonce, i)``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from ..errors import ProtocolError
from .buffers import Buffer
from .envelope import decode_json_bytes, decode_json_payload, raw_payload

#: value of the ``dasf_body`` / ``dasf_accept`` properties for this format
BINARY_BODY = "dasf-jupyter-binary-1"
MAGIC = b"DJB1"
NONCE_SIZE = 8
#: more attachments than this in one body are refused (bounds the length table)
MAX_ATTACHMENTS = 100_000

_COUNT = struct.Struct(">I")
_SIZE = struct.Struct(">Q")
_FIXED = len(MAGIC) + NONCE_SIZE + _COUNT.size + _SIZE.size


def placeholder_prefix(nonce: bytes) -> str:
    """Start of every placeholder string of a body with this nonce."""
    return f"\x00dasf:{nonce.hex()}:"


def placeholder(nonce: bytes, index: int) -> str:
    """The JSON string that stands for attachment ``index``."""
    return f"{placeholder_prefix(nonce)}{index}"


def encode_body_parts(
    json_bytes: Buffer, attachments: Sequence[Buffer], nonce: bytes
) -> list[Buffer]:
    """The body as a list of buffers (header, JSON, attachments): nothing is copied."""
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
    sizes = b"".join(_SIZE.pack(memoryview(a).nbytes) for a in attachments)
    json_size = _SIZE.pack(memoryview(json_bytes).nbytes)
    head = MAGIC + nonce + _COUNT.pack(len(attachments)) + json_size + sizes
    return [head, json_bytes, *attachments]


def encode_body(json_bytes: Buffer, attachments: Sequence[Buffer], nonce: bytes) -> bytes:
    """One contiguous body (a single copy of every attachment)."""
    return b"".join(encode_body_parts(json_bytes, attachments, nonce))


def decode_body(raw: Buffer) -> tuple[memoryview, bytes, list[memoryview]]:
    """``(json bytes, nonce, attachments)`` — views into ``raw``, no copies.

    Raises :class:`ProtocolError` when the layout does not add up.
    """
    view = memoryview(raw).cast("B")
    if view.nbytes < _FIXED or bytes(view[: len(MAGIC)]) != MAGIC:
        raise ProtocolError(f"payload is not a {BINARY_BODY} body")
    nonce = bytes(view[len(MAGIC) : len(MAGIC) + NONCE_SIZE])
    pos = len(MAGIC) + NONCE_SIZE
    (count,) = _COUNT.unpack_from(view, pos)
    (json_size,) = _SIZE.unpack_from(view, pos + _COUNT.size)
    pos = _FIXED
    if count > MAX_ATTACHMENTS or pos + count * _SIZE.size > view.nbytes:
        raise ProtocolError(f"{BINARY_BODY} body: bad attachment count {count}")
    sizes = [_SIZE.unpack_from(view, pos + i * _SIZE.size)[0] for i in range(count)]
    pos += count * _SIZE.size
    if pos + json_size + sum(sizes) != view.nbytes:
        raise ProtocolError(f"{BINARY_BODY} body: lengths do not add up to {view.nbytes} bytes")
    json_part = view[pos : pos + json_size]
    pos += json_size
    attachments = []
    for size in sizes:
        attachments.append(view[pos : pos + size])
        pos += size
    return json_part, nonce, attachments


def resolve_placeholders(value: Any, nonce: bytes, attachments: Sequence[Buffer]) -> Any:
    """``value`` with every placeholder string replaced by its attachment (a memoryview).

    A placeholder with an index out of range raises :class:`ProtocolError`.
    """
    prefix = placeholder_prefix(nonce)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            if not item.startswith(prefix):
                return item
            try:
                return attachments[int(item[len(prefix) :])]
            except (ValueError, IndexError):
                raise ProtocolError(f"{BINARY_BODY} body: unknown attachment {item!r}") from None
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    try:
        return walk(value)
    except RecursionError:  # JSON nested almost as deep as the parser allows
        raise ProtocolError(f"{BINARY_BODY} body: JSON nested too deeply") from None


def decode_payload_value(payload: str | Buffer, body_format: Any) -> Any:
    """The value of a request or response payload in ``body_format`` (the ``dasf_body``
    property): JSON when None, else a binary body with its attachments (memoryviews) in place.
    """
    if body_format is None:
        return decode_json_payload(payload)
    if body_format != BINARY_BODY:
        raise ProtocolError(
            f"unknown body format {body_format!r} (dasf-jupyter reads {BINARY_BODY!r})"
        )
    json_part, nonce, attachments = decode_body(raw_payload(payload))
    return resolve_placeholders(decode_json_bytes(json_part), nonce, attachments)
