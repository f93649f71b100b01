"""Module tests for ``bot.github.ratelimit``: reading GitHub's answers, and the gate."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from bot.github.errors import GitHubError
from bot.github.ratelimit import (
    Gate,
    is_rate_limited,
    rate_limit_window,
    seconds_or_none,
)

NOW = 1_700_000_000.0  # epoch seconds
FALLBACK = 60.0


class Headers(dict[str, str]):
    """Case-insensitive enough for the pure functions, like aiohttp's headers."""

    def __init__(self, **values: str) -> None:
        super().__init__({k.replace("_", "-").lower(): v for k, v in values.items()})

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("42", 42.0), ("1.5", 1.5), ("0", 0.0), (" 7 ", 7.0), (None, None), ("", None),
     ("soon", None), ([], None), (3, 3.0)],
)
def test_seconds_or_none(value: object, seconds: float | None) -> None:
    assert seconds_or_none(value) == seconds


@pytest.mark.parametrize(
    ("status", "headers", "message", "limited"),
    [
        (429, Headers(), "Too Many Requests", True),
        (403, Headers(retry_after="30"), "Forbidden", True),
        (403, Headers(x_ratelimit_remaining="0"), "Forbidden", True),
        (403, Headers(), "API rate limit exceeded for installation", True),
        (403, Headers(), "You have exceeded a secondary rate limit", True),
        (403, Headers(), "You have triggered an abuse detection mechanism", True),
        (403, Headers(x_ratelimit_remaining="12"), "Resource not accessible by integration",
         False),
        (403, Headers(), "Must have admin rights to Repository.", False),
        (404, Headers(retry_after="30"), "Not Found", False),  # only 403 and 429 are limits
        (502, Headers(), "rate limit", False),
        (401, Headers(x_ratelimit_remaining="0"), "Bad credentials", False),
    ],
)
def test_is_rate_limited(status: int, headers: Headers, message: str, limited: bool) -> None:
    assert is_rate_limited(status, headers, message) is limited


def _http_date(epoch: float) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, UTC), usegmt=True)


@pytest.mark.parametrize(
    ("headers", "window"),
    [
        (Headers(retry_after="30"), 30.0),
        (Headers(retry_after="2.5"), 2.5),
        (Headers(retry_after="-5"), 0.0),  # never a negative wait
        (Headers(retry_after=_http_date(NOW + 90)), 90.0),  # the date form
        (Headers(retry_after=_http_date(NOW - 90)), 0.0),
        # retry-after wins over the reset time
        (Headers(retry_after="5", x_ratelimit_remaining="0",
                 x_ratelimit_reset=str(int(NOW + 600))), 5.0),
        (Headers(x_ratelimit_remaining="0", x_ratelimit_reset=str(int(NOW + 600))), 600.0),
        (Headers(x_ratelimit_remaining="0", x_ratelimit_reset=str(int(NOW - 10))), 0.0),
        # nothing usable: the fallback
        (Headers(retry_after="whenever"), FALLBACK),
        (Headers(x_ratelimit_remaining="3", x_ratelimit_reset=str(int(NOW + 600))), FALLBACK),
        (Headers(x_ratelimit_remaining="0", x_ratelimit_reset="later"), FALLBACK),
        (Headers(), FALLBACK),
    ],
)
def test_rate_limit_window(headers: Headers, window: float) -> None:
    assert rate_limit_window(headers, NOW, FALLBACK) == pytest.approx(window)


class Clock:
    """Monotonic time that moves only when the gate sleeps; ``during`` runs while it does."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self.during: list[float] = []  # windows other requests open while one sleeps
        self.gate: Gate | None = None

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.during and self.gate is not None:
            self.gate.block(self.during.pop(0))
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("blocks", "grows", "longest", "slept", "refused"),
    [
        ([], [], 10.0, [], False),  # open: no wait
        ([5.0], [], 10.0, [5.0], False),
        ([5.0, 2.0], [], 10.0, [5.0], False),  # a shorter window does not shorten a longer
        ([2.0, 5.0], [], 10.0, [5.0], False),
        ([5.0], [3.0], 10.0, [5.0, 3.0], False),  # widened while asleep: sleeps again
        ([30.0], [], 10.0, [], True),  # longer than the caller waits: refused at once
        ([5.0], [20.0], 10.0, [5.0], True),  # ...also when it grows past that asleep
    ],
)
async def test_gate(blocks: list[float], grows: list[float], longest: float,
                    slept: list[float], refused: bool) -> None:
    clock = Clock()
    gate = clock.gate = Gate(clock, clock.sleep)
    for seconds in blocks:
        gate.block(seconds)
    clock.during = list(grows)
    if refused:
        with pytest.raises(GitHubError) as caught:
            await gate.wait(longest, "GET", "/x")
        assert caught.value.status == 403 and "not waiting" in str(caught.value)
    else:
        await gate.wait(longest, "GET", "/x")
        assert gate.remaining() == 0.0
    assert clock.slept == pytest.approx(slept)


def test_gate_remaining_counts_down() -> None:
    clock = Clock()
    g = Gate(clock, clock.sleep)
    assert g.remaining() == 0.0
    g.block(10.0)
    clock.now += 4.0
    assert g.remaining() == pytest.approx(6.0)
    clock.now += 20.0
    assert g.remaining() == 0.0
