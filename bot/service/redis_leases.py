"""The Redis queue's records and leases: the Lua scripts that keep them, and the arrivals' text.

Each step that reads and writes several of the queue's keys (offer, take, renew, ack,
reclaim; the keys are listed in ``bot.service.redis_queue``) is one script, so it is
atomic; an arrival is kept as small JSON (no issue body) and read back, junk skipped.
"""

from __future__ import annotations

import json
import logging
import time

from .server import Delivery
from .workqueue import Arrival, IssueKey, Work

log = logging.getLogger("bot.server")

OFFER = """
local p, key, lane, arrival, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local max, ttl, dedupe = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
if dedupe == '1' and not redis.call('SET', p .. 'seen:' .. id, '1', 'NX', 'EX', ttl) then
  return 'duplicate'
end
if redis.call('SISMEMBER', p .. 'waiting', key) == 0 then
  if redis.call('SCARD', p .. 'waiting') >= max then
    if dedupe == '1' then redis.call('DEL', p .. 'seen:' .. id) end
    return 'full'
  end
  redis.call('SADD', p .. 'waiting', key)
end
redis.call('RPUSH', p .. 'w:' .. key, arrival)
if redis.call('SISMEMBER', p .. 'queued', key) == 0
    and redis.call('HEXISTS', p .. 'proc', key) == 0 then
  redis.call('SADD', p .. 'queued', key)
  redis.call('RPUSH', p .. 'lane:' .. lane, key)
  if redis.call('HEXISTS', p .. 'busy', lane) == 0
      and not redis.call('LPOS', p .. 'ring', lane) then
    redis.call('RPUSH', p .. 'ring', lane)
    redis.call('RPUSH', p .. 'turns', '1')
    redis.call('LTRIM', p .. 'turns', -10000, -1)
  end
end
return 'queued'
"""

TAKE = """
local p, owner, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
local lane = redis.call('LPOP', p .. 'ring')
if not lane then return false end
local key = redis.call('LPOP', p .. 'lane:' .. lane)
if not key then return false end
redis.call('HSET', p .. 'busy', lane, owner)
redis.call('SREM', p .. 'queued', key)
local arrivals = redis.call('LRANGE', p .. 'w:' .. key, 0, -1)
redis.call('DEL', p .. 'w:' .. key)
redis.call('SREM', p .. 'waiting', key)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', p .. 'proc', key, cjson.encode({owner = owner, lane = lane,
                                                    arrivals = arrivals}))
redis.call('ZADD', p .. 'leases', now + lease, key)
local out = {key, lane}
for _, a in ipairs(arrivals) do out[#out + 1] = a end
return out
"""

RENEW = """
local p, key, owner, lease = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local rec = redis.call('HGET', p .. 'proc', key)
if not rec or cjson.decode(rec).owner ~= owner then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', p .. 'leases', tonumber(t[1]) * 1000 + lease, key)
return 1
"""

# Shared by ack and reclaim: a lane whose key is done goes back in the turn.
_RELEASE = """
local function release(p, key, lane, owner)
  if redis.call('HGET', p .. 'busy', lane) == owner then redis.call('HDEL', p .. 'busy', lane) end
  redis.call('HDEL', p .. 'proc', key)
  redis.call('ZREM', p .. 'leases', key)
  if redis.call('SISMEMBER', p .. 'waiting', key) == 1
      and redis.call('SISMEMBER', p .. 'queued', key) == 0 then
    redis.call('SADD', p .. 'queued', key)
    redis.call('RPUSH', p .. 'lane:' .. lane, key)
  end
  if redis.call('LLEN', p .. 'lane:' .. lane) > 0 and redis.call('HEXISTS', p .. 'busy', lane) == 0
      and not redis.call('LPOS', p .. 'ring', lane) then
    redis.call('RPUSH', p .. 'ring', lane)
    redis.call('RPUSH', p .. 'turns', '1')
  end
end
"""

ACK = _RELEASE + """
local p, key, lane, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local rec = redis.call('HGET', p .. 'proc', key)
if not rec or cjson.decode(rec).owner ~= owner then return 0 end
release(p, key, lane, owner)
return 1
"""

# Work whose lease ran out (or that its process gave back) goes back to the front.
RECLAIM = _RELEASE + """
local p, only = ARGV[1], ARGV[2]
local keys
if only ~= '' then
  keys = {}
  local all = redis.call('HGETALL', p .. 'proc')
  for i = 1, #all, 2 do
    if cjson.decode(all[i + 1]).owner == only then keys[#keys + 1] = all[i] end
  end
else
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  keys = redis.call('ZRANGEBYSCORE', p .. 'leases', '-inf', now)
end
for _, key in ipairs(keys) do
  local rec = redis.call('HGET', p .. 'proc', key)
  if rec then
    local r = cjson.decode(rec)
    for i = #r.arrivals, 1, -1 do redis.call('LPUSH', p .. 'w:' .. key, r.arrivals[i]) end
    redis.call('SADD', p .. 'waiting', key)
    if redis.call('SISMEMBER', p .. 'queued', key) == 0 then
      redis.call('SADD', p .. 'queued', key)
      redis.call('LPUSH', p .. 'lane:' .. r.lane, key)
    end
    release(p, key, r.lane, r.owner)
  else
    redis.call('ZREM', p .. 'leases', key)
  end
end
return #keys
"""


def key_text(key: IssueKey) -> str:
    return f"{key.installation}|{key.repo}|{key.number}|{key.delivery}"


def key_of(text: str) -> IssueKey:
    installation, repo, number, delivery = text.split("|", 3)
    return IssueKey(int(installation), repo, int(number), delivery)


def lane_text(key: IssueKey) -> str:
    return f"setup:{key.installation}" if key.delivery else str(key.installation)


def arrival_json(arrival: Arrival) -> str:
    d = arrival.delivery
    return json.dumps({
        "repo": arrival.repo, "sync": arrival.sync, "command": arrival.command,
        "reopening": arrival.reopening, "issue": arrival.issue,
        "delivery": {"id": d.id, "event": d.event, "payload": d.payload,
                     "age": time.monotonic() - d.received, "at": time.time()},
    }, separators=(",", ":"))


def work_of(key: IssueKey, arrivals: list[str]) -> Work:
    """The work the arrivals of one key add up to (each parsed; junk skipped)."""
    work: Work | None = None
    for text in arrivals:
        try:
            a = json.loads(text)
            d = a["delivery"]
            # Another process's monotonic clock means nothing here: age by the wall clock.
            received = time.monotonic() - max(0.0, time.time() - float(d["at"]))
            arrival = Arrival(key, str(a["repo"]), Delivery(str(d["id"]), str(d["event"]),
                                                             dict(d["payload"]), received),
                              sync=bool(a["sync"]), command=bool(a["command"]),
                              reopening=bool(a["reopening"]), issue=a.get("issue"))
        except (ValueError, KeyError, TypeError):
            log.error("unreadable waiting work for %s skipped", key_text(key))
            continue
        if work is None:
            work = Work.of(arrival)
        else:
            work.merge(arrival)
    return work if work is not None else Work(key, "", time.monotonic())
