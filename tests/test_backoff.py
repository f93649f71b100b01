"""Module tests for ``bot.github.backoff``: the waits, as tenacity strategies."""

from __future__ import annotations

import random

import pytest
import tenacity

from bot.github.backoff import FullJitter, delay, doubling


@pytest.mark.parametrize(
    ("base", "cap", "waits"),
    [(60.0, 3600.0, [60, 120, 240, 480, 960, 1920, 3600, 3600]),
     (0.05, 0.3, [0.05, 0.1, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3]),
     (5.0, 5.0, [5.0] * 8),
     (1.0, 0.0, [0.0] * 8)],
)
def test_doubling_up_to_a_cap(base: float, cap: float, waits: list[float]) -> None:
    assert [delay(doubling(base, cap), n) for n in range(1, 9)] == pytest.approx(waits)


def test_doubling_never_overflows() -> None:
    assert delay(doubling(0.05, 3600.0), 10**6) == 3600.0


def test_full_jitter_in_a_tenacity_loop() -> None:
    slept: list[float] = []
    tries = {"n": 0}

    def flaky() -> str:
        tries["n"] += 1
        if tries["n"] < 5:
            raise ConnectionError
        return "done"

    retrying = tenacity.Retrying(wait=FullJitter(1.0, 4.0, random.Random(3)),
                                 stop=tenacity.stop_after_attempt(6), sleep=slept.append)
    assert retrying(flaky) == "done"
    assert len(slept) == 4
    assert all(0.0 <= s < cap for s, cap in zip(slept, [1.0, 2.0, 4.0, 4.0], strict=True))
    first = FullJitter(1.0, 4.0, random.Random(3))
    assert [delay(first, n) for n in range(1, 5)] == slept  # the injected randomness decides
