"""Run the benchmark: ``python -m benchmarks.run`` from the repository root.

Starts the real server (``python -m bot serve``, a child process) against the loopback
fake GitHub of tests/fakegithub.py (fault injection off, a fixed latency per call) and
measures acknowledgement, time to triage, GitHub calls per request, memory and
start-up. Prints a table and writes the figures as JSON under benchmarks/results/.
See benchmarks/README.md for what each figure means and the latest ones.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.service.loading import load_all
from tests.fakegithub import OpenApiSpec, ensure_fixtures

from . import phases, triage
from .context import PHASES, RESULTS_DIR, Options, Run
from .harness import REPO_ROOT
from .queue import run_queue_phases
from .report import Goal, machine, render_table, update_readme


def parse_args(argv: Sequence[str] | None) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.05,
                        help="seconds the fake GitHub takes for each call (default 0.05)")
    parser.add_argument("--ack-rate", type=float, default=500.0)
    parser.add_argument("--ack-seconds", type=float, default=5.0)
    parser.add_argument("--ack-count", type=int, default=2000,
                        help="deliveries in the throughput burst")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--single", type=int, default=10, help="requests one at a time")
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--burst-installations", type=int, default=10)
    parser.add_argument("--reconcile", type=int, default=500,
                        help="open requests at start-up and in the reconciliation pass")
    parser.add_argument("--tracked", type=int, default=10_000,
                        help="open requests for the memory figure")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "config.yaml",
                        help="the bot's config (default: the shipped config.yaml)")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated subset of {','.join(PHASES)}")
    parser.add_argument("--profile", action="store_true",
                        help="run the bot under pyinstrument; profiles go to "
                             "benchmarks/results/profile-*.txt (the figures are then slower)")
    parser.add_argument("--update-readme", action="store_true",
                        help="write the figures into benchmarks/README.md")
    args = parser.parse_args(argv)
    phases = frozenset(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = phases - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    opts = Options(
        latency=args.latency, ack_rate=args.ack_rate, ack_seconds=args.ack_seconds,
        ack_count=args.ack_count, concurrency=args.concurrency, single=args.single,
        burst=args.burst, burst_installations=args.burst_installations,
        reconcile=args.reconcile, tracked=args.tracked, phases=phases, profile=args.profile,
        config=args.config.resolve())
    return opts, args


async def run(opts: Options) -> dict[str, Any]:
    config, form = load_all(str(opts.config))
    # The hostile-input phase alone is pure work in this process: no fake GitHub to load.
    spec = None if opts.phases <= {"hostile"} else OpenApiSpec.shared(ensure_fixtures().openapi)
    if spec is not None:
        spec.document  # noqa: B018 - load the description before anything is timed
    started = time.monotonic()
    out: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "load_average_before": os.getloadavg()[0],
        "options": {k: sorted(v) if isinstance(v, frozenset) else
                    str(v.relative_to(REPO_ROOT)) if isinstance(v, Path)
                    and v.is_relative_to(REPO_ROOT) else str(v) if isinstance(v, Path) else v
                    for k, v in asdict(opts).items()},
    }
    goals: list[Goal] = []
    if spec is not None and opts.phases & {"startup", "ack", "triage", "calls"}:
        run_ = Run(opts, config, form, spec, out, goals)
        try:
            await run_.open()
            await phases.startup(run_)
            if opts.phases & {"startup", "calls"}:
                await phases.reconcile_pass(run_)
            if "ack" in opts.phases:
                await phases.ack_latency(run_)
                await phases.ack_throughput(run_)
            if "triage" in opts.phases:
                await triage.triage_single(run_)
                await triage.triage_burst(run_)
            if "calls" in opts.phases:
                await triage.calls_per_request(run_)
        finally:
            await run_.close()
    if spec is not None and "memory" in opts.phases:
        await phases.tracked_memory(opts, config, form, spec, out)
    if "hostile" in opts.phases:
        phases.hostile_input(config, form, out, goals)
    await run_queue_phases(opts, config, form, spec, out, goals)
    out["goals"] = [asdict(g) for g in goals]
    out["load_average_after"] = os.getloadavg()[0]
    out["duration_s"] = round(time.monotonic() - started, 1)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    opts, args = parse_args(argv)
    if opts.profile and importlib.util.find_spec("pyinstrument") is None:
        print("error: --profile needs pyinstrument (python -m pip install pyinstrument)",
              file=sys.stderr)
        return 2
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    os.chdir(REPO_ROOT)
    out = asyncio.run(run(opts))
    goals = [Goal(**g) for g in out["goals"]]
    print(render_table(out, goals))
    stamp = out["when"].replace(":", "").replace("-", "")
    for path in (RESULTS_DIR / f"{stamp}.json", RESULTS_DIR / "latest.json"):
        path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS_DIR.relative_to(REPO_ROOT) / 'latest.json'} "
          f"({out['duration_s']} s)")
    if args.update_readme:
        update_readme(out, goals)
        print("benchmarks/README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
