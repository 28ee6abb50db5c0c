"""Handling of one producer socket's publishes: check, route, ack (no I/O of its own)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from channels.db import database_sync_to_async
from django.utils import timezone

from ..errors import ProtocolError
from . import frames
from .backlog import BacklogFull
from .inflight import final_response_route, mark_delivery
from .models import Topic
from .permissions import TopicAccess

if TYPE_CHECKING:
    from .runtime import BrokerRuntime

log = logging.getLogger(__name__)

LAST_USED_RESOLUTION = 60.0  # s; Topic.last_used is coarse, for garbage collection only


# topic -> monotonic time of the last ``last_used`` update by this process
_touched: dict[str, float] = {}


def _touch(names: list[str]) -> None:
    Topic.objects.filter(name__in=names).update(last_used=timezone.now())


class Publisher:
    """Turns publish frames on ``topic`` into deliveries and returns the ack text."""

    def __init__(self, topic: str, runtime: BrokerRuntime, access: TopicAccess) -> None:
        self.topic = topic
        self._runtime = runtime  # its hub delivers, its hold keeps, its inflight store routes
        self._access = access

    async def publish(self, text: str | bytes) -> str:
        """Route one publish frame, text or binary; return the ack (text, says why if refused).

        A binary frame is checked like a text frame (its header), and delivered as binary.
        """
        try:
            frame = frames.parse_any_publish(text)
        except ProtocolError as exc:
            return frames.ack_text(str(exc), None, frames.context_of(text), None)
        context = frame.get("context")
        response_topic = frames.response_topic_of(frame)
        if response_topic is not None:
            refusal = await self._access.register_response_topic(self.topic, response_topic)
            if refusal:
                return frames.ack_text(refusal, None, context, None)
        message_id = frame.get("messageId") or frames.new_message_id()
        try:
            delivery = frames.delivery_of(text, frame, message_id, frames.now_iso())
        except ProtocolError as exc:  # a binary header at the size limit, say
            return frames.ack_text(str(exc), None, context, None)
        delivery = mark_delivery(delivery, frame)
        answered = final_response_route(frame, self.topic)
        if answered is not None:
            await self._runtime.inflight.answered(answered)
        try:
            consumers = await self._runtime.hub.publish(self.topic, delivery)
        except BacklogFull as exc:  # the global cap (broker/backlog.py): a clear refusal
            log.warning("publish to %s refused: %s", self.topic, exc)
            return frames.ack_text(str(exc), None, context, None)
        if consumers == 0 and frames.expects_reply(frame) and not frames.no_hold(frame):
            await self._runtime.hold.hold(self.topic, frame, delivery)
        await self._touch(response_topic)
        return frames.ack_text("ok", message_id, context, consumers)

    async def _touch(self, response_topic: str | None) -> None:
        """Update ``last_used`` at most once a minute per topic (never per message)."""
        now = time.monotonic()
        names = [self.topic] + ([response_topic] if response_topic else [])
        due = [
            n
            for n in names
            if now - _touched.get(n, -LAST_USED_RESOLUTION) >= LAST_USED_RESOLUTION
        ]
        if due:
            if len(_touched) > 10_000:  # forget stale entries (response topics come and go)
                for name, when in list(_touched.items()):
                    if now - when >= LAST_USED_RESOLUTION:
                        del _touched[name]
            for name in due:
                _touched[name] = now
            try:
                await database_sync_to_async(_touch)(due)
            except Exception:  # bookkeeping only; never fail a publish for it
                log.exception("updating last_used failed")
