"""How many consumer sockets and subscriptions each topic has, across all broker processes.

Discovery (``/api/topics/``) reports both numbers, so an operator sees that replicas of a
module share one subscription (each call runs once) or use several (each call runs once per
subscription). A second, different subscription on a backend topic is logged as a warning.

* Memory mode: the counts of this process.
* Redis mode: each process keeps its counts in a hash per topic (field
  ``<process>\\t<subscription>``, value ``<count> <expiry time>``), written on every
  attach/detach and refreshed while the consumers stay; a dead process's entries expire.

The census is bookkeeping next to the hub, not part of delivery: its failures are logged and
never refuse a consumer.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .subscriptions import LocalSubscriptions
from .tasks import PeriodicTask

log = logging.getLogger(__name__)

#: whether a topic is a response topic (no replica warnings for those)
IsResponseTopic = Callable[[str], Awaitable[bool]]
#: a topic's split-subscription warning is repeated at most this often (seconds)
WARNING_INTERVAL = 60.0


@dataclass(frozen=True)
class TopicConsumers:
    """The consumer sockets of one topic, per subscription name."""

    per_subscription: dict[str, int]

    @property
    def consumers(self) -> int:
        return sum(self.per_subscription.values())

    @property
    def subscriptions(self) -> int:
        return len(self.per_subscription)


def _census_key(prefix: str, topic: str) -> str:
    return f"{prefix}:census:{topic}"


def _parse_redis_counts(entries: dict[Any, Any], now: float) -> tuple[dict[str, int], list]:
    """Live counts per subscription from a census hash; also the expired fields."""
    counts: dict[str, int] = {}
    expired = []
    for raw_field, raw_value in entries.items():
        field = raw_field.decode("utf-8") if isinstance(raw_field, bytes) else str(raw_field)
        value = raw_value.decode("utf-8") if isinstance(raw_value, bytes) else str(raw_value)
        _, _, subscription = field.partition("\t")
        try:
            count_text, expires_text = value.split(" ", 1)
            count, expires = int(count_text), float(expires_text)
        except ValueError:
            expired.append(raw_field)
            continue
        if expires < now:
            expired.append(raw_field)
        elif count > 0 and subscription:
            counts[subscription] = counts.get(subscription, 0) + count
    return counts, expired


class Census:
    """Counts consumer sockets per (topic, subscription); warns about split subscriptions."""

    def __init__(
        self,
        redis_url: str = "",
        prefix: str = "dasf",
        ttl: float = 30.0,
        is_response_topic: IsResponseTopic | None = None,
    ) -> None:
        self._redis_url = redis_url
        self._prefix = prefix
        self._ttl = ttl
        self._is_response_topic = is_response_topic
        self._process = uuid.uuid4().hex
        self._local = LocalSubscriptions()
        self._redis: Any = None  # async client, in the event loop
        self._sync_redis: Any = None  # sync client, for the discovery views' threads
        self._sync_lock = threading.Lock()
        self._rounds = PeriodicTask(
            self._refresh, ttl / 3, "refreshing the consumer census failed", logger=log
        )
        #: topic → when its split subscription was last warned about (bounds log flooding)
        self._warned: dict[str, float] = {}

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self._redis_url)
            self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                async with self._redis.pipeline(transaction=False) as pipe:
                    for topic, subscription in self._local.pairs():
                        pipe.hdel(_census_key(self._prefix, topic), self._field(subscription))
                    await pipe.execute()
            await self._redis.aclose()
        if self._sync_redis is not None:
            self._sync_redis.close()

    # -- counting (event loop) ---------------------------------------------------------------

    async def attached(self, topic: str, subscription: str) -> None:
        """A consumer socket of ``topic`` joined ``subscription``; warn if the topic splits."""
        count = self._local.add(topic, subscription)
        try:
            await self._write(topic, subscription, count)
            if count == 1:
                await self._warn_if_split(topic, subscription)
        except Exception:
            log.exception("consumer census of %s/%s failed", topic, subscription)

    async def detached(self, topic: str, subscription: str) -> None:
        """A consumer socket of ``topic`` left ``subscription``."""
        count = self._local.remove(topic, subscription)
        try:
            await self._write(topic, subscription, count)
        except Exception:
            log.exception("consumer census of %s/%s failed", topic, subscription)

    def _field(self, subscription: str) -> str:
        return f"{self._process}\t{subscription}"

    def _value(self, count: int) -> str:
        return f"{count} {time.time() + self._ttl:.3f}"

    async def _write(self, topic: str, subscription: str, count: int) -> None:
        if self._redis is None:
            return
        key = _census_key(self._prefix, topic)
        async with self._redis.pipeline(transaction=False) as pipe:
            if count:
                pipe.hset(key, self._field(subscription), self._value(count))
                pipe.expire(key, int(self._ttl * 2))
            else:
                pipe.hdel(key, self._field(subscription))
            await pipe.execute()

    async def _refresh(self) -> None:
        """Keep this process's counts alive in Redis (they expire if it dies)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for topic, subscription in self._local.pairs():
                key = _census_key(self._prefix, topic)
                count = self._local.count(topic, subscription)
                pipe.hset(key, self._field(subscription), self._value(count))
                pipe.expire(key, int(self._ttl * 2))
            await pipe.execute()

    async def _warn_if_split(self, topic: str, subscription: str) -> None:
        """Log a warning when ``topic`` now has another subscription than ``subscription``."""
        names = set(await self._subscriptions_async(topic))
        others = sorted(names - {subscription})
        if not others:
            return
        if self._is_response_topic is not None and await self._is_response_topic(topic):
            return
        if not self._may_warn(topic):
            return
        log.warning(
            "topic %r now has %d subscriptions (%s): every request to it will run once per "
            "subscription; replicas that should share the work must use the same "
            "subscription name (default backend-module)",
            topic,
            len(names),
            ", ".join(sorted(names)),
        )

    def _may_warn(self, topic: str) -> bool:
        """At most one warning per topic per WARNING_INTERVAL (a client cannot flood the log)."""
        now = time.monotonic()
        if len(self._warned) > 1000:
            self._warned = {t: at for t, at in self._warned.items() if now - at < WARNING_INTERVAL}
        if now - self._warned.get(topic, -WARNING_INTERVAL) < WARNING_INTERVAL:
            return False
        self._warned[topic] = now
        return True

    async def _subscriptions_async(self, topic: str) -> list[str]:
        if self._redis is None:
            return self._local.of_topic(topic)
        now = time.time()
        entries = await self._redis.hgetall(_census_key(self._prefix, topic))
        return list(_parse_redis_counts(entries, now)[0])

    # -- reading (any thread) ---------------------------------------------------------------

    def of_topics(self, topics: list[str]) -> dict[str, TopicConsumers]:
        """Consumers per subscription of each topic (thread-safe; for the discovery views)."""
        if not self._redis_url:
            return {t: TopicConsumers(self._local.counts(t)) for t in topics}
        client = self._sync_client()
        now = time.time()
        with client.pipeline(transaction=False) as pipe:
            for topic in topics:
                pipe.hgetall(_census_key(self._prefix, topic))
            answers = pipe.execute()
        result = {}
        for topic, entries in zip(topics, answers, strict=True):
            counts, expired = _parse_redis_counts(entries, now)
            if expired:  # entries of processes that died: tidy up while here
                client.hdel(_census_key(self._prefix, topic), *expired)
            result[topic] = TopicConsumers(counts)
        return result

    def _sync_client(self) -> Any:
        with self._sync_lock:
            if self._sync_redis is None:
                import redis

                self._sync_redis = redis.Redis.from_url(self._redis_url)
            return self._sync_redis
