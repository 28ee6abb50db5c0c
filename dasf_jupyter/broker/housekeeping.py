"""Periodic clean-up: response topics nobody used for a long time are deleted.

Callers create a new response topic per connection, so these rows pile up. Every
``DASF_GC_INTERVAL`` seconds each broker process deletes response topics unused for
``DASF_RESPONSE_TOPIC_MAX_AGE`` seconds, except those with a live subscription (their
``last_used`` is refreshed instead). ``dasf-broker manage dasf_gc`` does the same on demand.
"""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from django.utils import timezone

from .hub import Hub
from .models import Topic, stale_response_topics
from .tasks import PeriodicTask, PeriodicWork

log = logging.getLogger(__name__)


def _stale_names(max_age: float) -> list[str]:
    return list(stale_response_topics(max_age).values_list("name", flat=True)[:10_000])


def _delete_and_touch(delete: list[str], touch: list[str], max_age: float) -> int:
    if touch:
        Topic.objects.filter(name__in=touch).update(last_used=timezone.now())
    # re-check staleness: another process may have used a topic meanwhile
    deleted, _ = stale_response_topics(max_age).filter(name__in=delete).delete()
    return deleted


async def collect_garbage(hub: Hub, max_age: float) -> int:
    """Delete stale response topics without live subscriptions; return how many went."""
    names = await database_sync_to_async(_stale_names)(max_age)
    live = {n for n in names if await hub.subscriptions(n)}
    gone = [n for n in names if n not in live]
    return await database_sync_to_async(_delete_and_touch)(gone, sorted(live), max_age)


class Housekeeping(PeriodicWork):
    """Runs :func:`collect_garbage` every ``interval`` seconds."""

    def __init__(self, hub: Hub, interval: float, max_age: float) -> None:
        self._hub, self._max_age = hub, max_age
        self.rounds = PeriodicTask(
            self.collect, interval, "garbage collection of response topics failed", logger=log
        )

    async def collect(self) -> int:
        """Delete the stale response topics now; return their number."""
        deleted = await collect_garbage(self._hub, self._max_age)
        if deleted:
            log.info("deleted %d stale response topics", deleted)
        return deleted
