"""Fields -> EventRequest: validation tied to form ids, and classification."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from bot.core.forms import load_form, render_form_body
from bot.core.model import IssueSnapshot, RepoRef
from bot.core.request import classify, read_attendees, read_hub, read_rep, read_request, read_tier
from bot.service.loading import load_config

CONFIG = load_config("config.yaml")
FORM = load_form(CONFIG.form_path)
OPENED = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def issue(title: str = "Event request", **answers: Any) -> IssueSnapshot:
    base: dict[str, Any] = {
        "hub_url": "hub.example.org", "event_name": "Spring workshop",
        "event_type": "Workshop, tutorial or class", "start": "2027-02-01 09:00",
        "end": "2027-02-01 12:00", "timezone": "Europe/Berlin", "attendees": "40",
        "memory_per_user": None, "tier": "standard", "community_rep": None, "details": None,
    }
    base.update(answers)
    tier = base["tier"]
    if tier is not None:
        field = FORM.field("tier")
        assert field is not None
        base["tier"] = next((o for o in field.options if o.startswith(tier)), tier)
    return IssueSnapshot(repo=RepoRef("o", "r"), number=1, title=title,
                         body=render_form_body(FORM, base), author="champ", labels=(),
                         assignees=(), state="open", created_at=OPENED)


@pytest.mark.parametrize(
    ("raw", "host", "ok"),
    [
        ("hub.example.org", "hub.example.org", True),
        ("https://Hub.Example.org/", "hub.example.org", True),
        ("https://hub.example.org:8443/hub/login", "hub.example.org", True),
        ("not a url!!", None, False),
        ("localhost", None, False),
        ("ftp://hub.example.org", None, False),
        ("http://", None, False),
        ("https://exa mple.org", None, False),
    ],
)
def test_hub(raw: str, host: str | None, ok: bool) -> None:
    got, _, error = read_hub(raw)
    assert got == host
    assert (error is None) == ok


@pytest.mark.parametrize(
    ("raw", "value"),
    [("120", 120), ("1,200", 1200), ("~50", 50), ("30 students", 30), (" 7 ", 7),
     ("TBD", None), ("about 30?", None), ("0", None), ("-5", None), ("3.5", None),
     ("99999999", None), ("thirty", None)],
)
def test_attendees(raw: str, value: int | None) -> None:
    got, error = read_attendees(raw, 5000)
    assert got == value
    assert (error is None) == (value is not None)


@pytest.mark.parametrize(
    ("raw", "tier"),
    [("standard — free", "standard"), ("Premium — $1500", "premium"), ("ENHANCED", "enhanced"),
     ("gold", None), ("standardish", None)],
)
def test_tier_by_prefix(raw: str, tier: str | None) -> None:
    assert read_tier(raw, CONFIG)[0] == tier


@pytest.mark.parametrize(
    ("dropdown", "name", "title", "details", "expected"),
    [
        ("Exam or graded assessment", None, "", None, ("exam", "form")),
        ("Workshop, tutorial or class", "Midterm", "", None, ("workshop", "form")),
        ("Other (tell us more in the details below)", "STAT 101 midterm", "", None,
         ("exam", "keywords")),
        (None, None, "Hackathon weekend", None, ("workshop", "keywords")),
        ("Other (tell us more in the details below)", None, "", "A product demo",
         ("demo", "keywords")),
        ("Other (tell us more in the details below)", "Community call", "", None,
         ("other", "form")),
        (None, None, "Something", None, ("other", "default")),
        (None, "The finals", "", None, ("exam", "keywords")),
        (None, "Examination of latest results", "", None, ("other", "default")),
    ],
)
def test_classify(dropdown: str | None, name: str | None, title: str, details: str | None,
                  expected: tuple[str, str]) -> None:
    assert classify(dropdown, name, title, details, CONFIG) == expected


@pytest.mark.parametrize(
    ("raw", "logins", "noted"),
    [
        ("@octocat", ("octocat",), False),
        # A bare word is a login only when GitHub confirmed it (Trust.users).
        ("octo-cat", ("octo-cat",), False), ("jdoe", (), True), ("Jane Doe", (), True),
        ("https://github.com/octocat", ("octocat",), False),
        ("@okafor (Dr. Okafor)", ("okafor",), False),
        # Several handles, separated by commas or spaces: all of them.
        ("@prof-okafor, @ta-jones", ("prof-okafor", "ta-jones"), False),
        ("@prof-okafor @ta-jones", ("prof-okafor", "ta-jones"), False),
        ("prof-okafor; ta-jones", ("prof-okafor", "ta-jones"), False),
        ("prof-okafor; someone", ("prof-okafor",), False),
        ("@ta-jones, @TA-Jones", ("ta-jones",), False),
        ("@prof-okafor, @jupyter/core-team", ("prof-okafor",), True),  # a team is no person
        # No handle at all: nobody, and a note rather than an error.
        ("@bad_login!", (), True), ("Prof. Okafor (email)", (), True), ("Dr Okafor", (), True),
        ("okafor@uni.example", (), True), ("@everyone", (), True),
        ("@jupyter/core-team", (), True),
    ],
)
def test_rep(raw: str, logins: tuple[str, ...], noted: bool) -> None:
    got, note = read_rep(raw, frozenset({"octo-cat", "prof-okafor", "ta-jones"}))
    assert got == logins
    assert (note is not None) == noted, note


def test_a_community_rep_that_is_no_handle_is_a_note_not_an_error() -> None:
    req = read_request(issue(community_rep="Prof. Okafor (email)"), FORM, CONFIG)
    assert req.errors == ()
    assert (req.community_rep, req.community_reps) == (None, ())
    [note] = req.notes
    assert "`Prof. Okafor (email)` is not a GitHub handle" in note


def test_several_community_reps_are_all_kept() -> None:
    req = read_request(issue(community_rep="@prof-okafor, @ta-jones"), FORM, CONFIG)
    assert req.errors == () and req.notes == ()
    assert (req.community_rep, req.community_reps) == ("prof-okafor", ("prof-okafor", "ta-jones"))


@pytest.mark.parametrize(
    ("raw", "gib", "written"),
    [("4 GB", 4.0, "4 GB"), ("4gb", 4.0, "4 GB"), ("4 GiB", 4.0, "4 GiB"),
     ("4096 MiB", 4.0, "4096 MiB"), ("4", 4.0, None), ("lots", None, None)],
)
def test_memory_keeps_the_unit_as_written(raw: str, gib: float | None,
                                          written: str | None) -> None:
    req = read_request(issue(memory_per_user=raw), FORM, CONFIG)
    assert (req.memory_per_user_gib, req.memory_written) == (gib, written)


def errors_of(i: IssueSnapshot) -> dict[str | None, str]:
    return {e.field: e.message for e in read_request(i, FORM, CONFIG).errors}


@pytest.mark.parametrize(
    ("answers", "field", "fragment"),
    [
        ({"hub_url": None}, "hub_url", "required"),
        ({"start": None}, "start", "required"),
        ({"end": "2027-02-01 08:00"}, "end", "before the start"),
        ({"start": "2026-11-01 09:00", "end": "2026-11-01 10:00"}, "start", "in the past"),
        ({"attendees": "TBD"}, "attendees", "TBD"),
        ({"tier": "gold"}, "tier", "gold"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Mars/Olympus"),
        ({"start": "03/04/2027 09:00", "end": "03/04/2027 10:00"}, "start", "03/04/2027"),
        ({"memory_per_user": "lots"}, "memory_per_user", "lots"),
        ({"start": "2027-02-01 09:00", "end": "2027-04-01 09:00"}, "end", "31 days"),
    ],
)
def test_each_problem_is_tied_to_its_field(answers: dict[str, Any], field: str,
                                           fragment: str) -> None:
    errors = errors_of(issue(**answers))
    assert field in errors, errors
    assert fragment in errors[field]


def test_every_problem_is_listed_at_once() -> None:
    errors = errors_of(issue(hub_url="nope!", attendees="lots", tier="gold", start=None))
    assert {"hub_url", "attendees", "tier", "start"} <= set(errors)


def test_a_valid_request_reads_fully() -> None:
    req = read_request(issue(memory_per_user="4 GB", community_rep="@prof"), FORM, CONFIG)
    assert req.errors == ()
    assert req.start == datetime(2027, 2, 1, 8, 0, tzinfo=timezone.utc)  # 09:00 CET
    assert req.end == datetime(2027, 2, 1, 11, 0, tzinfo=timezone.utc)
    assert req.zone is not None and req.zone.label == "Europe/Berlin"
    assert (req.attendees, req.memory_per_user_gib, req.community_rep) == (40, 4.0, "prof")
    assert req.event_type == "workshop" and req.tier == "standard"
    assert not req.short_notice


def test_short_notice_is_measured_from_when_the_issue_was_opened() -> None:
    req = read_request(issue(start="2026-12-01 09:00", end="2026-12-01 10:00"), FORM, CONFIG)
    assert req.short_notice and req.errors == ()


# --- dates as a hub operator's champions write them, daily hours, sessions ----------------

def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("answers", "start", "end", "sessions"),
    [
        # a day with no time: the whole day, or the daily hours
        ({"start": "April 8, 2027", "end": "April 8, 2027", "timezone": "America/Chicago"},
         "2027-04-08 05:00", "2027-04-09 05:00", [("2027-04-08 05:00", "2027-04-09 05:00")]),
        ({"start": "April 8, 2027", "end": "April 10, 2027", "timezone": None,
          "daily_hours": "9am – 1pm US/Pacific"},
         "2027-04-08 16:00", "2027-04-10 20:00",
         [("2027-04-08 16:00", "2027-04-08 20:00"), ("2027-04-09 16:00", "2027-04-09 20:00"),
          ("2027-04-10 16:00", "2027-04-10 20:00")]),
        # a range in the start box, the end box left empty
        ({"start": "June 8-10 2027", "end": None, "timezone": None,
          "daily_hours": "10am-2pm PT (Seattle)"},
         "2027-06-08 17:00", "2027-06-10 21:00",
         [("2027-06-08 17:00", "2027-06-08 21:00"), ("2027-06-09 17:00", "2027-06-09 21:00"),
          ("2027-06-10 17:00", "2027-06-10 21:00")]),
        ({"start": "June 8 2027 10am EDT to 2pm EDT", "end": None, "timezone": None},
         "2027-06-08 14:00", "2027-06-08 18:00", [("2027-06-08 14:00", "2027-06-08 18:00")]),
        # the same range pasted in both boxes
        ({"start": "June 8-10 2027", "end": "June 8-10 2027", "timezone": "UTC"},
         "2027-06-08 00:00", "2027-06-11 00:00", [("2027-06-08 00:00", "2027-06-11 00:00")]),
        # a time range in the end box is no range: the end is read as written, or refused
        ({"start": "June 7 2027 4pm UTC", "end": "June 8 2027 10am UTC", "timezone": None},
         "2027-06-07 16:00", "2027-06-08 10:00", [("2027-06-07 16:00", "2027-06-08 10:00")]),
        ({"start": "June 7 2027 10am EDT to 2pm EDT", "end": "June 7 2027 10am EDT to 2pm EDT",
          "timezone": None},
         "2027-06-07 14:00", "2027-06-07 18:00", [("2027-06-07 14:00", "2027-06-07 18:00")]),
        # times written in full are kept; the daily hours clip the first and last days
        ({"start": "June 2nd 2027, 11AM ET", "end": "June 3rd 2027, 10AM ET", "timezone": None,
          "daily_hours": "9am-1pm ET"},
         "2027-06-02 15:00", "2027-06-03 14:00",
         [("2027-06-02 15:00", "2027-06-02 17:00"), ("2027-06-03 13:00", "2027-06-03 14:00")]),
        ({"start": "https://arewemeetingyet.com/Europe/Madrid/2027-03-03/09:30/My-workshop",
          "end": "Mar 3, 2027, 12:30 CET (Spain)", "timezone": None},
         "2027-03-03 08:30", "2027-03-03 11:30", [("2027-03-03 08:30", "2027-03-03 11:30")]),
    ],
)
def test_dates_as_written_and_sessions(answers: dict[str, Any], start: str, end: str,
                                       sessions: list[tuple[str, str]]) -> None:
    request = read_request(issue(**answers), FORM, CONFIG)
    assert request.errors == ()
    assert (request.start, request.end) == (_utc(start), _utc(end))
    assert [(s.start, s.end) for s in request.sessions] == [
        (_utc(a), _utc(b)) for a, b in sessions]


@pytest.mark.parametrize(
    ("answers", "field", "fragment"),
    [
        ({"daily_hours": "1pm-9am PT"}, "daily_hours", "must end after they start"),
        ({"daily_hours": "10am PT to 2pm ET"}, "daily_hours", "names two time zones"),
        ({"daily_hours": "mornings"}, "daily_hours", "is not a start and an end time"),
        ({"daily_hours": "9am-1pm XYZ"}, "daily_hours", "I don't know the time zone XYZ"),
        ({"start": "2027-02-01 14:00", "end": "2027-02-01 16:00", "daily_hours": "9am-1pm"},
         "daily_hours", "no day between the start and the end"),
        ({"start": "June 8-10 2027", "end": "June 12 2027"}, "end",
         "is not where the range in the start ends"),
        ({"start": "June 8-10 2027 9am", "end": None}, "start", "is not a date and time"),
        ({"start": "April 8, 2027", "end": None}, "end", "is required"),
        ({"start": "June 7 2027 4pm", "end": "June 8 2027 9am - 5pm"}, "end",
         "holds more than one time"),
    ],
)
def test_dates_as_written_that_are_not_certain_are_asked_about(
        answers: dict[str, Any], field: str, fragment: str) -> None:
    request = read_request(issue(**answers), FORM, CONFIG)
    assert request.sessions == ()
    assert any(e.field == field and fragment in e.message for e in request.errors), request.errors


def test_an_event_without_daily_hours_is_one_session() -> None:
    request = read_request(issue(), FORM, CONFIG)
    assert request.daily_hours is None
    assert [(s.start, s.end) for s in request.sessions] == [(request.start, request.end)]
