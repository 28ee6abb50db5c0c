"""The broker process's shared state: hub, unserved hold and liveness, started once."""

from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from .access_watch import AccessWatch
from .census import Census
from .housekeeping import Housekeeping
from .hub import Hub, make_hub
from .inflight import InFlightRequests
from .liveness import Liveness
from .unserved import UnservedHold

log = logging.getLogger(__name__)


class BrokerRuntime:
    """Everything a broker process shares between its websocket connections."""

    def __init__(self) -> None:
        self.hub: Hub = make_hub(
            settings.REDIS_URL,
            settings.DASF_REDIS_PREFIX,
            settings.DASF_UNSERVED_TIMEOUT,
            settings.DASF_MAX_BACKLOG_BYTES,
            settings.DASF_MAX_BACKLOG_TOTAL,
        )
        self.inflight = InFlightRequests()
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

    async def stop(self) -> None:
        await self.census.stop()
        await self.access_watch.stop()
        await self.housekeeping.stop()
        await self.liveness.stop()
        await self.hold.stop()
        await self.hub.stop()


_runtime: BrokerRuntime | None = None
_lock: asyncio.Lock | None = None


async def get_runtime() -> BrokerRuntime:
    """The started runtime of this process (started on first use if lifespan did not run)."""
    global _runtime, _lock
    if _runtime is not None:
        return _runtime
    if _lock is None:
        _lock = asyncio.Lock()
    async with _lock:
        if _runtime is None:
            runtime = BrokerRuntime()
            await runtime.start()
            _runtime = runtime
    return _runtime


def started_runtime() -> BrokerRuntime | None:
    """The runtime if this process started it, else None (never starts one)."""
    return _runtime


async def stop_runtime() -> None:
    """Stop the runtime (ASGI lifespan shutdown)."""
    global _runtime
    if _runtime is not None:
        runtime, _runtime = _runtime, None
        await runtime.stop()
