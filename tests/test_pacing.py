"""WritePace: the write bucket and the content budgets, as pure arithmetic on timestamps."""

from __future__ import annotations

import pytest

from bot.core.config import GitHubClientConfig
from bot.github.pacing import WritePace


def pace(**changes: object) -> WritePace:
    return WritePace(GitHubClientConfig(**changes))  # type: ignore[arg-type]


def run(p: WritePace, starts: list[float], took: float = 0.05,
        content: bool = False) -> list[float]:
    """Start a write at each wanted time or as soon after as the pace allows."""
    sent: list[float] = []
    now = 0.0
    for want in starts:
        now = max(now, want)
        now += p.wait(now, content)
        p.started(now, content)
        sent.append(now)
        now += took
        p.ended(now)
    return sent


def test_a_lone_request_writes_back_to_back() -> None:
    assert run(pace(), [0.0, 0.0]) == [0.0, pytest.approx(0.05)]


def test_a_burst_drains_at_one_write_a_second() -> None:
    sent = run(pace(write_burst=2), [0.0] * 6)
    assert sent[:2] == [0.0, pytest.approx(0.05)]
    # The credit is spent: writes start a second apart, on average, whatever each took.
    assert sent[5] - sent[1] == pytest.approx(4.0, abs=0.06)
    assert all(b - a >= 0.95 for a, b in zip(sent[2:], sent[3:], strict=False))


def test_burst_one_spaces_every_write() -> None:
    sent = run(pace(write_burst=1), [0.0] * 3)
    assert sent == [0.0, pytest.approx(1.0), pytest.approx(2.0)]


def test_a_request_every_two_seconds_never_waits() -> None:
    # Two writes a request (labels, then the status comment), 50 ms each, every 2 s: the
    # average is GitHub's one write a second, so the bucket keeps up for good.
    p = pace()
    waits = []
    for k in range(200):
        now = 2.0 * k
        for _ in range(2):
            wait = p.wait(now, False)
            waits.append(wait)
            now += wait
            p.started(now, False)
            now += 0.05
            p.ended(now)
    assert max(waits[-20:]) == 0.0


@pytest.mark.parametrize("burst", [1, 2, 5])
def test_no_window_holds_more_than_the_burst_plus_one_a_second(burst: int) -> None:
    sent = run(pace(write_burst=burst), [0.0] * 40 + [60.0] * 20, took=0.0)
    for i, start in enumerate(sent):
        for window in (0.5, 1.0, 3.0, 10.0):
            inside = [t for t in sent[i:] if t < start + window]
            assert len(inside) <= burst + window, (start, window, inside)


def test_quiet_time_earns_the_burst_back_but_no_more() -> None:
    p = pace(write_burst=3)
    run(p, [0.0] * 3, took=0.0)
    assert p.wait(0.0, False) == pytest.approx(1.0)
    assert p.wait(1.5, False) == 0.0
    assert p.wait(100.0, False) == 0.0
    sent = run(p, [100.0] * 5, took=0.0)
    assert sent == [100.0, 100.0, 100.0, pytest.approx(101.0), pytest.approx(102.0)]


def test_content_budgets_per_minute_and_hour() -> None:
    p = pace(write_interval_seconds=0.0, content_per_minute=2, content_per_hour=3)
    sent = run(p, [0.0] * 4, took=0.0, content=True)
    assert sent == [0.0, 0.0, 60.0, 3600.0]
    # Non-content writes are not held by the content budgets.
    assert p.wait(3600.0, False) == 0.0


def test_zero_interval_means_no_spacing() -> None:
    assert run(pace(write_interval_seconds=0.0), [0.0] * 4, took=0.0) == [0.0] * 4
