"""``python -m bot report``: what past event requests were, and what to bill for them.

Reads every event request (open and closed: an issue with the label, or one
whose body holds the form's headings) through the API, re-triages each with
the pure core (its body, plus the state in its status comment: approvals,
declines, reschedules, cancellations, ticked boxes) and categorises them.

Definitions (all times UTC):
- A request belongs to the month, and to the ``--since``/``--until`` period,
  in which its event starts; when its start could not be read, in which the
  issue was opened.
- Notice is the time from opening the issue to the event's start.
- A checklist item is *late* when its due time had passed and its box was
  not ticked: for a closed issue at the moment it was closed (its boxes as
  they were left), for an open one now. Items not yet due, and every item of
  a cancelled request, are not counted. GitHub keeps no history of when a
  box was ticked, so "ticked after it was due" cannot be told apart from
  "ticked on time".
- Billing lists each event in the period whose tier costs money and was
  approved (or needs no approval), at its price in config, per hub. A
  cancelled request (``/cancel``, or closed as not planned) is not billed,
  nor one whose start could not be read.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import re
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ..core.config import EVENT_TYPES, Config
from ..core.forms import FormTemplate
from ..core.model import (
    IssueSnapshot,
    RepoRef,
    comment_from_json,
    issue_from_json,
    parse_github_time,
)
from ..core.plan import triage
from ..core.request import is_event_request
from ..core.sealing import DEVELOPMENT_KEYS, StateKeys
from ..core.status import StatusComment, find_status
from ..core.triage import Triage, iso

UNKNOWN = "unknown"
CSV_COLUMNS = (
    "repo", "number", "title", "url", "opened_utc", "closed_utc", "start_utc", "end_utc",
    "month", "hub", "event_type", "tier_requested", "tier", "tier_status", "attendees",
    "notice_days", "short_notice", "cancelled", "needs_info", "assignees", "checklist_done",
    "checklist_total", "late_items", "billable_usd",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FETCH_CONCURRENCY = 8
_NUMBER_RE = re.compile(r"^[$]?[\d,.]+%?$|^—$")


# --- one request ------------------------------------------------------------


@dataclass(frozen=True)
class ItemOutcome:
    id: str
    text: str
    due: datetime
    ticked: bool
    counted: bool  # its due time had passed by the reference time
    late: bool  # counted and not ticked


@dataclass(frozen=True)
class RequestRecord:
    """One past or present request, as the report sees it."""

    repo: str
    number: int
    title: str
    url: str
    state: str
    opened: datetime
    closed: datetime | None
    hub: str | None
    event_name: str | None
    event_type: str
    tier_requested: str | None
    tier: str | None  # the tier it went on at (None while pending or unreadable)
    tier_status: str  # granted / pending / approved / declined / unknown
    start: datetime | None
    end: datetime | None
    attendees: int | None
    short_notice: bool
    cancelled: bool
    needs_info: bool
    assignees: tuple[str, ...]
    items: tuple[ItemOutcome, ...]
    billable_usd: float  # 0 unless billed (see the module's definitions)

    @property
    def when(self) -> datetime:
        """The moment that places it in a month and a period."""
        return self.start or self.opened

    @property
    def month(self) -> str:
        return f"{self.when:%Y-%m}"

    @property
    def notice_days(self) -> float | None:
        if self.start is None:
            return None
        return (self.start - self.opened).total_seconds() / 86400

    @property
    def tier_bucket(self) -> str:
        """How it counts "by tier": the tier it went on at, ``pending``, or ``unknown``."""
        if self.tier_status == "pending":
            return "pending"
        return self.tier or UNKNOWN

    @property
    def late_items(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if i.late)


def record_from(issue: IssueSnapshot, status: StatusComment | None, result: Triage,
                config: Config, now: datetime, closed: datetime | None = None
                ) -> RequestRecord | None:
    """A triaged issue -> its record (None when it is not an event request)."""
    req = result.request
    if not result.is_event_request or req is None:
        return None
    tier = result.tier
    cancelled = result.state.cancelled_by is not None or (
        issue.state == "closed" and issue.state_reason == "not_planned")
    reference = closed if issue.state == "closed" and closed is not None else now
    ticked = status.ticked if status is not None else frozenset()
    items = []
    for item in result.checklist:
        counted = not cancelled and item.due <= reference
        done = item.id in ticked
        items.append(ItemOutcome(item.id, item.text, item.due, done, counted,
                                 counted and not done))
    effective = tier.effective if tier is not None else None
    status_name = tier.status if tier is not None else UNKNOWN
    price = 0.0
    billed_tier = config.tiers.get(effective or "")
    if (billed_tier is not None and billed_tier.price_usd > 0 and not cancelled
            and status_name in ("approved", "granted") and req.start is not None):
        price = billed_tier.price_usd
    return RequestRecord(
        repo=issue.repo.full_name, number=issue.number, title=issue.title,
        url=issue.html_url or f"https://github.com/{issue.repo.full_name}/issues/{issue.number}",
        state=issue.state, opened=issue.created_at.astimezone(UTC),
        closed=closed.astimezone(UTC) if closed else None, hub=req.hub_host,
        event_name=req.event_name, event_type=req.event_type,
        tier_requested=tier.requested if tier is not None else req.tier,
        tier=effective, tier_status=status_name, start=req.start, end=req.end,
        attendees=req.attendees, short_notice=req.short_notice, cancelled=cancelled,
        needs_info=bool(result.errors), assignees=tuple(issue.assignees),
        items=tuple(items), billable_usd=price,
    )


# --- the summary -------------------------------------------------------------


@dataclass(frozen=True)
class NoticeStats:
    notice_days: int  # the configured notice period
    counted: int  # requests with a readable start
    median_days: float | None
    under: int  # requests given less notice than the period
    share_under: float | None


@dataclass(frozen=True)
class AttendeeStats:
    counted: int
    total: int
    median: float | None
    largest: int | None
    by_type: Mapping[str, int]


@dataclass(frozen=True)
class LateItem:
    id: str
    text: str
    due: int  # how many requests had it due
    late: int

    @property
    def share(self) -> float:
        return self.late / self.due if self.due else 0.0


@dataclass(frozen=True)
class BillingLine:
    hub: str
    tier: str
    events: int
    unit_usd: float
    amount_usd: float
    issues: tuple[str, ...]  # OWNER/NAME#N, for the invoice's detail


@dataclass(frozen=True)
class Report:
    repo: str
    since: datetime | None
    until: datetime | None  # exclusive
    generated: datetime
    records: tuple[RequestRecord, ...]
    by_type: Mapping[str, int]
    by_tier: Mapping[str, int]
    by_tier_requested: Mapping[str, int]
    by_month: Mapping[str, Mapping[str, int]]  # "YYYY-MM" -> event type -> count
    by_hub: Mapping[str, int]
    notice: NoticeStats
    attendees: AttendeeStats
    late_items: tuple[LateItem, ...]
    billing: tuple[BillingLine, ...]
    billing_total_usd: float
    cancelled: int
    needs_info: int
    open: int = 0
    warnings: tuple[str, ...] = field(default=())


def in_period(record: RequestRecord, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or record.when >= since) and (until is None or record.when < until)


def _months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def monthly_by_type(pairs: Iterable[tuple[str, str]], types: Sequence[str] = EVENT_TYPES,
                    first: str | None = None, last: str | None = None
                    ) -> dict[str, dict[str, int]]:
    """(month, type) pairs -> month -> type -> count.

    Every month from ``first`` (default: the first present) to ``last`` (default:
    the last present) is there, gaps as zeros; pairs outside them are left out.
    """
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for month, event_type in pairs:
        if (first is None or month >= first) and (last is None or month <= last):
            counts[month][event_type] += 1
    months = sorted(counts)
    lo = first or (months[0] if months else None)
    hi = last or (months[-1] if months else None)
    if lo is None or hi is None:
        return {}
    all_types = list(dict.fromkeys([*types, *(t for c in counts.values() for t in c)]))
    return {m: {t: counts[m][t] for t in all_types} for m in _months_between(lo, hi)}


def _sorted_counts(counter: Counter[str], order: Sequence[str] = ()) -> dict[str, int]:
    first = [k for k in order if k in counter]
    rest = sorted((k for k in counter if k not in order), key=lambda k: (-counter[k], k))
    return {k: counter[k] for k in [*first, *rest]}


def summarize(repo: str, records: Iterable[RequestRecord], config: Config, *,
              since: datetime | None = None, until: datetime | None = None,
              generated: datetime | None = None) -> Report:
    """Categorise the records that fall in the period (pure)."""
    chosen = sorted((r for r in records if in_period(r, since, until)),
                    key=lambda r: (r.when, r.repo.lower(), r.number))
    by_type = Counter(r.event_type for r in chosen)
    by_tier = Counter(r.tier_bucket for r in chosen)
    by_requested = Counter(r.tier_requested or UNKNOWN for r in chosen)
    by_hub = Counter(r.hub or UNKNOWN for r in chosen)

    notices = [d for d in (r.notice_days for r in chosen if not r.cancelled) if d is not None]
    under = sum(1 for d in notices if d < config.notice_days)
    notice = NoticeStats(
        notice_days=config.notice_days, counted=len(notices),
        median_days=statistics.median(notices) if notices else None, under=under,
        share_under=under / len(notices) if notices else None,
    )

    people = [r for r in chosen if r.attendees is not None and not r.cancelled]
    counts = [r.attendees for r in people if r.attendees is not None]
    by_type_people: Counter[str] = Counter()
    for r in people:
        by_type_people[r.event_type] += r.attendees or 0
    attendees = AttendeeStats(
        counted=len(counts), total=sum(counts),
        median=statistics.median(counts) if counts else None,
        largest=max(counts) if counts else None,
        by_type=_sorted_counts(by_type_people, EVENT_TYPES),
    )

    due: Counter[str] = Counter()
    late: Counter[str] = Counter()
    texts: dict[str, str] = {i.id: i.text for i in config.checklist}
    for r in chosen:
        for item in r.items:
            texts.setdefault(item.id, item.text)
            if item.counted:
                due[item.id] += 1
                late[item.id] += item.late
    order = [i.id for i in config.checklist]
    late_items = tuple(sorted(
        (LateItem(i, texts.get(i, i), due[i], late[i]) for i in due),
        key=lambda x: (-x.late, order.index(x.id) if x.id in order else len(order), x.id)))

    lines: dict[tuple[str, str], list[RequestRecord]] = defaultdict(list)
    for r in chosen:
        if r.billable_usd > 0 and r.tier is not None:
            lines[(r.hub or UNKNOWN, r.tier)].append(r)
    billing = tuple(
        BillingLine(hub=hub, tier=tier, events=len(rs), unit_usd=rs[0].billable_usd,
                    amount_usd=sum(x.billable_usd for x in rs),
                    issues=tuple(f"{x.repo}#{x.number}" for x in rs))
        for (hub, tier), rs in sorted(lines.items())
    )
    first = f"{since:%Y-%m}" if since else None
    last = f"{until - timedelta(microseconds=1):%Y-%m}" if until else None
    return Report(
        repo=repo, since=since, until=until, generated=generated or datetime.now(UTC),
        records=tuple(chosen),
        by_type=_sorted_counts(by_type, EVENT_TYPES),
        by_tier=_sorted_counts(by_tier, [*config.tiers, "pending"]),
        by_tier_requested=_sorted_counts(by_requested, list(config.tiers)),
        by_month=monthly_by_type(((r.month, r.event_type) for r in chosen),
                                 first=first if chosen else None, last=last if chosen else None),
        by_hub=_sorted_counts(by_hub),
        notice=notice, attendees=attendees, late_items=late_items, billing=billing,
        billing_total_usd=sum(b.amount_usd for b in billing),
        cancelled=sum(1 for r in chosen if r.cancelled),
        needs_info=sum(1 for r in chosen if r.needs_info),
        open=sum(1 for r in chosen if r.state == "open"),
    )


# --- reading from GitHub -----------------------------------------------------


async def fetch_records(client: Any, repo: str, config: Config, form: FormTemplate,
                        now: datetime, *, keys: StateKeys, bot_login: str | None = None,
                        with_status: bool = True) -> list[RequestRecord]:
    """Every event request in ``repo`` (open and closed), re-triaged.

    An issue is one when it carries the label or its body holds the form's headings (as
    ``bot.core.request.is_event_request`` says), so every issue is listed, not only labelled
    ones; comments are read only for requests. ``client`` is a
    ``bot.github.client.GitHubClient``. ``with_status=False`` skips the comments (one call per
    request): the type and the dates still come out right, but approvals, cancellations,
    reschedules and ticks are not seen.
    """
    owner, _, name = repo.partition("/")
    ref = RepoRef(owner, name)
    # No label filter: a request opened without the form's label is still one.
    issues = await client.get_all(f"/repos/{owner}/{name}/issues", {
        "state": "all", "per_page": 100, "sort": "created", "direction": "asc"})
    gate = asyncio.Semaphore(FETCH_CONCURRENCY)

    async def one(data: Any) -> RequestRecord | None:
        if not isinstance(data, dict) or "pull_request" in data:
            return None
        try:
            issue = issue_from_json(data, ref)
        except ValueError:
            return None
        if not is_event_request(issue, form, config):
            return None  # a plain issue: no call for its comments
        status: StatusComment | None = None
        if with_status:
            async with gate:
                raw = await client.issue_comments(repo, issue.number)
            comments = [c for c in (comment_from_json(x) for x in raw) if c is not None]
            status, _ = find_status(comments, bot_login, keys, repo, issue.number)
        result = triage(issue, status, config, form, now)
        return record_from(issue, status, result, config, now,
                           closed=parse_github_time(data.get("closed_at")))

    found = await asyncio.gather(*(one(x) for x in issues))
    return [r for r in found if r is not None]


# --- output ------------------------------------------------------------------


def _money(value: float) -> str:
    return f"${value:,.2f}" if value != int(value) else f"${value:,.0f}"


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
    rows = [(b.hub, b.tier, b.events, _money(b.unit_usd), _money(b.amount_usd))
            for b in report.billing]
    if rows:
        rows.append(("total", "", sum(b.events for b in report.billing), "",
                     _money(report.billing_total_usd)))
        lines += _table(("hub", "tier", "events", "price", "amount"), rows)
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
                       "amount_usd": b.amount_usd, "issues": list(b.issues)}
                      for b in report.billing],
            "total_usd": report.billing_total_usd,
        },
        "records": [record_row(r) for r in report.records],
        "warnings": list(report.warnings),
    }


def plot_monthly(by_month: Mapping[str, Mapping[str, int]], path: Path, title: str) -> None:
    """The monthly chart, stacked by type, as a PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    months = list(by_month)
    types = [t for t in EVENT_TYPES if any(c.get(t) for c in by_month.values())] or ["other"]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(months) + 2), 4), dpi=100)
    try:
        bottom = [0] * len(months)
        for t in types:
            values = [by_month[m].get(t, 0) for m in months]
            ax.bar(months, values, bottom=bottom, label=t, color=CHART_COLOURS.get(t, "#888888"))
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_title(title)
        ax.set_ylabel("requests")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.tick_params(axis="x", labelrotation=45)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)


CHART_COLOURS = {"exam": "#d93f0b", "workshop": "#0e8a16", "demo": "#5319e7",
                 "other": "#6a737d"}


# --- the command ---------------------------------------------------------------


class UsageError(ValueError):
    """A bad argument: exit status 2."""


def parse_bound(text: str | None, *, end: bool) -> datetime | None:
    """``2026-03`` / ``2026-03-15`` / an ISO 8601 time, in UTC.

    A month or a day given as ``--until`` includes all of it (the bound is the
    start of the next one).
    """
    if not text:
        return None
    value = text.strip()
    try:
        if len(value) == 7 and value[4] == "-":
            year, month = int(value[:4]), int(value[5:7])
            first = datetime(year, month, 1, tzinfo=UTC)
            if not end:
                return first
            return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{text!r} is not a date like 2026-03-01 (or 2026-03, or an ISO 8601 "
                         "time)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def render(report: Report, fmt: str) -> str:
    if fmt == "csv":
        return format_csv(report)
    if fmt == "json":
        return json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
    return format_table(report)


async def build_report(repo: str, env: Mapping[str, str], config: Config, form: FormTemplate,
                       *, since: datetime | None = None, until: datetime | None = None,
                       now: datetime | None = None) -> Report:
    """Read ``repo``'s requests as the App (when its credentials are in ``env``) or with
    ``GITHUB_TOKEN``, and summarise them. ``LookupError`` when the App is not installed there.
    """
    import aiohttp

    from ..core.sealing import keys_from_env
    from ..github.client import GitHubApp, GitHubError, TokenClient, api_url, credentials_from_env
    from ..github.grants import app_get
    from ..service.repo_config import RepoConfigs

    now = now or datetime.now(UTC)
    owner, _, name = repo.partition("/")
    creds = credentials_from_env(env)
    token = env.get("GITHUB_TOKEN", "").strip()
    async with aiohttp.ClientSession() as session:
        client: Any
        bot_login: str | None = None
        if creds is not None:
            app = GitHubApp(session, creds, api_url(env), config.github)
            try:
                inst = await app_get(app, f"/repos/{owner}/{name}/installation")
            except GitHubError as e:
                if e.status == 404:
                    raise LookupError(f"the App is not installed on {repo}") from None
                raise
            inst_id = inst.get("id") if isinstance(inst, dict) else None
            if not isinstance(inst_id, int):
                raise LookupError(f"GitHub did not name the App's installation on {repo}")
            client = await app.installation(inst_id)
            bot_login = await app.bot_login()
        elif token:
            client = TokenClient(session, token, api_url(env), config.github)
        else:
            raise UsageError("report needs GitHub access: set GITHUB_APP_ID and "
                             "GITHUB_PRIVATE_KEY (the App), or GITHUB_TOKEN")
        loaded = await RepoConfigs(config, ttl_seconds=0).load(client, repo)
        warnings = []
        if loaded.broken:
            warnings.append(f"{repo}'s .github/event-bot.yml cannot be used, so the "
                            "deployment's config was: " + "; ".join(loaded.problem))
        keys = keys_from_env(env)
        if keys is None:
            warnings.append("neither BOT_STATE_KEY nor GITHUB_WEBHOOK_SECRET is set, so no "
                            "request's approval could be verified: all count as pending")
        records = await fetch_records(client, repo, loaded.config, form, now,
                                      keys=keys or DEVELOPMENT_KEYS, bot_login=bot_login)
    report = summarize(repo, records, loaded.config, since=since, until=until, generated=now)
    if warnings:
        from dataclasses import replace

        report = replace(report, warnings=tuple(warnings))
    return report


def run(args: argparse.Namespace, env: Mapping[str, str], config: Config,
        form: FormTemplate, now: datetime | None = None) -> int:
    """The ``report`` command once the config is loaded; returns the exit status."""
    from ..github.client import GitHubError

    now = now or datetime.now(UTC)
    repo = str(args.repo or "")
    if repo.count("/") != 1 or not all(repo.split("/")):
        print(f"error: --repo {repo!r} is not OWNER/NAME", file=sys.stderr)
        return 2
    try:
        since = parse_bound(args.since, end=False)
        until = parse_bound(args.until, end=True)
        if since and until and until <= since:
            raise UsageError("--until is before --since")
        report = asyncio.run(build_report(repo, env, config, form, since=since, until=until,
                                          now=now))
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # an unreadable private key
        print(f"error: {e}", file=sys.stderr)
        return 2
    except LookupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except GitHubError as e:
        print(f"error: GitHub: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(render(report, args.format))
    if args.plot:
        try:
            plot_monthly(report.by_month, Path(args.plot),
                         f"Event requests per month, {report.repo}")
        except OSError as e:
            print(f"error: cannot write {args.plot}: {e}", file=sys.stderr)
            return 1
        print(f"chart written to {args.plot}", file=sys.stderr)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", required=True, help="OWNER/NAME")
    parser.add_argument("--since", default=None,
                        help="first day (UTC) of the period: 2026-01-01, or a month: 2026-01")
    parser.add_argument("--until", default=None,
                        help="last day (UTC) of the period, included: 2026-06-30, or 2026-06")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--plot", default=None, metavar="FILE.png",
                        help="also draw the requests per month, by type")
    parser.add_argument("--config", default=None)
