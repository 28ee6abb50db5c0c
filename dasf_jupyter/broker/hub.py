"""Delivery of published messages to subscriptions, in one process or across many.

Pulsar semantics: every subscription of a topic gets each message once; the consumer sockets
of one subscription compete for its messages (each message goes to exactly one of them).
Each (topic, subscription) is one FIFO queue:

* :class:`MemoryHub` — asyncio queues, for a single broker process.
* :class:`RedisHub` — Redis lists (``LPUSH``/``BRPOP``) plus a registry of live
  subscriptions (a sorted set per topic, refreshed while consumers are connected), for
  several broker processes. Channels' Redis layer is not used here because its in-flight
  backup queue is shared by all receivers of a channel and re-delivers messages when
  receivers in several processes compete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from .backlog import (
    OVERFLOW_MARK,
    REDIS_PUBLISH_SCRIPT,
    REDIS_TOOK_SCRIPT,
    BacklogBudget,
    BacklogFull,
    refusal,
)
from .subscriptions import LocalSubscriptions, subscription_key

log = logging.getLogger(__name__)

#: what the hub carries: delivery text, or a binary delivery frame (first byte 0x00)
Message = str | bytes


class Receiver(Protocol):
    """One consumer socket's end of a subscription queue."""

    #: whether cancelling a pending :meth:`get` can never lose a message
    cancel_safe: bool
    #: called with a reason when the hub cuts off a subscription that fell too far behind
    on_overflow: Callable[[str], None] | None

    async def get(self) -> Message | None:
        """Next delivery; None when a poll interval passed without a message."""

    async def requeue(self, text: Message) -> None:
        """Give back a message that could not be sent, to be delivered next."""

    async def close(self) -> list[Message] | None:
        """Detach this consumer socket; return messages dropped because it was the last."""


class Hub(Protocol):
    """Routes published messages to the queues of a topic's subscriptions."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, topic: str, text: Message) -> int:
        """Queue ``text`` once per live subscription of ``topic``; return their number."""

    async def subscriptions(self, topic: str) -> list[str]: ...

    async def attach(self, topic: str, subscription: str) -> Receiver: ...

    def on_subscribe(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(topic)`` whenever a consumer attaches in this process."""


class _Backlog:
    """One subscription's queue, its size (characters or bytes) and the consumers reading it."""

    def __init__(self, budget: BacklogBudget) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue()
        self.chars = 0
        self.overflowed = False
        self.receivers: set[_MemoryReceiver] = set()
        self._budget = budget  # the hub's global cap: every queued character counts there

    def put(self, text: Message) -> None:
        self.queue.put_nowait(text)
        self.chars += len(text)
        self._budget.charge(len(text))

    def took(self, text: Message) -> None:
        self.chars -= len(text)
        self._budget.release(len(text))

    def clear(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self._budget.release(self.chars)
        self.chars = 0


class _MemoryReceiver:
    cancel_safe = True  # asyncio.Queue.get removes an item only when it returns it

    def __init__(self, hub: MemoryHub, topic: str, subscription: str, backlog: _Backlog):
        self._hub, self._topic, self._subscription = hub, topic, subscription
        self._backlog = backlog
        self._closed = False
        #: called with a reason when the subscription overflows (set by the consumer socket)
        self.on_overflow: Callable[[str], None] | None = None
        backlog.receivers.add(self)

    async def get(self) -> Message | None:
        text = await self._backlog.queue.get()
        self._backlog.took(text)
        return text

    async def requeue(self, text: Message) -> None:
        # the queue has no "push front"; order of a given-back message is not essential
        if not self._backlog.overflowed:
            self._backlog.put(text)

    async def close(self) -> list[Message] | None:
        if self._closed:
            return None
        self._closed = True
        self._backlog.receivers.discard(self)
        return self._hub._detach(self._topic, self._subscription)


class MemoryHub:
    """Subscription queues of a single broker process.

    A subscription whose consumers fall ``max_backlog`` messages or ``max_backlog_chars``
    characters (bytes, for binary frames) behind is cut off: its queue is emptied and its
    consumer sockets are closed with the reason (``on_overflow``), so a stalled consumer
    cannot exhaust memory. One message always fits, whatever its size (the frame size limit
    bounds it). All subscriptions together hold at most ``max_total_chars``
    (:mod:`.backlog`): the largest backlogs are cut off first to make room.
    """

    def __init__(
        self,
        max_backlog: int = 10_000,
        max_backlog_chars: int = 512 << 20,
        max_total_chars: int = 512 << 20,
    ) -> None:
        self._max_backlog = max_backlog
        self._max_chars = max_backlog_chars
        self._budget = BacklogBudget(max_total_chars)
        self._local = LocalSubscriptions()
        self._queues: dict[tuple[str, str], _Backlog] = {}
        self._callbacks: list[Callable[[str], None]] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self._queues.clear()

    def on_subscribe(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    async def publish(self, topic: str, text: Message) -> int:
        subs = self._local.of_topic(topic)
        cut = self._make_room(topic, subs, len(text))
        queued = 0
        for sub in subs:
            backlog = self._queues[(topic, sub)]
            if backlog.overflowed:
                continue
            if backlog.queue.qsize() >= self._max_backlog or (
                backlog.chars and backlog.chars + len(text) > self._max_chars
            ):
                self._overflow(topic, sub, backlog)
                continue
            backlog.put(text)
            queued += 1
        if not queued and cut:
            raise BacklogFull(refusal(self._budget.limit))
        return queued

    def _make_room(self, topic: str, subs: list[str], size: int) -> bool:
        """Keep the global cap: cut the largest backlogs; True if one of ``subs`` was cut."""
        cut: list[str] = []

        def needed() -> int:
            return size * sum(not self._queues[(topic, s)].overflowed for s in subs)

        def sizes() -> dict:
            return {k: b.chars for k, b in self._queues.items() if not b.overflowed}

        def overflow(key, reason: str) -> None:
            cut.append(key[1] if key[0] == topic else "")
            self._overflow(key[0], key[1], self._queues[key], reason)

        room = self._budget.make_room(needed, sizes, overflow)
        return not room or any(cut)

    def _overflow(self, topic: str, sub: str, backlog: _Backlog, reason: str = "") -> None:
        reason = reason or (
            f"consumer too slow: {backlog.queue.qsize()} messages "
            f"({backlog.chars // 1024} KiB) undelivered"
        )
        log.warning("subscription %s/%s dropped: %s", topic, sub, reason)
        backlog.overflowed = True
        backlog.clear()
        for receiver in list(backlog.receivers):
            if receiver.on_overflow is not None:
                receiver.on_overflow(reason)

    async def subscriptions(self, topic: str) -> list[str]:
        return self._local.of_topic(topic)

    async def attach(self, topic: str, subscription: str) -> Receiver:
        self._local.add(topic, subscription)
        backlog = self._queues.setdefault((topic, subscription), _Backlog(self._budget))
        for callback in self._callbacks:
            callback(topic)
        return _MemoryReceiver(self, topic, subscription, backlog)

    def _detach(self, topic: str, subscription: str) -> list[Message] | None:
        if self._local.remove(topic, subscription) != 0:
            return None
        # non-persistent semantics: undelivered messages of a vanished subscription go
        backlog = self._queues.pop((topic, subscription), None)
        if backlog is None or not backlog.queue.qsize():
            return None
        log.info(
            "dropped %d undelivered messages of %s/%s", backlog.queue.qsize(), topic, subscription
        )
        dropped = []
        while not backlog.queue.empty():
            dropped.append(backlog.queue.get_nowait())
        backlog.clear()  # releases its share of the global cap
        return dropped


def _from_redis(data: bytes) -> Message:
    """A queued message as the hub got it: binary frames start with 0x00, text never does."""
    return data if data[:1] == b"\x00" else data.decode("utf-8")


class _RedisReceiver:
    cancel_safe = False  # a cancelled BRPOP may already have popped its message
    #: called with the reason when the queue was cut off (broker/backlog.py)
    on_overflow: Callable[[str], None] | None = None

    def __init__(self, hub: RedisHub, topic: str, subscription: str) -> None:
        self._hub, self._topic, self._subscription = hub, topic, subscription
        self._key = hub._queue_key(topic, subscription)
        self._closed = False

    async def get(self) -> Message | None:
        item = await self._hub._redis.brpop([self._key], timeout=self._hub.poll_interval)
        if item is None:
            return None
        data = item[1]
        if data[:1] == OVERFLOW_MARK:  # the queue was cut off: close with the reason
            if self.on_overflow is not None:
                self.on_overflow(data[1:].decode("utf-8", "replace"))
            return None
        await self._hub._took(self._key, len(data))
        return _from_redis(data)

    async def requeue(self, text: Message) -> None:
        # RPUSH puts it at the end BRPOP takes from: it is delivered next
        await self._hub._redis.rpush(self._key, text)
        size = len(text.encode("utf-8")) if isinstance(text, str) else len(text)
        await self._hub._took(self._key, -size)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            receivers = self._hub._receivers.get(self._key, set())
            receivers.discard(self)
            if not receivers:
                self._hub._receivers.pop(self._key, None)
            await self._hub._detach(self._topic, self._subscription)


class RedisHub:
    """Subscription queues in Redis, shared by all broker processes using the same prefix."""

    poll_interval = 1  # s; BRPOP timeout, bounds how long closing a consumer socket waits

    def __init__(
        self,
        url: str,
        prefix: str = "dasf",
        registry_ttl: float = 30.0,
        queue_ttl: float = 600.0,
        max_backlog: int = 10_000,
        max_backlog_chars: int = 512 << 20,
        max_backlog_total: int = 512 << 20,
    ) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._prefix = prefix
        self._ttl = registry_ttl
        self._queue_ttl = int(queue_ttl)
        self._process = uuid.uuid4().hex
        self._local = LocalSubscriptions()
        self._callbacks: list[Callable[[str], None]] = []
        self._refresher: asyncio.Task | None = None
        # bounds per queue and over all queues of the prefix, kept in Redis (backlog.py)
        self._bounds = (max_backlog_chars, max_backlog, max_backlog_total)
        self._publish_script = self._redis.register_script(REDIS_PUBLISH_SCRIPT)
        self._took_script = self._redis.register_script(REDIS_TOOK_SCRIPT)
        self._receivers: dict[str, set[_RedisReceiver]] = {}

    def _queue_key(self, topic: str, subscription: str) -> str:
        return f"{self._prefix}:{subscription_key(topic, subscription)}"

    def _registry_key(self, topic: str) -> str:
        return f"{self._prefix}:subs:{topic}"

    def _sizes_key(self) -> str:
        return f"{self._prefix}:backlog"

    async def _took(self, queue: str, size: int) -> None:
        await self._took_script(keys=[self._sizes_key(), queue], args=[size])

    def _member(self, topic: str, subscription: str) -> str:
        # the queue key travels in the member so the publish script needs no hashing
        return f"{self._process}\t{self._queue_key(topic, subscription)}\t{subscription}"

    async def start(self) -> None:
        await self._redis.ping()
        self._refresher = asyncio.create_task(self._refresh_forever())

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        with contextlib.suppress(Exception):
            for topic, sub in self._local.pairs():
                await self._redis.zrem(self._registry_key(topic), self._member(topic, sub))
        await self._redis.aclose()

    def on_subscribe(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    async def _refresh_forever(self) -> None:
        """Keep this process's subscriptions alive in the registry (they expire if it dies)."""
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                expires = time.time() + self._ttl
                async with self._redis.pipeline(transaction=False) as pipe:
                    for topic, sub in self._local.pairs():
                        key = self._registry_key(topic)
                        pipe.zadd(key, {self._member(topic, sub): expires})
                        pipe.zremrangebyscore(key, "-inf", time.time())
                        pipe.expire(key, int(self._ttl * 2))  # gone when every process is
                    await pipe.execute()
            except Exception:  # Redis hiccup: try again next round
                log.exception("refreshing the subscription registry failed")

    async def subscriptions(self, topic: str) -> list[str]:
        members = await self._redis.zrangebyscore(self._registry_key(topic), time.time(), "+inf")
        return sorted({m.decode("utf-8").split("\t", 2)[2] for m in members})

    async def publish(self, topic: str, text: Message) -> int:
        # one round trip: look up the live subscriptions and queue the message atomically,
        # within the backlog bounds (queues over them are cut off)
        keys = [self._registry_key(topic), self._sizes_key()]
        args = [time.time(), text, self._queue_ttl, *self._bounds, OVERFLOW_MARK]
        queued, *cut = await self._publish_script(keys=keys, args=args)
        for key, reason in zip(cut[::2], cut[1::2], strict=True):
            why = reason.decode("utf-8", "replace")
            log.warning("subscription queue %s dropped: %s", key.decode(), why)
            # consumers here close at once; elsewhere when they read the mark
            for receiver in list(self._receivers.get(key.decode(), ())):
                if receiver.on_overflow is not None:
                    receiver.on_overflow(why)
        if int(queued) < 0:
            raise BacklogFull(refusal(self._bounds[2]))
        return int(queued)

    async def attach(self, topic: str, subscription: str) -> Receiver:
        self._local.add(topic, subscription)
        key = self._registry_key(topic)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {self._member(topic, subscription): time.time() + self._ttl})
            pipe.expire(key, int(self._ttl * 2))
            await pipe.execute()
        for callback in self._callbacks:
            callback(topic)
        receiver = _RedisReceiver(self, topic, subscription)
        self._receivers.setdefault(receiver._key, set()).add(receiver)
        return receiver

    async def _detach(self, topic: str, subscription: str) -> None:
        if self._local.remove(topic, subscription) == 0:
            await self._redis.zrem(self._registry_key(topic), self._member(topic, subscription))


def make_hub(
    redis_url: str = "",
    prefix: str = "dasf",
    unserved_timeout: float = 30.0,
    max_backlog_chars: int = 512 << 20,
    max_backlog_total: int = 512 << 20,
) -> Hub:
    """The hub for the configured deployment: Redis when ``redis_url`` is set, else memory."""
    if redis_url:
        return RedisHub(
            redis_url,
            prefix,
            queue_ttl=max(600.0, 4 * unserved_timeout),
            max_backlog_chars=max_backlog_chars,
            max_backlog_total=max_backlog_total,
        )
    return MemoryHub(max_backlog_chars=max_backlog_chars, max_total_chars=max_backlog_total)
