"""Measuring: small statistics, the fake's request log, and waiting on the bot."""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import aiohttp

from tests.fakegithub import FakeGitHub, RequestRecord

from .harness import BotProcess, Memory, metric_sum


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (the value at or below which P % of them lie)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def spread(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    return {"p50_ms": ms(percentile(values, 50)), "p95_ms": ms(percentile(values, 95)),
            "p99_ms": ms(percentile(values, 99)), "max_ms": ms(max(values, default=math.nan))}


def memory_json(memory: Memory) -> dict[str, float]:
    return {"rss_mib": round(memory.rss_mib, 1), "peak_mib": round(memory.peak_mib, 1),
            "anon_mib": round(memory.anon_mib, 1)}


def call_summary(records: Iterable[RequestRecord]) -> dict[str, Any]:
    """What a stretch of the fake's request log cost against GitHub's limits."""
    records = list(records)
    return {
        "calls": len(records),
        "reads": sum(1 for r in records if r.method == "GET"),
        "writes": sum(1 for r in records if r.is_write),
        "counted_against_primary_limit": sum(1 for r in records if r.counted_against_limit),
        "not_modified_304": sum(1 for r in records if r.status == 304),
        "errors": sum(1 for r in records if r.status >= 400),
        "operations": dict(Counter(f"{r.method} {r.operation_id}" for r in records)),
    }


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Watcher:
    """Notes when each answer of the fake was complete, by polling its request log.

    The fake appends a record once its answer is ready (its latency included), so the
    first time a record is seen is when GitHub would have answered, give or take the
    millisecond between polls.
    """

    def __init__(self, fake: FakeGitHub) -> None:
        self._fake = fake
        self._seen = len(fake.requests)
        self.first: dict[tuple[str, str], float] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._seen = len(self._fake.requests)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def _scan(self) -> None:
        records = self._fake.requests
        now = time.monotonic()
        for record in records[self._seen:]:
            self.first.setdefault((record.method, record.path), now)
        self._seen = len(records)

    async def _run(self) -> None:
        while True:
            self._scan()
            await asyncio.sleep(0.001)

    async def wait_for(self, method: str, path: str, timeout: float = 120.0) -> float:
        deadline = time.monotonic() + timeout
        while (method, path) not in self.first:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot never sent {method} {path}")
            await asyncio.sleep(0.002)
        return self.first[(method, path)]


def bot_env(fake: FakeGitHub) -> dict[str, str]:
    return {
        "GITHUB_APP_ID": str(fake.app_id),
        "GITHUB_PRIVATE_KEY": fake.app_private_key,
        "GITHUB_WEBHOOK_SECRET": fake.webhook_secret,
        "GITHUB_API_URL": fake.api_url,
    }


async def wait_reconciled(bot: BotProcess, session: aiohttp.ClientSession, target: float,
                          timeout: float) -> float:
    """Wait until the bot's reconciliation counter reaches TARGET; returns monotonic time."""
    deadline = time.monotonic() + timeout
    while True:
        seen = metric_sum(await bot.metrics(session), "bot_reconcile_total")
        if seen >= target:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"reconciliation reached {seen:.0f} of {target:.0f}")
        await asyncio.sleep(0.05)


async def wait_quiet(fake: FakeGitHub, quiet: float, timeout: float) -> float:
    """Wait until the fake has had no request for QUIET seconds; -> when the last one came."""
    deadline = time.monotonic() + timeout
    while True:
        last = fake.requests[-1].time if fake.requests else 0.0
        now = time.monotonic()
        if now - last >= quiet:
            return last
        if now > deadline:
            raise TimeoutError(f"the bot kept calling GitHub for {timeout} s")
        await asyncio.sleep(min(0.05, quiet / 4))
