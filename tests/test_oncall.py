"""The on-call rotation: shifts at local midnight, wrap-around, away days skipped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.config import AwayRange, Engineer, OnCall
from bot.core.oncall import OnCallPick, is_away, on_call_for, shift_index
from bot.service.loading import load_config

CONFIG_YAML = Path(__file__).resolve().parent.parent / "config.yaml"
CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")


def _away(login: str, *ranges: tuple[str, str]) -> Engineer:
    return Engineer(login, tuple(AwayRange(date.fromisoformat(f), date.fromisoformat(t))
                                 for f, t in ranges))


def _rota(*engineers: Engineer | str, tz: str = "UTC", shift_days: int = 7) -> OnCall:
    people = tuple(Engineer(e) if isinstance(e, str) else e for e in engineers)
    return OnCall(start=date(2026, 1, 7), timezone=tz, shift_days=shift_days, engineers=people)


def _at(text: str, tz: tzinfo = UTC) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


TEAM = ("alice", "bob", "carol", "dan")


@pytest.mark.parametrize(
    ("moment", "tz", "shift_days", "expected"),
    [
        # UTC rotation, weekly shifts from Wednesday 2026-01-07.
        (_at("2026-01-07 00:00"), "UTC", 7, 0),
        (_at("2026-01-06 23:59:59"), "UTC", 7, -1),
        (_at("2026-01-13 23:59:59"), "UTC", 7, 0),
        (_at("2026-01-14 00:00"), "UTC", 7, 1),
        # Before oncall.start: floor division, not truncation towards zero.
        (_at("2025-12-31 00:00"), "UTC", 7, -1),
        (_at("2025-12-30 23:59"), "UTC", 7, -2),
        (_at("2025-01-01 12:00"), "UTC", 7, -53),
        (_at("2020-06-02 12:00"), "UTC", 3, -682),  # -2045 days: -681.67 floors to -682
        # Boundaries are local midnight in oncall.timezone (Chicago is UTC-6 in January).
        (_at("2026-01-07 05:59"), "America/Chicago", 7, -1),
        (_at("2026-01-07 06:00"), "America/Chicago", 7, 0),
        (_at("2026-01-14 05:59:59"), "America/Chicago", 7, 0),
        (_at("2026-01-14 06:00"), "America/Chicago", 7, 1),
        # After the spring-forward change (2026-03-08) midnight is 05:00 UTC.
        (_at("2026-03-11 04:59:59"), "America/Chicago", 7, 8),
        (_at("2026-03-11 05:00"), "America/Chicago", 7, 9),
        (_at("2026-03-08 12:00", CHICAGO), "America/Chicago", 1, 60),
        # After the fall-back change (2026-11-01) midnight is 06:00 UTC again.
        (_at("2026-11-04 05:59:59"), "America/Chicago", 7, 42),
        (_at("2026-11-04 06:00"), "America/Chicago", 7, 43),
        (_at("2026-11-01 01:30", CHICAGO).replace(fold=1), "America/Chicago", 1, 298),
        # Berlin: midnight is 23:00 UTC in winter, 22:00 UTC in summer.
        (_at("2026-01-06 23:00"), "Europe/Berlin", 7, 0),
        (_at("2026-01-06 22:59:59"), "Europe/Berlin", 7, -1),
        (_at("2026-04-07 22:00"), "Europe/Berlin", 7, 13),
        (_at("2026-04-07 21:59:59"), "Europe/Berlin", 7, 12),
        # The input's own zone does not matter, only the instant.
        (_at("2026-01-14 00:30", BERLIN), "UTC", 7, 0),
        (_at("2026-01-13 18:00", CHICAGO), "UTC", 7, 1),
        (_at("2026-01-14 09:00", timezone(timedelta(hours=9))), "UTC", 7, 1),
    ],
)
def test_shift_index(moment: datetime, tz: str, shift_days: int, expected: int) -> None:
    assert shift_index(moment, _rota(*TEAM, tz=tz, shift_days=shift_days)) == expected


@pytest.mark.parametrize(
    ("start", "hours", "wanted", "rota", "engineers", "skipped"),
    [
        # Plain rotation: shift k -> engineer k mod 4.
        ("2026-01-07 10:00", 2, 1, _rota(*TEAM), ("alice",), ()),
        ("2026-01-14 10:00", 2, 1, _rota(*TEAM), ("bob",), ()),
        ("2026-02-04 10:00", 2, 1, _rota(*TEAM), ("alice",), ()),
        # Exam wants two: the next one follows, wrapping past the end of the list.
        ("2026-01-07 10:00", 3, 2, _rota(*TEAM), ("alice", "bob"), ()),
        ("2026-01-29 10:00", 3, 2, _rota(*TEAM), ("dan", "alice"), ()),
        # Negative shifts: -1 -> dan, -2 -> carol, -5 -> dan.
        ("2026-01-06 10:00", 2, 1, _rota(*TEAM), ("dan",), ()),
        ("2025-12-30 10:00", 2, 2, _rota(*TEAM), ("carol", "dan"), ()),
        ("2025-12-09 10:00", 2, 1, _rota(*TEAM), ("dan",), ()),
        # The shift holding the start decides, even when the event runs into the next.
        ("2026-01-13 22:00", 4, 1, _rota(*TEAM), ("alice",), ()),
        # Away engineers are skipped and reported.
        ("2026-01-14 10:00", 2, 1,
         _rota("alice", _away("bob", ("2026-01-14", "2026-01-14")), "carol", "dan"),
         ("carol",), ("bob",)),
        ("2026-01-14 10:00", 2, 2,
         _rota("alice", _away("bob", ("2026-01-10", "2026-01-20")), "carol", "dan"),
         ("carol", "dan"), ("bob",)),
        # Wrap-around while skipping: dan and alice away, exam gets bob and carol.
        ("2026-01-29 10:00", 2, 2,
         _rota(_away("alice", ("2026-01-29", "2026-01-29")), "bob", "carol",
               _away("dan", ("2026-01-01", "2026-02-01"))),
         ("bob", "carol"), ("dan", "alice")),
        # Someone away but not reached on the walk is not reported.
        ("2026-01-07 10:00", 2, 1,
         _rota("alice", "bob", _away("carol", ("2026-01-07", "2026-01-07")), "dan"),
         ("alice",), ()),
        # Everyone away: nobody, short.
        ("2026-01-07 10:00", 2, 2,
         _rota(*(_away(e, ("2026-01-01", "2026-01-31")) for e in TEAM)),
         (), ("alice", "bob", "carol", "dan")),
        # Fewer free than wanted: what there is.
        ("2026-01-07 10:00", 2, 2,
         _rota(_away("alice", ("2026-01-07", "2026-01-07")), "bob"), ("bob",), ("alice",)),
        ("2026-01-07 10:00", 2, 3, _rota("alice", "bob"), ("alice", "bob"), ()),
        # No engineers configured.
        ("2026-01-07 10:00", 2, 1, _rota(), (), ()),
        # Nobody wanted.
        ("2026-01-07 10:00", 2, 0, _rota(*TEAM), (), ()),
        # One login listed twice never fills two seats.
        ("2026-01-07 10:00", 2, 2, _rota("alice", "Alice", "bob"), ("alice", "bob"), ()),
    ],
)
def test_on_call_for(start: str, hours: int, wanted: int, rota: OnCall,
                     engineers: tuple[str, ...], skipped: tuple[str, ...]) -> None:
    begin = _at(start)
    pick = on_call_for(begin, begin + timedelta(hours=hours), wanted, rota)
    assert pick.engineers == engineers
    assert pick.skipped_away == skipped
    assert pick.wanted == wanted
    assert pick.short == (len(engineers) < wanted)
    assert pick.shift == shift_index(begin, rota)


@pytest.mark.parametrize(
    ("away", "start", "end", "tz", "expected"),
    [
        # Away range ends on the local date of the start: skipped.
        (("2026-01-01", "2026-01-10"), "2026-01-10 18:00", "2026-01-10 20:00", UTC, True),
        # Away range begins on the local date of the end: skipped.
        (("2026-01-12", "2026-01-20"), "2026-01-10 18:00", "2026-01-12 01:00", UTC, True),
        # Away inside a multi-day event.
        (("2026-01-11", "2026-01-11"), "2026-01-10 18:00", "2026-01-12 01:00", UTC, True),
        # Away covers the whole event.
        (("2026-01-01", "2026-01-31"), "2026-01-10 18:00", "2026-01-10 20:00", UTC, True),
        # Day before the start, day after the end: free.
        (("2026-01-01", "2026-01-09"), "2026-01-10 18:00", "2026-01-10 20:00", UTC, False),
        (("2026-01-11", "2026-01-20"), "2026-01-10 18:00", "2026-01-10 20:00", UTC, False),
        # An end at exactly local midnight touches that day.
        (("2026-01-11", "2026-01-11"), "2026-01-10 18:00", "2026-01-11 00:00", UTC, True),
        # Whole days in the rotation's zone: 03:00 UTC on the 11th is the 10th in Chicago.
        (("2026-01-11", "2026-01-11"), "2026-01-10 18:00", "2026-01-11 03:00", CHICAGO, False),
        (("2026-01-11", "2026-01-11"), "2026-01-10 18:00", "2026-01-11 03:00", UTC, True),
        # And 23:30 UTC on the 9th is already the 10th in Berlin.
        (("2026-01-10", "2026-01-10"), "2026-01-09 23:30", "2026-01-09 23:45", BERLIN, True),
        (("2026-01-10", "2026-01-10"), "2026-01-09 23:30", "2026-01-09 23:45", UTC, False),
        # Across the fall-back change in Chicago.
        (("2026-11-01", "2026-11-01"), "2026-11-01 06:30", "2026-11-01 07:30", CHICAGO, True),
        (("2026-11-01", "2026-11-01"), "2026-11-01 03:30", "2026-11-01 04:59", CHICAGO, False),
        (("2026-11-01", "2026-11-01"), "2026-11-01 03:30", "2026-11-01 05:00", CHICAGO, True),
    ],
)
def test_is_away(away: tuple[str, str], start: str, end: str, tz: tzinfo,
                 expected: bool) -> None:
    assert is_away(_away("bob", away), _at(start), _at(end), tz) is expected


def test_is_away_without_ranges() -> None:
    assert not is_away(Engineer("alice"), _at("2026-01-10 18:00"), _at("2026-01-10 20:00"), UTC)


def test_away_touching_start_date_in_rotation_zone() -> None:
    # 2026-01-14 03:00 UTC is the evening of the 13th in Chicago: shift 0 -> alice;
    # alice is away on the 13th (local), so bob covers.
    rota = _rota(_away("alice", ("2026-01-13", "2026-01-13")), "bob", "carol", "dan",
                 tz="America/Chicago")
    begin = _at("2026-01-14 03:00")
    pick = on_call_for(begin, begin + timedelta(hours=1), 1, rota)
    assert pick == OnCallPick(engineers=("bob",), wanted=1, shift=0, skipped_away=("alice",))


@pytest.mark.parametrize(
    ("start", "hours", "wanted", "expected", "skipped"),
    [
        ("2026-01-07 09:00", 2, 1, ("alice",), ()),
        ("2026-12-16 09:00", 3, 2, ("bob", "carol"), ()),     # shift 49 -> bob
        ("2026-12-19 22:00", 4, 1, ("carol",), ("bob",)),     # runs into bob's away days
        ("2026-12-23 09:00", 3, 2, ("carol", "dan"), ()),     # shift 50 -> carol
        ("2027-01-03 09:00", 2, 1, ("dan",), ()),             # shift 51 -> dan
        ("2026-12-21 09:00", 2, 2, ("carol", "dan"), ("bob",)),  # bob's shift, bob away
        ("2026-12-31 09:00", 2, 2, ("dan", "alice"), ()),     # shift 51 starts 2026-12-30
        ("2027-01-06 09:00", 2, 2, ("alice", "bob"), ()),     # bob is back
        ("2026-01-01 09:00", 2, 1, ("dan",), ()),             # before oncall.start
    ],
)
def test_shipped_config(start: str, hours: int, wanted: int, expected: tuple[str, ...],
                        skipped: tuple[str, ...]) -> None:
    rota = load_config(CONFIG_YAML).oncall
    begin = _at(start)
    pick = on_call_for(begin, begin + timedelta(hours=hours), wanted, rota)
    assert (pick.engineers, pick.skipped_away) == (expected, skipped)


def test_pick_is_short_only_when_fewer_than_wanted() -> None:
    assert OnCallPick(("a",), 2, 0, ()).short
    assert not OnCallPick(("a", "b"), 2, 0, ()).short
    assert not OnCallPick((), 0, 0, ()).short


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: shift_index(datetime(2026, 1, 7, 10), _rota(*TEAM)), "time zone"),
        (lambda: on_call_for(datetime(2026, 1, 7, 10), _at("2026-01-07 12:00"), 1,
                             _rota(*TEAM)), "time zone"),
        (lambda: on_call_for(_at("2026-01-07 10:00"), datetime(2026, 1, 7, 12), 1,
                             _rota(*TEAM)), "time zone"),
        (lambda: is_away(Engineer("a"), datetime(2026, 1, 7), _at("2026-01-07 12:00"), UTC),
         "time zone"),
        (lambda: on_call_for(_at("2026-01-07 12:00"), _at("2026-01-07 10:00"), 1,
                             _rota(*TEAM)), "before the start"),
        (lambda: on_call_for(_at("2026-01-07 10:00"), _at("2026-01-07 12:00"), -1,
                             _rota(*TEAM)), "zero or more"),
    ],
)
def test_refuses(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
