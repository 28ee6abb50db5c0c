"""Splitting large payloads into fragments and putting them back together.

The reference splits the *base64 text* of a payload into chunks of ``max_payload_size``
characters and numbers them with the ``fragment``/``num_fragments`` properties
(PROTOCOL.md §8). We do the same, both ways, with limits on the receiving side.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import PayloadTooLarge, ProtocolError
from ..log_limits import LimitedWarnings
from .buffers import Buffer
from .envelope import Envelope, b64decode
from .messages import Prop

#: a fragment: base64 text, or raw bytes of a binary frame (docs/binary-frames.md)
Chunk = str | bytes | bytearray | memoryview

#: the reference's default fragment size (characters of base64 text)
DEFAULT_FRAGMENT_SIZE = 512_000
#: default ceiling for one reassembled payload (base64 characters)
DEFAULT_MAX_PAYLOAD = 1 << 30

log = logging.getLogger(__name__)
#: one line per reason now and then: a sender may leave thousands of sets incomplete
_warnings = LimitedWarnings(log)


def split_payload(payload: str, fragment_size: int = DEFAULT_FRAGMENT_SIZE) -> list[str]:
    """Cut base64 text into chunks of at most ``fragment_size`` characters (≥ 1 chunk)."""
    if fragment_size <= 0:
        raise ValueError("fragment_size must be positive")
    if len(payload) <= fragment_size:
        return [payload]
    return [payload[i : i + fragment_size] for i in range(0, len(payload), fragment_size)]


def raw_fragment_size(fragment_size: int) -> int:
    """Bytes per raw fragment whose base64 is exactly ``fragment_size`` characters long.

    Raw fragments of this size turn into the reference's text fragments one by one.
    """
    return max(3, fragment_size // 4 * 3)


def split_data(data: Buffer, fragment_size: int) -> list[memoryview]:
    """Cut raw payload bytes into views of :func:`raw_fragment_size` bytes (no copies)."""
    view = memoryview(data).cast("B")
    step = raw_fragment_size(fragment_size)
    if view.nbytes <= step:
        return [view]
    return [view[i : i + step] for i in range(0, view.nbytes, step)]


def split_parts(parts: Sequence[Buffer], fragment_size: int) -> list[Buffer]:
    """Like :func:`split_data` for a payload given as consecutive buffers.

    Fragments inside one buffer are views; only a fragment that spans two buffers is copied
    (at most one fragment per boundary), so the whole payload is never joined.
    """
    step = raw_fragment_size(fragment_size)
    views = [memoryview(p).cast("B") for p in parts]
    if sum(v.nbytes for v in views) <= step:
        return [b"".join(views)]
    out: list[Buffer] = []
    pending: list[memoryview] = []  # pieces of a fragment that spans buffers
    pending_size = 0
    for view in views:
        pos = 0
        if pending:
            take = min(step - pending_size, view.nbytes)
            pending.append(view[:take])
            pending_size += take
            pos = take
            if pending_size == step:
                out.append(b"".join(pending))
                pending, pending_size = [], 0
        while view.nbytes - pos >= step:
            out.append(view[pos : pos + step])
            pos += step
        if pos < view.nbytes:
            pending.append(view[pos:])
            pending_size += view.nbytes - pos
    if pending:
        out.append(b"".join(pending))
    return out


def fragment_envelope(
    envelope: Envelope, fragment_size: int, parts: Sequence[Buffer] | None = None
) -> list[Envelope]:
    """The messages that carry ``envelope``: itself, or its fragments (PROTOCOL.md §8).

    As the reference does, a payload of at most ``fragment_size`` bytes (unencoded) goes
    whole; a larger one is cut into fragments of ``fragment_size`` base64 characters each,
    numbered by ``fragment``/``num_fragments``. The payload is ``parts`` when given
    (consecutive buffers, e.g. a binary body, never joined when fragmented), else
    ``envelope.data``, else the base64 ``envelope.payload``. Raw fragments are views
    (:func:`split_parts`); they become the reference's text fragments one by one.
    """
    if fragment_size <= 0:
        raise ValueError("fragment_size must be positive")
    if parts is None and envelope.data is not None:
        parts = [envelope.data]
    chunks: Sequence[Chunk]
    if parts is None:
        if _unencoded_size(envelope.payload) <= fragment_size:
            return [envelope]
        chunks = split_payload(envelope.payload, fragment_size)
    elif sum(memoryview(p).nbytes for p in parts) <= fragment_size:
        whole = parts[0] if len(parts) == 1 else b"".join(parts)
        return [replace(envelope, payload="", data=whole)]
    else:
        chunks = split_parts(parts, fragment_size)
    total = len(chunks)
    return [
        replace(
            envelope,
            payload=chunk if isinstance(chunk, str) else "",
            properties={**envelope.properties, Prop.FRAGMENT: i, Prop.NUM_FRAGMENTS: total},
            data=None if isinstance(chunk, str) else chunk,
        )
        for i, chunk in enumerate(chunks)
    ]


def _unencoded_size(text: str) -> int:
    """Bytes that base64 ``text`` stands for."""
    return len(text) // 4 * 3 - text[-2:].count("=")


def fragment_index(properties: dict[str, Any]) -> tuple[int, int] | None:
    """``(fragment, num_fragments)`` of a message, ``None`` if it is not fragmented.

    Accepts ints and integer strings (Pulsar turns property values into strings).
    """
    if "num_fragments" not in properties and "fragment" not in properties:
        return None
    try:
        index = int(properties.get("fragment"))  # type: ignore[arg-type]
        total = int(properties.get("num_fragments"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ProtocolError("'fragment' and 'num_fragments' must be integers") from None
    if total < 1 or not 0 <= index < total:
        raise ProtocolError(f"fragment {index} of {total} is out of range")
    if total == 1:
        return None
    return index, total


@dataclass
class _Partial:
    total: int
    #: fragments by index; ``None`` marks one already appended to ``buffer``
    chunks: dict[int, Chunk | None] = field(default_factory=dict)
    size: int = 0
    started: float = field(default_factory=time.monotonic)
    #: raw fragments 0 … ``next - 1``, appended as they arrive in order
    buffer: bytearray | None = None
    next: int = 0
    #: what this payload counts towards the assembler's ``max_total``
    charged: int = 0

    def place(self, index: int, chunk: Chunk) -> bool:
        """Append a raw fragment that is next in order (and any stored ones that follow).

        False if it must be stored as it is (text, or not next in order).
        """
        if isinstance(chunk, str) or index != self.next:
            return False
        if self.buffer is None:
            self.buffer = bytearray()
        self.buffer += chunk
        self.next += 1
        while True:  # fragments that came early are appended once their turn comes
            waiting = self.chunks.get(self.next)
            if waiting is None or isinstance(waiting, str):
                return True
            self.buffer += waiting
            self.chunks[self.next] = None
            self.next += 1

    def whole(self) -> Chunk:
        """The payload of a complete set of fragments (empties :attr:`chunks`)."""
        buffer, self.buffer = self.buffer, None
        if buffer is not None and self.next == self.total:
            self.chunks.clear()
            return buffer
        ordered: list[Chunk] = [buffer] if buffer is not None else []
        ordered += [self.chunks.pop(i) for i in range(self.next, self.total)]  # type: ignore[misc]
        self.chunks.clear()
        return _joined(ordered)


class FragmentAssembler:
    """Collects fragments per key (e.g. requestContext) and returns whole payloads.

    Memory is bounded: by ``max_payload`` characters per payload, ``max_fragments`` per
    payload, ``max_pending`` payloads in flight, ``max_per_sender`` characters over the
    payloads of one sender (``sender(key)``; its newest payload may alone grow to
    ``max_payload``) and ``max_total`` characters over all of them, and by :meth:`expire`
    for payloads whose rest never came. When a bound is hit the *oldest other* incomplete
    payloads are dropped; each drop is logged and kept, with its reason, for
    :meth:`take_dropped`, so that the caller can tell the sender.
    """

    #: characters charged per stored fragment for its bookkeeping (many tiny fragments)
    FRAGMENT_OVERHEAD = 128

    def __init__(
        self,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        max_fragments: int = 100_000,
        max_pending: int = 1024,
        max_total: int | None = None,
        *,
        max_per_sender: int | None = None,
        sender: Callable[[Hashable], Hashable] | None = None,
        log_interval: float | None = None,
    ) -> None:
        self.max_payload = max_payload
        #: drops are logged at most once per ``log_interval`` s (None: shared, every 10 s)
        self._warnings = _warnings if log_interval is None else LimitedWarnings(log, log_interval)
        self.max_fragments = max_fragments
        self.max_pending = max_pending
        self.max_total = max_total if max_total is not None else 2 * max_payload
        self.max_per_sender = max_per_sender
        self._sender = sender
        self._partials: dict[Hashable, _Partial] = {}
        self._total = 0
        self._by_sender: dict[Hashable, int] = {}
        self._dropped: list[tuple[Hashable, str]] = []

    @property
    def pending_size(self) -> int:
        """Characters (plus per-fragment overhead) held by incomplete payloads."""
        return self._total

    def sender_size(self, sender: Hashable) -> int:
        """Characters held by the incomplete payloads of ``sender``."""
        return self._by_sender.get(sender, 0)

    def take_dropped(self) -> list[tuple[Hashable, str]]:
        """Keys of incomplete payloads dropped to keep the bounds, with the reason, once."""
        dropped, self._dropped = self._dropped, []
        return dropped

    def _sender_of(self, key: Hashable) -> Hashable:
        return self._sender(key) if self._sender is not None else None

    def _drop(self, key: Hashable, reason: str | None = None) -> None:
        partial = self._partials.pop(key, None)
        if partial is None:
            return
        self._total -= partial.charged
        sender = self._sender_of(key)
        left = self._by_sender.get(sender, 0) - partial.charged
        if left > 0:
            self._by_sender[sender] = left
        else:
            self._by_sender.pop(sender, None)
        if reason is not None:
            self._warnings.warn(
                "drops of incomplete fragment sets",
                "dropped incomplete fragments %r (%d of %d, %d characters): %s",
                key,
                len(partial.chunks),
                partial.total,
                partial.size,
                reason,
            )
            self._dropped.append((key, reason))

    def __len__(self) -> int:
        return len(self._partials)

    def add(self, key: Hashable, index: int, total: int, chunk: Chunk) -> Chunk | None:
        """Store one fragment; return the whole payload once all fragments are in.

        The whole payload is text when every fragment was text, else bytes (text fragments
        are then decoded one by one: a fragment of base64 is a multiple of 4 characters).

        Raises :class:`PayloadTooLarge` or :class:`ProtocolError` (and forgets ``key``) when
        the fragments break a limit or contradict each other.
        """
        if total > self.max_fragments:
            self._drop(key)
            raise PayloadTooLarge(f"{total} fragments exceed the limit of {self.max_fragments}")
        partial = self._partials.get(key)
        if partial is None:
            if len(self._partials) >= self.max_pending:
                oldest = min(self._partials, key=lambda k: self._partials[k].started)
                why = f"more than {self.max_pending} fragmented messages were incomplete"
                self._drop(oldest, _oldest(why))
            partial = self._partials[key] = _Partial(total)
        elif partial.total != total:
            self._drop(key)
            raise ProtocolError(f"fragment count changed from {partial.total} to {total}")
        if index in partial.chunks:
            return None  # a duplicate delivery: keep the first copy
        if partial.size + len(chunk) > self.max_payload:
            self._drop(key)
            raise PayloadTooLarge(
                f"reassembled payload exceeds the limit of {self.max_payload} characters"
            )
        partial.size += len(chunk)
        # a raw fragment in order is appended to the payload at once and let go: the
        # fragments and the whole payload are never in memory together
        placed = partial.place(index, chunk)
        charge = len(chunk) + self.FRAGMENT_OVERHEAD
        partial.charged += charge
        self._total += charge
        sender = self._sender_of(key)
        self._by_sender[sender] = self._by_sender.get(sender, 0) + charge
        partial.chunks[index] = None if placed else chunk
        del chunk
        self._make_room(key)
        if len(partial.chunks) < total:
            return None
        self._drop(key)
        return partial.whole()

    def _make_room(self, keep: Hashable) -> None:
        """Drop the oldest other payloads of the sender, then of anyone, over the bounds."""
        sender = self._sender_of(keep)
        if self.max_per_sender is not None:
            while self._by_sender.get(sender, 0) > self.max_per_sender:
                mine = [k for k in self._partials if k != keep and self._sender_of(k) == sender]
                if not mine:
                    break
                why = (
                    "its sender's incomplete fragmented messages exceeded "
                    f"{_size(self.max_per_sender)}"
                )
                self._drop(min(mine, key=lambda k: self._partials[k].started), _oldest(why))
        while self._total > self.max_total and len(self._partials) > 1:
            others = (k for k in self._partials if k != keep)
            why = f"incomplete fragmented messages exceeded {_size(self.max_total)} in total"
            self._drop(min(others, key=lambda k: self._partials[k].started), _oldest(why))

    def discard(self, key: Hashable) -> None:
        self._drop(key)

    def expire(self, older_than: float) -> list[Hashable]:
        """Forget payloads started more than ``older_than`` seconds ago; return their keys.

        They are also reported by :meth:`take_dropped`.
        """
        limit = time.monotonic() - older_than
        stale = [k for k, p in self._partials.items() if p.started < limit]
        for key in stale:
            self._drop(key, f"its remaining fragments did not arrive within {older_than:g} s")
        return stale


def _oldest(why: str) -> str:
    return f"{why}; the oldest incomplete one was dropped"


def _size(chars: int) -> str:
    """A size limit for messages: MiB when it is a whole number of them."""
    mib = chars / (1 << 20)
    return f"{mib:g} MiB" if chars >= 1 << 20 else f"{chars} bytes"


def _joined(chunks: list[Chunk]) -> Chunk:
    """Text when every chunk is text, else bytes (text chunks decoded one by one)."""
    if all(isinstance(c, str) for c in chunks):
        return "".join(chunks)  # type: ignore[arg-type]
    return b"".join(b64decode(c) if isinstance(c, str) else c for c in chunks)
