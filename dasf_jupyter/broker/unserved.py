"""Requests to topics that nobody consumes: held for a while, then answered with an error.

A request (``request``, ``info`` or ``api_info`` with a ``response_topic``) published to a
topic without any subscription is held by the broker process that received it, up to
``DASF_UNSERVED_TIMEOUT`` seconds. When a consumer subscribes to the topic within that time
(on any broker process sharing the hub), the held requests are delivered in order; otherwise
the broker publishes a ``response`` with ``status=error`` and the text
``no backend module consumed topic '<topic>' within <N> s`` to the request's response topic,
so the caller never waits forever. The hold is bounded in count and bytes; a request that
does not fit is answered with the error at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .backlog import BacklogFull
from .frames import response_topic_of, unserved_error_text
from .hub import Hub, Message
from .tasks import PeriodicTask, PeriodicWork

log = logging.getLogger(__name__)


@dataclass
class _Held:
    deadline: float
    frame: dict[str, Any]
    text: Message  # the delivery, text or binary


class UnservedHold(PeriodicWork):
    """Holds unserved requests per topic until a consumer appears or they time out."""

    check_interval = 0.25  # s; how often topics with held requests are re-checked

    def __init__(
        self, hub: Hub, timeout: float, max_count: int = 1000, max_bytes: int = 256 << 20
    ) -> None:
        self._hub = hub
        self.timeout = timeout
        self._max_count = max_count
        self._max_bytes = max_bytes
        self._held: OrderedDict[str, list[_Held]] = OrderedDict()
        self._count = 0
        self._bytes = 0
        self._wake = asyncio.Event()
        # a Redis hiccup must not end the checks: the next round tries again
        self.rounds = PeriodicTask(
            self.check,
            self.check_interval,
            "checking unserved requests failed",
            wake=self._wake,
            logger=log,
        )
        hub.on_subscribe(self.notify)

    @property
    def count(self) -> int:
        return self._count

    async def stop(self) -> None:
        """Stop checking; answer what is still held, so no caller waits for a gone broker."""
        await super().stop()
        held, self._held = self._held, OrderedDict()
        self._count = self._bytes = 0
        for topic, items in held.items():
            for item in items:
                with contextlib.suppress(Exception):
                    await self._fail(
                        topic,
                        item.frame,
                        f"no backend module consumed topic '{topic}' before the broker shut down",
                    )

    def notify(self, topic: str) -> None:
        """A consumer subscribed to ``topic`` here: check the held requests now."""
        if topic in self._held:
            self._wake.set()

    async def hold(self, topic: str, frame: dict[str, Any], text: Message) -> None:
        """Hold a request for ``topic``; answer it with the error at once if the hold is full."""
        size = len(text)
        if self._count + 1 > self._max_count or self._bytes + size > self._max_bytes:
            log.warning("unserved hold full; refusing a request for %s at once", topic)
            await self._fail(
                topic,
                frame,
                f"no backend module consumes topic '{topic}' and the broker holds too many "
                "unserved requests to wait for one",
            )
            return
        self._held.setdefault(topic, []).append(
            _Held(time.monotonic() + self.timeout, frame, text)
        )
        self._count += 1
        self._bytes += size

    async def check(self) -> None:
        """Deliver held requests of topics that now have consumers; fail expired ones."""
        now = time.monotonic()
        for topic in list(self._held):
            items = self._held.get(topic, [])
            if items and await self._hub.subscriptions(topic):
                self._forget(topic, items, keep=[])
                for item in items:
                    try:
                        await self._hub.publish(topic, item.text)
                    except BacklogFull as exc:  # no room in the broker: tell the caller
                        await self._fail(topic, item.frame, str(exc))
                continue
            expired = [i for i in items if i.deadline <= now]
            if expired:
                self._forget(topic, expired, keep=[i for i in items if i.deadline > now])
                for item in expired:
                    await self._fail(topic, item.frame)

    def _forget(self, topic: str, removed: list[_Held], keep: list[_Held]) -> None:
        self._count -= len(removed)
        self._bytes -= sum(len(i.text) for i in removed)
        if keep:
            self._held[topic] = keep
        else:
            self._held.pop(topic, None)

    async def _fail(self, topic: str, frame: dict[str, Any], message: str | None = None) -> None:
        response_topic = response_topic_of(frame)
        if response_topic is None:
            return
        text = unserved_error_text(frame, topic, self.timeout, message or "")
        if not await self._hub.publish(response_topic, text):
            log.info("nobody consumes %s; unserved error for %s dropped", response_topic, topic)
