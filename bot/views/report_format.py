"""The report as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ..core.config import EVENT_TYPES
from ..core.triage import iso
from .report_records import RequestRecord
from .report_summary import BillingLine, Report

CSV_COLUMNS = (
    "repo", "number", "title", "url", "opened_utc", "closed_utc", "start_utc", "end_utc",
    "month", "hub", "event_type", "tier_requested", "tier", "tier_status", "attendees",
    "notice_days", "short_notice", "cancelled", "needs_info", "assignees", "checklist_done",
    "checklist_total", "late_items", "billable_usd", "active_hours",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_RE = re.compile(r"^[$]?[\d,.]+%?$|^—$")


def _money(value: float) -> str:
    return f"${value:,.2f}" if value != int(value) else f"${value:,.0f}"


def _price(line: BillingLine) -> str:
    """``$500``, ``$120/h``, or ``$500 + $120/h``."""
    if not line.per_hour_usd:
        return _money(line.unit_usd)
    hourly = f"{_money(line.per_hour_usd)}/h"
    return f"{_money(line.unit_usd)} + {hourly}" if line.unit_usd else hourly


def _day(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def period_text(report: Report) -> str:
    start = _day(report.since) if report.since else ""
    end = _day(report.until - timedelta(microseconds=1)) if report.until else ""
    if start and end:
        return f"{start} to {end}"
    if start:
        return f"from {start}"
    return f"until {end}" if end else "all time"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: str = "  ") -> list[str]:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    # Numbers (counts, money, shares) line up on the right, words on the left.
    numeric = [all(_NUMBER_RE.match(row[i]) for row in cells[1:] if row[i])
               for i in range(len(headers))]
    out = []
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if numeric[i] else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        out.append(indent + "  ".join(parts).rstrip())
        if n == 0:
            out.append(indent + "  ".join("-" * w for w in widths))
    return out


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def format_table(report: Report) -> str:
    n = len(report.records)
    lines = [
        f"Event requests in {report.repo}, {period_text(report)} (UTC, by the event's start): "
        f"{n} ({report.open} open, {report.cancelled} cancelled, {report.needs_info} needing "
        "information)",
        "",
    ]
    for title, counts in (("By type", report.by_type), ("By tier", report.by_tier),
                          ("By tier asked for", report.by_tier_requested),
                          ("By hub", report.by_hub)):
        lines.append(title)
        rows: list[tuple[Any, ...]] = [(k, v) for k, v in counts.items()]
        lines += _table(("", "requests"), rows) if rows else ["  —"]
        lines.append("")
    types = [t for t in EVENT_TYPES if any(m.get(t) for m in report.by_month.values())]
    lines.append("By month")
    lines += _table(("month", *types, "total"), [
        (month, *(counts.get(t, 0) for t in types), sum(counts.values()))
        for month, counts in report.by_month.items()])
    lines.append("")
    notice = report.notice
    lines.append("Notice (from opening the request to the event's start)")
    if notice.median_days is None:
        lines.append("  no request with a readable start")
    else:
        lines.append(f"  median {notice.median_days:.1f} days; {notice.under} of {notice.counted} "
                     f"({_share(notice.share_under)}) under the {notice.notice_days}-day "
                     "notice period")
    lines.append("")
    people = report.attendees
    lines.append("Attendees (peak simultaneous users)")
    if people.median is None:
        lines.append("  no request with a number of attendees")
    else:
        lines.append(f"  {people.counted} events: {people.total:,} in total, median "
                     f"{people.median:g}, largest {people.largest:,}")
        lines += _table(("type", "attendees"), list(people.by_type.items()))
    lines.append("")
    lines.append("Late checklist items (due, and not ticked when the issue was closed, or now)")
    rows = [(i.id, i.due, i.late, _share(i.share)) for i in report.late_items]
    lines += _table(("item", "due", "late", "share"), rows) if rows else ["  none were due"]
    lines.append("")
    lines.append("Billing: approved paid tiers, events starting in the period")
    hourly = any(b.per_hour_usd for b in report.billing)
    rows = [(b.hub, b.tier, b.events, *((f"{b.hours:g}",) if hourly else ()), _price(b),
             _money(b.amount_usd)) for b in report.billing]
    if rows:
        rows.append(("total", "", sum(b.events for b in report.billing),
                     *((f"{sum(b.hours for b in report.billing):g}",) if hourly else ()), "",
                     _money(report.billing_total_usd)))
        lines += _table(("hub", "tier", "events", *(("hours",) if hourly else ()), "price",
                         "amount"), rows)
    else:
        lines.append("  nothing to bill")
    for warning in report.warnings:
        lines += ["", f"Note: {warning}"]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (``=``, ``+``...) is kept as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def record_row(r: RequestRecord) -> dict[str, Any]:
    notice = r.notice_days
    return {
        "repo": r.repo, "number": r.number, "title": _cell(r.title), "url": r.url,
        "opened_utc": iso(r.opened), "closed_utc": iso(r.closed) if r.closed else "",
        "start_utc": iso(r.start) if r.start else "", "end_utc": iso(r.end) if r.end else "",
        "month": r.month, "hub": _cell(r.hub or ""), "event_type": r.event_type,
        "tier_requested": r.tier_requested or "", "tier": r.tier or "",
        "tier_status": r.tier_status,
        "attendees": "" if r.attendees is None else r.attendees,
        "notice_days": "" if notice is None else f"{notice:.2f}",
        "short_notice": "yes" if r.short_notice else "no",
        "cancelled": "yes" if r.cancelled else "no",
        "needs_info": "yes" if r.needs_info else "no",
        "assignees": " ".join(r.assignees),
        "checklist_done": sum(1 for i in r.items if i.ticked), "checklist_total": len(r.items),
        "late_items": " ".join(r.late_items),
        "billable_usd": f"{r.billable_usd:.2f}",
        "active_hours": "" if r.active_hours is None else f"{r.active_hours:.2f}",
    }


def format_csv(report: Report) -> str:
    """One row per request, with a header row: pivot it by any column in a spreadsheet."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for r in report.records:
        writer.writerow(record_row(r))
    return out.getvalue()


def report_json(report: Report) -> dict[str, Any]:
    return {
        "repo": report.repo,
        "since": iso(report.since) if report.since else None,
        "until": iso(report.until) if report.until else None,
        "generated": iso(report.generated),
        "requests": len(report.records), "open": report.open, "cancelled": report.cancelled,
        "needs_info": report.needs_info,
        "by_type": dict(report.by_type), "by_tier": dict(report.by_tier),
        "by_tier_requested": dict(report.by_tier_requested),
        "by_month": {m: dict(c) for m, c in report.by_month.items()},
        "by_hub": dict(report.by_hub),
        "notice": {
            "notice_days": report.notice.notice_days, "counted": report.notice.counted,
            "median_days": report.notice.median_days, "under": report.notice.under,
            "share_under": report.notice.share_under,
        },
        "attendees": {
            "counted": report.attendees.counted, "total": report.attendees.total,
            "median": report.attendees.median, "largest": report.attendees.largest,
            "by_type": dict(report.attendees.by_type),
        },
        "late_items": [{"id": i.id, "text": i.text, "due": i.due, "late": i.late}
                       for i in report.late_items],
        "billing": {
            "lines": [{"hub": b.hub, "tier": b.tier, "events": b.events, "unit_usd": b.unit_usd,
                       "per_hour_usd": b.per_hour_usd, "hours": b.hours,
                       "amount_usd": b.amount_usd, "issues": list(b.issues)}
                      for b in report.billing],
            "total_usd": report.billing_total_usd,
        },
        "records": [record_row(r) for r in report.records],
        "warnings": list(report.warnings),
    }


CHART_COLOURS = {"exam": "#d93f0b", "workshop": "#0e8a16", "demo": "#5319e7",
                 "other": "#6a737d"}


def render(report: Report, fmt: str) -> str:
    if fmt == "csv":
        return format_csv(report)
    if fmt == "json":
        return json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
    return format_table(report)
