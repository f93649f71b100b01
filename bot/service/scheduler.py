"""The scheduler: ticks, reconciliation and the missed-delivery sweep (the shell around lifecycle).

- **Tick** (every ``scheduler.tick_seconds``): sync the requests whose
  ``next_due`` has come (the ``Agenda``, fed by every sync); a request with
  nothing due costs no call at all.
- **Reconciliation** (at start-up, then every ``scheduler.reconcile_seconds``):
  every open issue of every installation is brought to its state (the lists
  are ETag-cached, so an unchanged list costs ``304``s); this also rebuilds the
  agenda after a restart and retries requests whose last sync failed.
- **Redelivery** (every ``scheduler.redeliver_seconds``): GitHub does not
  retry a failed delivery, so the failed ones of the last three days are asked
  for again, once per sweep, at most ``MAX_REDELIVERIES`` times each.

Each runs in its own task, so a long reconciliation delays no reminder and
``/healthz`` keeps answering. Time comes from the bot's clock (injectable:
tests move it instead of sleeping); only the pause between polls is real.
With several web processes, one ``python -m bot clock`` runs this and the web
processes run ``--no-scheduler``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..core import lifecycle
from ..core.model import RepoRef, parse_github_time
from ..github.backoff import delay, doubling

if TYPE_CHECKING:
    from .apply import SyncResult
    from .metrics import Metrics
    from .ports import Bot

log = logging.getLogger("bot.scheduler")

REDELIVERY_WINDOW = timedelta(days=3) - timedelta(minutes=10)  # GitHub keeps three days
MAX_REDELIVERIES = 3  # per delivery guid, counted in GitHub's own log (survives restarts)
MAX_SYNC_RETRIES = 8  # a request that fails this often waits for reconciliation
RETRY_BASE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class _Entry:
    repo: RepoRef
    number: int
    at: datetime
    failures: int = 0


class Agenda:
    """When each known request next needs a sync; memory only, rebuilt by reconciliation."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], _Entry] = {}

    @staticmethod
    def _key(repo: RepoRef, number: int) -> tuple[str, int]:
        return (repo.full_name.lower(), number)

    def set(self, repo: RepoRef, number: int, at: datetime | None) -> None:
        """After a sync that worked: the request's next due time, or None for nothing due."""
        key = self._key(repo, number)
        if at is None:
            self._entries.pop(key, None)
        else:
            self._entries[key] = _Entry(repo, number, at)

    def failed(self, repo: RepoRef, number: int, now: datetime, retry_cap: timedelta) -> None:
        """A sync failed: try again later, backing off; give up to reconciliation at last."""
        key = self._key(repo, number)
        old = self._entries.get(key)
        failures = (old.failures if old is not None else 0) + 1
        if failures > MAX_SYNC_RETRIES:
            self._entries.pop(key, None)
            log.warning("%s#%s failed %d times; left to reconciliation", repo.full_name,
                        number, failures - 1)
            return
        wait = timedelta(seconds=delay(doubling(RETRY_BASE.total_seconds(),
                                                retry_cap.total_seconds()), failures))
        self._entries[key] = _Entry(repo, number, now + wait, failures)

    def due(self, now: datetime) -> list[tuple[RepoRef, int]]:
        entries = sorted((e for e in self._entries.values() if e.at <= now),
                         key=lambda e: (e.at, e.repo.full_name, e.number))
        return [(e.repo, e.number) for e in entries]

    def when(self, repo: RepoRef, number: int) -> datetime | None:
        entry = self._entries.get(self._key(repo, number))
        return entry.at if entry is not None else None

    def __len__(self) -> int:
        return len(self._entries)


_KINDS = {"summary": "summary", "follow-up": "follow-up", "closed": "close",
          "armed": "", "start": "", "pending": "", "rep": "", "notices": ""}  # "": no reminder


def note_sync(agenda: Agenda, metrics: Metrics, result: SyncResult) -> None:
    """After any sync: the request's next due time in the agenda, and the lifecycle metrics."""
    issue = result.issue
    if issue is None:
        return
    if result.triage is None:
        agenda.set(issue.repo, issue.number, None)
        return
    before = result.status.state if result.status is not None else None
    after = result.triage.state
    old_sent = set(before.sent) if before is not None else set()
    for key in after.sent:
        if key in old_sent:
            continue
        head = key.split(":", 1)[0].split("@", 1)[0]
        kind = "reminder" if key.startswith("reminder:") else _KINDS.get(
            key, _KINDS.get(head, head))
        if kind and key != lifecycle.ARMED:
            metrics.reminders.labels(kind=kind).inc()
    old_count = len(before.dispatches) if before is not None else 0
    for record in after.dispatches[old_count:]:
        metrics.dispatches.labels(kind=record.kind,
                                      outcome="ok" if record.ok else "failed").inc()
    # Decided by the sync's one plan (``Triage.next_due``): no second lifecycle decision.
    agenda.set(issue.repo, issue.number, result.triage.next_due)


def failed_deliveries(deliveries: Iterable[Any], already: Iterable[str] = ()
                      ) -> list[int]:
    """Ids of deliveries to ask for again: one per guid that never succeeded.

    A guid is skipped when its newest attempt succeeded, when GitHub's log already shows
    ``MAX_REDELIVERIES`` redeliveries of it, or when this process asked for it already.
    A success followed by a failed attempt is asked for again: someone (a process handing
    back the commands its shutdown cut off, an operator) wanted it delivered once more.
    """
    asked = set(already)
    by_guid: dict[str, list[dict[str, Any]]] = {}
    for d in deliveries:
        if not isinstance(d, dict) or not isinstance(d.get("guid"), str):
            continue
        if not isinstance(d.get("id"), int) or isinstance(d.get("id"), bool):
            continue
        by_guid.setdefault(d["guid"], []).append(d)
    wanted = []
    for guid, items in by_guid.items():
        newest = max(items, key=_order)
        if guid in asked or _succeeded(newest):
            continue
        if sum(1 for d in items if d.get("redelivery") is True) >= MAX_REDELIVERIES:
            continue
        wanted.append(int(newest["id"]))
    return sorted(wanted)


def _order(delivery: dict[str, Any]) -> tuple[datetime, int]:
    when = parse_github_time(delivery.get("delivered_at")) or _EPOCH
    return (when, int(delivery["id"]))


def _succeeded(delivery: dict[str, Any]) -> bool:
    code = delivery.get("status_code")
    return isinstance(code, int) and 200 <= code < 400 and delivery.get("status") == "OK"


@dataclass
class SchedulerStats:
    ticks: int = 0
    synced: int = 0
    reconciliations: int = 0
    redelivered: int = 0
    last_reconcile: datetime | None = None
    last_redeliver: datetime | None = None
    errors: int = 0
    # failed passes in a row, by loop ("reconcile", "redeliver"); a failed pass is retried sooner
    failures_in_a_row: dict[str, int] = field(default_factory=dict)
    redelivered_guids: set[str] = field(default_factory=set)


class Scheduler:
    """Runs the tick, reconciliation and redelivery loops for one running bot."""

    def __init__(self, bot: Bot, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.bot = bot
        self.sleep = sleep
        self.stats = SchedulerStats()
        self._reconciling: asyncio.Task[int] | None = None
        self._redelivering: asyncio.Task[int] | None = None

    @property
    def _active(self) -> bool:
        return self.bot.github is not None and not self.bot.dry_run

    async def tick(self) -> int:
        """Sync every request whose next due time has come; returns how many were synced."""
        self.stats.ticks += 1
        now = self.bot.clock()
        count = 0
        for repo, number in self.bot.agenda.due(now):
            try:
                await self.bot.sync(repo, number)
            except Exception:
                self.stats.errors += 1
                log.exception("scheduled sync of %s#%s failed; retried later", repo.full_name,
                              number)
                continue
            count += 1
        self.stats.synced += count
        return count

    async def reconcile(self) -> int:
        """Bring every open request of every installation to its state."""
        if not self._active:
            return 0
        self.stats.last_reconcile = self.bot.clock()
        count = await self.bot.reconcile_all()
        self.stats.reconciliations += 1
        log.info("reconciliation: %d open request(s) brought to their state", count)
        return count

    async def redeliver(self) -> int:
        """Ask GitHub again for the failed deliveries of the last three days."""
        github = self.bot.github
        if github is None or self.bot.dry_run:
            return 0
        now = self.bot.clock()
        self.stats.last_redeliver = now
        recent = await github.recent_deliveries(since=now - REDELIVERY_WINDOW)
        by_id = {d["id"]: d for d in recent if isinstance(d, dict) and isinstance(d.get("id"),
                                                                                   int)}
        count = 0
        for delivery_id in failed_deliveries(recent, self.stats.redelivered_guids):
            guid = str(by_id[delivery_id].get("guid"))
            try:
                await github.redeliver(delivery_id)
            except Exception:
                self.stats.errors += 1
                log.exception("asking GitHub to redeliver %s failed; next sweep tries again",
                              guid)
                continue
            self.stats.redelivered_guids.add(guid)
            count += 1
            log.info("asked GitHub to redeliver %s (%s)", guid, by_id[delivery_id].get("event"))
        self.stats.redelivered += count
        if len(self.stats.redelivered_guids) > 100_000:  # older than the window by then
            self.stats.redelivered_guids.clear()
        return count

    async def run_once(self) -> int:
        """One full pass (``python -m bot tick``): reconcile, redeliver, then what is due."""
        count = 0
        if self._active:
            count = await self.reconcile()
            try:
                await self.redeliver()
            except Exception:
                self.stats.errors += 1
                log.exception("redelivery sweep failed")
        return count + await self.tick()

    def _retry_after(self, interval: float, failures: int) -> timedelta:
        """The wait before the next pass: the interval, or a doubling backoff after failures.

        A pass that failed (GitHub down at start-up, say) is tried again after the client's
        longest backoff, doubling on each failure in a row, never later than the interval.
        """
        if failures == 0:
            return timedelta(seconds=interval)
        base = self.bot.config.github.backoff_max_seconds
        return timedelta(seconds=delay(doubling(base, interval), failures))

    def _due(self, loop: str, last: datetime | None, interval: float, now: datetime) -> bool:
        """Whether a loop's next pass is due: its interval, or its backoff after failures."""
        failures = self.stats.failures_in_a_row.get(loop, 0)
        return last is None or now - last >= self._retry_after(interval, failures)

    def _spawn_if_due(self, now: datetime) -> None:
        cfg = self.bot.config.scheduler
        stats = self.stats
        idle = self._reconciling is None or self._reconciling.done()
        if idle and self._due("reconcile", stats.last_reconcile, cfg.reconcile_seconds, now):
            stats.last_reconcile = now
            self._reconciling = asyncio.create_task(
                self._guarded(self.reconcile, "reconcile", cfg.reconcile_seconds),
                name="reconcile")
        idle = self._redelivering is None or self._redelivering.done()
        if idle and self._due("redeliver", stats.last_redeliver, cfg.redeliver_seconds, now):
            stats.last_redeliver = now
            self._redelivering = asyncio.create_task(
                self._guarded(self.redeliver, "redeliver", cfg.redeliver_seconds),
                name="redeliver")

    async def _guarded(self, work: Callable[[], Awaitable[int]],
                       loop: str | None = None, interval: float = 0.0) -> int:
        try:
            done = await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            self.stats.errors += 1
            if loop is None:
                log.exception("scheduler pass failed; it runs again next tick")
                return 0
            count = self.stats.failures_in_a_row.get(loop, 0) + 1
            self.stats.failures_in_a_row[loop] = count
            log.exception("scheduler pass failed (%d in a row); tried again in %.0f s", count,
                          self._retry_after(interval, count).total_seconds())
            return 0
        if loop is not None:
            self.stats.failures_in_a_row[loop] = 0
        return done

    async def run(self) -> None:
        """Loop until cancelled: reconcile at once, then tick, reconcile and sweep on time."""
        log.info("scheduler started (tick %gs, reconcile %gs, redeliver %gs)",
                 self.bot.config.scheduler.tick_seconds,
                 self.bot.config.scheduler.reconcile_seconds,
                 self.bot.config.scheduler.redeliver_seconds)
        try:
            while True:
                if self._active:
                    self._spawn_if_due(self.bot.clock())
                await self._guarded(self.tick)
                await self.sleep(self.bot.config.scheduler.tick_seconds)
        finally:
            await self.stop()

    async def stop(self) -> None:
        tasks = [t for t in (self._reconciling, self._redelivering) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
