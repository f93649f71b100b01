"""The status comment's markdown, rendered from a triage (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from . import mentions, text
from .checklist import ChecklistItem
from .config import Config
from .confirm import is_confirmed
from .dates import Zone, format_local, format_utc
from .forms import FormTemplate, parse_form_body
from .model import IssueSnapshot
from .oncall import OnCallPick
from .prewarm_status import automatic, hub_line, run_text
from .request import EventRequest, FieldError, field_label
from .sizing import Sizing
from .status import MARKER, Approval, Decline, StatusState, state_block

_PIPE_RE = re.compile(r"\\*\|")
_BARE_PIPE_RE = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class TierView:
    requested: str | None  # the tier asked for in the form
    effective: str | None  # the tier the request goes on at (None while pending)
    status: str  # "granted" (no approval needed), "pending", "approved", "declined", "unknown"
    approval: Approval | None = None
    decline: Decline | None = None


@dataclass(frozen=True)
class StatusView:
    issue: IssueSnapshot
    request: EventRequest
    tier: TierView
    sizing: Sizing | None
    pick: OnCallPick | None
    assignees: tuple[str, ...]
    checklist: tuple[ChecklistItem, ...]
    ticked: frozenset[str]
    errors: tuple[FieldError, ...]
    state: StatusState
    form: FormTemplate
    now: datetime


def _code(value: str | None, limit: int = 120) -> str:
    """People's text as inline code in a table cell.

    GitHub splits a table row at every pipe, even inside code; escaped (and with no
    backslash before it to undo that), a pipe shows as itself.
    """
    return _PIPE_RE.sub(r"\\|", text.code(value, limit))


def _cell(content: str) -> str:
    """A table cell: any pipe still bare (config text, say) is escaped too."""
    return _BARE_PIPE_RE.sub(r"\\|", content)


def _when(dt: datetime | None, zone: Zone | None) -> str:
    if dt is None:
        return "—"
    utc = format_utc(dt)
    if zone is None or zone.label in ("UTC", "Etc/UTC", "+00:00"):
        return utc
    return f"{utc} ({format_local(dt, zone)})"


def _tier_line(tier: TierView, config: Config, unread: str | None = None) -> str:
    """``unread``: the tier answer as written, when it names no tier here."""
    def price(name: str | None) -> str:
        t = config.tiers.get(name or "")
        if t is None or not t.price_usd:
            return ""
        return f" (${t.price_usd:,.0f})"

    if tier.status == "pending":
        leads = ", ".join(text.mention(x) for x in config.team_leads) or "a team lead"
        return (f"`{tier.requested}`{price(tier.requested)} — ⏳ awaiting approval from "
                f"{leads} (`/approve-tier` or `/decline-tier`)")
    if tier.status == "approved" and tier.approval is not None:
        a = tier.approval
        asked = ""
        if tier.requested and tier.requested != a.tier:
            asked = f" (asked for `{tier.requested}`)"
        return (f"`{a.tier}`{price(a.tier)} — ✅ approved by {text.mention(a.by)} on "
                f"{a.at[:10]}{asked}")
    if tier.status == "declined" and tier.decline is not None:
        d = tier.decline
        reason = f": {text.inline(d.reason, 200)}" if d.reason else ""
        return (f"`{tier.effective}` — `{tier.requested}` was declined by "
                f"{text.mention(d.by)}{reason}")
    if tier.status == "granted":
        return f"`{tier.requested}`{price(tier.requested)} — no approval needed"
    if unread:
        return f"unknown tier {_code(unread, 60)} — see the problems above"
    return "— (not given yet)"


def _unread_tier(view: StatusView) -> str | None:
    """The Support tier answer as written, when one was given but could not be read."""
    if not any(e.field == "tier" for e in view.errors):
        return None  # the common case: no second parse of the body
    raw = parse_form_body(view.issue.body, view.form).get("tier")
    return raw.strip() if raw and raw.strip() else None


def _attendees(count: int | None) -> str:
    return "—" if count is None else f"{count} at the peak"


def _memory(s: Sizing, written: str | None) -> str:
    """Memory per user in the unit the person wrote, and how it was read when that differs."""
    read = f"{s.memory_per_user_gib:g} GiB"
    if written is None or written.endswith(" GiB"):
        return f"{read} each"
    return f"{written} each, read as {read}"  # GB (and G, MB) are read as GiB, MiB


def _sizing_line(s: Sizing | None, req: EventRequest, config: Config) -> str:
    if s is None:
        return "—"
    line = (f"{s.nodes} × {_code(s.node_type)} at the peak ({s.users_per_node} users a node, "
            f"{_memory(s, req.memory_written)}); pre-warm {s.prewarm_nodes} "
            f"node{'s' if s.prewarm_nodes != 1 else ''}")
    if s.arithmetic:
        line += f" ({s.arithmetic})"
    prewarm = config.prewarm
    if prewarm.enabled and s.prewarm_nodes > prewarm.max_nodes:
        # Said now, not only when the pre-warm is refused hours before the start.
        line += (f" — ⚠️ more than the bot may pre-warm ({prewarm.max_nodes}); an engineer "
                 "scales by hand")
    return line


def _sessions_line(req: EventRequest) -> str:
    """``3 days, 09:00–13:00 America/Los_Angeles each day``."""
    daily, count = req.daily_hours, len(req.sessions)
    if daily is None:
        return "—"
    zone = daily.zone.abbreviation or daily.zone.label
    return (f"{count} day{'s' if count != 1 else ''}, {daily.start:%H:%M}–{daily.end:%H:%M} "
            f"{zone} each day")


def _engineers_line(view: StatusView) -> str:
    names = ", ".join(text.mention(a) for a in view.assignees) or "nobody yet"
    pick = view.pick
    if pick is not None and pick.short:
        free, wanted = len(pick.engineers), pick.wanted
        if free == 0:
            short = ("no engineer is free" if wanted == 1 else
                     f"none of the {wanted} engineers wanted is free")
        else:
            verb = "is" if free == 1 else "are"
            short = f"only {free} of the {wanted} engineers wanted {verb} free"
        names += f" — ⚠️ {short} during the event"
    return names


def _zone_note(req: EventRequest, form: FormTemplate) -> str:
    zone = req.zone
    if zone is None or (req.start is None and req.end is None):
        return ""  # no time was read in any zone
    field = text.inline(field_label(form, "timezone"), 60)
    if zone.source == "default":
        return (f"_Times were read in `{zone.label}`, the default zone, because the form gives "
                f"none; set the “{field}” field if that is wrong._")
    if zone.source == "field":
        return f"_Times were read in `{zone.label}`, from the “{field}” field._"
    return f"_Times were read in `{zone.label}`, as written in the dates._"


def _finished(view: StatusView, config: Config) -> bool:
    """Closed, cancelled or done: nothing on it can be late any more."""
    done = config.labels.done.lower()
    return (view.issue.state == "closed" or view.state.cancelled_by is not None
            or "follow-up" in view.state.sent  # what puts the done label on
            or any(label.lower() == done for label in view.issue.labels))


def _checklist(view: StatusView, config: Config) -> list[str]:
    items = view.checklist
    if not items:
        return []
    done = sum(1 for i in items if i.id in view.ticked)
    zone = view.request.zone
    lines = [f"#### Checklist ({done}/{len(items)} done)", ""]
    flag_overdue = not _finished(view, config)
    for item in items:
        box = "x" if item.id in view.ticked else " "
        late = flag_overdue and box == " " and item.due <= view.now
        overdue = " ⏰ **overdue**" if late else ""
        how = (" (not by itself for this request: a writer or team lead comments "
               "`/prewarm`)" if item.id == "prewarm" and config.prewarm.enabled
               and not automatic(view.request, view.tier.effective, config) else "")
        lines.append(f"- [{box}] {text.plain(item.text)}{how} — due {_when(item.due, zone)}"
                     f"{overdue} <!-- item:{item.id} -->")
    return lines


def _confirmation_line(view: StatusView) -> str:
    """Whether infrastructure may follow this request, and who said so."""
    c = view.state.confirmation
    if c is not None and is_confirmed(view.request, view.state):
        return f"✅ by {text.code('@' + c.by, 41)} ({c.at[:16].replace('T', ' ')} UTC)"
    again = " again (the hub, dates or attendees changed)" if c is not None else ""
    return (f"⏳ awaiting confirmation{again}: an engineer with write access checks the hub, "
            "dates and attendees and comments `/confirm`; nothing is pre-warmed until then")


def render_status(view: StatusView, config: Config) -> str:
    req = view.request
    title = (text.code(req.event_name or view.issue.title, 100)
             or f"#{view.issue.number}")  # a stranger's words: inline code, inert
    lines = [MARKER, f"### Event support: {title}", ""]
    if view.state.cancelled_by:
        lines += [f"🚫 **Cancelled** by {text.mention(view.state.cancelled_by)}; reminders and "
                  "pre-warming are off.", ""]
    if view.errors:
        lines += ["⚠️ **This request needs a few more details before it can be scheduled.** "
                  "Edit the issue to fix them; this comment updates by itself.", ""]
        for err in view.errors:
            label = text.inline(field_label(view.form, err.field), 80)
            lines.append(f"- **{label}**: {err.message}")
        lines.append("")
    elif req.short_notice:
        lines += [f"⚠️ **Short notice:** the event starts less than {config.notice_days} days "
                  "after this request was opened; some checklist items are already due.", ""]
    rows = [
        ("Hub", _code(req.hub_url or req.hub_host) or "—"),
        ("Type", req.event_type),
        ("Starts", _when(req.start, req.zone)),
        ("Ends", _when(req.end, req.zone)),
        *([("Sessions", _sessions_line(req))] if req.daily_hours and req.sessions else []),
        ("Attendees", _attendees(req.attendees)),
        ("Tier", _tier_line(view.tier, config, _unread_tier(view))),
        ("Engineers", _engineers_line(view)),
        ("Sizing", _sizing_line(view.sizing, req, config)),
    ]
    if config.prewarm.enabled:
        rows.append(("Confirmed", _confirmation_line(view)))
        rows.append(("Pre-warming", hub_line(req, config, view.issue.hub_index,
                                             view.tier.effective)))
    for rec in view.state.dispatches[-3:]:
        verb = "Pre-warmed" if rec.kind == "prewarm" else "Scaled down"
        ok = "" if rec.ok else f" — ❌ failed: {text.inline(rec.error, 120)}"
        inputs = ", ".join(f"{text.inline(k, 40)}={text.inline(v, 40)}"
                           for k, v in sorted(rec.inputs.items())[:8])  # a row, not a page
        rows.append((verb, f"{rec.at[:16].replace('T', ' ')} UTC ({inputs}){ok}"
                               f"{run_text(rec)}"))
    lines += ["| | |", "|---|---|", *(f"| **{name}** | {_cell(value)} |" for name, value in rows)]
    lines.append("")
    note = _zone_note(req, view.form)
    if note:
        lines += [note, ""]
    for warning in req.notes:  # built to be shown: what people wrote is quoted as code
        lines += [f"ℹ️ {' '.join(warning.split())}", ""]
    checklist = _checklist(view, config)
    if checklist:
        lines += checklist + [""]
    pinged = mentions.mentioned(req.community_reps, view.state.sent)
    cc = [text.mention(rep) for rep in pinged]
    if view.tier.status == "pending":
        cc += [text.mention(x) for x in config.team_leads]
    if cc:
        lines += ["cc " + " ".join(dict.fromkeys(cc)), ""]
    unpinged = [r for r in req.community_reps if r not in pinged]
    if unpinged:
        many = "s" if len(unpinged) > 1 else ""
        lines += [f"Also named as community representative{many}, not notified by the bot: "
                  f"{mentions.inert(unpinged)} (it pings at most {mentions.MAX_MENTIONS} "
                  f"people a comment, and new ones at most {mentions.MAX_REP_NOTICES} times, "
                  "a day apart).", ""]
    help_line = "Type `/help` in a comment for the commands"
    if config.policy_url:
        help_line += f"; the support policy is at {config.policy_url}"
    lines.append(f"<sub>{help_line}.</sub>")
    lines.append(state_block(view.state))
    return "\n".join(lines)
