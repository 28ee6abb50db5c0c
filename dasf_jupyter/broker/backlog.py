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

# KEYS[1]: registry of a topic (members "<process>\t<queue key>\t<subscription>", score =
# expiry time); KEYS[2]: backlog sizes (hash: queue key -> bytes; field "" = all queues).
# ARGV: now, message, queue TTL, max bytes per queue, max messages per queue, max bytes in
# all, overflow mark. Queues the message once per live queue within the bounds; returns
# {queued (-1: refused for want of room), queue key cut off, its reason, ...}.
REDIS_PUBLISH_SCRIPT = """
local size = string.len(ARGV[2])
local max_queue, max_count = tonumber(ARGV[4]), tonumber(ARGV[5])
local max_total = tonumber(ARGV[6])
local sizes = KEYS[2]
local function held(q) return tonumber(redis.call('HGET', sizes, q) or '0') end
local function total() return tonumber(redis.call('HGET', sizes, '') or '0') end
local function forget(q, bytes)
  redis.call('HDEL', sizes, q)
  local left = total() - bytes
  if left < 0 then left = 0 end
  redis.call('HSET', sizes, '', left)
end
local cut = {}
local function cut_off(q, reason)
  forget(q, held(q))
  redis.call('DEL', q)
  redis.call('LPUSH', q, ARGV[7] .. reason)
  redis.call('EXPIRE', q, ARGV[3])
  table.insert(cut, q)
  table.insert(cut, reason)
end
local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
local seen = {}
local open = {}
for _, member in ipairs(members) do
  local q = string.match(member, '^[^\\t]*\\t([^\\t]*)\\t')
  if q and not seen[q] then
    seen[q] = true
    local bytes, count = held(q), redis.call('LLEN', q)
    if count >= max_count or (bytes > 0 and bytes + size > max_queue) then
      cut_off(q, 'consumer too slow: ' .. count .. ' messages (' ..
        math.floor(bytes / 1024) .. ' KiB) undelivered')
    else
      table.insert(open, q)
    end
  end
end
local mine_cut = false
while #open > 0 and total() > 0 and total() + size * #open > max_total do
  local all = redis.call('HGETALL', sizes)
  local largest, most = nil, 0
  for i = 1, #all, 2 do
    local q, bytes = all[i], tonumber(all[i + 1])
    if q ~= '' then
      if redis.call('EXISTS', q) == 0 then
        forget(q, bytes)  -- expired: its count was stale
      elseif bytes > most then
        largest, most = q, bytes
      end
    end
  end
  if not largest then
    redis.call('HSET', sizes, '', 0)
    break
  end
  cut_off(largest, 'broker backlog full: ' .. math.floor(total() / 1048576) ..
    ' MiB undelivered across all subscriptions (limit ' .. math.floor(max_total / 1048576) ..
    ' MiB); this subscription held the most (' .. math.floor(most / 1024) .. ' KiB)')
  for i, q in ipairs(open) do
    if q == largest then
      table.remove(open, i)
      mine_cut = true
      break
    end
  end
end
for _, q in ipairs(open) do
  redis.call('LPUSH', q, ARGV[2])
  redis.call('EXPIRE', q, ARGV[3])
  redis.call('HINCRBY', sizes, q, size)
  redis.call('HINCRBY', sizes, '', size)
end
local queued = #open
if queued == 0 and mine_cut then queued = -1 end
local result = {queued}
for _, q in ipairs(cut) do table.insert(result, q) end
return result
"""

# KEYS[1]: backlog sizes, KEYS[2]: a queue; ARGV[1]: bytes taken from it (or given back, < 0)
REDIS_TOOK_SCRIPT = """
local left = redis.call('HINCRBY', KEYS[1], KEYS[2], -tonumber(ARGV[1]))
if left <= 0 then redis.call('HDEL', KEYS[1], KEYS[2]) end
local total = redis.call('HINCRBY', KEYS[1], '', -tonumber(ARGV[1]))
if total < 0 then redis.call('HSET', KEYS[1], '', 0) end
return total
"""
