"""What time asks of a request: reminders, the summary, pre-warming, follow-up and closing (pure).

``step(issue, triage, ticked, config, now)`` says what is due at ``now`` and
not done yet; ``plan`` calls it on every trigger (webhook, command, tick,
reconciliation), so whichever comes first does it. Each thing done is recorded
in the status comment's state (``sent`` keys, ``dispatches`` records), which is
written in the same sync, so it happens once, across restarts and late
webhooks. ``next_due`` says when the request next needs the scheduler.

Decisions:

- **Reminders**: when an item falls due with its box unticked, one comment
  mentions the assignees and names it (``reminder:ITEM``); items falling due
  at the same time share a comment.
- **No flood on arrival**: the first time a request is usable (key ``armed``:
  its first triage, or when its errors are fixed, or when the bot first meets
  it after being down or newly installed), the items already due are not
  pinged one by one: the status comment marks them overdue and one comment
  lists them, unless the summary is due at that moment (it lists them too) or
  the event is over (the follow-up speaks then).
- **Summary**: ``scheduler.summary_before_hours`` before the start, what is
  still open (``summary``); skipped if the bot only learns of it after the
  start.
- **Follow-up** at the end: the debrief questions (``follow-up``, which also
  puts the ``event: done`` label on); then, with
  ``scheduler.close_when_after_items_ticked``, the issue is closed as completed
  once every after-event item is ticked (``closed``; a request with no
  after-event items is left for people to close, and one the bot closed and a
  person reopened stays open).
- **Pre-warming** (``prewarm.repository`` set): at ``start - lead_time_hours``
  (or at once when the request is confirmed later than that), unless a dispatch
  already succeeded since then (a ``/prewarm`` counts); not after the end; only
  for a confirmed request (``bot.core.confirm``). **Scale-down** of a pre-warmed request at
  ``end + scale_down_after_hours``, or at once when it is cancelled or closed.
  A request whose end cannot be read any more (an edit broke it) keeps its
  nodes until it is fixed, cancelled or closed: scaling a live event down is
  worse than paying for idle nodes a little longer.
- **Dispatch failures**: recorded, reported in one comment per episode, and
  retried every ``DISPATCH_RETRY`` up to ``MAX_DISPATCH_ATTEMPTS`` attempts.
  Refused inputs (see ``bot.core.prewarm``) are reported once and never sent.
- Cancelled requests, closed issues and requests with errors get nothing but
  the scale-down.
- **The event moves** (the form's dates edited, or ``/reschedule``): the start
  people were last told of is kept (``start:ISO``); when it changes, one comment
  tells the representative and the engineers now on call, and the reminders and
  the summary that now lie in the future are re-armed. What was reminded and is
  still overdue is not said again. Nodes readied for the old start are scaled
  down at once when the new one is not yet within the lead time, and readied
  again for it.
- **A tier pending again** (the form now asks for another paid tier): one comment
  asks the team leads (``pending:TIER``); the first status comment mentions them
  itself.
- **A representative named later** (the form edited): told once (``rep:LOGIN``), within
  the caps of ``bot.core.mentions``: a few notices per request, a day apart, a few people each.
- Reminders with nobody assigned (everyone away) go to the team leads.
- The ``prewarm`` item is the bot's own once its dispatch succeeded: its box is
  ticked and nobody is reminded of it.
- **One hub, two events** (``triage.overlaps``, from the shell's index): a
  pre-warm never sets fewer replicas than another confirmed request on the hub
  needs, and a scale-down leaves what it needs instead of zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import mentions, text
from .checklist import ChecklistItem
from .config import Config
from .dates import Zone, format_local, format_utc
from .mentions import NOTICES, REP_NOTICE
from .model import HubBooking, IssueSnapshot, WorkflowDispatch
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
from .status import DispatchRecord, StatusState

if TYPE_CHECKING:
    from .request import EventRequest
    from .triage import Triage

ARMED = "armed"
SUMMARY = "summary"
FOLLOW_UP = "follow-up"
CLOSED = "closed"
START = "start"  # start:ISO, the start the people were last told of
PENDING = "pending"  # pending:TIER, the leads were asked to approve TIER
CONFIRM_ASKED = "confirm-asked"  # a reminder asked the engineers to confirm the request
PREWARM_REFUSED = "prewarm-refused"
SCALE_DOWN_REFUSED = "scale-down-refused"
MAX_DISPATCH_ATTEMPTS = 3
DISPATCH_RETRY = timedelta(minutes=5)


def reminder_key(item_id: str) -> str:
    return f"reminder:{item_id}"


def failure_key(kind: str, first_failure_at: str) -> str:
    return f"dispatch-failed:{kind}@{first_failure_at}"


@dataclass(frozen=True)
class LifecycleStep:
    """What to do now, and when the request next needs the scheduler once it is done."""

    sent: tuple[str, ...] = ()  # keys to add to the state's ``sent``
    unsent: tuple[str, ...] = ()  # keys to take out (reminders re-armed by a move)
    replies: tuple[str, ...] = ()
    dispatches: tuple[WorkflowDispatch, ...] = ()
    close_reason: str | None = None
    next_due: datetime | None = None


@dataclass
class _Builder:
    sent: set[str]
    now: datetime
    keys: list[str] = field(default_factory=list)
    unkeys: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # dispatch reports, after the others
    dispatches: list[WorkflowDispatch] = field(default_factory=list)
    close_reason: str | None = None
    candidates: list[datetime] = field(default_factory=list)

    def mark(self, *keys: str) -> None:
        for key in keys:
            if key not in self.sent:
                self.sent.add(key)
                self.keys.append(key)

    def unmark(self, *keys: str) -> None:
        for key in keys:
            if key in self.sent:
                self.sent.discard(key)
                if key in self.keys:
                    self.keys.remove(key)
                else:
                    self.unkeys.append(key)

    def later(self, at: datetime) -> None:
        self.candidates.append(at)

    def step(self) -> LifecycleStep:
        return LifecycleStep(
            sent=tuple(self.keys), unsent=tuple(self.unkeys),
            replies=(*self.replies, *self.notes),
            dispatches=tuple(self.dispatches), close_reason=self.close_reason,
            next_due=min(self.candidates, default=None),
        )


def _when(dt: datetime, zone: Zone | None) -> str:
    utc = format_utc(dt)
    if zone is None or zone.label in ("UTC", "Etc/UTC", "+00:00"):
        return utc
    return f"{utc} ({format_local(dt, zone)})"


def _people(logins: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(text.mention(x) for x in logins))


def _named(triage: Triage) -> tuple[str, ...]:
    """The community representatives the form names."""
    req = triage.request
    if req is None:
        return ()
    return req.community_reps or ((req.community_rep,) if req.community_rep else ())


def _reps(triage: Triage) -> tuple[str, ...]:
    """The representatives a comment mentions: those the bot told, a few at most (one
    named since waits for its notice)."""
    return mentions.mentioned(_named(triage), triage.state.sent)


def _engineers(triage: Triage, config: Config) -> str:
    """Who a reminder is for: the assignees, else the team leads (someone must act)."""
    assigned = _people(triage.assignees)
    if assigned:
        return assigned
    leads = _people(config.team_leads)
    return f"{leads} (no engineer is assigned yet)" if leads else "(no engineer is assigned yet)"


def _item_lines(items: Sequence[ChecklistItem], zone: Zone | None,
                flag_overdue_at: datetime | None = None) -> list[str]:
    """One line per item; config text, so shown as written (on one line)."""
    lines = []
    for item in items:
        late = (" — ⏰ overdue" if flag_overdue_at is not None and item.due < flag_overdue_at
                else "")
        lines.append(f"- {text.plain(item.text)} (due {_when(item.due, zone)}){late}")
    return lines


def _owners(items: Sequence[ChecklistItem], triage: Triage, config: Config) -> str:
    """Who the items are for: the representative first for the community's own items,
    and the engineers (who support them) always."""
    reps = _reps(triage) if any(i.owner == "community" for i in items) else ()
    return " ".join(x for x in (_people(reps), _engineers(triage, config)) if x)


def reminder_text(items: Sequence[ChecklistItem], triage: Triage, config: Config) -> str:
    zone = triage.request.zone if triage.request else None
    head = ("⏰ **Reminder:** this checklist item is due" if len(items) == 1 else
            "⏰ **Reminder:** these checklist items are due")
    return "\n".join([f"{head} — {_owners(items, triage, config)}", "",
                      *_item_lines(items, zone), "",
                      "Tick the box in the status comment once it is done."])


def catch_up_text(items: Sequence[ChecklistItem], triage: Triage, config: Config) -> str:
    zone = triage.request.zone if triage.request else None
    return "\n".join([
        f"⏰ **Already due:** {_engineers(triage, config)}, these checklist items were due "
        "before "
        "this request could be scheduled:", "",
        *_item_lines(items, zone), "",
        "Tick each box in the status comment once it is done; the items due later get a "
        "reminder each.",
    ])


def summary_text(open_items: Sequence[ChecklistItem], triage: Triage, config: Config,
                 now: datetime) -> str:
    req = triage.request
    zone = req.zone if req else None
    start = _when(req.start, zone) if req and req.start else "soon"
    hours = config.scheduler.summary_before_hours
    head = f"📋 **The event starts in {hours:g} hours** ({start})."
    if not open_items:
        return f"{head} Everything on the checklist before the event is done. ✅"
    return "\n".join([f"{head} {_engineers(triage, config)}, still open:", "",
                      *_item_lines(open_items, zone, flag_overdue_at=now)])


def follow_up_text(triage: Triage, config: Config, after_items: Sequence[ChecklistItem]
                   ) -> str:
    people = _people([*_reps(triage), *triage.assignees])
    lines = [f"🎉 **The event is over.** {people}".rstrip(), ""]
    if config.debrief_questions:
        lines += ["A few questions for the debrief; please answer in a comment here:", ""]
        lines += [f"{i}. {text.plain(q, 300)}" for i, q in
                  enumerate(config.debrief_questions, 1)]
        lines.append("")
    if after_items and config.scheduler.close_when_after_items_ticked:
        names = "; ".join(text.plain(i.text, 80) for i in after_items)
        lines.append(f"This issue closes by itself once the after-event items are ticked "
                     f"({names}).")
    return "\n".join(lines).rstrip()


def _failure_text(kind: str, record: DispatchRecord, triage: Triage, config: Config
                  ) -> str:
    what = "Pre-warming" if kind == PREWARM else "Scaling down"
    cfg = config.prewarm
    return (f"❌ **{what} failed:** {text.inline(record.error, 200)}. The bot tries again "
            f"(up to {MAX_DISPATCH_ATTEMPTS} attempts in all, every "
            f"{int(DISPATCH_RETRY.total_seconds() // 60)} minutes); the status comment shows "
            f"the outcome. {_engineers(triage, config)}, check the workflow "
            f"`{cfg.repository}/{cfg.workflow}` or scale by hand.")


def _refused_text(kind: str, refusal: Refusal, triage: Triage, config: Config) -> str:
    what = "Pre-warming was not started" if kind == PREWARM else "Scale-down was not started"
    return (f"⚠️ **{what}:** {refusal.reason}. {_engineers(triage, config)}, please scale "
            "the cluster by hand.")


def moved_text(triage: Triage, config: Config) -> str:
    """The event moved: the people who plan around it are told once (an edit of the status
    comment notifies nobody)."""
    req = triage.request
    zone = req.zone if req else None
    when = _when(req.start, zone) if req and req.start else "a new time"
    people = _people([*_reps(triage), *triage.assignees]) or _engineers(triage, config)
    return (f"📅 **The event moved** to {when}. {people}: the due dates in the status "
            "comment moved with it, and the reminders still to come are set for them.")


def pending_text(triage: Triage, config: Config) -> str:
    tier = triage.tier
    asked = text.code(tier.requested or "") if tier else "a paid"
    leads = _people(config.team_leads) or "Team leads"
    return (f"💳 {leads}: this request now asks for the {asked} tier, which needs a team "
            "lead's approval: `/approve-tier` or `/decline-tier [REASON]`.")


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


def _dispatch_due(b: _Builder, kind: str, at: datetime, episode: list[DispatchRecord],
                  plan: WorkflowDispatch | Refusal, triage: Triage, config: Config) -> None:
    failures = [r for r in episode if not r.ok]
    if failures and failure_key(kind, failures[0].at) not in b.sent:
        b.mark(failure_key(kind, failures[0].at))
        b.notes.append(_failure_text(kind, failures[-1], triage, config))
    if len(failures) >= MAX_DISPATCH_ATTEMPTS:
        return  # given up; the failure comment asked people to act
    last = parse_time(failures[-1].at) if failures else None
    when = max(at, last + DISPATCH_RETRY) if last is not None else at
    if when > b.now:
        b.later(when)
        return
    if isinstance(plan, Refusal):
        key = PREWARM_REFUSED if kind == PREWARM else SCALE_DOWN_REFUSED
        if key not in b.sent:
            b.mark(key)
            b.notes.append(_refused_text(kind, plan, triage, config))
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


def _moved_away(prewarmed: DispatchRecord, req: EventRequest, lead_time_hours: float,
                now: datetime) -> bool:
    """Nodes readied for another start, and the new one is not due for pre-warming yet."""
    if prewarmed.for_start is None or req.start is None:
        return False
    if prewarmed.for_start == iso(req.start):
        return False
    return now < req.start - timedelta(hours=lead_time_hours)


def _dispatches(b: _Builder, issue: IssueSnapshot, triage: Triage, config: Config,
                usable: bool) -> None:
    if not config.prewarm.enabled or triage.request is None:
        return
    req = triage.request
    state = triage.state
    cfg = config.prewarm
    cancelled = state.cancelled_by is not None
    prewarmed = last_ok_prewarm(state)
    if prewarmed is not None:
        at: datetime | None = None
        if cancelled or issue.state != "open":
            at = b.now
        elif _moved_away(prewarmed, req, cfg.lead_time_hours, b.now):
            at = b.now  # the event moved out of the lead time: give the nodes back now
        elif req.end is not None:
            at = req.end + timedelta(hours=cfg.scale_down_after_hours)
        if at is not None:
            episode = _episode(state, SCALE_DOWN, None, _last_ok_prewarm_index(state))
            hub = prewarmed.hub or req.hub_host
            keep = _held_by_others(triage, config, max(at, b.now), _others_on(issue, hub))
            _dispatch_due(b, SCALE_DOWN, at, episode,
                          scale_down_dispatch(state, req, config, keep), triage, config)
        return
    if (not usable or not triage.confirmed or req.start is None or req.end is None
            or b.now >= req.end):
        return  # an unconfirmed request waits for a writer's or team lead's /confirm
    window = req.start - timedelta(hours=cfg.lead_time_hours)
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
    _dispatch_due(b, PREWARM, window, episode,
                  prewarm_dispatch(req, triage.sizing, config, nodes), triage, config)


def _pending_notice(b: _Builder, triage: Triage, config: Config, first_comment: bool
                    ) -> None:
    """A tier that is pending again (the form now asks for another): the leads are told."""
    tier = triage.tier
    if tier is None or tier.status != "pending" or not tier.requested:
        return
    key = f"{PENDING}:{tier.requested}"
    if key not in b.sent:
        b.mark(key)
        if not first_comment:  # the first status comment mentions the leads itself
            b.replies.append(pending_text(triage, config))


def _rep_notice(b: _Builder, triage: Triage, first_comment: bool) -> None:
    """A representative named after the first status comment is told by a notice (an edit
    of the comment's cc line notifies nobody), within the caps of ``bot.core.mentions``."""
    named = _named(triage)
    current = {mentions.rep_key(r) for r in named}
    b.unmark(*(k for k in b.sent if mentions.is_rep_key(k) and k not in current))
    new = [r for r in named if mentions.rep_key(r) not in b.sent]
    if not new:
        return
    if first_comment:  # the first status comment mentions them itself
        b.mark(*(mentions.rep_key(r) for r in new[:mentions.MAX_MENTIONS]))
        return
    notices = sorted(k for k in b.sent if k.startswith(f"{REP_NOTICE}:"))
    if len(notices) >= mentions.MAX_REP_NOTICES:
        return  # the status comment names them, unpinged
    last = parse_time(notices[-1].partition(":")[2]) if notices else None
    if last is not None and b.now < last + mentions.REP_NOTICE_COOL_DOWN:
        b.later(last + mentions.REP_NOTICE_COOL_DOWN)
        return
    told = new[:mentions.MAX_MENTIONS]
    b.mark(f"{REP_NOTICE}:{iso(b.now)}", *(mentions.rep_key(r) for r in told))
    b.replies.append(f"👋 {_people(told)}: you are named as the community representative "
                     "for this event. The status comment above has the plan, the "
                     "checklist and its due dates; the engineers on call will work with "
                     "you here.")


def _ask_confirm(b: _Builder, triage: Triage, config: Config) -> str:
    """The first reminder to the engineers also asks them to confirm, while that awaits."""
    if not config.prewarm.enabled or triage.confirmed or CONFIRM_ASKED in b.sent:
        return ""
    b.mark(CONFIRM_ASKED)
    return ("\n\nThis request also **awaits confirmation**: check its hub, dates and "
            "attendees, then comment `/confirm` (writers and team leads); nothing is "
            "pre-warmed until then.")


def _move(b: _Builder, triage: Triage, ticked: frozenset[str], config: Config,
          start: datetime, summary_at: datetime) -> None:
    """The start the people were last told of (``start:ISO``); when it changes, say so once,
    and re-arm the reminders and the summary that now lie in the future."""
    key = f"{START}:{iso(start)}"
    if key in b.sent:
        return
    told = [k for k in b.sent if k.startswith(f"{START}:")]
    b.mark(key)
    b.unmark(*told)
    if not told:
        return  # the first start the bot knows of: nothing moved
    future = [i for i in triage.checklist if i.id not in ticked and i.due > b.now]
    b.unmark(*(reminder_key(i.id) for i in future))
    if summary_at > b.now:
        b.unmark(SUMMARY)
    b.replies.append(moved_text(triage, config))


def _decide(issue: IssueSnapshot, triage: Triage, ticked: frozenset[str], config: Config,
            now: datetime, first_comment: bool = False) -> LifecycleStep:
    req = triage.request
    if req is None:
        return LifecycleStep()
    state = triage.state
    b = _Builder(sent=set(state.sent), now=now)
    live = issue.state == "open" and state.cancelled_by is None
    usable = (live and not triage.errors and req.start is not None and req.end is not None)
    if live:
        # A state written before the bot tracked these notices (no NOTICES key) learns the
        # current tier and representatives quietly: they were told in its first comment.
        quiet = first_comment or NOTICES not in b.sent
        b.mark(NOTICES)
        _pending_notice(b, triage, config, quiet)
        _rep_notice(b, triage, quiet)
    _dispatches(b, issue, triage, config, usable)
    if not usable or req.start is None or req.end is None:
        return b.step()
    start, end = req.start, req.end
    items = triage.checklist
    summary_at = start - timedelta(hours=config.scheduler.summary_before_hours)
    _move(b, triage, ticked, config, start, summary_at)
    summary_now = SUMMARY not in b.sent and summary_at <= now < start

    if ARMED not in b.sent:
        b.mark(ARMED)
        overdue = [i for i in items if i.due <= now and reminder_key(i.id) not in b.sent]
        b.mark(*(reminder_key(i.id) for i in overdue))
        still_open = [i for i in overdue if i.id not in ticked]
        if still_open and not summary_now and now < end:
            b.replies.append(catch_up_text(still_open, triage, config) + _ask_confirm(b, triage,
                                                                                  config))

    waiting = [i for i in items if reminder_key(i.id) not in b.sent and i.id not in ticked]
    due_now = [i for i in waiting if i.due <= now]
    if due_now:
        b.mark(*(reminder_key(i.id) for i in due_now))
        b.replies.append(reminder_text(due_now, triage, config) + _ask_confirm(b, triage,
                                                                               config))
    for item in waiting:
        if item.due > now:
            b.later(item.due)

    if SUMMARY not in b.sent and now < start:
        if summary_at <= now:
            b.mark(SUMMARY)
            open_items = [i for i in items if not i.after_event and i.id not in ticked]
            b.replies.append(summary_text(open_items, triage, config, now))
        else:
            b.later(summary_at)

    after_items = [i for i in items if i.after_event]
    if FOLLOW_UP not in b.sent:
        if now >= end:
            b.mark(FOLLOW_UP)
            b.replies.append(follow_up_text(triage, config, after_items))
        else:
            b.later(end)
    if (FOLLOW_UP in b.sent and CLOSED not in b.sent
            and config.scheduler.close_when_after_items_ticked
            and after_items and all(i.id in ticked for i in after_items)):
        b.mark(CLOSED)
        b.close_reason = "completed"
    return b.step()


def step(issue: IssueSnapshot, triage: Triage, ticked: frozenset[str], config: Config,
         now: datetime, first_comment: bool = False) -> LifecycleStep:
    """What is due at ``now`` and not done yet (see the module's docstring for the rules).

    ``first_comment``: the plan posts the first status comment, which itself mentions the
    people a notice would (the leads for a pending tier)."""
    return _decide(issue, triage, ticked, config, now, first_comment)


def next_due(issue: IssueSnapshot, triage: Triage, ticked: frozenset[str], config: Config,
             now: datetime) -> datetime | None:
    """When this request next needs the scheduler: at or before ``now`` if something is due.

    ``None`` when only people can move it on (ticking boxes, fixing the form); their edit
    or the periodic reconciliation syncs it then.
    """
    due = _decide(issue, triage, ticked, config, now)
    if due.sent or due.dispatches or due.close_reason:
        return now
    return due.next_due
