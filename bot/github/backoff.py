"""How long to wait before trying again: the bot's backoffs as tenacity wait strategies.

One place for every backoff: the channel's retries of a call (full jitter), the
agenda's retries of a failed sync and the scheduler's retries of a failed pass
(doubling up to a cap). An attempt that may be tried again raises ``Again`` with
the wait it asks for, and ``wait_asked`` is the tenacity wait that reads it.
``delay`` reads a strategy at one retry, for the waits that are kept between passes
rather than slept inside a tenacity loop.
"""

from __future__ import annotations

import random

import tenacity
from tenacity.wait import wait_base


class FullJitter(wait_base):
    """Full jitter: uniform in [0, min(cap, base * 2**(n-1))) before retry ``n``.

    tenacity's ``wait_random_exponential`` draws from the module's ``random``; this one
    draws from a given ``random.Random`` so that tests own the jitter.
    """

    def __init__(self, base: float, cap: float, rng: random.Random) -> None:
        self._ceiling = doubling(base, cap)
        self._rng = rng

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return self._rng.uniform(0.0, self._ceiling(retry_state))


def doubling(base: float, cap: float) -> tenacity.wait_exponential:
    """``base``, then twice as long after each failure in a row, never more than ``cap``."""
    return tenacity.wait_exponential(multiplier=base, max=cap)


def delay(wait: wait_base, retry: int) -> float:
    """Seconds ``wait`` asks for before retry number ``retry`` (1: the first retry)."""
    state = tenacity.RetryCallState(tenacity.AsyncRetrying(), None, (), {})
    state.attempt_number = max(1, retry)
    return float(wait(state))


class Again(Exception):
    """An attempt that may be tried again after ``wait`` seconds (``reason``: for the stats)."""

    def __init__(self, reason: str, wait: float, what: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.what = what  # said in the log before the wait; empty: nothing to say


def wait_asked(state: tenacity.RetryCallState) -> float:
    """tenacity's wait: the one the failed attempt asked for."""
    again = state.outcome.exception() if state.outcome is not None else None
    return again.wait if isinstance(again, Again) else 0.0
