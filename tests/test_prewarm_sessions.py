"""Pre-warming follows the sessions of a multi-day event with daily hours, and only the
requests a team sells it for are pre-warmed by themselves."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core import plan as plan_module
from bot.core.dates import Session
from bot.core.prewarm import PREWARM, SCALE_DOWN
from bot.core.request import EventRequest

from .lifecycle_sim import OPENED, START, Sim, base_config, form_body, make_issue

H = timedelta(hours=1)
D = timedelta(days=1)


def _with_sessions(monkeypatch: pytest.MonkeyPatch, sessions: tuple[Session, ...]) -> None:
    """The request as the form's daily hours give it (read by the date parser): sessions."""
    read = plan_module.read_request

    def reading(*args: object, **kwargs: object) -> EventRequest:
        request = read(*args, **kwargs)  # type: ignore[arg-type]
        return replace(request, sessions=sessions, start=sessions[0].start,
                       end=sessions[-1].end)

    monkeypatch.setattr(plan_module, "read_request", reading)


def _days(count: int, hours: float = 3) -> tuple[Session, ...]:
    return tuple(Session(START + i * D, START + i * D + hours * H) for i in range(count))


def test_a_three_day_event_with_daily_hours_is_warmed_and_scaled_down_each_day(
        monkeypatch: pytest.MonkeyPatch) -> None:
    days = _days(3)
    _with_sessions(monkeypatch, days)
    sim = Sim(base_config())
    sim.follow(OPENED, days[-1].end + 2 * D)
    expected = []
    for day in days:
        expected += [(day.start - 2 * H, PREWARM), (day.end + timedelta(minutes=30), SCALE_DOWN)]
    assert [(at, d.kind) for at, d in sim.dispatches] == expected
    # Each pre-warm is for its own day's start.
    assert [d.for_start for _, d in sim.dispatches if d.kind == PREWARM] == [
        day.start.isoformat().replace("+00:00", "Z") for day in days]


def test_sessions_close_together_stay_warm_between_them(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    # Morning and afternoon of one day, 2 hours apart (within the default 4): one period.
    sessions = (Session(START, START + 3 * H), Session(START + 5 * H, START + 8 * H))
    _with_sessions(monkeypatch, sessions)
    sim = Sim(base_config())
    sim.follow(OPENED, START + 2 * D)
    assert [(at, d.kind) for at, d in sim.dispatches] == [
        (START - 2 * H, PREWARM), (START + 8 * H + timedelta(minutes=30), SCALE_DOWN)]
    # Told to keep warm for less than the gap: a scale-down in between.
    sim = Sim(base_config(keep_warm_between_sessions_hours=1))
    sim.follow(OPENED, START + 2 * D)
    assert [d.kind for _, d in sim.dispatches] == [PREWARM, SCALE_DOWN, PREWARM, SCALE_DOWN]


@pytest.mark.parametrize(("settings", "prewarmed"), [
    ({}, True),  # absent: every request, as before
    ({"for_event_types": ("exam",)}, True),  # the request is an exam
    ({"for_event_types": ("workshop",)}, False),
    ({"for_tiers": ("premium",)}, False),  # its tier is not one sold with pre-warming
    ({"for_tiers": ("standard",), "for_event_types": ("exam",)}, True),
])
def test_prewarming_is_limited_to_what_a_team_sells(settings: dict[str, object],
                                                     prewarmed: bool) -> None:
    sim = Sim(base_config(**settings))
    sim.follow(OPENED, START + 2 * D)
    assert bool(sim.dispatches) is prewarmed
    assert sim.status is not None
    # The others are told how to get it anyway.
    assert ("comments `/prewarm [NODES]`" in sim.status.body) is not prewarmed


def test_daily_hours_written_in_the_form_give_a_prewarm_and_a_scale_down_each_day() -> None:
    """As a champion writes it: three days and the hours of each; the date parser makes
    the sessions and the lifecycle follows them (no sessions put in by hand)."""
    body = form_body(start="March 9, 2027", end="March 11, 2027",
                     daily_hours="1pm - 4pm America/Chicago")
    sim = Sim(base_config(), issue=make_issue(body))
    sim.run(OPENED)
    assert sim.last is not None and sim.last.request is not None
    days = sim.last.request.sessions
    assert [(s.start, s.end) for s in days] == [
        (START + i * D, START + i * D + 3 * H) for i in range(3)]  # 13:00-16:00 CST
    sim.follow(START - D, days[-1].end + D)  # from the day before: nothing is due earlier
    expected = []
    for day in days:
        expected += [(day.start - 2 * H, PREWARM), (day.end + timedelta(minutes=30), SCALE_DOWN)]
    assert [(at, d.kind) for at, d in sim.dispatches] == expected
