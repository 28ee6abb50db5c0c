"""Lua scripts of the Redis hub: each multi-key step is one atomic round trip.

Keys (``<prefix>`` as the hub's): ``<prefix>:subs:<topic>`` registry of a topic's consumers
(members ``<process>\\t<queue>\\t<subscription>\\t<own queue>``, score = expiry time);
``<prefix>:brokers`` heartbeats (member: process, score = expiry time); ``<prefix>:backlog``
sizes of the subscriptions' backlogs (hash: queue -> bytes, field "" = all; own queues count
towards their subscription's queue, see :mod:`.backlog`); ``<queue>:claim:<request>`` the own
queue that gets a fragmented request's fragments; ``<prefix>:proc:<process>`` the
registries a process has consumers in.
"""

from __future__ import annotations

# Shared helpers: sizes in KEYS[2] of the scripts that use them.
_SIZES = """
local sizes = KEYS[2]
local function held(q) return tonumber(redis.call('HGET', sizes, q) or '0') end
local function total() return tonumber(redis.call('HGET', sizes, '') or '0') end
local function release(q, bytes)
  if bytes <= 0 then return end
  local left = redis.call('HINCRBY', sizes, q, -bytes)
  if left <= 0 then redis.call('HDEL', sizes, q) end
  local all = redis.call('HINCRBY', sizes, '', -bytes)
  if all < 0 then redis.call('HSET', sizes, '', 0) end
end
local function split(member)
  local fields = {}
  for field in string.gmatch(member, '[^\\t]+') do table.insert(fields, field) end
  return fields
end
"""

# KEYS: registry of the topic, backlog sizes, heartbeats. ARGV: now, message, queue TTL,
# max bytes per queue, max messages per queue, max bytes in all, overflow mark, affinity
# key ("" if none), "1" if the last fragment, a random number (ties).
# Queues the message once per subscription with a consumer on a live broker process, within
# the backlog bounds (queues over them are cut off: emptied, the mark and reason left in
# them); a fragment goes to the own queue of the consumer that has its request's fragments.
# Returns {queued (-1: refused for want of room), queue cut off, its reason, ...}.
PUBLISH_SCRIPT = (
    _SIZES
    + """
local now = tonumber(ARGV[1])
local size = string.len(ARGV[2])
local max_queue, max_count = tonumber(ARGV[4]), tonumber(ARGV[5])
local max_total = tonumber(ARGV[6])
local alive, order, owns = {}, {}, {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  local fields = split(member)
  local process, q, own = fields[1], fields[2], fields[4]
  if q then
    local ok = alive[process]
    if ok == nil then
      local score = redis.call('ZSCORE', KEYS[3], process)
      ok = score ~= false and tonumber(score) >= now
      alive[process] = ok
    end
    if ok then
      if not owns[q] then owns[q] = {}; table.insert(order, q) end
      if own then table.insert(owns[q], own) end
    end
  end
end
local function forget(q)
  local bytes = held(q)
  redis.call('HDEL', sizes, q)
  local left = total() - bytes
  if left < 0 then left = 0 end
  redis.call('HSET', sizes, '', left)
end
local cut = {}
local function cut_off(q, reason)
  forget(q)
  redis.call('DEL', q)
  for _, own in ipairs(owns[q] or {}) do redis.call('DEL', own) end
  redis.call('LPUSH', q, ARGV[7] .. reason)
  redis.call('EXPIRE', q, ARGV[3])
  table.insert(cut, q)
  table.insert(cut, reason)
end
local open = {}
for _, q in ipairs(order) do
  local bytes, count = held(q), redis.call('LLEN', q)
  if count >= max_count or (bytes > 0 and bytes + size > max_queue) then
    cut_off(q, 'consumer too slow: ' .. count .. ' messages (' ..
      math.floor(bytes / 1024) .. ' KiB) undelivered')
  else
    table.insert(open, q)
  end
end
local mine_cut = false
while #open > 0 and total() > 0 and total() + size * #open > max_total do
  local all = redis.call('HGETALL', sizes)
  local largest, most = nil, 0
  for i = 1, #all, 2 do
    local q, bytes = all[i], tonumber(all[i + 1])
    if q ~= '' and bytes > most then largest, most = q, bytes end
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
  local target = q
  local candidates = owns[q]
  if ARGV[8] ~= '' and #candidates > 0 then
    local claim = q .. ':claim:' .. ARGV[8]
    local chosen = redis.call('GET', claim)
    local valid = false
    for _, own in ipairs(candidates) do
      if own == chosen then valid = true end
    end
    if not valid then
      local first = tonumber(ARGV[10]) % #candidates
      local fewest = nil
      for i = 0, #candidates - 1 do
        local own = candidates[(first + i) % #candidates + 1]
        local n = redis.call('LLEN', own)
        if fewest == nil or n < fewest then chosen, fewest = own, n end
      end
    end
    if ARGV[9] == '1' then
      redis.call('DEL', claim)
    else
      redis.call('SET', claim, chosen, 'EX', ARGV[3])
    end
    target = chosen
  end
  redis.call('LPUSH', target, ARGV[2])
  redis.call('EXPIRE', target, ARGV[3])
  redis.call('HINCRBY', sizes, q, size)
  redis.call('HINCRBY', sizes, '', size)
end
local queued = #open
if queued == 0 and mine_cut then queued = -1 end
local result = {queued}
for _, q in ipairs(cut) do table.insert(result, q) end
return result
"""
)

# KEYS: registry, backlog sizes, own queue. ARGV: member, the subscription's queue.
# Leaves the registry; returns (and deletes) what was queued for this consumer alone.
DETACH_SCRIPT = (
    _SIZES
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
local left = redis.call('LRANGE', KEYS[3], 0, -1)
redis.call('DEL', KEYS[3])
local bytes = 0
for _, item in ipairs(left) do bytes = bytes + string.len(item) end
release(ARGV[2], bytes)
return left
"""
)

# KEYS: heartbeats, backlog sizes. ARGV: the dead process, now, key prefix, overflow mark.
# Run by the surviving process whose ZREM removed the dead one (so exactly one): drops the
# dead process's consumers from the registries of its topics and returns what can no longer
# be delivered: the own queues of its consumers, and the shared queues of subscriptions left
# without a consumer on a live process.
SWEEP_SCRIPT = (
    _SIZES
    + """
local dead, now = ARGV[1], tonumber(ARGV[2])
if redis.call('ZREM', KEYS[1], dead) == 0 then return false end
local topics_key = ARGV[3] .. ':proc:' .. dead
local out = {}
local function drain(key, q)
  local bytes = 0
  for _, item in ipairs(redis.call('LRANGE', key, 0, -1)) do
    if string.sub(item, 1, 1) ~= ARGV[4] then
      table.insert(out, item)
      bytes = bytes + string.len(item)
    end
  end
  redis.call('DEL', key)
  release(q, bytes)
end
for _, registry in ipairs(redis.call('SMEMBERS', topics_key)) do
  local orphaned = {}
  for _, member in ipairs(redis.call('ZRANGE', registry, 0, -1)) do
    local fields = split(member)
    if fields[1] == dead then
      redis.call('ZREM', registry, member)
      if fields[2] then orphaned[fields[2]] = true end
      if fields[2] and fields[4] then drain(fields[4], fields[2]) end
    end
  end
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', registry, now, '+inf')) do
    local fields = split(member)
    local score = redis.call('ZSCORE', KEYS[1], fields[1])
    if fields[2] and score ~= false and tonumber(score) >= now then
      orphaned[fields[2]] = nil
    end
  end
  for q, _ in pairs(orphaned) do drain(q, q) end
end
redis.call('DEL', topics_key)
return out
"""
)
