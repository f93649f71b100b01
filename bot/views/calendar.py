"""``GET /events.ics``: the upcoming events as an iCalendar feed a team subscribes to.

One VEVENT per open request that has not ended, with its start and end in
UTC (so no client has to know the champion's zone, and a daylight-saving
change cannot shift it), the hub, type, tier and engineers in the
description, and the issue as its URL. Each UID is derived from the issue
alone (``owner.repo.number@event-support-bot``), so a calendar client that
refreshes the feed updates an event that moved instead of adding a second.
A request whose dates cannot be read yet has nothing to place and is left
out until it is fixed. An event with daily hours is one VEVENT per day's session,
each UID the issue's with the day's number (``owner.repo.number.2@...``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from aiohttp import web
from icalendar import Calendar, Event

from ..service.index import IndexEntry

PRODID = "-//event-support-bot//events feed//EN"
UID_DOMAIN = "event-support-bot"
CALENDAR_NAME = "Event support: upcoming events"
REFRESH_MINUTES = 15


def event_uid(repo: str, number: int, day: int | None = None) -> str:
    """Stable across renames of case; unambiguous (owners have no dots, numbers none)."""
    owner, _, name = repo.lower().partition("/")
    suffix = "" if day is None else f".{day}"
    return f"{owner}.{name}.{number}{suffix}@{UID_DOMAIN}"


def tier_text(entry: IndexEntry) -> str:
    if entry.tier_status == "pending":
        return f"{entry.tier_requested} (awaiting approval)"
    if entry.tier_status == "approved":
        return f"{entry.tier_effective} (approved)"
    if entry.tier_status == "declined":
        return f"{entry.tier_effective} ({entry.tier_requested} declined)"
    return entry.tier_effective or entry.tier_requested or "unknown"


def summary_text(entry: IndexEntry) -> str:
    name = entry.event_name or entry.title or f"{entry.repo}#{entry.number}"
    hub = f" on {entry.hub}" if entry.hub else ""
    return " ".join(f"{entry.event_type}: {name}{hub}".split())


def description_text(entry: IndexEntry) -> str:
    done, total = entry.progress
    lines = [
        f"Hub: {entry.hub or 'unknown'}",
        f"Type: {entry.event_type}",
        f"Tier: {tier_text(entry)}",
        f"Engineers: {', '.join(entry.assignees) or 'none yet'}",
        f"Attendees: {entry.attendees if entry.attendees is not None else 'unknown'}",
        f"Checklist: {done}/{total} done",
    ]
    if entry.zone:
        lines.append(f"Time zone of the request: {entry.zone}")
    if entry.needs_info:
        lines.append("The request still needs information.")
    lines.append(f"Request: {entry.html_url}")
    return "\n".join(lines)


def build_calendar(entries: Iterable[IndexEntry], now: datetime) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", CALENDAR_NAME)
    cal.add("x-wr-timezone", "UTC")
    cal.add("x-published-ttl", f"PT{REFRESH_MINUTES}M")
    stamp = now.astimezone(UTC).replace(microsecond=0)
    for entry in entries:
        if entry.start is None or entry.end is None:
            continue
        spans = [(s.start, s.end) for s in entry.sessions] or [(entry.start, entry.end)]
        for day, (start, end) in enumerate(spans, 1):
            cal.add_component(_event(entry, stamp, start, end,
                                     (day, len(spans)) if len(spans) > 1 else None))
    return cal


def _event(entry: IndexEntry, stamp: datetime, start: datetime, end: datetime,
           day: tuple[int, int] | None) -> Event:
    """One VEVENT: the whole event, or (``day``: its number and the count) one day of it."""
    event = Event()
    event.add("uid", event_uid(entry.repo, entry.number, day[0] if day else None))
    event.add("dtstamp", stamp)
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    of = f" (day {day[0]} of {day[1]})" if day else ""
    event.add("summary", summary_text(entry) + of)
    event.add("description", description_text(entry))
    event.add("url", entry.html_url)
    if entry.hub:
        event.add("location", entry.hub)
    tentative = entry.needs_info or entry.tier_status == "pending"
    event.add("status", "TENTATIVE" if tentative else "CONFIRMED")
    event.add("categories", [entry.event_type])
    event.add("transp", "OPAQUE")
    return event


def render_calendar(entries: Iterable[IndexEntry], now: datetime) -> bytes:
    data: bytes = build_calendar(entries, now).to_ical()
    return data


async def calendar_view(request: web.Request) -> web.Response:
    """The feed: the open requests that have not ended yet, in every installation."""
    bot = request.app["bot"]
    now: datetime = bot.clock()
    body = render_calendar(bot.index.upcoming(now), now)
    return web.Response(body=body, headers={
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": 'inline; filename="events.ics"',
        "Cache-Control": "no-store",
    })
