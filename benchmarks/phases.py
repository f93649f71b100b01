"""The phases on the main fleet: start-up, reconciliation, acknowledgement; and memory
with many tracked requests (a fleet and a bot of its own)."""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import aiohttp

from bot.core.commands import parse_commands
from bot.core.config import Config
from bot.core.forms import FormTemplate
from bot.core.plan import plan
from tests.fakegithub import FakeGitHub, OpenApiSpec
from tests.hostile_bodies import (
    ATTACKS,
    GITHUB_BODY_LIMIT,
    HEAVY,
    NOW,
    backtick_runs,
    issue_with,
)
from tests.payloads import deliver, webhook_payload

from .context import RESULTS_DIR, Options, Run
from .fleet import add_repo, seed_steady
from .harness import BotProcess, Memory, machine_cpu_seconds, metric_sum
from .loadgen import LoadSpec, Shot, run_load_in_child
from .measure import (
    bot_env,
    call_summary,
    log,
    memory_json,
    spread,
    wait_quiet,
    wait_reconciled,
)
from .report import Goal

# --- start-up and reconciliation ---


async def startup(run: Run) -> None:
    n = run.opts.reconcile
    log(f"start-up: the bot with {n} open requests to reconcile "
        f"({run.opts.latency * 1000:.0f} ms a GitHub call)")
    run.bot.start()
    healthy = await run.bot.wait_healthy(run.session)
    booted = run.bot.memory()
    budget = 60 + n * (run.opts.latency + 0.05) * 3
    await wait_reconciled(run.bot, run.session, n, timeout=budget)
    # Then the other installations, and label checks: done when GitHub hears no more.
    last = await wait_quiet(run.fake, run.quiet, timeout=budget)
    reconciled = last + run.opts.latency - run.bot.started_at
    calls = call_summary(run.fake.requests)
    idle = run.bot.memory()
    run.out["startup"] = {
        "open_requests": n,
        "healthz_s": round(healthy, 3),
        "reconciled_s": round(reconciled, 2),
        "reconciliation_calls": calls,
        "memory_at_healthz": memory_json(booted),
    }
    run.out.setdefault("memory", {})["idle_after_startup"] = memory_json(idle)
    log(f"  /healthz after {healthy:.2f} s; start-up reconciliation done after "
        f"{reconciled:.1f} s; {calls['calls']} calls")


async def reconcile_pass(run: Run) -> None:
    n = run.opts.reconcile
    log(f"reconciliation: a second pass over the {n} unchanged requests")
    mark = len(run.fake.requests)
    before = metric_sum(await run.bot.metrics(run.session), "bot_reconcile_total")
    payload = webhook_payload("installation", "new_permissions_accepted",
                              installation=run.fake.installation_json(1),
                              sender=run.fake.user_json("hub-org"))
    payload.pop("repositories", None)
    started = time.monotonic()
    status = await deliver(run.bot.url, "installation", payload, run.secret)
    await wait_reconciled(run.bot, run.session, before + n,
                          timeout=60 + n * (run.opts.latency + 0.05) * 3)
    run.processed += 1
    await run.bot.settle(run.session, run.processed)
    done = await wait_quiet(run.fake, run.quiet, timeout=60) + run.opts.latency
    calls = call_summary(run.fake.requests[mark:])
    run.out["reconciliation"] = {
        "open_requests": n, "webhook_status": status,
        "duration_s": round(done - started, 2), "calls": calls,
    }
    run.goal(
        "calls", f"reconciliation of {n} unchanged requests: calls counted against the "
        "primary limit", "0", str(calls["counted_against_primary_limit"]),
        calls["counted_against_primary_limit"] == 0,
        f"{calls['calls']} calls, {calls['not_modified_304']} answered 304")
    log(f"  {calls['calls']} calls, {calls['counted_against_primary_limit']} counted, "
        f"{done - started:.1f} s")


# --- acknowledgement ---


async def _load(run: Run, spec: LoadSpec) -> tuple[dict[str, Any], Memory]:
    """Send the load and wait until the bot has processed it; -> (figures, memory)."""
    reset = run.bot.reset_peak()
    cpu = run.bot.cpu_seconds()
    mark = len(run.fake.requests)
    machine_busy, machine_stolen = machine_cpu_seconds()
    own, began = time.process_time(), time.monotonic()
    load = await asyncio.to_thread(run_load_in_child, spec)
    shots = load.shots
    wall = time.monotonic() - began
    cpu_during = run.bot.cpu_seconds() - cpu
    machine_busy = machine_cpu_seconds()[0] - machine_busy
    machine_stolen = machine_cpu_seconds()[1] - machine_stolen
    # What the machine did besides the bot, the generator and this process: other work
    # on the two cores shows up in the tail latencies, not in the bot.
    others = machine_busy - cpu_during - load.cpu_seconds - (time.process_time() - own)
    run.processed += sum(1 for s in shots if s.status == 202)
    health = await run.bot.settle(run.session, run.processed)
    memory = run.bot.memory()  # the peak covers the burst and the work it queued
    cpu = run.bot.cpu_seconds() - cpu
    if not reset:
        log("  (the kernel does not let us reset the peak RSS: it is the peak so far)")
    result = _ack_common(run, shots)
    result["failed_deliveries"] = health["failed_deliveries"]
    result["memory"] = memory_json(memory)
    result["bot_cpu_us_per_delivery"] = round(cpu / len(shots) * 1e6)
    result["loadgen_cpu_us_per_delivery"] = round(load.cpu_seconds / len(shots) * 1e6)
    result["github_calls"] = call_summary(run.fake.requests[mark:])
    result["other_processes_cpu_cores"] = round(max(0.0, others) / wall, 2)
    result["stolen_cpu_cores"] = round(machine_stolen / wall, 2)
    return result, memory


def _ack_common(run: Run, shots: list[Shot]) -> dict[str, Any]:
    statuses = Counter(s.status for s in shots)
    first = min(s.started for s in shots)
    last_start = max(s.started for s in shots)
    last_answer = max(s.answered for s in shots)
    return {
        "deliveries": len(shots),
        "payload_bytes": round(sum(len(b) for b in run.ack_bodies) / len(run.ack_bodies)),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": sum(v for k, v in statuses.items() if k != 202),
        "latency": spread([s.latency for s in shots]),
        "schedule_lag": spread([s.started - s.intended for s in shots]),
        "offered_per_s": round((len(shots) - 1) / (last_start - first), 1)
        if last_start > first else math.nan,
        "answered_per_s": round(len(shots) / (last_answer - first), 1),
    }


async def ack_latency(run: Run) -> None:
    rate, count = run.opts.ack_rate, int(run.opts.ack_rate * run.opts.ack_seconds)
    log(f"acknowledgement: {count} deliveries offered at {rate:.0f}/s, open loop")
    spec = LoadSpec("127.0.0.1", run.bot.port, tuple(run.ack_bodies), "issues",
                    run.secret, count, rate=rate)
    result, _ = await _load(run, spec)
    run.out["ack_latency"] = result
    p99 = result["latency"]["p99_ms"]
    run.goal("ack", f"acknowledgement p99 at {rate:.0f}/s offered",
                           "< 10 ms", f"{p99:.1f} ms", p99 < 10 and result["errors"] == 0,
                           f"p50 {result['latency']['p50_ms']:.1f} ms, "
                           f"{result['errors']} errors")
    log(f"  p50 {result['latency']['p50_ms']} ms, p99 {p99} ms, errors {result['errors']}")


async def ack_throughput(run: Run) -> None:
    count, concurrency = run.opts.ack_count, run.opts.concurrency
    log(f"acknowledgement: {count} deliveries, {concurrency} in flight")
    spec = LoadSpec("127.0.0.1", run.bot.port, tuple(run.ack_bodies), "issues",
                    run.secret, count, concurrency=concurrency)
    started = time.monotonic()
    result, memory = await _load(run, spec)
    result["all_processed_s"] = round(time.monotonic() - started, 2)
    run.out["ack_throughput"] = result
    run.out.setdefault("memory", {})["during_burst"] = memory_json(memory)
    rate = result["answered_per_s"]
    run.goal("ack", f"acknowledgement throughput, {count} deliveries, "
                           f"{concurrency} in flight", ">= 2000/s, no error",
                           f"{rate:.0f}/s, {result['errors']} errors",
                           rate >= 2000 and result["errors"] == 0,
                           f"p99 {result['latency']['p99_ms']:.1f} ms")
    run.goal("memory", f"peak RSS during the {count} burst", "< 80 MiB",
                           f"{memory.peak_mib:.1f} MiB", memory.peak_mib < 80, "")
    log(f"  {rate:.0f}/s, errors {result['errors']}, peak RSS {memory.peak_mib:.1f} MiB")


async def tracked_memory(opts: Options, config: Config, form: FormTemplate,
                         spec: OpenApiSpec, out: dict[str, Any]) -> None:
    """RSS with OPTS.tracked requests in the bot's index (start-up reconciliation fills it).

    The requests are spread over installations of 1,000 each, as a fleet's would be: one
    installation holding 10,000 would need more calls for its first reconciliation than
    GitHub's primary limit allows an installation in an hour (5,000).
    """
    n = opts.tracked
    per_installation = 1000
    installations = max(1, math.ceil(n / per_installation))
    log(f"memory: the bot tracking {n} open requests in {installations} installations "
        "(no GitHub latency in this phase)")
    fake = FakeGitHub(spec=spec)
    await fake.start()
    now = datetime.now(UTC)
    repos = [f"org-{i}/requests" for i in range(installations)]
    for i, repo in enumerate(repos):
        add_repo(fake, repo, 1 + i, config)
    await seed_steady(fake, repos, n, config, form, now, now - timedelta(days=1))
    profile = RESULTS_DIR / "profile-tracked.txt" if opts.profile else None
    bot = BotProcess(RESULTS_DIR / "bot-tracked.log", opts.config, profile_path=profile)
    bot.env.update(bot_env(fake))
    try:
        async with aiohttp.ClientSession() as session:
            bot.start()
            healthy = await bot.wait_healthy(session)
            await wait_reconciled(bot, session, n, timeout=240)
            last = await wait_quiet(fake, 0.5, timeout=60)
            memory = bot.memory()
            health = await bot.health(session)
    finally:
        bot.stop()
        await fake.stop()
    took = last - bot.started_at
    counted = sum(1 for r in fake.requests if r.counted_against_limit)
    out.setdefault("memory", {})[f"tracking_{n}"] = memory_json(memory)
    out["tracked_reconciliation"] = {
        "open_requests": n, "installations": installations, "healthz_s": round(healthy, 3),
        "reconciled_s": round(took, 2), "requests_per_s": round(n / took, 1),
        "calls": len(fake.requests), "counted_against_primary_limit": counted,
        "pending_reconciliation": health.get("pending_reconciliation"),
    }
    log(f"  RSS {memory.rss_mib:.1f} MiB (peak {memory.peak_mib:.1f}); reconciled in "
        f"{took:.1f} s")


# --- hostile input ---

HOSTILE_GOAL_MS = 50.0


def hostile_input(config: Config, form: FormTemplate, out: dict[str, Any],
                  goals: list[Goal]) -> None:
    """Read and plan each body built to make the bot work hard, in this process (the same
    pure ``plan`` a worker runs); and read one comment of unmatched backtick runs as
    commands. The slowest, as the median of five runs, is the figure."""
    log("hostile input: bodies at GitHub's 65,536-character limit, read and planned")
    cases: list[tuple[str, Callable[[int], object]]] = []

    def planned(body: str, run: int) -> object:
        # A new body each run (a blank line more), as if it came for the first time: one
        # sync remembers the last few bodies it parsed.
        return plan(issue_with(body + "\n" * run), None, config, form, NOW)

    for attack in (*ATTACKS, *HEAVY):
        cases.append((attack.name, partial(planned, attack.body())))
    runs = backtick_runs(GITHUB_BODY_LIMIT)
    cases.append(("comment: backtick runs of every length",
                  lambda run: parse_commands(runs + "\n" * run)))
    timings: dict[str, float] = {}
    raised: dict[str, str] = {}
    for name, work in cases:
        took: list[float] = []
        for run in range(5):
            began = time.perf_counter()
            try:
                work(run)
            except Exception as e:  # noqa: BLE001 - a crash is a figure too
                raised[name] = type(e).__name__
            took.append((time.perf_counter() - began) * 1000)
            if took[-1] > 1000 or name in raised:
                break  # seconds, or a crash: one run says enough
        timings[name] = round(sorted(took)[len(took) // 2], 1)
        crash = f" (raised {raised[name]})" if name in raised else ""
        log(f"  {timings[name]:8.1f} ms  {name}{crash}")
    worst = max(timings, key=lambda name: timings[name])
    out["hostile_input"] = {"median_ms": timings, "worst": worst, "raised": raised}
    note = worst + (f"; raised: {', '.join(f'{k} ({v})' for k, v in raised.items())}"
                    if raised else "")
    goals.append(Goal("hostile", "hostile input: the slowest body found, read and planned",
                      f"< {HOSTILE_GOAL_MS:.0f} ms, none raises", f"{timings[worst]:.1f} ms",
                      timings[worst] < HOSTILE_GOAL_MS and not raised, note))
