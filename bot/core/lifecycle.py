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
- **Sessions** (a multi-day event with daily hours, ``EventRequest.sessions``): each
  warm period (sessions closer than ``prewarm.keep_warm_between_sessions_hours`` are
  one) is pre-warmed before its start and scaled down after its end, as above.
- **What a team sells** (``prewarm.for_tiers`` / ``for_event_types``): other requests
  are pre-warmed only by a writer's or team lead's ``/prewarm``; their scale-down follows.
- **The run a dispatch started** (``bot.core.runs``): while it goes on the scheduler
  comes back every ``POLL_EVERY``; one that fails (or is never found) is said to the
  engineers at once, once (``run-failed:KIND@AT``); the ``prewarm`` item is the bot's
  only once its run succeeded.
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

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import mentions
from .config import Config
from .dispatch_due import dispatches
from .lifecycle_step import (
    ARMED,
    CLOSED,
    CONFIRM_ASKED,
    DISPATCH_RETRY,
    FOLLOW_UP,
    MAX_DISPATCH_ATTEMPTS,
    PENDING,
    PREWARM_REFUSED,
    SCALE_DOWN_REFUSED,
    START,
    SUMMARY,
    Builder,
    LifecycleStep,
    failure_key,
    reminder_key,
)
from .mentions import NOTICES, REP_NOTICE
from .model import IssueSnapshot
from .notices import (
    catch_up_text,
    follow_up_text,
    moved_text,
    named,
    pending_text,
    people,
    reminder_text,
    summary_text,
)
from .prewarm import in_progress, iso, parse_time

if TYPE_CHECKING:
    from .triage import Triage

__all__ = [
    "ARMED", "CLOSED", "CONFIRM_ASKED", "DISPATCH_RETRY", "FOLLOW_UP", "MAX_DISPATCH_ATTEMPTS",
    "PENDING", "PREWARM_REFUSED", "SCALE_DOWN_REFUSED", "START", "SUMMARY", "LifecycleStep",
    "catch_up_text", "failure_key", "follow_up_text", "moved_text", "next_due", "pending_text",
    "reminder_key", "reminder_text", "step", "summary_text",
]


def _pending_notice(b: Builder, triage: Triage, config: Config, first_comment: bool
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


def _rep_notice(b: Builder, triage: Triage, first_comment: bool) -> None:
    """A representative named after the first status comment is told by a notice (an edit
    of the comment's cc line notifies nobody), within the caps of ``bot.core.mentions``."""
    names = named(triage)
    current = {mentions.rep_key(r) for r in names}
    b.unmark(*(k for k in b.sent if mentions.is_rep_key(k) and k not in current))
    new = [r for r in names if mentions.rep_key(r) not in b.sent]
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
    b.replies.append(f"👋 {people(told)}: you are named as the community representative "
                     "for this event. The status comment above has the plan, the "
                     "checklist and its due dates; the engineers on call will work with "
                     "you here.")


def _ask_confirm(b: Builder, triage: Triage, config: Config) -> str:
    """The first reminder to the engineers also asks them to confirm, while that awaits."""
    if not config.prewarm.enabled or triage.confirmed or CONFIRM_ASKED in b.sent:
        return ""
    b.mark(CONFIRM_ASKED)
    return ("\n\nThis request also **awaits confirmation**: check its hub, dates and "
            "attendees, then comment `/confirm` (writers and team leads); nothing is "
            "pre-warmed until then.")


def _move(b: Builder, triage: Triage, ticked: frozenset[str], config: Config,
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
    b = Builder(sent=set(state.sent), now=now)
    live = issue.state == "open" and state.cancelled_by is None
    usable = (live and not triage.errors and req.start is not None and req.end is not None)
    if live:
        # A state written before the bot tracked these notices (no NOTICES key) learns the
        # current tier and representatives quietly: they were told in its first comment.
        quiet = first_comment or NOTICES not in b.sent
        b.mark(NOTICES)
        _pending_notice(b, triage, config, quiet)
        _rep_notice(b, triage, quiet)
    dispatches(b, issue, triage, config, usable)
    if not usable or req.start is None or req.end is None:
        return b.step()
    start, end = req.start, req.end
    items = triage.checklist
    summary_at = start - timedelta(hours=config.scheduler.summary_before_hours)
    _move(b, triage, ticked, config, start, summary_at)
    summary_now = SUMMARY not in b.sent and summary_at <= now < start

    busy = in_progress(state, req, config)  # the bot's pre-warm run still going
    if ARMED not in b.sent:
        b.mark(ARMED)
        overdue = [i for i in items if i.due <= now and reminder_key(i.id) not in b.sent]
        b.mark(*(reminder_key(i.id) for i in overdue))
        still_open = [i for i in overdue if i.id not in ticked and i.id not in busy]
        if still_open and not summary_now and now < end:
            b.replies.append(catch_up_text(still_open, triage, config) + _ask_confirm(b, triage,
                                                                                  config))

    waiting = [i for i in items if reminder_key(i.id) not in b.sent and i.id not in ticked
               and i.id not in busy]
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

