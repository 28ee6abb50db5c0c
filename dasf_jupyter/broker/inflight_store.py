"""Where a broker keeps the requests it delivered and that were not answered yet.

* :class:`LocalInFlight` — in this process only (one broker process, memory hub).
* :class:`RedisInFlight` — also in Redis, for a scale-out: a response published through any
  broker process clears the record, and when a broker process dies, a surviving one finds
  its records (:meth:`RedisInFlight.take_process`) and answers their callers.

Redis keys (``<prefix>`` as the hub's): ``<prefix>:inflight:<process>``, a hash per broker
process (field: the route as JSON, value: the request topic), and ``<prefix>:inflight-owner``
(field: the route, value: the process that delivered it).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from .inflight import InFlightRequests, Route


class InFlightStore(Protocol):
    """Unanswered requests per consumer socket (see :mod:`.inflight`)."""

    async def delivered(self, consumer: int, topic: str, route: Route) -> None:
        """``consumer`` (a socket's id) received the request of ``route`` on ``topic``."""

    async def answered(self, route: Route) -> None:
        """A final response for ``route`` was published."""

    async def take(self, consumer: int) -> list[tuple[str, Route]]:
        """Forget ``consumer``; return its unanswered ``(topic, route)`` pairs."""


class LocalInFlight:
    """:class:`InFlightRequests` of this process behind the async :class:`InFlightStore`."""

    def __init__(self, requests: InFlightRequests | None = None) -> None:
        self.requests = requests or InFlightRequests()

    def __len__(self) -> int:
        return len(self.requests)

    async def delivered(self, consumer: int, topic: str, route: Route) -> None:
        self.requests.delivered(consumer, topic, route)

    async def answered(self, route: Route) -> None:
        self.requests.answered(route)

    async def take(self, consumer: int) -> list[tuple[str, Route]]:
        return self.requests.take(consumer)


# KEYS[1]: owners; ARGV[1]: route field; ARGV[2]: key prefix. Forget a route wherever it is.
_ANSWERED_SCRIPT = """
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', ARGV[2] .. ':inflight:' .. owner, ARGV[1])
end
return 0
"""

# KEYS[1]: owners; KEYS[2]: this process's hash; ARGV[1]: process; ARGV[2...]: route fields.
# Forget the routes; return those still unanswered (recorded for this process).
_TAKE_SCRIPT = """
local left = {}
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    table.insert(left, ARGV[i])
  end
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return left
"""

# KEYS[1]: owners; KEYS[2]: a dead process's hash; ARGV[1]: the process. Everything it had.
_TAKE_PROCESS_SCRIPT = """
local all = redis.call('HGETALL', KEYS[2])
local left = {}
for i = 1, #all, 2 do
  if redis.call('HGET', KEYS[1], all[i]) == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    table.insert(left, all[i])
    table.insert(left, all[i + 1])
  end
end
redis.call('DEL', KEYS[2])
return left
"""

#: a process's records vanish this long after its last delivery, whatever happened
_RECORD_TTL = 24 * 3600


def _field(route: Route) -> str:
    return json.dumps(list(route), separators=(",", ":"))


def _route(field: bytes | str) -> Route:
    response_topic, context = json.loads(field)
    return (str(response_topic), str(context))


class RedisInFlight:
    """In-flight records in this process and in Redis (one round trip per event)."""

    def __init__(self, redis: Any, prefix: str, process: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._process = process
        self._local = InFlightRequests()
        self._owners = f"{prefix}:inflight-owner"
        self._answered = redis.register_script(_ANSWERED_SCRIPT)
        self._take = redis.register_script(_TAKE_SCRIPT)
        self._take_process = redis.register_script(_TAKE_PROCESS_SCRIPT)

    def _records(self, process: str) -> str:
        return f"{self._prefix}:inflight:{process}"

    def __len__(self) -> int:
        return len(self._local)

    async def delivered(self, consumer: int, topic: str, route: Route) -> None:
        self._local.delivered(consumer, topic, route)
        field = _field(route)
        records = self._records(self._process)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(records, field, topic)
            pipe.expire(records, _RECORD_TTL)
            pipe.hset(self._owners, field, self._process)
            await pipe.execute()

    async def answered(self, route: Route) -> None:
        self._local.answered(route)
        await self._answered(keys=[self._owners], args=[_field(route), self._prefix])

    async def take(self, consumer: int) -> list[tuple[str, Route]]:
        """This process's unanswered requests of ``consumer`` — answered nowhere else."""
        pairs = self._local.take(consumer)
        if not pairs:
            return []
        topics = {_field(route): topic for topic, route in pairs}
        left = await self._take(
            keys=[self._owners, self._records(self._process)], args=[self._process, *topics]
        )
        return [(topics[f.decode("utf-8")], _route(f)) for f in left]

    async def take_process(self, process: str) -> list[tuple[str, Route]]:
        """All unanswered requests of a (dead) broker process; forgotten in Redis."""
        flat = await self._take_process(
            keys=[self._owners, self._records(process)], args=[process]
        )
        return [(flat[i + 1].decode("utf-8"), _route(flat[i])) for i in range(0, len(flat), 2)]
