"""The benchmark's report: the machine, the goals met or missed, the figures as a table."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


@dataclass(frozen=True)
class Goal:
    area: str
    what: str
    target: str
    measured: str
    met: bool
    note: str


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "nproc": usable,
        "cpu": _cpu_model(),
        "memory": _memory_total(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "aiohttp": metadata.version("aiohttp"),
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
              for row in rows]
    return "\n".join(lines)


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        value = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return f"{value}{unit}"


def figure_rows(out: dict[str, Any]) -> list[list[str]]:
    """The figures worth a line each, in reading order."""
    rows: list[list[str]] = []

    def add(label: str, *path: str, unit: str = "") -> None:
        value = _get(out, *path)
        if value is not None:
            rows.append([label, _fmt(value, unit)])

    add("ack at 500/s: p50", "ack_latency", "latency", "p50_ms", unit=" ms")
    add("ack at 500/s: p99", "ack_latency", "latency", "p99_ms", unit=" ms")
    add("ack at 500/s: max", "ack_latency", "latency", "max_ms", unit=" ms")
    add("ack at 500/s: offered rate achieved", "ack_latency", "offered_per_s", unit="/s")
    add("ack at 500/s: bot CPU a delivery", "ack_latency", "bot_cpu_us_per_delivery",
        unit=" µs")
    add("ack at 500/s: other processes' CPU meanwhile", "ack_latency",
        "other_processes_cpu_cores", unit=" cores")
    add("ack burst: throughput", "ack_throughput", "answered_per_s", unit="/s")
    add("ack burst: p99", "ack_throughput", "latency", "p99_ms", unit=" ms")
    add("ack burst: errors", "ack_throughput", "errors")
    add("ack burst: bot CPU a delivery", "ack_throughput", "bot_cpu_us_per_delivery",
        unit=" µs")
    add("ack burst: load generator CPU a delivery", "ack_throughput",
        "loadgen_cpu_us_per_delivery", unit=" µs")
    add("ack burst: other processes' CPU meanwhile", "ack_throughput",
        "other_processes_cpu_cores", unit=" cores")
    add("ack burst: all processed after", "ack_throughput", "all_processed_s", unit=" s")
    add("payload size", "ack_throughput", "payload_bytes", unit=" bytes")
    add("one at a time: first write (labels, assignees) p95", "triage_single",
        "first_write", "p95_ms", unit=" ms")
    add("one at a time: status comment p50", "triage_single", "status_comment", "p50_ms",
        unit=" ms")
    add("one at a time: status comment p95", "triage_single", "status_comment", "p95_ms",
        unit=" ms")
    add("one at a time: first request (cold caches), status comment", "triage_single",
        "first_request_cold", "status_comment_ms", unit=" ms")
    burst = _get(out, "triage_burst", "requests")
    add(f"burst of {burst}: status comment p50", "triage_burst", "status_comment", "p50_ms",
        unit=" ms")
    add(f"burst of {burst}: status comment p95", "triage_burst", "status_comment", "p95_ms",
        unit=" ms")
    add(f"burst of {burst}: all writes done p95", "triage_burst", "triaged", "p95_ms",
        unit=" ms")
    add(f"burst of {burst}: seconds a request within an installation", "triage_burst",
        "seconds_per_request_per_installation", unit=" s")
    add(f"burst of {burst}: least gap between an installation's writes", "triage_burst",
        "min_gap_between_writes_s", unit=" s")
    add(f"burst of {burst}: most writes of an installation in one second", "triage_burst",
        "most_writes_in_one_second")
    add(f"burst of {burst}: secondary-limit answers", "triage_burst",
        "secondary_limit_answers")
    calls = out.get("calls_per_request")
    if isinstance(calls, dict):
        for label, row in calls.items():
            if isinstance(row, dict):
                rows.append([f"calls: {label}",
                             f"{row['calls']} ({row['reads']} reads, {row['writes']} writes, "
                             f"{row['counted_against_primary_limit']} counted)"])
            else:
                rows.append([f"calls: {label}", str(row)])
    rec = out.get("reconciliation")
    if isinstance(rec, dict):
        c = rec["calls"]
        rows.append([f"calls: reconciliation pass, {rec['open_requests']} unchanged",
                     f"{c['calls']} ({c['not_modified_304']} × 304, "
                     f"{c['counted_against_primary_limit']} counted), {rec['duration_s']} s"])
    su = out.get("startup")
    if isinstance(su, dict):
        c = su["reconciliation_calls"]
        rows.append([f"start-up: /healthz answers ({su['open_requests']} open requests)",
                     f"{su['healthz_s']} s"])
        rows.append(["start-up: first reconciliation done",
                     f"{su['reconciled_s']} s, {c['calls']} calls "
                     f"({c['counted_against_primary_limit']} counted: cold caches)"])
    burst_size = _get(out, "ack_throughput", "deliveries") or 0
    for key, label in (("idle_after_startup", "memory: idle after start-up"),
                       ("during_burst", f"memory: peak during the {burst_size:,} burst")):
        value = _get(out, "memory", key)
        if isinstance(value, dict):
            rows.append([label, f"peak {value['peak_mib']} MiB (RSS {value['rss_mib']} MiB, "
                                f"heap {value['anon_mib']} MiB)"])
    for key, value in (out.get("memory") or {}).items():
        if key.startswith("tracking_") and isinstance(value, dict):
            rows.append([f"memory: tracking {int(key.split('_')[1]):,} open requests",
                         f"RSS {value['rss_mib']} MiB (peak {value['peak_mib']} MiB, "
                         f"heap {value['anon_mib']} MiB)"])
    hostile = _get(out, "hostile_input", "median_ms")
    if isinstance(hostile, dict):
        for name, ms in hostile.items():
            rows.append([f"hostile input: {name}", f"{ms} ms"])
    tr = out.get("tracked_reconciliation")
    if isinstance(tr, dict):
        rows.append([f"start-up reconciliation of {tr['open_requests']:,} in "
                     f"{tr['installations']} installations (no latency)",
                     f"{tr['reconciled_s']} s ({tr['requests_per_s']}/s), "
                     f"{tr['counted_against_primary_limit']:,} calls counted"])
    return rows


def machine_line(info: dict[str, Any]) -> str:
    return (f"{info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM, "
            f"{info['implementation']} {info['python']}, aiohttp {info['aiohttp']}, "
            f"{info['os']}")


def render_markdown(out: dict[str, Any], goals: Sequence[Goal]) -> str:
    goal_rows = [[g.what, g.target, g.measured, "met" if g.met else "**missed**", g.note]
                 for g in goals]
    parts = [
        f"Run {out['when']} on {machine_line(out['machine'])}; load average "
        f"{out['load_average_before']:.2f} before; "
        f"{out['options']['latency'] * 1000:.0f} ms a GitHub call; took {out['duration_s']} s.",
        "",
        _table(["goal", "target", "measured", "", "note"], goal_rows),
        "",
        _table(["figure", "value"], figure_rows(out)),
    ]
    return "\n".join(parts)


def render_table(out: dict[str, Any], goals: Sequence[Goal]) -> str:
    return render_markdown(out, goals)


def update_readme(out: dict[str, Any], goals: Sequence[Goal], path: Path = README) -> None:
    """Replace the figures between the README's markers with these."""
    text = path.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{render_markdown(out, goals)}\n{END}"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{path} has no {BEGIN} ... {END} block")
    path.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")
