"""Which pre-warm or scale-down is due for a request now (pure; see ``bot.core.lifecycle``
for the rules, ``bot.core.prewarm`` for what a dispatch holds)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import runs
from .config import Config
from .dates import Session
from .lifecycle_step import (
    DISPATCH_RETRY,
    MAX_DISPATCH_ATTEMPTS,
    PREWARM_REFUSED,
    RUN_FAILED,
    SCALE_DOWN_REFUSED,
    Builder,
    failure_key,
    reminder_key,
)
from .model import HubBooking, IssueSnapshot, WorkflowDispatch
from .notices import failure_text, refused_text, run_failed_text
from .prewarm import (
    PREWARM,
    SCALE_DOWN,
    Refusal,
    iso,
    last_ok,
    last_ok_prewarm,
    parse_time,
    prewarm_dispatch,
    scale_down_dispatch,
)
from .prewarm_status import automatic
from .status import DispatchRecord, StatusState

if TYPE_CHECKING:
    from .request import EventRequest
    from .triage import Triage


def _episode(state: StatusState, kind: str, since: datetime | None, after_index: int
             ) -> list[DispatchRecord]:
    """The records of ``kind`` in the current episode (after a time, or after a record)."""
    out = []
    for i, record in enumerate(state.dispatches):
        if i <= after_index or record.kind != kind:
            continue
        at = parse_time(record.at)
        if since is not None and (at is None or at < since):
            continue
        out.append(record)
    return out


def _last_ok_prewarm_index(state: StatusState) -> int:
    for i in range(len(state.dispatches) - 1, -1, -1):
        record = state.dispatches[i]
        if record.ok and record.kind == PREWARM:
            return i
    return -1


def _dispatch_due(b: Builder, kind: str, at: datetime, episode: list[DispatchRecord],
                  plan: WorkflowDispatch | Refusal, triage: Triage, config: Config) -> None:
    failures = [r for r in episode if not r.ok]
    if failures and failure_key(kind, failures[0].at) not in b.sent:
        b.mark(failure_key(kind, failures[0].at))
        b.notes.append(failure_text(kind, failures[-1], triage, config))
    if len(failures) >= MAX_DISPATCH_ATTEMPTS:
        return  # given up; the failure comment asked people to act
    last = parse_time(failures[-1].at) if failures else None
    when = max(at, last + DISPATCH_RETRY) if last is not None else at
    if when > b.now:
        b.later(when)
        return
    if isinstance(plan, Refusal) and plan.transient:
        b.later(b.now + DISPATCH_RETRY)  # the hub index is read by then, most likely
        return
    if isinstance(plan, Refusal):
        key = PREWARM_REFUSED if kind == PREWARM else SCALE_DOWN_REFUSED
        if key not in b.sent:
            b.mark(key)
            b.notes.append(refused_text(kind, plan, triage, config))
        return  # an edit to the request syncs it again; no tick needed for that
    b.dispatches.append(plan)


def _held_by_others(triage: Triage, config: Config, at: datetime,
                    bookings: Iterable[HubBooking] | None = None) -> int:
    """The most nodes another (confirmed: only those are booked) request on the same hub
    needs at ``at`` (its lead time to its scale-down): a dispatch for this one never takes
    the hub below that."""
    cfg = config.prewarm
    before = timedelta(hours=cfg.lead_time_hours)
    after = timedelta(hours=cfg.scale_down_after_hours)
    return max((o.prewarm_nodes for o in (triage.overlaps if bookings is None else bookings)
                if o.start - before <= at < o.end + after), default=0)


def _others_on(issue: IssueSnapshot, hub: str | None) -> tuple[HubBooking, ...]:
    """The other requests booked on ``hub`` (the one pre-warmed, which an edit may have
    changed since)."""
    if not hub:
        return ()
    mine = issue.key
    return tuple(b for b in issue.hub_bookings.get(hub, ())
                 if (b.repo.lower(), b.number) != mine)


def warm_periods(req: EventRequest, config: Config) -> tuple[Session, ...]:
    """The stretches the hub is kept warm: the sessions, two of them joined when the next
    starts within ``keep_warm_between_sessions_hours`` of the one before's end."""
    sessions = sorted(req.sessions, key=lambda x: x.start) or (
        [Session(req.start, req.end)] if req.start is not None and req.end is not None
        else [])
    gap = timedelta(hours=config.prewarm.keep_warm_between_sessions_hours)
    out: list[Session] = []
    for session in sessions:
        if out and session.start - out[-1].end < gap:
            out[-1] = Session(out[-1].start, max(out[-1].end, session.end))
        else:
            out.append(session)
    return tuple(out)


def _upcoming(periods: Sequence[Session], now: datetime) -> Session | None:
    """The period going on or next (None once the last one ended)."""
    return next((p for p in periods if now < p.end), None)


def _moved_away(prewarmed: DispatchRecord, periods: Sequence[Session],
                upcoming: Session | None, lead_time_hours: float, now: datetime) -> bool:
    """Nodes readied for a start that is no longer the event's (nor one of its sessions'),
    and the next one is not due for pre-warming yet."""
    if prewarmed.for_start is None or upcoming is None:
        return False
    if any(prewarmed.for_start == iso(p.start) for p in periods):
        return False
    return now < upcoming.start - timedelta(hours=lead_time_hours)


def _scale_down_at(prewarmed: DispatchRecord, periods: Sequence[Session], after: timedelta,
                   now: datetime) -> datetime | None:
    """After the end of the period the nodes were readied for (or the one going on)."""
    readied = next((p for p in periods if iso(p.start) == prewarmed.for_start), None)
    period = readied or _upcoming(periods, now) or (periods[-1] if periods else None)
    return period.end + after if period is not None else None


def _follow_runs(b: Builder, triage: Triage, config: Config) -> None:
    """A run still going: the scheduler comes back soon. A run that failed: the engineers
    are told at once, once (``run-failed:KIND@AT``)."""
    for record in triage.state.dispatches:
        if record.ok and record.run == runs.QUEUED:
            b.later(b.now + runs.POLL_EVERY)
        elif runs.failed(record):
            key = f"{RUN_FAILED}:{record.kind}@{record.at}"
            if key not in b.sent:
                b.mark(key)
                if record.kind == PREWARM:  # this says what the item's reminder would
                    b.mark(reminder_key(PREWARM))
                b.notes.append(run_failed_text(record, triage, config))


def dispatches(b: Builder, issue: IssueSnapshot, triage: Triage, config: Config,
                usable: bool) -> None:
    if not config.prewarm.enabled or triage.request is None:
        return
    _follow_runs(b, triage, config)
    req = triage.request
    state = triage.state
    cfg = config.prewarm
    cancelled = state.cancelled_by is not None
    prewarmed = last_ok_prewarm(state)
    periods = warm_periods(req, config)
    upcoming = _upcoming(periods, b.now)
    if prewarmed is not None:
        at: datetime | None = None
        if cancelled or issue.state != "open":
            at = b.now
        elif _moved_away(prewarmed, periods, upcoming, cfg.lead_time_hours, b.now):
            at = b.now  # the event moved out of the lead time: give the nodes back now
        elif req.end is not None:
            at = _scale_down_at(prewarmed, periods,
                                timedelta(hours=cfg.scale_down_after_hours), b.now)
        if at is not None:
            episode = _episode(state, SCALE_DOWN, None, _last_ok_prewarm_index(state))
            hub = prewarmed.hub or req.hub_host
            keep = _held_by_others(triage, config, max(at, b.now), _others_on(issue, hub))
            _dispatch_due(b, SCALE_DOWN, at, episode,
                          scale_down_dispatch(state, req, config, keep, issue.hub_index),
                          triage, config)
        return
    if (not usable or not triage.confirmed or req.start is None or req.end is None
            or upcoming is None):
        return  # an unconfirmed request waits for a writer's or team lead's /confirm
    if not automatic(req, triage.tier.effective if triage.tier else None, config):
        return  # not sold with this tier or type: a writer's or team lead's /prewarm
    window = upcoming.start - timedelta(hours=cfg.lead_time_hours)
    last = last_ok(state)
    if (last is not None and (parse_time(last.at) or window) >= window
            and (last.kind == PREWARM or last.comment is not None)):
        # Done in this window already: nodes readied, or a person's /prewarm 0. After a
        # scale-down the bot made itself (the request was closed or cancelled, then
        # reopened) the request wants its nodes again.
        return
    episode = _episode(state, PREWARM, window, -1)
    own = triage.sizing.prewarm_nodes if triage.sizing is not None else None
    held = _held_by_others(triage, config, max(window, b.now))
    nodes = held if own is not None and held > own else None  # never fewer than theirs
    planned = prewarm_dispatch(req, triage.sizing, config, nodes, issue.hub_index)
    if isinstance(planned, WorkflowDispatch) and planned.for_start is not None:
        planned = replace(planned, for_start=iso(upcoming.start))  # this period's start
    _dispatch_due(b, PREWARM, window, episode, planned, triage, config)

