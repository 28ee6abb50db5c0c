"""The broker's global backlog cap: undelivered messages across all subscriptions.

Each subscription is bounded on its own (``DASF_MAX_BACKLOG_BYTES``); this bounds their sum
(``DASF_MAX_BACKLOG_TOTAL``), so that many stalled subscriptions together cannot exhaust the
broker's memory (or Redis's). When a message does not fit, the subscriptions with the largest
backlogs are cut off first (their consumers are closed with the reason, as a subscription
over its own cap is); a publish that still finds no room is refused with a clear ack.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from ..errors import DasfError

MiB = 1 << 20


class BacklogFull(DasfError):
    """A message was not queued because the broker's backlog is full; the ack says so."""


def global_reason(used: int, limit: int, held: int) -> str:
    """Why a subscription was cut off to make room under the global cap."""
    return (
        f"broker backlog full: {used // MiB} MiB undelivered across all subscriptions "
        f"(limit {limit // MiB} MiB); this subscription held the most ({held // 1024} KiB)"
    )


def refusal(limit: int) -> str:
    """The ack result of a publish that found no room (client: BrokerRefused)."""
    return (
        f"not delivered: the broker's backlog of undelivered messages is full (limit "
        f"{limit // MiB} MiB across all subscriptions); its slowest consumers were "
        "disconnected, try again"
    )


class BacklogBudget:
    """Characters (bytes, for binary frames) queued in one memory hub, over all queues."""

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError("the backlog limit must be positive")
        self.limit = limit
        self.used = 0

    def charge(self, size: int) -> None:
        self.used += size

    def release(self, size: int) -> None:
        self.used = max(0, self.used - size)

    def fits(self, size: int) -> bool:
        """True if ``size`` more fits (anything fits an empty budget: one message always)."""
        return not self.used or self.used + size <= self.limit

    def make_room(
        self,
        size: Callable[[], int],
        backlogs: Callable[[], dict[Hashable, int]],
        cut: Callable[[Hashable, str], None],
    ) -> bool:
        """Cut the largest backlogs until ``size()`` more fits; False if it never does.

        ``backlogs()`` gives the current size per queue, ``cut(key, reason)`` empties one
        (and must release its size here); ``size()`` is asked again after each cut, as a
        cut queue may be one the message was meant for.
        """
        while not self.fits(size()):
            sizes = {k: v for k, v in backlogs().items() if v > 0}
            if not sizes:
                return False
            largest = max(sizes, key=sizes.__getitem__)
            cut(largest, global_reason(self.used, self.limit, sizes[largest]))
        return True


# --- Redis: the same bounds, kept by the scripts that queue and take messages ------------

#: first byte of the marker left in a queue that was cut off; the reason follows. Deliveries
#: never start with it (text is JSON, binary frames start with 0x00).
OVERFLOW_MARK = b"\x01"

# The publish script that keeps these bounds (with fragment affinity and broker heartbeats)
# is ``redis_scripts.PUBLISH_SCRIPT``.

# KEYS[1]: backlog sizes, KEYS[2]: a queue; ARGV[1]: bytes taken from it (or given back, < 0)
REDIS_TOOK_SCRIPT = """
local left = redis.call('HINCRBY', KEYS[1], KEYS[2], -tonumber(ARGV[1]))
if left <= 0 then redis.call('HDEL', KEYS[1], KEYS[2]) end
local total = redis.call('HINCRBY', KEYS[1], '', -tonumber(ARGV[1]))
if total < 0 then redis.call('HSET', KEYS[1], '', 0) end
return total
"""
