"""One event request as the report sees it: re-triaged, its checklist outcomes and its price."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..core.config import Config, Tier
from ..core.model import IssueSnapshot
from ..core.request import EventRequest
from ..core.status import StatusComment
from ..core.triage import Triage

UNKNOWN = "unknown"


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
    active_hours: float | None = None  # what an hourly tier bills

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
    hours = active_hours(req)
    billed_tier = config.tiers.get(effective or "")
    if (billed_tier is not None and not cancelled
            and status_name in ("approved", "granted") and req.start is not None):
        price = tier_price(billed_tier, hours)
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
        items=tuple(items), billable_usd=price, active_hours=hours,
    )


def active_hours(req: EventRequest) -> float | None:
    """The event's active time in hours: its sessions' when it has them (daily hours),
    else start to end; None when the dates could not be read."""
    sessions = getattr(req, "sessions", ())  # daily hours: one session a day
    if sessions:
        return float(sum((s.end - s.start).total_seconds() for s in sessions)) / 3600
    if req.start is None or req.end is None:
        return None
    return (req.end - req.start).total_seconds() / 3600


def tier_price(tier: Tier, hours: float | None) -> float:
    """``price_usd`` per event plus ``price_per_hour_usd`` per active hour (when known)."""
    hourly = tier.price_per_hour_usd or 0.0
    return tier.price_usd + (hourly * hours if hours is not None else 0.0)
