"""A publish frame as our broker's Publisher reads it: checked, given an id, made a delivery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..broker import frames
from ..broker.inflight import mark_delivery
from ..errors import PayloadTooLarge, ProtocolError
from ..transport.base import Frame


@dataclass(frozen=True)
class Publish:
    """An accepted publish: the parsed frame, its delivery (tagged with its route) and id."""

    frame: dict[str, Any]
    delivery: Any
    message_id: str

    @property
    def context(self) -> Any:
        return self.frame.get("context")


def read_publish(data: Frame) -> Publish | str:
    """The :class:`Publish` of ``data``, or the text of the ack that refuses it."""
    try:
        frame = frames.parse_any_publish(data)
        message_id = frame.get("messageId") or frames.new_message_id()
        delivery = frames.delivery_of(data, frame, message_id, frames.now_iso())
    except ProtocolError as exc:
        return frames.ack_text(str(exc), None, frames.context_of(data), None)
    return Publish(frame, mark_delivery(delivery, frame), message_id)


def too_large(url: str, size: int, limit: int) -> PayloadTooLarge:
    """What a client sees when the broker closes its socket with code 1009."""
    return PayloadTooLarge(
        f"the broker at {url} refused a message over its size limit ({size} > {limit} "
        "bytes); send smaller fragments (fragment_size=) or raise the broker's "
        "--max-message-size"
    )
