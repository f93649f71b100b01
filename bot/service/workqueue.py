"""Waiting work, kept per issue, served in fair lanes per installation (in memory).

The design Kubernetes controllers use (client-go's workqueue), with one lane per
installation:

- Work is **level-triggered and keyed by issue**. Deliveries about one issue that wait
  together merge into one ``Work``: one sync, plus each command comment to run (each
  once). A waiting entry is a small key and those commands; it never holds an issue
  body, so its size does not depend on the payloads that asked for it.
- A key being processed is **never processed twice at once**; one re-added meanwhile
  waits, and runs once more after (at the back of its lane).
- **Lanes**: each installation has a FIFO lane of keys, and one key of a lane is
  processed at a time, so an installation's requests finish in the order they arrived
  (all of one request's writes before the next's). Lanes with work take turns
  (round-robin), and a lane being processed is not in the turn: a worker only ever
  waits on the write pace of the one installation it is serving, while the other
  workers serve the other installations.

Deliveries that cannot lead to work are turned away at the door (``Door``), before
anything is kept. ``RedisWorkQueue`` (``bot.service.redis_queue``) keeps the same promises
across processes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cachetools import TTLCache

from .logs import delivery_context
from .metrics import Metrics
from .server import Delivery

log = logging.getLogger("bot.server")

DONE_TTL_SECONDS = 3 * 24 * 3600  # how long a delivery id is remembered as done


@dataclass(frozen=True, order=True)
class IssueKey:
    """What waiting work is keyed by: one issue (or one set-up delivery, ``number`` 0)."""

    installation: int
    repo: str  # OWNER/NAME, lower-cased: GitHub's names are case-insensitive
    number: int
    delivery: str = ""  # a set-up delivery (installation events) is its own key

    @property
    def lane(self) -> Hashable:
        """Issues of one installation share a lane; its set-up work has a lane of its own,
        so reconciling a new installation does not hold up its requests."""
        return self.installation if not self.delivery else ("setup", self.installation)


@dataclass(frozen=True)
class Arrival:
    """What one admitted delivery adds to its issue's work."""

    key: IssueKey
    repo: str  # OWNER/NAME as GitHub spells it
    delivery: Delivery  # slim: its payload holds no issue body (see bot.admission)
    sync: bool = False  # bring the issue up to date
    command: bool = False  # a new comment whose commands run once
    reopening: bool = False  # a person reopened the issue (lifts a /cancel)
    issue: dict[str, Any] | None = None  # only when nothing can read GitHub (a dry run)


@dataclass
class Work:
    """What waits for one key: merged arrivals (mutable; one per key)."""

    key: IssueKey
    repo: str
    received: float
    sync: bool = False
    commands: list[Delivery] = field(default_factory=list)
    reopening: Delivery | None = None
    setup: Delivery | None = None
    issue: dict[str, Any] | None = None
    ids: list[str] = field(default_factory=list)  # every delivery merged in
    edit: dict[str, str] | None = None  # the latest person's body edit (fingerprints)
    events: Counter[str] = field(default_factory=Counter)  # their events, for the metrics
    attempts: int = 0  # runs of this work that left some of it to try again

    @classmethod
    def of(cls, arrival: Arrival) -> Work:
        work = cls(arrival.key, arrival.repo, arrival.delivery.received)
        work.merge(arrival)
        return work

    def merge(self, arrival: Arrival) -> None:
        self.ids.append(arrival.delivery.id)
        self.events[arrival.delivery.event] += 1
        self.sync = self.sync or arrival.sync
        if arrival.command:
            self.commands.append(arrival.delivery)
        if arrival.reopening:
            self.reopening = arrival.delivery  # the latest reopening speaks for them all
        if arrival.key.delivery:
            self.setup = arrival.delivery
        if arrival.issue is not None:
            self.issue = arrival.issue
        facts = arrival.delivery.payload.get("edit")
        if isinstance(facts, dict):
            self.edit = facts  # the latest edit is the one that left the body read next

    def absorb(self, later: Work) -> None:
        """Work that arrived meanwhile joins work to try again (which goes first)."""
        self.ids.extend(later.ids)
        self.events.update(later.events)
        self.sync = self.sync or later.sync
        self.commands.extend(later.commands)
        self.reopening = later.reopening or self.reopening
        self.setup = later.setup or self.setup
        self.issue = later.issue or self.issue
        self.edit = later.edit or self.edit

    @property
    def deliveries(self) -> list[Delivery]:
        """The deliveries that only running them can redo (to hand back at shutdown)."""
        found = list(self.commands)
        for extra in (self.reopening, self.setup):
            if extra is not None:
                found.append(extra)
        return found


Door = Callable[[Delivery], Arrival | None]  # None: nothing to do, dropped at the door
# Runs one key's work; returns what of it could not run yet (to try again later), if any.
Runner = Callable[[Work], Awaitable["Work | None"]]
MAX_ATTEMPTS = 5  # work left over this often is given up, loudly
RETRY_BASE_SECONDS = 2.0


class WorkQueue(Protocol):
    """What the server and the app need of a queue (in memory or on Redis)."""

    accepting: bool
    processed: int
    failed: int

    @property
    def depth(self) -> int: ...

    @property
    def in_flight(self) -> int: ...

    @property
    def pending_ids(self) -> frozenset[str]: ...

    @property
    def pending_deliveries(self) -> tuple[Delivery, ...]: ...

    def offer(self, delivery: Delivery) -> str | Awaitable[str]: ...

    def start(self) -> None: ...

    async def drain(self, timeout: float) -> bool: ...

    async def stop(self) -> None: ...


class CountedRuns:
    """Running one key's work, counted and logged the same way by every queue."""

    _runner: Runner
    _metrics: Metrics
    processed: int
    failed: int

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
            except Exception:  # one bad issue must never stop the worker
                outcome = "error"
                self.failed += len(work.ids)
                log.exception("work on %s#%s (deliveries %s) failed; reconciliation will "
                              "retry it", key.repo, key.number, ", ".join(work.ids[:5]))
                return False, None
            finally:
                for event, count in work.events.items():
                    self._metrics.deliveries.labels(event=event, outcome=outcome).inc(count)
                self._metrics.delivery_seconds.observe(time.monotonic() - work.received)


class IssueQueue(CountedRuns):
    """The in-memory queue: one process keeps the waiting work, the lanes and the dedupe."""

    def __init__(self, door: Door, runner: Runner, metrics: Metrics, *, max_waiting: int,
                 workers: int, retry_base_seconds: float = RETRY_BASE_SECONDS) -> None:
        self._door = door
        self._retry_base = retry_base_seconds
        self._runner = runner
        self._metrics = metrics
        self._max_waiting = max_waiting
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []
        self._waiting: dict[IssueKey, Work] = {}  # client-go's "dirty" set, with its work
        self._processing: dict[IssueKey, Work] = {}
        self._later: dict[IssueKey, Work] = {}  # left over, waiting out a back-off
        self._lanes: dict[Hashable, deque[IssueKey]] = {}
        self._ring: deque[Hashable] = deque()  # lanes with a key ready, in turn order
        self._busy: set[Hashable] = set()  # lanes with a key being processed
        self._turns: asyncio.Queue[None] = asyncio.Queue()  # one token per ring entry
        self._pending_ids: set[str] = set()
        self._done: TTLCache[str, bool] = TTLCache(maxsize=100_000, ttl=DONE_TTL_SECONDS)
        self._idle = asyncio.Event()
        self._idle.set()
        self.accepting = True
        self.failed = 0
        self.processed = 0
        self.dropped = 0  # turned away at the door

    @property
    def depth(self) -> int:
        """Keys waiting (an issue with ten deliveries waiting counts once)."""
        return len(self._waiting)

    @property
    def in_flight(self) -> int:
        return len(self._processing)

    @property
    def pending_ids(self) -> frozenset[str]:
        """Deliveries taken and not yet done (waiting or being processed)."""
        return frozenset(self._pending_ids)

    @property
    def pending_deliveries(self) -> tuple[Delivery, ...]:
        """The commands and reopenings taken and not yet done (to hand back at shutdown)."""
        return tuple(d for works in (self._processing, self._waiting, self._later)
                     for work in works.values() for d in work.deliveries)

    def offer(self, delivery: Delivery) -> str:
        """-> "queued", "duplicate", "ignored" (nothing to do) or "full"."""
        if delivery.id in self._done or delivery.id in self._pending_ids:
            return "duplicate"
        if not self.accepting:
            return "full"
        arrival = self._door(delivery)
        if arrival is None:
            self.dropped += 1
            self.processed += 1  # done: there is nothing to do
            self._done[delivery.id] = True
            return "ignored"
        key = arrival.key
        work = self._waiting.get(key)
        if work is not None:
            work.merge(arrival)
        else:
            if len(self._waiting) >= self._max_waiting:
                return "full"
            self._waiting[key] = Work.of(arrival)
            if key not in self._processing:  # else it goes in its lane when that is done
                self._enqueue(key)
        self._pending_ids.add(delivery.id)
        self._idle.clear()
        self._metrics.queue_depth.set(len(self._waiting))
        return "queued"

    def _enqueue(self, key: IssueKey) -> None:
        lane = key.lane
        keys = self._lanes.get(lane)
        if keys is None:
            keys = self._lanes[lane] = deque()
        keys.append(key)
        if lane not in self._busy and len(keys) == 1:
            self._turn(lane)

    def _turn(self, lane: Hashable) -> None:
        self._ring.append(lane)
        self._turns.put_nowait(None)

    def _take(self) -> tuple[IssueKey, Work]:
        lane = self._ring.popleft()
        keys = self._lanes[lane]
        key = keys.popleft()
        if not keys:
            del self._lanes[lane]
        self._busy.add(lane)
        work = self._waiting.pop(key)
        self._processing[key] = work
        self._metrics.queue_depth.set(len(self._waiting))
        return key, work

    def _finish(self, key: IssueKey, ok: bool, left: Work | None) -> None:
        work = self._processing.pop(key)
        kept = set(left.ids) if left is not None else set()
        for delivery_id in work.ids:
            if ok and delivery_id not in kept:
                self._done[delivery_id] = True
            if delivery_id not in kept:
                self._pending_ids.discard(delivery_id)
        if left is not None:
            self._retry_later(left)
        lane = key.lane
        self._busy.discard(lane)
        if key in self._waiting:  # re-added while it ran: once more, at the back
            self._lanes.setdefault(lane, deque()).append(key)
        if lane in self._lanes:
            self._turn(lane)
        self._check_idle()

    def _check_idle(self) -> None:
        # Shutting down, work waiting out a back-off is handed back rather than waited for.
        if not self._waiting and not self._processing and (not self._later
                                                            or not self.accepting):
            self._idle.set()

    def _retry_later(self, left: Work) -> None:
        left.attempts += 1
        if left.attempts >= MAX_ATTEMPTS:
            for delivery_id in left.ids:
                self._pending_ids.discard(delivery_id)
            log.error("giving up on %s#%s (deliveries %s) after %d attempts", left.key.repo,
                      left.key.number, ", ".join(left.ids[:5]), left.attempts)
            return
        earlier = self._later.get(left.key)
        if earlier is not None:
            earlier.absorb(left)
            return
        self._later[left.key] = left
        if self.accepting:
            delay = min(60.0, self._retry_base * 2 ** (left.attempts - 1))
            asyncio.get_running_loop().call_later(delay, self._again, left.key)

    def _again(self, key: IssueKey) -> None:
        left = self._later.pop(key, None)
        if left is None:
            return
        waiting = self._waiting.get(key)
        if waiting is not None:
            left.absorb(waiting)
        self._waiting[key] = left
        if waiting is None and key not in self._processing:
            self._enqueue(key)
        self._metrics.queue_depth.set(len(self._waiting))

    def start(self) -> None:
        for i in range(self._workers):
            self._tasks.append(asyncio.create_task(self._work(), name=f"worker-{i}"))

    async def _work(self) -> None:
        while True:
            await self._turns.get()
            if not self._ring:
                continue
            key, work = self._take()
            ok, left = False, None
            try:
                ok, left = await self._process(work)
            finally:
                self._finish(key, ok, left)

    async def drain(self, timeout: float) -> bool:
        """Stop taking deliveries and wait for the waiting work; True if all finished."""
        self.accepting = False
        self._check_idle()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
