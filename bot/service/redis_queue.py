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

Every step that reads and writes several keys is one Lua script (atomic). The queue's
scripts and the arrivals' text are in ``redis_leases``, the lock and the write pace in
``redis_locks``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from redis.asyncio import Redis

from .metrics import Metrics

# The scripts and the arrivals' text, the lock and the write pace are in their own
# modules; every public name is still importable from here.
from .redis_leases import (
    ACK,
    OFFER,
    RECLAIM,
    RENEW,
    TAKE,
    arrival_json,
    key_of,
    key_text,
    lane_text,
    work_of,
)
from .redis_locks import LOCK_SECONDS, RedisIssueLocks, RedisWritePace
from .server import Delivery
from .workqueue import DONE_TTL_SECONDS, Arrival, CountedRuns, Door, IssueKey, Runner, Work

__all__ = [
    "LEASE_SECONDS", "LOCK_SECONDS", "RECLAIM_EVERY_SECONDS", "TURN_WAIT_SECONDS",
    "RedisIssueLocks", "RedisWorkQueue", "RedisWritePace", "arrival_json", "connect",
    "work_of",
]

log = logging.getLogger("bot.server")

LEASE_SECONDS = 30.0  # a killed process's work is back in its lane within this (+ a pass)
RECLAIM_EVERY_SECONDS = 5.0
TURN_WAIT_SECONDS = 1.0  # a worker looks at the ring at least this often
STOP_SECONDS = 5.0  # the most a stop waits on each of its steps
SOCKET_SLACK_SECONDS = 10.0  # a reply later than this: the connection is given up


class RedisWorkQueue(CountedRuns):
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
        self._offer = redis.register_script(OFFER)
        self._take = redis.register_script(TAKE)
        self._renew = redis.register_script(RENEW)
        self._ack = redis.register_script(ACK)
        self._reclaim = redis.register_script(RECLAIM)
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
            self._p, key_text(key), lane_text(key), arrival_json(arrival),
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
        key = key_of(texts[0])
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
                await self._renew(args=[self._p, key_text(key), self.owner, self._lease_ms])

    async def _finish(self, key: IssueKey, lane: str, work: Work, ok: bool,
                      left: Work | None) -> None:
        try:
            await self._ack(args=[self._p, key_text(key), lane, self.owner])
            if not ok:  # a redelivery of these runs them again
                await self.redis.delete(*(f"{self._p}seen:{i}" for i in work.ids))
            self._depth = await self.redis.scard(f"{self._p}waiting")
            self._metrics.queue_depth.set(self._depth)
        except Exception:
            log.exception("finishing %s in Redis failed; its lease runs out instead",
                          key_text(key))
        if left is not None:
            left.attempts += 1
            if left.attempts < 5:
                self._tasks.append(asyncio.create_task(self._again(left)))

    async def _again(self, left: Work) -> None:
        await asyncio.sleep(min(60.0, self._retry_base * 2 ** (left.attempts - 1)))
        for command in left.commands:
            await self._put(Arrival(left.key, left.repo, command, command=True), dedupe=False)

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
        # Bounded: a task stuck on a connection a cancel cut mid-reply never holds up
        # the shutdown (its lease runs out, and another process takes the work over).
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_SECONDS)
        self._tasks.clear()
        # Work cut off goes back at once, for the other processes (or the next start).
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reclaim(args=[self._p, self.owner]), STOP_SECONDS)
        self._processing.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.redis.aclose(), STOP_SECONDS)


def connect(url: str) -> Redis:
    """A client for ``REDIS_URL`` (``redis://``, ``rediss://`` or ``unix://``)."""
    # No reply is waited for without end: a blocking pop waits at most TURN_WAIT_SECONDS.
    return Redis.from_url(url, socket_timeout=TURN_WAIT_SECONDS + SOCKET_SLACK_SECONDS,
                          socket_connect_timeout=SOCKET_SLACK_SECONDS)
