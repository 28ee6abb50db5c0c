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
import hashlib
import json
import logging
import secrets
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any, Protocol, cast

from .backlog import OVERFLOW_MARK, REDIS_TOOK_SCRIPT, BacklogBudget, BacklogFull, refusal
from .inflight import affinity_key, expired, is_last_fragment, tag
from .redis_scripts import DETACH_SCRIPT, PUBLISH_SCRIPT, SWEEP_SCRIPT
from .subscriptions import LocalSubscriptions, subscription_key
from .tasks import PeriodicTask

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

    def has_next(self) -> bool:
        """True when :meth:`get` would return a message without waiting (as far as known)."""

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
    """One subscription: its shared queue, its consumers' own queues, and their sizes.

    Messages go to the shared queue, which the consumers compete for, except fragments of
    a request: all fragments of one request go to the own queue of one consumer (chosen
    when the first one is published), so that a module can put the request back together.
    Sizes (characters or bytes) and counts cover the shared and the own queues.
    """

    #: fragment sets whose consumer is remembered at most (the oldest are forgotten first)
    max_claims = 10_000

    def __init__(self, budget: BacklogBudget) -> None:
        self._budget = budget  # the hub's global cap: every queued character counts there
        self.shared: deque[Message] = deque()
        self.chars = 0
        self.count = 0
        self.overflowed = False
        self.receivers: dict[_MemoryReceiver, None] = {}  # insertion-ordered set
        self.waiting: deque[_MemoryReceiver] = deque()
        #: affinity key of a fragmented request -> the consumer that gets its fragments
        self.claims: OrderedDict[str, _MemoryReceiver] = OrderedDict()
        self._turn = 0

    def put(self, text: Message) -> None:
        key = affinity_key(text)
        if key is None or not self.receivers:
            self.shared.append(text)
            self._counted(text)
            self._wake_one()
            return
        receiver = self.claims.get(key)
        if receiver is None or receiver.closed:
            receiver = self._least_busy()
            self.claims[key] = receiver
            if len(self.claims) > self.max_claims:
                self.claims.popitem(last=False)
        if is_last_fragment(text):
            self.claims.pop(key, None)
        receiver.own.append(text)
        self._counted(text)
        receiver.wake.set()

    def _counted(self, text: Message, sign: int = 1) -> None:
        self.chars += sign * len(text)
        self.count += sign
        if sign > 0:
            self._budget.charge(len(text))
        else:
            self._budget.release(len(text))

    def taken(self, text: Message) -> None:
        self._counted(text, -1)

    def _least_busy(self) -> _MemoryReceiver:
        """The consumer with the fewest own messages; ties taken in turn."""
        receivers = list(self.receivers)
        self._turn = (self._turn + 1) % len(receivers)
        ordered = receivers[self._turn :] + receivers[: self._turn]
        return min(ordered, key=lambda r: len(r.own))

    def _wake_one(self) -> None:
        while self.waiting:
            receiver = self.waiting.popleft()
            if not receiver.closed:
                receiver.wake.set()
                return

    def clear(self) -> list[Message]:
        """Empty every queue; return what was in them."""
        dropped = list(self.shared)
        self.shared.clear()
        for receiver in self.receivers:
            dropped += receiver.own
            receiver.own.clear()
        self._budget.release(self.chars)
        self.chars = self.count = 0
        self.claims.clear()
        return dropped


class _MemoryReceiver:
    cancel_safe = True  # a message is removed from its queue only when get() returns it

    def __init__(self, hub: MemoryHub, topic: str, subscription: str, backlog: _Backlog):
        self._hub, self._topic, self._subscription = hub, topic, subscription
        self._backlog = backlog
        self.closed = False
        #: fragments of requests this consumer was chosen for
        self.own: deque[Message] = deque()
        self.wake = asyncio.Event()
        #: called with a reason when the subscription overflows (set by the consumer socket)
        self.on_overflow: Callable[[str], None] | None = None
        backlog.receivers[self] = None

    def _next(self) -> Message | None:
        backlog = self._backlog
        while self.own or backlog.shared:
            text = self.own.popleft() if self.own else backlog.shared.popleft()
            backlog.taken(text)
            if expired(text):
                log.info("dropped a request on %s whose caller's deadline passed", self._topic)
                continue
            return text
        return None

    def has_next(self) -> bool:
        # shared work is only prefetched by a lone consumer: replicas take it in turns
        backlog = self._backlog
        return bool(self.own) or (bool(backlog.shared) and len(backlog.receivers) == 1)

    async def get(self) -> Message | None:
        backlog = self._backlog
        if backlog.shared and not self.own and len(backlog.receivers) > 1:
            # a burst of requests is shared by the replicas: the others (woken by the burst)
            # take their turn before this consumer takes the next one
            await asyncio.sleep(0)
        while True:
            text = self._next()
            if text is not None:
                return text
            self.wake.clear()
            self._backlog.waiting.append(self)
            try:
                await self.wake.wait()
            except asyncio.CancelledError:
                if self.wake.is_set() and self._backlog.shared:
                    self._backlog._wake_one()  # pass on a wake-up meant for this consumer
                raise
            finally:
                with contextlib.suppress(ValueError):
                    self._backlog.waiting.remove(self)

    async def requeue(self, text: Message) -> None:
        backlog = self._backlog
        if backlog.overflowed:
            return
        if affinity_key(text) is not None:
            self.own.appendleft(text)  # its sibling fragments follow in this queue
        else:
            backlog.shared.appendleft(text)
        backlog._counted(text)
        backlog._wake_one()

    async def close(self) -> list[Message] | None:
        if self.closed:
            return None
        self.closed = True
        backlog = self._backlog
        backlog.receivers.pop(self, None)
        own = list(self.own)  # fragments chosen for this consumer never reach another
        self.own.clear()
        for text in own:
            backlog.taken(text)
        if backlog.shared and backlog.receivers:
            backlog._wake_one()
        dropped = own + (self._hub._detach(self._topic, self._subscription) or [])
        return dropped or None


class MemoryHub:
    """Subscription queues of a single broker process.

    A subscription whose consumers fall ``max_backlog`` messages or ``max_backlog_chars``
    characters (bytes, for binary frames) behind is cut off: its queues are emptied and its
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
            if backlog.count >= self._max_backlog or (
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
            f"consumer too slow: {backlog.count} messages "
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
        if backlog is None or not backlog.count:
            return None
        log.info("dropped %d undelivered messages of %s/%s", backlog.count, topic, subscription)
        return backlog.clear()


def _from_redis(data: bytes) -> Message:
    """A queued message as the hub got it: binary frames start with 0x00, text never does."""
    return data if data[:1] == b"\x00" else data.decode("utf-8")


#: first byte of a queued message that starts with its identity (see :func:`_pack`); text
#: starts with "{", binary frames with 0x00, the overflow mark (backlog.py) with 0x01
_PACKED = b"\x02"


def _pack(text: Message, topic: str = "") -> bytes | Message:
    """``text`` as queued in Redis: a request carries its identity in a JSON line before it.

    So a broker process that takes it from Redis knows its route, deadline and fragment
    without parsing it, whatever its size.
    """
    route = getattr(text, "route", None)
    if route is None:
        return text
    fragment = getattr(text, "fragment", None)
    meta = {"r": list(route), "e": getattr(text, "expires", None), "f": fragment, "t": topic}
    head = _PACKED + json.dumps(meta, separators=(",", ":")).encode("utf-8") + b"\n"
    return head + (text if isinstance(text, bytes) else text.encode("utf-8"))


def _unpack(data: bytes) -> Message:
    """The message :func:`_pack` queued, tagged with its identity again."""
    return _unpack_with_topic(data)[1]


def _unpack_with_topic(data: bytes) -> tuple[str, Message]:
    """The topic a message was published to ("" if not recorded) and the message."""
    if data[:1] != _PACKED:
        return "", _from_redis(data)
    end = data.index(b"\n")
    meta = json.loads(data[1:end])
    fragment = tuple(meta["f"]) if meta.get("f") else None
    route = (str(meta["r"][0]), str(meta["r"][1]))
    text = tag(_from_redis(data[end + 1 :]), route, meta.get("e"), fragment)
    return str(meta.get("t") or ""), text


class _RedisReceiver:
    """One consumer socket: takes from its own queue (fragments chosen for it) and from
    its subscription's shared queue."""

    cancel_safe = False  # a cancelled BRPOP may already have popped its message
    #: called with the reason when the queue was cut off (broker/backlog.py)
    on_overflow: Callable[[str], None] | None = None

    def __init__(self, hub: RedisHub, topic: str, subscription: str) -> None:
        self._hub, self._topic, self._subscription = hub, topic, subscription
        self.queue = hub._queue_key(topic, subscription)
        self.own = f"{hub._prefix}:own:{uuid.uuid4().hex}"
        self.member = f"{hub.process}\t{self.queue}\t{subscription}\t{self.own}"
        self.registry = hub._registry_key(topic)
        self._closed = False

    def has_next(self) -> bool:
        return False  # unknown without a round trip: write each delivery at once

    async def get(self) -> Message | None:
        item = await self._hub._redis.brpop(
            [self.own, self.queue], timeout=self._hub.poll_interval
        )
        if item is None:
            return None
        data = cast(bytes, item[1])  # the client does not decode responses
        if data[:1] == OVERFLOW_MARK:  # the queue was cut off: close with the reason
            if self.on_overflow is not None:
                self.on_overflow(data[1:].decode("utf-8", "replace"))
            return None
        await self._hub._took(self.queue, len(data))  # own queues count as the subscription's
        text = _unpack(data)
        if expired(text):
            log.info("dropped a request on %s whose caller's deadline passed", self._topic)
            return None
        return text

    async def requeue(self, text: Message) -> None:
        # RPUSH puts it at the end BRPOP takes from: it is delivered next
        key = self.own if affinity_key(text) is not None else self.queue
        packed = _pack(text, self._topic)
        await self._hub._redis.rpush(key, packed)
        size = len(packed.encode("utf-8")) if isinstance(packed, str) else len(packed)
        await self._hub._took(self.queue, -size)

    async def close(self) -> list[Message] | None:
        """Leave the registry; fragments queued for this consumer alone are returned."""
        if self._closed:
            return None
        self._closed = True
        return await self._hub._detach(self)


class RedisHub:
    """Subscription queues in Redis, shared by all broker processes using the same prefix.

    Each broker process keeps a heartbeat (``<prefix>:brokers``, a sorted set of expiry
    times, refreshed every ``heartbeat_interval`` s). Publishing skips the consumers of a
    process whose heartbeat lapsed, and :meth:`sweep_dead` lets a surviving process clean
    up after a dead one.
    """

    poll_interval = 1  # s; BRPOP timeout, bounds how long closing a consumer socket waits

    def __init__(
        self,
        url: str,
        prefix: str = "dasf",
        *,
        registry_ttl: float = 30.0,
        queue_ttl: float = 600.0,
        heartbeat_ttl: float = 5.0,
        max_backlog: int = 10_000,
        max_backlog_chars: int = 512 << 20,
        max_backlog_total: int = 512 << 20,
    ) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._prefix = prefix
        self._ttl = registry_ttl
        self._queue_ttl = int(queue_ttl)
        self.heartbeat_ttl = heartbeat_ttl
        self.heartbeat_interval = heartbeat_ttl / 5
        #: this broker process's identity in Redis
        self.process = uuid.uuid4().hex
        self._receivers: dict[_RedisReceiver, str] = {}  # receiver -> topic
        self._callbacks: list[Callable[[str], None]] = []
        self._refresher = PeriodicTask(
            self._refresh,
            self.heartbeat_interval,
            "refreshing the heartbeat or subscription registry failed",
            logger=log,
        )
        self._last_registry = 0.0  # monotonic time of the last registry refresh
        # bounds per queue and over all queues of the prefix, kept in Redis (backlog.py)
        self._bounds = (max_backlog_chars, max_backlog, max_backlog_total)
        self._publish_script = self._redis.register_script(PUBLISH_SCRIPT)
        self._took_script = self._redis.register_script(REDIS_TOOK_SCRIPT)
        self._detach_script = self._redis.register_script(DETACH_SCRIPT)
        self._sweep_script = self._redis.register_script(SWEEP_SCRIPT)

    @property
    def redis(self) -> Any:
        """The connection pool (shared with the in-flight records)."""
        return self._redis

    @property
    def prefix(self) -> str:
        return self._prefix

    def _queue_key(self, topic: str, subscription: str) -> str:
        return f"{self._prefix}:{subscription_key(topic, subscription)}"

    def _registry_key(self, topic: str) -> str:
        return f"{self._prefix}:subs:{topic}"

    def _sizes_key(self) -> str:
        return f"{self._prefix}:backlog"

    async def _took(self, queue: str, size: int) -> None:
        await self._took_script(keys=[self._sizes_key(), queue], args=[size])

    @property
    def _brokers_key(self) -> str:
        return f"{self._prefix}:brokers"

    @property
    def _topics_key(self) -> str:
        return f"{self._prefix}:proc:{self.process}"

    async def start(self) -> None:
        await self._redis.ping()
        await self._beat()
        self._last_registry = time.monotonic()
        self._refresher.start()

    async def stop(self) -> None:
        await self._refresher.stop()
        with contextlib.suppress(Exception):
            # lapse at once: publishing skips this process's consumers, and a surviving
            # process sweeps what is left (its registry entries, queues nobody serves)
            await self._redis.zadd(self._brokers_key, {self.process: 0})
        await self._redis.aclose()

    def on_subscribe(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

    async def _beat(self) -> bool:
        """Renew the heartbeat; True if it had lapsed and another process cleaned up."""
        expires = time.time() + self.heartbeat_ttl
        return bool(await self._redis.zadd(self._brokers_key, {self.process: expires}))

    async def _refresh(self) -> None:
        """Keep this process's heartbeat and subscriptions alive (they lapse if it dies)."""
        swept = await self._beat()
        if swept and self._receivers:
            log.warning(
                "this broker process missed its heartbeat (stalled for more than "
                "%g s): its consumers' unanswered requests were answered with errors; "
                "registering its consumers again",
                self.heartbeat_ttl,
            )
        if swept or time.monotonic() - self._last_registry >= self._ttl / 3:
            self._last_registry = time.monotonic()
            await self._refresh_registry()

    async def _refresh_registry(self) -> None:
        expires = time.time() + self._ttl
        async with self._redis.pipeline(transaction=False) as pipe:
            for receiver in self._receivers:
                pipe.zadd(receiver.registry, {receiver.member: expires})
                pipe.zremrangebyscore(receiver.registry, "-inf", time.time())
                pipe.expire(receiver.registry, int(self._ttl * 2))  # gone when every process is
                pipe.sadd(self._topics_key, receiver.registry)
            pipe.expire(self._topics_key, int(self._ttl * 4))
            await pipe.execute()

    async def subscriptions(self, topic: str) -> list[str]:
        now = time.time()
        members = cast(
            "list[bytes]", await self._redis.zrangebyscore(self._registry_key(topic), now, "+inf")
        )
        fields = [m.decode("utf-8").split("\t") for m in members]
        processes = sorted({f[0] for f in fields})
        scores = await self._redis.zmscore(self._brokers_key, processes) if processes else []
        alive = {
            p
            for p, score in zip(processes, scores, strict=True)
            if score is not None and score >= now
        }
        return sorted({f[2] for f in fields if len(f) > 2 and f[0] in alive})

    async def publish(self, topic: str, text: Message) -> int:
        # one round trip: look up the live subscriptions and queue the message atomically,
        # within the backlog bounds (queues over them are cut off)
        key = affinity_key(text)
        if key is not None:  # a fixed-length key part, whatever the requestContext's length
            key = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        keys = [self._registry_key(topic), self._sizes_key(), self._brokers_key]
        args = [time.time(), _pack(text, topic), self._queue_ttl, *self._bounds, OVERFLOW_MARK]
        args += [key or "", "1" if is_last_fragment(text) else "0", secrets.randbelow(1 << 30)]
        queued, *cut = await self._publish_script(keys=keys, args=args)
        for queue, reason in zip(cut[::2], cut[1::2], strict=True):
            why = reason.decode("utf-8", "replace")
            log.warning("subscription queue %s dropped: %s", queue.decode(), why)
            # consumers here close at once; elsewhere when they read the mark
            for receiver in list(self._receivers):
                if receiver.queue == queue.decode() and receiver.on_overflow is not None:
                    receiver.on_overflow(why)
        if int(queued) < 0:
            raise BacklogFull(refusal(self._bounds[2]))
        return int(queued)

    async def attach(self, topic: str, subscription: str) -> Receiver:
        receiver = _RedisReceiver(self, topic, subscription)
        self._receivers[receiver] = topic
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(receiver.registry, {receiver.member: time.time() + self._ttl})
            pipe.expire(receiver.registry, int(self._ttl * 2))
            pipe.sadd(self._topics_key, receiver.registry)
            pipe.expire(self._topics_key, int(self._ttl * 4))
            await pipe.execute()
        for callback in self._callbacks:
            callback(topic)
        return receiver

    async def _detach(self, receiver: _RedisReceiver) -> list[Message] | None:
        self._receivers.pop(receiver, None)
        left = await self._detach_script(
            keys=[receiver.registry, self._sizes_key(), receiver.own],
            args=[receiver.member, receiver.queue],
        )
        return [_unpack(item) for item in left] or None

    async def dead_processes(self) -> list[str]:
        """Broker processes whose heartbeat lapsed and that nobody cleaned up after yet."""
        dead = cast(
            "list[bytes]", await self._redis.zrangebyscore(self._brokers_key, "-inf", time.time())
        )
        return [d.decode("ascii") for d in dead if d.decode("ascii") != self.process]

    async def sweep_dead(self, process: str) -> list[tuple[str, Message]] | None:
        """Clean up after a dead broker process; None if another process does it.

        Returns the ``(topic, message)`` pairs that can no longer be delivered: those queued
        for the dead process's consumers alone, and those of subscriptions that now have no
        consumer.
        """
        items = await self._sweep_script(
            keys=[self._brokers_key, self._sizes_key()],
            args=[process, time.time(), self._prefix, OVERFLOW_MARK],
        )
        if items is None:
            return None
        return [_unpack_with_topic(item) for item in items]


def make_hub(
    redis_url: str = "",
    prefix: str = "dasf",
    *,
    unserved_timeout: float = 30.0,
    max_backlog_chars: int = 512 << 20,
    max_backlog_total: int = 512 << 20,
    heartbeat_ttl: float = 5.0,
) -> Hub:
    """The hub for the configured deployment: Redis when ``redis_url`` is set, else memory."""
    if redis_url:
        return RedisHub(
            redis_url,
            prefix,
            queue_ttl=max(600.0, 4 * unserved_timeout),
            heartbeat_ttl=heartbeat_ttl,
            max_backlog_chars=max_backlog_chars,
            max_backlog_total=max_backlog_total,
        )
    return MemoryHub(max_backlog_chars=max_backlog_chars, max_total_chars=max_backlog_total)
