"""GitHub's rate limits as the client obeys them: reading the answers, and the gate.

``is_rate_limited`` and ``rate_limit_window`` are pure: they read an answer's status,
headers and message. ``Gate`` is the one stateful piece: once a window is open, no
request of that identity passes before it closes. Time comes in through ``Clock``
and ``Sleep``, so tests own it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from bot.github.errors import GitHubError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Gate:
    """No request passes before ``blocked_until``: how a rate-limit window is obeyed."""

    def __init__(self, clock: Clock, sleep: Sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self.blocked_until = -math.inf

    def remaining(self) -> float:
        return max(0.0, self.blocked_until - self._clock())

    def block(self, seconds: float) -> None:
        self.blocked_until = max(self.blocked_until, self._clock() + seconds)

    async def wait(self, longest: float, method: str = "", path: str = "") -> None:
        """Sleep until the gate opens; fail at once if that is more than ``longest`` away."""
        # Loop: the window may grow while we sleep (another request hit the limit).
        while (left := self.remaining()) > 0:
            if left > longest:
                # A spent primary limit can close the gate for an hour: hand the work
                # back to be reconciled rather than hold a worker that long.
                raise GitHubError(403, f"rate limited for another {left:.0f} s; not waiting",
                                  method=method, path=path)
            await self._sleep(left)


def seconds_or_none(value: Any) -> float | None:
    """A header's number (``"42"``, ``"1.5"``), or None when it is missing or not one."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_rate_limited(status: int, headers: Mapping[str, str], message: str) -> bool:
    """Whether an error answer is a rate limit (primary or secondary) rather than a refusal."""
    if status == 429:
        return True
    if status != 403:
        return False
    text = message.lower()
    return (
        "retry-after" in headers
        or headers.get("x-ratelimit-remaining") == "0"
        or "rate limit" in text
        or "abuse" in text
    )


def rate_limit_window(headers: Mapping[str, str], now: float, fallback: float) -> float:
    """Seconds GitHub asked us to stay away: ``retry-after``, else until
    ``x-ratelimit-reset`` when nothing remains, else ``fallback``. ``now`` is epoch seconds.
    """
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        seconds = seconds_or_none(retry_after)
        if seconds is None:
            try:
                seconds = parsedate_to_datetime(retry_after).timestamp() - now
            except (TypeError, ValueError):
                seconds = None
        if seconds is not None:
            return max(0.0, seconds)
    if headers.get("x-ratelimit-remaining") == "0":
        reset = seconds_or_none(headers.get("x-ratelimit-reset"))
        if reset is not None:
            return max(0.0, reset - now)
    return fallback
