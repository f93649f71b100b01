"""The per-issue lock and the write pace on Redis, so processes act as one.

- **Per-issue lock**: ``lock:{repo}#{n}``, a lease held around every sync, so two
  processes never sync one issue at once.
- **Write pace**: ``pace:{identity}`` (a token bucket) and ``content:{identity}`` (the
  content writes of the last hour), on Redis's own clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from ..core.config import GitHubClientConfig

LOCK_SECONDS = 60.0

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
