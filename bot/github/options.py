"""What a GitHub client runs with besides its config, and the counters it keeps.

The defaults are the real thing; tests inject clocks, sleep and randomness so that
every wait of the client runs in milliseconds.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.github.ratelimit import Clock, Sleep

CallHook = Callable[[str, str], None]  # (method, status): "200", "304", "timeout", "error"


@dataclass
class GitHubStats:
    """Counters the server exports as metrics; shared by every client of one App."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (method, status)
    retries: Counter[str] = field(default_factory=Counter)  # by reason
    failures: int = 0  # calls given up after their retries
    token_fetches: int = 0
    rate_limit_waits: int = 0  # windows GitHub closed on us
    rate_limit_wait_seconds: float = 0.0
    pacing_waits: int = 0
    pacing_wait_seconds: float = 0.0


@dataclass(frozen=True, eq=False)
class ClientOptions:
    """What a client runs with besides its config; the defaults are the real thing.

    ``clock``, ``sleep`` and ``rng`` are injectable so tests own time and jitter;
    ``stats`` is shared by every channel of one App; ``on_call`` sees each answer;
    ``max_in_flight`` and ``longest_wait_seconds`` override the config's (None: the
    config's ``github.max_in_flight`` and ``github.longest_wait_seconds``).
    """

    clock: Clock = time.monotonic
    sleep: Sleep = asyncio.sleep
    wall_clock: Clock = time.time
    rng: random.Random = field(default_factory=random.Random)
    stats: GitHubStats = field(default_factory=GitHubStats)
    on_call: CallHook | None = None
    max_in_flight: int | None = None
    longest_wait_seconds: float | None = None
    # A pace shared with other processes (on Redis), by channel label; None: paced here.
    write_pace: Callable[[str], SharedPace | None] | None = None


class SharedPace(Protocol):
    async def take(self, content: bool) -> float:
        """Wait until a write may go, count it; returns the seconds waited."""
