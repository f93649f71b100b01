"""What each card of the dashboard says about one request: plain values, no HTML.

Times are shown in UTC with the request's own zone beneath; the tier, the pre-warm
state and the checklist's progress are read from the index entry. The template
(``templates/card.html``) lays a ``Card`` out and escapes every value in it.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..core.config import Config
from ..service.index import IndexEntry

_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


# --- times ---------------------------------------------------------------------


def zone_of(label: str | None) -> tzinfo | None:
    """An IANA name or a ``+05:30`` offset (as the index keeps them) -> a tzinfo."""
    if not label:
        return None
    m = _OFFSET_RE.match(label)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        return timezone(timedelta(minutes=minutes if m.group(1) == "+" else -minutes))
    try:
        return ZoneInfo(label)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def clock_text(dt: datetime) -> str:
    return f"{dt:%H:%M}"


def day_text(dt: datetime) -> str:
    return f"{dt:%a} {dt.day} {dt:%b %Y}"


def _zone_name(dt: datetime) -> str:
    name = dt.tzname() or ""
    if name.isalpha():
        return name
    offset = dt.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def span_text(start: datetime, end: datetime | None, tz: tzinfo) -> str:
    """``Mon 30 Nov 2026, 14:00–17:00 UTC`` in ``tz`` (the end's day when it differs)."""
    a = start.astimezone(tz)
    if end is None:
        return f"{day_text(a)}, {clock_text(a)} {_zone_name(a)}"
    b = end.astimezone(tz)
    if a.date() == b.date():
        return f"{day_text(a)}, {clock_text(a)}–{clock_text(b)} {_zone_name(b)}"
    return f"{day_text(a)} {clock_text(a)} – {day_text(b)} {clock_text(b)} {_zone_name(b)}"


def relative(moment: datetime, now: datetime) -> str:
    seconds = (moment - now).total_seconds()
    ahead = seconds >= 0
    seconds = abs(seconds)
    if seconds < 3600:
        amount = f"{max(1, round(seconds / 60))} min"
    elif seconds < 48 * 3600:
        amount = f"{round(seconds / 3600)} h"
    else:
        days = round(seconds / 86400)
        amount = f"{days} days"
    return f"in {amount}" if ahead else f"{amount} ago"


# --- what each card says ---------------------------------------------------------


def tier_badge(entry: IndexEntry) -> tuple[str, str]:
    """-> (text, css class)."""
    if entry.tier_status == "pending":
        return f"{entry.tier_requested} · pending approval", "pending"
    if entry.tier_status == "approved":
        return f"{entry.tier_effective} · approved", "approved"
    if entry.tier_status == "declined":
        return f"{entry.tier_effective} · {entry.tier_requested} declined", "declined"
    if entry.tier_status == "granted":
        return f"{entry.tier_effective}", "granted"
    return "not given", "unknown"


def prewarm_state(entry: IndexEntry, config: Config, now: datetime) -> tuple[str, str]:
    """-> (text, css class) from the dispatches recorded in the status comment."""
    last = entry.dispatches[-1] if entry.dispatches else None
    if last is not None:
        at = last.at[:16].replace("T", " ") + " UTC"
        verb = "pre-warm" if last.kind == "prewarm" else "scale-down"
        if not last.ok:
            return f"{verb} failed at {at}: {last.error or 'no reason given'}", "bad"
        if last.kind == "prewarm":
            nodes = last.inputs.get("replicas")
            extra = f" ({nodes} nodes)" if nodes else ""
            return f"pre-warmed at {at}{extra}", "good"
        return f"scaled down at {at}", "muted"
    if config.prewarm.enabled and entry.start is not None and not entry.needs_info:
        due = entry.start - timedelta(hours=config.prewarm.lead_time_hours)
        when = f"{due:%a %d %b %H:%M} UTC"
        if due <= now:
            return f"due since {when}", "warn"
        return f"automatic, {when}", ""
    item = next((i for i in entry.items if i.id == "prewarm"), None)
    if item is not None:
        return ("done (checklist)", "good") if item.ticked else ("by hand (checklist)", "")
    return "off", "muted"


def issue_href(url: str) -> str:
    """Only web links are followed: anything else (``javascript:``...) becomes inert."""
    parts = urllib.parse.urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else "#"


@dataclass(frozen=True)
class Overdue:
    text: str
    day: str
    clock: str  # UTC


@dataclass(frozen=True)
class Card:
    """One request's card, every value still text to be escaped by the template."""

    anchor: str
    classes: str
    start_iso: str  # empty when the dates are not readable yet
    when: str  # in UTC; empty when the dates are not readable yet
    local: str  # in the request's own zone; empty when that is UTC
    rel: str
    badges: tuple[tuple[str, str], ...]  # (css class, text)
    overdue: tuple[Overdue, ...]
    href: str
    name: str
    repo: str
    number: int
    hub: str
    event_type: str
    attendees: str
    tier: tuple[str, str]
    prewarm: tuple[str, str]
    assignees: tuple[str, ...]
    done: int
    total: int


def card(entry: IndexEntry, config: Config, now: datetime) -> Card:
    overdue = entry.overdue(now)
    live = entry.start is not None and entry.start <= now and (entry.end is None
                                                               or now < entry.end)
    classes = ["event"]
    if overdue:
        classes.append("overdue")
    if live:
        classes.append("live")
    if entry.needs_info:
        classes.append("needs-info")
    badges = []
    if live:
        badges.append(("live", "happening now"))
    if overdue:
        badges.append(("overdue", f"⚠ {len(overdue)} overdue"))
    if entry.needs_info:
        badges.append(("info", "needs info"))
    when = local = rel = ""
    if entry.start is not None:
        when = span_text(entry.start, entry.end, UTC)
        local_tz = zone_of(entry.zone)
        if local_tz is not None and entry.start.astimezone(local_tz).utcoffset() != timedelta(0):
            local = span_text(entry.start, entry.end, local_tz)
        rel = relative(entry.start, now) if not live else (
            f"ends {relative(entry.end, now)}" if entry.end else "")
    done, total = entry.progress
    return Card(
        anchor=re.sub(r"[^a-z0-9-]", "-", f"{entry.repo.lower()}-{entry.number}"),
        classes=" ".join(classes),
        start_iso=entry.start.isoformat() if entry.start else "",
        when=when, local=local, rel=rel, badges=tuple(badges),
        overdue=tuple(Overdue(i.text, day_text(i.due), clock_text(i.due)) for i in overdue),
        href=issue_href(entry.html_url),
        name=entry.event_name or entry.title or f"#{entry.number}",
        repo=entry.repo, number=entry.number, hub=entry.hub or "—",
        event_type=entry.event_type,
        attendees=f"{entry.attendees:,}" if entry.attendees is not None else "—",
        tier=tier_badge(entry), prewarm=prewarm_state(entry, config, now),
        assignees=tuple(entry.assignees), done=done, total=total,
    )
