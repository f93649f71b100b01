"""The in-memory index of open requests: what the dashboard, calendar and scheduler read.

Only a cache: it is rebuilt from GitHub by reconciliation at start-up and
kept current by every sync.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from .model import IssueSnapshot
from .plan import Triage
from .status import DispatchRecord


@dataclass(frozen=True)
class IndexedItem:
    id: str
    text: str
    due: datetime
    ticked: bool
    after_event: bool


@dataclass(frozen=True)
class IndexEntry:
    repo: str  # OWNER/NAME
    number: int
    installation_id: int
    title: str
    html_url: str
    hub: str | None
    event_name: str | None
    event_type: str
    tier_requested: str | None
    tier_effective: str | None
    tier_status: str  # granted / pending / approved / declined / unknown
    start: datetime | None
    end: datetime | None
    zone: str | None
    attendees: int | None
    assignees: tuple[str, ...]
    items: tuple[IndexedItem, ...]
    dispatches: tuple[DispatchRecord, ...]
    needs_info: bool
    cancelled: bool
    open: bool
    created_at: datetime

    @property
    def key(self) -> tuple[str, int]:
        return (self.repo.lower(), self.number)

    def overdue(self, now: datetime) -> tuple[IndexedItem, ...]:
        return tuple(i for i in self.items if not i.ticked and i.due <= now)

    @property
    def progress(self) -> tuple[int, int]:
        return sum(1 for i in self.items if i.ticked), len(self.items)


def entry_from(issue: IssueSnapshot, triage: Triage, ticked: frozenset[str]) -> IndexEntry | None:
    req = triage.request
    if req is None:
        return None
    tier = triage.tier
    return IndexEntry(
        repo=issue.repo.full_name, number=issue.number,
        installation_id=issue.repo.installation_id, title=issue.title,
        html_url=issue.html_url
        or f"https://github.com/{issue.repo.full_name}/issues/{issue.number}",
        hub=req.hub_host, event_name=req.event_name, event_type=req.event_type,
        tier_requested=tier.requested if tier else None,
        tier_effective=tier.effective if tier else None,
        tier_status=tier.status if tier else "unknown",
        start=req.start, end=req.end, zone=req.zone.label if req.zone else None,
        attendees=req.attendees, assignees=triage.assignees,
        items=tuple(IndexedItem(i.id, i.text, i.due, i.id in ticked, i.after_event)
                    for i in triage.checklist),
        dispatches=triage.state.dispatches, needs_info=bool(triage.errors),
        cancelled=triage.state.cancelled_by is not None, open=issue.state == "open",
        created_at=issue.created_at,
    )


class RequestIndex:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], IndexEntry] = {}

    def put(self, entry: IndexEntry) -> None:
        self._entries[entry.key] = entry

    def drop(self, repo: str, number: int) -> None:
        self._entries.pop((repo.lower(), number), None)

    def get(self, repo: str, number: int) -> IndexEntry | None:
        return self._entries.get((repo.lower(), number))

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[IndexEntry]:
        return iter(list(self._entries.values()))

    def upcoming(self, now: datetime) -> list[IndexEntry]:
        """Open requests that have not ended yet, in start order (unknown starts last)."""
        live = [e for e in self._entries.values()
                if e.open and not e.cancelled and (e.end is None or e.end > now)]
        return sorted(live, key=lambda e: (e.start is None, e.start or now, e.repo, e.number))
