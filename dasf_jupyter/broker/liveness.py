"""Liveness probes: the broker pings backend modules and records pongs and api_info.

Each broker process probes its own consumer sockets of non-response topics: right after a
consumer connects (a ``ping`` and an ``api_info`` request) and then every
``DASF_PING_INTERVAL`` seconds (a ``ping``). Backends answer on ``/ws/status-ping``; the
replies set ``Topic.last_pong`` and ``Topic.api_info``. The database is written once per
probe round and once per reply, never per normal message.

When the last consumer socket of a backend topic closes (on any broker process sharing the
hub), the topic goes offline at once: ``last_pong`` is cleared unless a newer pong arrived.
This holds for every backend, ours and demessaging's, since it needs nothing from the module.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.utils import timezone

from ..protocol import MessageType, Prop
from .frames import probe_text
from .hub import Hub
from .models import Topic
from .permissions import consume_refusal
from .tasks import PeriodicTask, PeriodicWork

log = logging.getLogger(__name__)

SendText = Callable[[str], Awaitable[None]]


def _response_topic_names(names: list[str]) -> set[str]:
    return set(
        Topic.objects.filter(name__in=names, is_response_topic=True).values_list("name", flat=True)
    )


def _topic_kind(name: str) -> str:
    """``response``, ``ordinary``, or ``undecided`` (unknown, or still claimable as a reply)."""
    row = Topic.objects.filter(name=name).values("is_response_topic", "claimable_until").first()
    if row is None:
        return "undecided"
    if row["is_response_topic"]:
        return "response"
    claimable = row["claimable_until"] is not None and row["claimable_until"] > timezone.now()
    return "undecided" if claimable else "ordinary"


def _topic_exists(name: str) -> bool:
    return Topic.objects.filter(name=name).exists()


def _stamp_ping(names: list[str]) -> None:
    Topic.objects.filter(name__in=names, is_response_topic=False).update(last_ping=timezone.now())


def _clear_pong(name: str, before: Any) -> int:
    """Mark ``name`` offline unless a pong arrived at or after ``before`` (a new consumer)."""
    return Topic.objects.filter(name=name, last_pong__lt=before).update(last_pong=None)


def _store_reply(user: Any, source_topic: str, api_info: Any) -> str | None:
    """Record a probe reply for ``source_topic`` if ``user`` may consume it; else say why not."""
    if not Topic.objects.filter(name=source_topic).exists():
        return f"No source topic found: {source_topic!r} does not exist"
    refusal = consume_refusal(user, source_topic)
    if refusal:
        return refusal
    fields: dict[str, Any] = {"last_pong": timezone.now()}
    if api_info is not None:
        fields["api_info"] = api_info
    Topic.objects.filter(name=source_topic).update(**fields)
    return None


def api_info_of(properties: dict[str, Any]) -> Any:
    """The parsed ``api_info`` property of a reply, or None if absent or not JSON."""
    raw = properties.get(Prop.API_INFO)
    if not isinstance(raw, str):
        return raw if isinstance(raw, dict) else None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return None


class Liveness(PeriodicWork):
    """Probes this process's backend consumer sockets and records their replies."""

    def __init__(self, hub: Hub, interval: float) -> None:
        self._hub = hub
        self._sockets: dict[str, dict[int, SendText]] = {}
        self.rounds = PeriodicTask(
            self.probe_all, interval, "liveness probe round failed", logger=log
        )

    async def looks_like_response_topic(self, topic: str) -> bool:
        """A known response topic, or maybe one: ``<served topic>_<suffix>`` (clients subscribe
        first) that is not yet known as an ordinary topic.

        A settled ordinary topic (created by an admin or a publish, or a subscription's whose
        claim window has passed) is never judged by its name: otherwise whoever creates the
        topic ``lab`` would silence the probes of someone else's module ``lab_tools``.
        """
        kind = await database_sync_to_async(_topic_kind)(topic)
        if kind != "undecided":
            return kind == "response"
        source, sep, _ = topic.rpartition("_")
        if not sep or not source:
            return False
        return bool(await self._hub.subscriptions(source)) or await database_sync_to_async(
            _topic_exists
        )(source)

    async def consumer_connected(self, topic: str, token: int, send: SendText) -> None:
        """Register a consumer socket; probe it at once unless it is a response topic."""
        if await self.looks_like_response_topic(topic):
            return
        self._sockets.setdefault(topic, {})[token] = send
        try:
            await send(probe_text(MessageType.PING.value))
            await send(probe_text(MessageType.API_INFO.value))
        except Exception:  # the socket closed already; disconnect cleans up
            return
        await database_sync_to_async(_stamp_ping)([topic])

    def consumer_disconnected(self, topic: str, token: int) -> bool:
        """Unregister a consumer socket; True if it was a probed (backend) consumer."""
        sockets = self._sockets.get(topic)
        if sockets is None or sockets.pop(token, None) is None:
            return False
        if not sockets:
            del self._sockets[topic]
        return True

    async def backend_gone(self, topic: str, closed_at: Any) -> bool:
        """After a backend consumer detached: offline if no consumer is left on any broker.

        Call it once the socket's subscription has left the hub. True if marked offline.
        """
        try:
            if self._sockets.get(topic) or await self._hub.subscriptions(topic):
                return False
            cleared = await database_sync_to_async(_clear_pong)(topic, closed_at)
        except Exception:  # Redis or the database away: the online window still applies
            log.exception("marking topic %s offline failed", topic)
            return False
        if cleared:
            log.info("topic %s is offline: its last consumer disconnected", topic)
        return bool(cleared)

    async def probe_all(self) -> None:
        """Ping every registered consumer socket; stamp ``last_ping`` once per topic."""
        topics = list(self._sockets)
        if not topics:
            return
        responses = await database_sync_to_async(_response_topic_names)(topics)
        for topic in responses:
            self._sockets.pop(topic, None)
        pinged = [t for t in topics if t not in responses]
        for topic in pinged:
            for send in list(self._sockets.get(topic, {}).values()):
                with contextlib.suppress(Exception):
                    await send(probe_text(MessageType.PING.value))
        if pinged:
            await database_sync_to_async(_stamp_ping)(pinged)

    async def record_reply(self, user: Any, properties: dict[str, Any]) -> str | None:
        """Store a reply to a probe (pong, or api_info response); return a refusal or None."""
        source = properties.get(Prop.SOURCE_TOPIC)
        if not isinstance(source, str) or not source:
            return "No source topic found."
        message_type = properties.get(Prop.MESSAGE_TYPE)
        api_info = api_info_of(properties) if message_type == MessageType.RESPONSE.value else None
        return await database_sync_to_async(_store_reply)(user, source, api_info)
