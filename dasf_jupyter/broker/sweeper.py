"""A surviving broker process answers for a dead one (Redis scale-out only).

Every broker process keeps a heartbeat in Redis (see :class:`.hub.RedisHub`). Each process
checks every heartbeat interval for processes whose heartbeat lapsed; the first to claim a
dead process (atomically, in Redis):

* answers every request the dead process had delivered and not seen answered with an error
  ``response`` (``dasf_error_type: BackendDisconnected``: it may have run);
* answers every request that can no longer be delivered — queued for the dead process's
  consumers alone, or for a subscription left without any live consumer — with the same
  error, saying that it never reached the module (safe to retry), and deletes it, so it can
  never run later when a module reconnects.
"""

from __future__ import annotations

import logging

from . import frames
from .hub import Message, RedisHub
from .inflight import route_of
from .inflight_store import RedisInFlight
from .tasks import PeriodicTask, PeriodicWork

log = logging.getLogger(__name__)


class DeadBrokerSweeper(PeriodicWork):
    """Runs the checks of one broker process; see the module docstring."""

    def __init__(self, hub: RedisHub, inflight: RedisInFlight) -> None:
        self._hub = hub
        self._inflight = inflight
        self.rounds = PeriodicTask(
            self.sweep,
            hub.heartbeat_interval,
            "checking for dead broker processes failed",
            logger=log,
        )

    async def sweep(self) -> int:
        """Clean up after every dead broker process this one claims; return their number."""
        swept = 0
        for process in await self._hub.dead_processes():
            undelivered = await self._hub.sweep_dead(process)
            if undelivered is None:
                continue  # another process claimed it
            swept += 1
            running = await self._inflight.take_process(process)
            log.warning(
                "broker process %s stopped its heartbeat: answering %d running and %d queued "
                "requests of its consumers",
                process,
                len(running),
                len(undelivered),
            )
            why = "the broker it was connected to stopped responding"
            for topic, (response_topic, context) in running:
                await self._answer(response_topic, frames.orphan_error_text(topic, context, why))
            await self._answer_undelivered(undelivered, why)
        return swept

    async def _answer_undelivered(self, items: list[tuple[str, Message]], why: str) -> None:
        answered: set[tuple[str, str]] = set()
        for topic, text in items:
            route = route_of(text)
            if route is None or route in answered:
                continue  # not a request, or another fragment of one already answered
            answered.add(route)
            reply = frames.orphan_error_text(topic, route[1], why, delivered=False)
            await self._answer(route[0], reply)

    async def _answer(self, response_topic: str, text: str) -> None:
        try:
            await self._hub.publish(response_topic, text)
        except Exception:  # best effort: the caller's own timeout still applies
            log.exception("answering for a dead broker on %s failed", response_topic)
