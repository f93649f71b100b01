"""The texts the lifecycle posts: reminders, the summary, the follow-up, dispatch reports,
a moved event and a pending tier (pure; ``bot.core.lifecycle`` decides when)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from . import mentions, text
from .checklist import ChecklistItem
from .config import Config
from .dates import Zone, format_local, format_utc
from .lifecycle_step import DISPATCH_RETRY, MAX_DISPATCH_ATTEMPTS
from .prewarm import PREWARM, Refusal
from .status import DispatchRecord

if TYPE_CHECKING:
    from .triage import Triage


def when(dt: datetime, zone: Zone | None) -> str:
    utc = format_utc(dt)
    if zone is None or zone.label in ("UTC", "Etc/UTC", "+00:00"):
        return utc
    return f"{utc} ({format_local(dt, zone)})"


def people(logins: Iterable[str]) -> str:
    return " ".join(dict.fromkeys(text.mention(x) for x in logins))


def named(triage: Triage) -> tuple[str, ...]:
    """The community representatives the form names."""
    req = triage.request
    if req is None:
        return ()
    return req.community_reps or ((req.community_rep,) if req.community_rep else ())


def reps(triage: Triage) -> tuple[str, ...]:
    """The representatives a comment mentions: those the bot told, a few at most (one
    named since waits for its notice)."""
    return mentions.mentioned(named(triage), triage.state.sent)


def engineers(triage: Triage, config: Config) -> str:
    """Who a reminder is for: the assignees, else the team leads (someone must act)."""
    assigned = people(triage.assignees)
    if assigned:
        return assigned
    leads = people(config.team_leads)
    return f"{leads} (no engineer is assigned yet)" if leads else "(no engineer is assigned yet)"


def _item_lines(items: Sequence[ChecklistItem], zone: Zone | None,
                flag_overdue_at: datetime | None = None) -> list[str]:
    """One line per item; config text, so shown as written (on one line)."""
    lines = []
    for item in items:
        late = (" — ⏰ overdue" if flag_overdue_at is not None and item.due < flag_overdue_at
                else "")
        lines.append(f"- {text.plain(item.text)} (due {when(item.due, zone)}){late}")
    return lines


def _owners(items: Sequence[ChecklistItem], triage: Triage, config: Config) -> str:
    """Who the items are for: the representative first for the community's own items,
    and the engineers (who support them) always."""
    told = reps(triage) if any(i.owner == "community" for i in items) else ()
    return " ".join(x for x in (people(told), engineers(triage, config)) if x)


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
        f"⏰ **Already due:** {engineers(triage, config)}, these checklist items were due "
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
    start = when(req.start, zone) if req and req.start else "soon"
    hours = config.scheduler.summary_before_hours
    head = f"📋 **The event starts in {hours:g} hours** ({start})."
    if not open_items:
        return f"{head} Everything on the checklist before the event is done. ✅"
    return "\n".join([f"{head} {engineers(triage, config)}, still open:", "",
                      *_item_lines(open_items, zone, flag_overdue_at=now)])


def follow_up_text(triage: Triage, config: Config, after_items: Sequence[ChecklistItem]
                   ) -> str:
    who = people([*reps(triage), *triage.assignees])
    lines = [f"🎉 **The event is over.** {who}".rstrip(), ""]
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


def failure_text(kind: str, record: DispatchRecord, triage: Triage, config: Config
                  ) -> str:
    what = "Pre-warming" if kind == PREWARM else "Scaling down"
    cfg = config.prewarm
    return (f"❌ **{what} failed:** {text.inline(record.error, 200)}. The bot tries again "
            f"(up to {MAX_DISPATCH_ATTEMPTS} attempts in all, every "
            f"{int(DISPATCH_RETRY.total_seconds() // 60)} minutes); the status comment shows "
            f"the outcome. {engineers(triage, config)}, check the workflow "
            f"`{cfg.repository}/{cfg.workflow}` or scale by hand.")


def refused_text(kind: str, refusal: Refusal, triage: Triage, config: Config) -> str:
    what = "Pre-warming was not started" if kind == PREWARM else "Scale-down was not started"
    return (f"⚠️ **{what}:** {refusal.reason}. {engineers(triage, config)}, please scale "
            "the cluster by hand.")


def run_failed_text(record: DispatchRecord, triage: Triage, config: Config) -> str:
    """A dispatched workflow run that did not succeed: said at once, to the engineers."""
    what = "pre-warming" if record.kind == PREWARM else "scale-down"
    cfg = config.prewarm
    run = (f"[run {record.run_id}]({record.run_url})" if record.run_id and record.run_url
           else f"run {record.run_id}" if record.run_id else "its run")
    outcome = ("was not found" if record.run == "not found"
               else f"ended `{text.inline(record.run, 30)}`")
    return (f"❌ **The {what} workflow did not succeed:** {run} of "
            f"`{cfg.repository}/{cfg.workflow}` {outcome}. {engineers(triage, config)}, "
            "please look at the run and scale the hub by hand, or `/prewarm` again.")


def moved_text(triage: Triage, config: Config) -> str:
    """The event moved: the people who plan around it are told once (an edit of the status
    comment notifies nobody)."""
    req = triage.request
    zone = req.zone if req else None
    moved_to = when(req.start, zone) if req and req.start else "a new time"
    who = people([*reps(triage), *triage.assignees]) or engineers(triage, config)
    return (f"📅 **The event moved** to {moved_to}. {who}: the due dates in the status "
            "comment moved with it, and the reminders still to come are set for them.")


def pending_text(triage: Triage, config: Config) -> str:
    tier = triage.tier
    asked = text.code(tier.requested or "") if tier else "a paid"
    leads = people(config.team_leads) or "Team leads"
    return (f"💳 {leads}: this request now asks for the {asked} tier, which needs a team "
            "lead's approval: `/approve-tier` or `/decline-tier [REASON]`.")

