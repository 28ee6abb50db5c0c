"""Raw byte values for binary bodies: codecs hand over bytes instead of base64 text.

While a :func:`collecting` scope is active (set by the client or backend when the peer reads
``dasf-jupyter-binary-1`` bodies), :func:`wire_bytes` keeps the raw buffer and returns a
placeholder string; outside it returns base64 text as before. Decoders accept either: the
base64 text, or the bytes that replaced a placeholder (:func:`as_bytes`).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from ..protocol.body import NONCE_SIZE, placeholder
from ..protocol.buffers import Buffer as Buffer  # noqa: PLC0414 - re-exported for the codecs
from ..protocol.envelope import strict_b64decode
from .registry import CodecError

#: values smaller than this stay base64 inside the JSON (not worth an attachment)
MIN_ATTACHMENT = 4096


@dataclass
class Attachments:
    """Buffers collected while encoding one message, and the nonce of their placeholders."""

    nonce: bytes = field(default_factory=lambda: secrets.token_bytes(NONCE_SIZE))
    buffers: list[Buffer] = field(default_factory=list)

    def add(self, raw: Buffer) -> str:
        self.buffers.append(raw)
        return placeholder(self.nonce, len(self.buffers) - 1)


_collecting: ContextVar[Attachments | None] = ContextVar("dasf_attachments", default=None)


@contextmanager
def collecting(enabled: bool = True) -> Iterator[Attachments | None]:
    """Within the block, large byte values become attachments (yields the collection)."""
    attachments = Attachments() if enabled else None
    token = _collecting.set(attachments)
    try:
        yield attachments
    finally:
        _collecting.reset(token)


def wire_bytes(raw: Buffer) -> str:
    """A placeholder for ``raw`` inside a :func:`collecting` scope, else its base64 text."""
    attachments = _collecting.get()
    if attachments is not None and memoryview(raw).nbytes >= MIN_ATTACHMENT:
        return attachments.add(raw)
    return base64.b64encode(raw).decode("ascii")


def as_bytes(value: object, what: str) -> Buffer:
    """Raw bytes of a wire value: an attachment passes through, base64 text is decoded."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return value
    if not isinstance(value, str):
        raise CodecError(f"{what} must be base64 text, got {type(value).__name__}")
    try:
        return strict_b64decode(value)
    except (binascii.Error, ValueError) as exc:
        raise CodecError(f"{what} is not valid base64: {exc}") from None
