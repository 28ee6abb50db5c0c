"""Requests that arrive in fragments, collected until whole (PROTOCOL.md §8)."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass, field

from ..errors import ProtocolError
from ..protocol import Envelope, Prop
from ..protocol.fragment_limits import FragmentLimits

#: a fragmented request is known by its caller's response topic and its request context
Key = tuple[str, str]


@dataclass
class Collected:
    """What one fragment of a request led to."""

    #: the whole request, once its last fragment is in
    whole: Envelope | None = None
    #: incomplete requests dropped to keep the limits, with the reason (the callers are told)
    dropped: list[tuple[Key, str]] = field(default_factory=list)
    #: why this fragment (and its request) was refused, if it was
    error: ProtocolError | None = None


class RequestFragments:
    """Fragments of requests per (response topic, context), bounded by ``limits`` (thread-safe)."""

    def __init__(self, limits: FragmentLimits) -> None:
        self.limits = limits
        # a sender is a response topic: the caller the error replies go back to
        self._assembler = limits.assembler(sender=_response_topic_of)
        self._lock = threading.Lock()

    def add(self, envelope: Envelope, key: Key, index: tuple[int, int]) -> Collected:
        """Store fragment ``index`` (``(fragment, num_fragments)``) of the request at ``key``."""
        collected = Collected()
        with self._lock:
            try:
                payload = self._assembler.add(key, *index, envelope.wire_payload())
            except ProtocolError as exc:
                payload, collected.error = None, exc
            collected.dropped = self._assembler.take_dropped()  # type: ignore[assignment]
        if payload is not None:
            collected.whole = _whole(envelope, payload)
        return collected

    def expire(self) -> list[tuple[Key, str]]:
        """Drop requests incomplete for longer than the timeout; their keys and the reason."""
        with self._lock:
            self._assembler.expire(self.limits.timeout)
            return self._assembler.take_dropped()  # type: ignore[return-value]


def _whole(last: Envelope, payload: str | bytes | bytearray | memoryview) -> Envelope:
    """The reassembled request: ``payload`` with the properties of its ``last`` fragment."""
    props = {
        k: v for k, v in last.properties.items() if k not in (Prop.FRAGMENT, Prop.NUM_FRAGMENTS)
    }
    if isinstance(payload, str):
        return Envelope(payload, props, last.context, last.message_id)
    return Envelope("", props, last.context, last.message_id, data=payload)


def _response_topic_of(key: Hashable) -> Hashable:
    """The sender of a fragmented request: its response topic."""
    return key[0]  # type: ignore[index]
