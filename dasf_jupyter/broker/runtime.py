"""The broker process's shared state: hub, unserved hold and liveness, started once."""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from .access_watch import AccessWatch
from .census import Census
from .housekeeping import Housekeeping
from .hub import Hub, RedisHub, make_hub
from .inflight_store import InFlightStore, LocalInFlight, RedisInFlight
from .liveness import Liveness
from .sweeper import DeadBrokerSweeper
from .unserved import UnservedHold

log = logging.getLogger(__name__)


class BrokerRuntime:
    """Everything a broker process shares between its websocket connections."""

    def __init__(self) -> None:
        self.hub: Hub = make_hub(
            settings.REDIS_URL,
            settings.DASF_REDIS_PREFIX,
            unserved_timeout=settings.DASF_UNSERVED_TIMEOUT,
            max_backlog_chars=settings.DASF_MAX_BACKLOG_BYTES,
            max_backlog_total=settings.DASF_MAX_BACKLOG_TOTAL,
            heartbeat_ttl=settings.DASF_BROKER_HEARTBEAT_TTL,
        )
        self.inflight: InFlightStore = LocalInFlight()
        #: answers for broker processes that died (scale-out only)
        self.sweeper: DeadBrokerSweeper | None = None
        if isinstance(self.hub, RedisHub):
            self.inflight = RedisInFlight(self.hub.redis, self.hub.prefix, self.hub.process)
            self.sweeper = DeadBrokerSweeper(self.hub, self.inflight)
        self.hold = UnservedHold(
            self.hub,
            settings.DASF_UNSERVED_TIMEOUT,
            settings.DASF_UNSERVED_MAX_COUNT,
            settings.DASF_UNSERVED_MAX_BYTES,
        )
        self.liveness = Liveness(self.hub, settings.DASF_PING_INTERVAL)
        self.housekeeping = Housekeeping(
            self.hub, settings.DASF_GC_INTERVAL, settings.DASF_RESPONSE_TOPIC_MAX_AGE
        )
        self.access_watch = AccessWatch(settings.DASF_ACCESS_RECHECK_INTERVAL)
        self.census = Census(
            settings.REDIS_URL,
            settings.DASF_REDIS_PREFIX,
            is_response_topic=self.liveness.looks_like_response_topic,
        )

    async def start(self) -> None:
        await self.hub.start()
        self.hold.start()
        self.liveness.start()
        self.housekeeping.start()
        self.access_watch.start()
        self.census.start()
        if self.sweeper is not None:
            self.sweeper.start()

    async def stop(self) -> None:
        if self.sweeper is not None:
            await self.sweeper.stop()
        await self.census.stop()
        await self.access_watch.stop()
        await self.housekeeping.stop()
        await self.liveness.stop()
        await self.hold.stop()
        await self.hub.stop()


class _ProcessRuntime:
    """The one runtime of this broker process, started once."""

    runtime: BrokerRuntime | None = None
    lock: asyncio.Lock | None = None


async def get_runtime() -> BrokerRuntime:
    """The started runtime of this process (started on first use if lifespan did not run)."""
    if _ProcessRuntime.runtime is not None:
        return _ProcessRuntime.runtime
    if _ProcessRuntime.lock is None:
        _ProcessRuntime.lock = asyncio.Lock()
    async with _ProcessRuntime.lock:
        if _ProcessRuntime.runtime is None:
            runtime = BrokerRuntime()
            await runtime.start()
            _ProcessRuntime.runtime = runtime
    return _ProcessRuntime.runtime


def started_runtime() -> BrokerRuntime | None:
    """The runtime if this process started it, else None (never starts one)."""
    return _ProcessRuntime.runtime


async def stop_runtime() -> None:
    """Stop the runtime (ASGI lifespan shutdown)."""
    runtime, _ProcessRuntime.runtime = _ProcessRuntime.runtime, None
    if runtime is not None:
        await runtime.stop()
