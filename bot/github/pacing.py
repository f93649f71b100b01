"""When the next write of one installation may go: GitHub's guidance on writes, as arithmetic.

GitHub asks integrators to wait at least a second between writes when making many of
them, and publishes budgets for content-creating requests (80 a minute, 500 an hour).
``WritePace`` answers "how long until the next write may start?" from timestamps; it
sleeps on nothing and reads no clock, so the client owns the waiting and tests own time.

Writes draw on a token bucket (``write_burst``) that refills at one write per
``write_interval_seconds``: GitHub's one write a second, on average. A lone request's
writes (labels and assignees, then its status comment) go at once; in a burst the
bucket is soon empty and writes start one interval apart. The refill is counted by
the clock, not from each write's answer: counted from the answers, a write's own
latency was lost each time, and one request every two seconds (two writes each)
asked for more than the pace gave, so the waits grew without end.
"""

from __future__ import annotations

import math
from collections import deque

from ..core.config import GitHubClientConfig

MINUTE = 60.0
HOUR = 3600.0


class WritePace:
    """The write and content budgets of one installation."""

    def __init__(self, config: GitHubClientConfig) -> None:
        self.interval = config.write_interval_seconds
        self.burst = max(1, config.write_burst)
        self.per_minute = config.content_per_minute
        self.per_hour = config.content_per_hour
        self._credit = float(self.burst)
        self._credit_at = -math.inf  # when _credit was last counted (a write's end)
        self._content_sent: deque[float] = deque()

    def _credit_now(self, now: float) -> float:
        if self.interval <= 0 or self._credit_at == -math.inf:
            return float(self.burst)
        return min(float(self.burst), self._credit + (now - self._credit_at) / self.interval)

    def wait(self, now: float, content: bool) -> float:
        """Seconds until a write (a content-creating one if ``content``) may start."""
        credit = self._credit_now(now)
        wait = 0.0 if credit >= 1 else (1 - credit) * self.interval
        if content:
            wait = max(wait, self._content_wait(now))
        return wait

    def started(self, now: float, content: bool) -> None:
        """A write starts now: it spends a credit, and counts if it creates content."""
        self._credit = max(0.0, self._credit_now(now) - 1)
        self._credit_at = now
        if content:
            self._content_sent.append(now)

    def ended(self, now: float) -> None:
        """A write has its answer (the bucket earns by the clock: nothing to count)."""

    def _content_wait(self, now: float) -> float:
        sent = self._content_sent
        while sent and sent[0] <= now - HOUR:
            sent.popleft()
        wait = 0.0
        if self.per_hour > 0 and len(sent) >= self.per_hour:
            wait = max(wait, sent[len(sent) - self.per_hour] + HOUR - now)
        if self.per_minute > 0:
            last_minute = [t for t in sent if t > now - MINUTE]
            if len(last_minute) >= self.per_minute:
                wait = max(wait, last_minute[len(last_minute) - self.per_minute] + MINUTE - now)
        return wait
