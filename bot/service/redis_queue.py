"""The work queue, the per-issue lease and the write pace on Redis, so processes act as one.

With ``REDIS_URL`` set, every ``serve`` process keeps in one Redis what the in-memory
queue (``bot.service.workqueue``) keeps in a process:

- **Delivery dedupe**: ``seen:{id}`` (``SET NX``, three days); a delivery whose work
  failed is forgotten again, so GitHub's redelivery runs it.
- **Waiting work**, per issue key: ``w:{key}``, the list of arrivals (small: no issue
  body), ``waiting`` (the keys), ``queued`` (keys in a lane).
- **Lanes**: ``lane:{lane}`` (FIFO of keys per installation), ``ring`` (lanes with a key
  ready, in turn order), ``busy`` (lane -> the process serving it), ``turns`` (a list
  workers block on, one entry per lane put in the ring).
- **Leases**: a taken key is in ``proc`` (with its arrivals) and ``leases`` (a sorted
  set of expiry times). The worker renews it while it runs; a process killed mid-work
  stops renewing, and any process's reclaim pass puts the work back at the front of
  its lane once the lease is out (``LEASE_SECONDS``).
- **Per-issue lock**: ``lock:{repo}#{n}``, a lease held around every sync (a webhook's,
  the scheduler's, reconciliation's), so two processes never sync one issue at once.
- **Write pace**: ``pace:{identity}`` (a token bucket) and ``content:{identity}`` (the
  content writes of the last hour), on Redis's own clock, so the writes of one
  installation are paced as one whatever process sends them.

Every step that reads and writes several keys is one Lua script (atomic).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from ..core.config import GitHubClientConfig
from .logs import delivery_context
from .metrics import Metrics
from .server import Delivery
from .workqueue import DONE_TTL_SECONDS, Arrival, Door, IssueKey, Runner, Work

log = logging.getLogger("bot.server")

LEASE_SECONDS = 30.0  # a killed process's work is back in its lane within this (+ a pass)
RECLAIM_EVERY_SECONDS = 5.0
LOCK_SECONDS = 60.0
TURN_WAIT_SECONDS = 1.0  # a worker looks at the ring at least this often

_OFFER = """
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

_TAKE = """
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

_RENEW = """
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

_ACK = _RELEASE + """
local p, key, lane, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local rec = redis.call('HGET', p .. 'proc', key)
if not rec or cjson.decode(rec).owner ~= owner then return 0 end
release(p, key, lane, owner)
return 1
"""

# Work whose lease ran out (or that its process gave back) goes back to the front.
_RECLAIM = _RELEASE + """
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

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_RENEW_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# A token bucket (burst, then one write per interval) and the content budgets, on
# Redis's clock. -> 0 when the write may go (and it is counted), else ms to wait.
_PACE = """
local bucket, sent = KEYS[1], KEYS[2]
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local per_min, per_hour, content = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', bucket, 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
if interval > 0 then tokens = math.min(burst, tokens + (now - ts) / interval)
else tokens = burst end
local wait = 0
if tokens < 1 then wait = math.ceil((1 - tokens) * interval) end
if content then
  redis.call('ZREMRANGEBYSCORE', sent, '-inf', now - 3600000)
  local n = redis.call('ZCARD', sent)
  if per_hour > 0 and n >= per_hour then
    local at = redis.call('ZRANGE', sent, n - per_hour, n - per_hour, 'WITHSCORES')
    wait = math.max(wait, tonumber(at[2]) + 3600000 - now)
  end
  if per_min > 0 then
    local recent = redis.call('ZCOUNT', sent, now - 60000, '+inf')
    if recent >= per_min then
      local at = redis.call('ZRANGEBYSCORE', sent, now - 60000, '+inf', 'WITHSCORES',
                            'LIMIT', recent - per_min, 1)
      wait = math.max(wait, tonumber(at[2]) + 60000 - now)
    end
  end
end
if wait > 0 then return wait end
redis.call('HSET', bucket, 'tokens', tokens - 1, 'ts', now)
redis.call('PEXPIRE', bucket, 3600000)
if content then
  redis.call('ZADD', sent, now, now .. ':' .. redis.call('INCR', sent .. ':n'))
  redis.call('PEXPIRE', sent, 3600000)
  redis.call('PEXPIRE', sent .. ':n', 3600000)
end
return 0
"""


def _key_text(key: IssueKey) -> str:
    return f"{key.installation}|{key.repo}|{key.number}|{key.delivery}"


def _key_of(text: str) -> IssueKey:
    installation, repo, number, delivery = text.split("|", 3)
    return IssueKey(int(installation), repo, int(number), delivery)


def _lane_text(key: IssueKey) -> str:
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
            log.error("unreadable waiting work for %s skipped", _key_text(key))
            continue
        if work is None:
            work = Work.of(arrival)
        else:
            work.merge(arrival)
    return work if work is not None else Work(key, "", time.monotonic())


class RedisWorkQueue:
    """The work queue on Redis: N processes, one queue (see the module's docstring)."""

    def __init__(self, redis: Redis, door: Door, runner: Runner, metrics: Metrics, *,
                 max_waiting: int, workers: int, prefix: str = "event-bot",
                 lease_seconds: float = LEASE_SECONDS,
                 reclaim_every_seconds: float = RECLAIM_EVERY_SECONDS,
                 retry_base_seconds: float = 2.0) -> None:
        self.redis = redis
        self._p = prefix + ":"
        self._door = door
        self._runner = runner
        self._metrics = metrics
        self._max_waiting = max_waiting
        self._workers = workers
        self._lease_ms = int(lease_seconds * 1000)
        self._reclaim_every = reclaim_every_seconds
        self._retry_base = retry_base_seconds
        self.owner = secrets.token_hex(8)  # this process, as the leases name it
        self._offer = redis.register_script(_OFFER)
        self._take = redis.register_script(_TAKE)
        self._renew = redis.register_script(_RENEW)
        self._ack = redis.register_script(_ACK)
        self._reclaim = redis.register_script(_RECLAIM)
        self._tasks: list[asyncio.Task[None]] = []
        self._processing: dict[IssueKey, Work] = {}
        self._taking = True
        self._depth = 0
        self.accepting = True
        self.failed = 0
        self.processed = 0

    @property
    def depth(self) -> int:
        """Keys waiting in Redis, as of the last look (every offer and take updates it)."""
        return self._depth

    @property
    def in_flight(self) -> int:
        return len(self._processing)

    @property
    def pending_ids(self) -> frozenset[str]:
        return frozenset(i for w in self._processing.values() for i in w.ids)

    @property
    def pending_deliveries(self) -> tuple[Delivery, ...]:
        """Nothing to hand back: work cut off stays in Redis for the other processes."""
        return ()

    async def offer(self, delivery: Delivery) -> str:
        if not self.accepting:
            return "full"
        arrival = self._door(delivery)
        if arrival is None:
            # Still remembered, so a redelivery is answered as one.
            fresh = await self.redis.set(f"{self._p}seen:{delivery.id}", "1", nx=True,
                                         ex=DONE_TTL_SECONDS)
            if not fresh:
                return "duplicate"
            self.processed += 1  # done: there is nothing to do
            return "ignored"
        return await self._put(arrival, dedupe=True)

    async def _put(self, arrival: Arrival, *, dedupe: bool) -> str:
        key = arrival.key
        outcome = await self._offer(args=[
            self._p, _key_text(key), _lane_text(key), arrival_json(arrival),
            arrival.delivery.id, self._max_waiting, DONE_TTL_SECONDS, "1" if dedupe else "0"])
        outcome = outcome.decode() if isinstance(outcome, bytes) else str(outcome)
        if outcome == "queued":
            self._depth = await self.redis.scard(f"{self._p}waiting")
            self._metrics.queue_depth.set(self._depth)
        return outcome

    def start(self) -> None:
        for i in range(self._workers):
            self._tasks.append(asyncio.create_task(self._work(), name=f"worker-{i}"))
        self._tasks.append(asyncio.create_task(self._reclaim_loop(), name="reclaim"))

    async def _reclaim_loop(self) -> None:
        while True:
            try:
                back = await self._reclaim(args=[self._p, ""])
                if back:
                    log.warning("%s key(s) whose lease ran out are back in their lanes", back)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reclaiming expired leases failed; trying again")
            await asyncio.sleep(self._reclaim_every)

    async def _next(self) -> tuple[IssueKey, str, Work] | None:
        found = await self._take(args=[self._p, self.owner, self._lease_ms])
        if not found:
            return None
        texts = [t.decode() if isinstance(t, bytes) else str(t) for t in found]
        key = _key_of(texts[0])
        work = work_of(key, texts[2:])
        return key, texts[1], work

    async def _work(self) -> None:
        while True:
            if not self._taking:
                await asyncio.sleep(0.05)
                continue
            try:
                taken = await self._next()
                if taken is None:
                    self._depth = await self.redis.scard(f"{self._p}waiting")
                    self._metrics.queue_depth.set(self._depth)
                    await self.redis.blpop([f"{self._p}turns"],
                                           timeout=TURN_WAIT_SECONDS)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("taking work from Redis failed; trying again")
                await asyncio.sleep(1.0)
                continue
            key, lane, work = taken
            self._processing[key] = work
            renewing = asyncio.create_task(self._keep_lease(key))
            try:
                ok, left = await self._process(work)
            finally:
                # Cancelled (a stop): no ack; stop() gives the work back, or its lease
                # runs out.
                renewing.cancel()
            self._processing.pop(key, None)
            await asyncio.shield(self._finish(key, lane, work, ok, left))

    async def _keep_lease(self, key: IssueKey) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            with contextlib.suppress(Exception):
                await self._renew(args=[self._p, _key_text(key), self.owner, self._lease_ms])

    async def _finish(self, key: IssueKey, lane: str, work: Work, ok: bool,
                      left: Work | None) -> None:
        try:
            await self._ack(args=[self._p, _key_text(key), lane, self.owner])
            if not ok:  # a redelivery of these runs them again
                await self.redis.delete(*(f"{self._p}seen:{i}" for i in work.ids))
            self._depth = await self.redis.scard(f"{self._p}waiting")
            self._metrics.queue_depth.set(self._depth)
        except Exception:
            log.exception("finishing %s in Redis failed; its lease runs out instead",
                          _key_text(key))
        if left is not None:
            left.attempts += 1
            if left.attempts < 5:
                self._tasks.append(asyncio.create_task(self._again(left)))

    async def _again(self, left: Work) -> None:
        await asyncio.sleep(min(60.0, self._retry_base * 2 ** (left.attempts - 1)))
        for command in left.commands:
            await self._put(Arrival(left.key, left.repo, command, command=True), dedupe=False)

    async def _process(self, work: Work) -> tuple[bool, Work | None]:
        key = work.key
        first = work.ids[0] if work.ids else ""
        with delivery_context(first, (key.repo, key.number) if key.number else None):
            outcome = "ok"
            try:
                left = await self._runner(work)
                self.processed += len(work.ids)  # deliveries, as /healthz counts them
                return True, left
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            except Exception:
                outcome = "error"
                self.failed += len(work.ids)
                log.exception("work on %s#%s failed; reconciliation will retry it", key.repo,
                              key.number)
                return False, None
            finally:
                for event, count in work.events.items():
                    self._metrics.deliveries.labels(event=event, outcome=outcome).inc(count)
                self._metrics.delivery_seconds.observe(time.monotonic() - work.received)

    async def drain(self, timeout: float) -> bool:
        """Stop taking work and let this process's finish; what waits stays in Redis."""
        self.accepting = False
        self._taking = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._processing and loop.time() < deadline:
            await asyncio.sleep(0.02)
        return not self._processing

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        # Work cut off goes back at once, for the other processes (or the next start).
        with contextlib.suppress(Exception):
            await self._reclaim(args=[self._p, self.owner])
        self._processing.clear()
        await self.redis.aclose()


class RedisIssueLocks:
    """The per-issue lock, across processes: a local lock, then a lease in Redis."""

    def __init__(self, redis: Redis, local: Callable[[str, int], asyncio.Lock], *,
                 prefix: str = "event-bot", lease_seconds: float = LOCK_SECONDS) -> None:
        self.redis = redis
        self._p = prefix + ":"
        self._local = local
        self._lease_ms = int(lease_seconds * 1000)
        self._unlock = redis.register_script(_UNLOCK)
        self._renew = redis.register_script(_RENEW_LOCK)

    @asynccontextmanager
    async def __call__(self, repo: str, number: int) -> AsyncIterator[None]:
        name = f"{self._p}lock:{repo.lower()}#{number}"
        token = secrets.token_hex(8)
        async with self._local(repo, number):
            while not await self.redis.set(name, token, nx=True, px=self._lease_ms):
                await asyncio.sleep(0.05)
            renewing = asyncio.create_task(self._keep(name, token))
            try:
                yield
            finally:
                renewing.cancel()
                with contextlib.suppress(Exception):
                    await self._unlock(keys=[name], args=[token])

    async def _keep(self, name: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            with contextlib.suppress(Exception):
                await self._renew(keys=[name], args=[token, self._lease_ms])


class RedisWritePace:
    """One identity's write pace kept in Redis: ``await take(content)`` before a write."""

    def __init__(self, redis: Redis, identity: str, config: GitHubClientConfig, *,
                 prefix: str = "event-bot",
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.redis = redis
        self._keys = [f"{prefix}:pace:{identity}", f"{prefix}:content:{identity}"]
        self._config = config
        self._script = redis.register_script(_PACE)
        self._sleep = sleep

    async def take(self, content: bool) -> float:
        """Wait until a write may go, and count it; returns the seconds waited."""
        c = self._config
        waited = 0.0
        while True:
            wait_ms = int(await self._script(keys=self._keys, args=[
                c.write_interval_seconds * 1000, max(1, c.write_burst),
                c.content_per_minute, c.content_per_hour, "1" if content else "0"]))
            if wait_ms <= 0:
                return waited
            waited += wait_ms / 1000
            await self._sleep(wait_ms / 1000)


def connect(url: str) -> Redis:
    """A client for ``REDIS_URL`` (``redis://``, ``rediss://`` or ``unix://``)."""
    return Redis.from_url(url)
