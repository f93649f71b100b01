"""``GET /events.ics``: parsed with a real iCalendar library; right across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from icalendar import Calendar

from bot.core.model import IssueSnapshot, RepoRef
from bot.core.plan import triage
from bot.service.index import IndexEntry, entry_from
from bot.views.calendar import event_uid, render_calendar

from .botapp import Clock, fast_config, running_bot
from .fakegithub import FakeGitHub
from .payloads import issues_payload
from .requests_seed import FORM, add_request, request_body

REPO = "Geo-Dept/Event-Requests"
INSTALLATION = 7401
TOKEN = "calendar-token-1234"
OPENED = datetime(2026, 11, 23, 9, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)

# (zone, local start, local end, start in UTC, end in UTC): each pair straddles a change.
DST_CASES = [
    ("America/Chicago", "2027-03-12 09:00", "2027-03-12 12:00",
     datetime(2027, 3, 12, 15, tzinfo=UTC), datetime(2027, 3, 12, 18, tzinfo=UTC)),
    ("America/Chicago", "2027-03-16 09:00", "2027-03-16 12:00",
     datetime(2027, 3, 16, 14, tzinfo=UTC), datetime(2027, 3, 16, 17, tzinfo=UTC)),
    ("Europe/Berlin", "2027-03-27 10:00", "2027-03-27 12:00",
     datetime(2027, 3, 27, 9, tzinfo=UTC), datetime(2027, 3, 27, 11, tzinfo=UTC)),
    ("Europe/Berlin", "2027-03-29 10:00", "2027-03-29 12:00",
     datetime(2027, 3, 29, 8, tzinfo=UTC), datetime(2027, 3, 29, 10, tzinfo=UTC)),
    # Across the change itself: 01:30 CDT on the night Chicago falls back is 3.5 h before 04:00 CST.
    ("America/Chicago", "2027-11-07 00:30", "2027-11-07 03:00",
     datetime(2027, 11, 7, 5, 30, tzinfo=UTC), datetime(2027, 11, 7, 9, tzinfo=UTC)),
]


def entry_for(number: int, zone: str, start: str, end: str, tier: str = "standard",
              event_type: str = "workshop", name: str = "Course",
              daily_hours: str | None = None) -> IndexEntry:
    config = fast_config()
    issue = IssueSnapshot(
        repo=RepoRef("Geo-Dept", "Event-Requests", INSTALLATION), number=number,
        title=f"[Event]: {name}",
        body=request_body(hub="https://geo.hubs.example.org", name=name,
                          event_type=event_type, start=start, end=end, timezone=zone,
                          tier=tier, daily_hours=daily_hours),
        author="prof", labels=("event-request",), assignees=(), state="open",
        created_at=OPENED, html_url=f"https://github.com/{REPO}/issues/{number}")
    result = triage(issue, None, config, FORM, NOW)
    found = entry_from(issue, result, frozenset({"confirm-details"}))
    assert found is not None and not found.needs_info, result.errors
    return found


def parse(data: bytes) -> dict[str, Any]:
    cal = Calendar.from_ical(data)
    return {str(ev["UID"]): ev for ev in cal.walk("VEVENT")}


@pytest.mark.parametrize(("zone", "start", "end", "start_utc", "end_utc"), DST_CASES)
def test_times_are_utc_across_daylight_saving(zone: str, start: str, end: str,
                                              start_utc: datetime, end_utc: datetime) -> None:
    entry = entry_for(1, zone, start, end)
    data = render_calendar([entry], NOW)
    [event] = parse(data).values()
    assert event.decoded("DTSTART") == start_utc
    assert event.decoded("DTEND") == end_utc
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    # Written as UTC (a trailing Z), so no client needs the champion's zone.
    text = data.decode()
    assert f"DTSTART:{start_utc:%Y%m%dT%H%M%S}Z" in text
    assert "TZID" not in text


def test_each_request_is_one_event_with_what_a_team_needs() -> None:
    entries = [entry_for(3, "America/Chicago", "2027-03-16 09:00", "2027-03-16 12:00",
                         tier="premium", event_type="exam", name="Geology final"),
               entry_for(4, "UTC", "2027-04-01 09:00", "2027-04-01 10:00", name="Intro")]
    cal = Calendar.from_ical(render_calendar(entries, NOW))
    assert str(cal["VERSION"]) == "2.0" and "event-support-bot" in str(cal["PRODID"])
    events = parse(render_calendar(entries, NOW))
    assert set(events) == {"geo-dept.event-requests.3@event-support-bot",
                           "geo-dept.event-requests.4@event-support-bot"}
    exam = events["geo-dept.event-requests.3@event-support-bot"]
    assert str(exam["SUMMARY"]) == "exam: Geology final on geo.hubs.example.org"
    assert str(exam["URL"]) == f"https://github.com/{REPO}/issues/3"
    description = str(exam["DESCRIPTION"])
    for line in ("Hub: geo.hubs.example.org", "Type: exam",
                 "Tier: premium (awaiting approval)", "Checklist: 1/", "Engineers: "):
        assert line in description
    assert set(entries[0].assignees) and all(a in description for a in entries[0].assignees)
    assert str(exam["STATUS"]) == "TENTATIVE"  # the tier awaits approval
    assert str(events["geo-dept.event-requests.4@event-support-bot"]["STATUS"]) == "CONFIRMED"


def test_a_multi_day_event_with_daily_hours_is_one_event_per_day() -> None:
    entry = entry_for(5, "UTC", "March 12, 2027", "March 16, 2027",
                      daily_hours="9am - 1pm America/Chicago")
    one_day = entry_for(6, "America/Chicago", "2027-03-12 09:00", "2027-03-12 12:00")
    cal = Calendar.from_ical(render_calendar([entry, one_day], NOW))
    events = [(str(e["uid"]), str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend"))
              for e in cal.walk("VEVENT")]
    days = [e for e in events if ".5." in e[0]]
    # Chicago changes to daylight time on 14 March: 15:00 UTC before, 14:00 after
    assert [(start, end) for _, _, start, end in days] == [
        (datetime(2027, 3, d, h, tzinfo=UTC), datetime(2027, 3, d, h + 4, tzinfo=UTC))
        for d, h in ((12, 15), (13, 15), (14, 14), (15, 14), (16, 14))]
    assert [uid for uid, *_ in days] == [
        f"geo-dept.event-requests.5.{n}@event-support-bot" for n in range(1, 6)]
    assert [summary.rsplit(" (", 1)[1] for _, summary, *_ in days] == [
        f"day {n} of 5)" for n in range(1, 6)]
    assert [uid for uid, *_ in events if ".5." not in uid] == [
        "geo-dept.event-requests.6@event-support-bot"]  # one session: one event, as before


@pytest.mark.parametrize(
    ("repo", "number", "uid"),
    [("Org/Repo", 7, "org.repo.7@event-support-bot"),
     ("org/repo", 7, "org.repo.7@event-support-bot"),
     ("a-b/c", 1, "a-b.c.1@event-support-bot"),
     ("a/b-c", 1, "a.b-c.1@event-support-bot"),
     ("o/re.po", 12, "o.re.po.12@event-support-bot")],
)
def test_uids_are_stable_and_unambiguous(repo: str, number: int, uid: str) -> None:
    assert event_uid(repo, number) == uid


def test_people_text_cannot_break_the_feed() -> None:
    entry = entry_for(5, "UTC", "2027-04-01 09:00", "2027-04-01 10:00",
                      name="Line one\r\nBEGIN:VEVENT; evil, \\ text")
    data = render_calendar([entry], NOW)
    events = parse(data)
    assert len(events) == 1
    assert data.count(b"\r\nBEGIN:VEVENT") == 1  # the text stays inside its property
    assert "BEGIN:VEVENT" in str(next(iter(events.values()))["SUMMARY"])


async def test_the_feed_through_the_server(fake_github: FakeGitHub, app_key: str) -> None:
    fake_github.add_installation(INSTALLATION, "Geo-Dept")
    fake_github.add_repo(REPO, INSTALLATION)
    numbers = []
    for zone, start, end, _, _ in DST_CASES[:2]:
        numbers.append(add_request(
            fake_github, REPO, opened=OPENED, title="[Event]: Field course",
            hub="https://geo.hubs.example.org", name=f"Field course {start[:10]}",
            event_type="workshop", start=start, end=end, timezone=zone,
            tier="standard").number)
    clock = Clock(NOW)
    async with running_bot(fake_github, app_key, clock=clock, dashboard_token=TOKEN) as running:
        await running.app["reconcile_task"]
        url = running.server.make_url("/events.ics")
        async with running.session.get(url, params={"token": TOKEN}) as resp:
            assert resp.status == 200
            assert resp.content_type == "text/calendar"
            first = parse(await resp.read())
        assert [e.decoded("DTSTART") for e in first.values()] == [c[3] for c in DST_CASES[:2]]

        # The champion moves the first event a day later: the same UID, a new time.
        issue = fake_github.repo(REPO).issues[numbers[0]]
        issue.body = (issue.body or "").replace("2027-03-12", "2027-03-13")
        await running.deliver("issues", issues_payload(fake_github, REPO, numbers[0], "edited"))
        await running.settle()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with running.session.get(url, headers=headers) as resp:
            again = parse(await resp.read())
        assert set(again) == set(first)
        moved = again[event_uid(REPO, numbers[0])]
        assert moved.decoded("DTSTART") == DST_CASES[0][3] + timedelta(days=1)

        # Once an event has ended it leaves the feed.
        clock.now = DST_CASES[1][4] - timedelta(minutes=1)
        async with running.session.get(url, headers=headers) as resp:
            assert list(parse(await resp.read())) == [event_uid(REPO, numbers[1])]
        clock.now = DST_CASES[1][4]
        async with running.session.get(url, headers=headers) as resp:
            assert parse(await resp.read()) == {}


@pytest.mark.parametrize("path", ["/events.ics", "/"])
@pytest.mark.parametrize(
    ("token", "headers", "query", "status"),
    [(None, {}, {"token": TOKEN}, 404),
     (TOKEN, {}, {}, 401),
     (TOKEN, {}, {"token": "wrong"}, 401),
     (TOKEN, {"Authorization": "Bearer wrong"}, {}, 401),
     (TOKEN, {"Authorization": f"Basic {TOKEN}"}, {}, 401),
     (TOKEN, {}, {"token": TOKEN[:-1]}, 401),
     (TOKEN, {}, {"token": TOKEN}, 200),
     (TOKEN, {"Authorization": f"Bearer {TOKEN}"}, {}, 200),
     (TOKEN, {"Authorization": f"bearer {TOKEN}"}, {}, 200)],
)
async def test_access_needs_the_dashboard_token(
        fake_github: FakeGitHub, app_key: str, path: str, token: str | None,
        headers: dict[str, str], query: dict[str, str], status: int) -> None:
    async with running_bot(fake_github, app_key, github=False, dashboard_token=token
                           ) as running, running.session.get(
            running.server.make_url(path), headers=headers, params=query,
            allow_redirects=False) as resp:
        assert resp.status == status
        body = await resp.text()
        if status == 401:
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        if status != 200:
            assert "<li" not in body and "VEVENT" not in body
        if status == 200 and path == "/":
            assert resp.headers["Referrer-Policy"] == "no-referrer"
            assert "script-src" not in resp.headers["Content-Security-Policy"]


async def test_a_request_with_unreadable_dates_is_left_out(fake_github: FakeGitHub,
                                                          app_key: str) -> None:
    fake_github.add_installation(INSTALLATION, "Geo-Dept")
    fake_github.add_repo(REPO, INSTALLATION)
    add_request(fake_github, REPO, opened=OPENED, title="[Event]: ?",
                hub="https://geo.hubs.example.org", name="Someday", event_type="demo",
                start="sometime in spring", end="later", tier="standard")
    async with running_bot(fake_github, app_key, dashboard_token=TOKEN) as running:
        await running.app["reconcile_task"]
        assert len(running.bot.index) == 1
        async with aiohttp.ClientSession() as session, session.get(
                running.server.make_url("/events.ics"), params={"token": TOKEN}) as resp:
            assert parse(await resp.read()) == {}
