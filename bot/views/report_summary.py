"""The report's summary of the records in a period (pure): counts, notice, billing."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..core.config import EVENT_TYPES, Config
from .report_records import UNKNOWN, RequestRecord


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
    per_hour_usd: float | None = None  # the tier's hourly price, when it has one
    hours: float = 0.0  # the events' active hours


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
        BillingLine(hub=hub, tier=tier, events=len(rs),
                    unit_usd=config.tiers[tier].price_usd if tier in config.tiers
                    else rs[0].billable_usd,
                    amount_usd=sum(x.billable_usd for x in rs),
                    per_hour_usd=config.tiers[tier].price_per_hour_usd
                    if tier in config.tiers else None,
                    hours=sum(x.active_hours or 0.0 for x in rs),
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
