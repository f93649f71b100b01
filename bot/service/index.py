"""The in-memory index of open requests: what the dashboard, calendar and scheduler read.

Only a cache: it is rebuilt from GitHub by reconciliation at start-up and
kept current by every sync.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..core.dates import Session
from ..core.model import HubBooking, IssueSnapshot
from ..core.status import DispatchRecord
from ..core.triage import Triage


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
    prewarm_nodes: int | None = None
    confirmed: bool = False  # only a confirmed request books nodes on its hub
    sessions: tuple[Session, ...] = ()  # one per day of daily hours, else start..end

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
        prewarm_nodes=triage.sizing.prewarm_nodes if triage.sizing else None,
        confirmed=triage.confirmed, sessions=req.sessions,
    )


def booking(entry: IndexEntry) -> HubBooking | None:
    """The entry as a hub booking, if it is live, confirmed and holds nodes."""
    if (not entry.open or not entry.confirmed or entry.cancelled or entry.start is None
            or entry.end is None or not entry.hub or not entry.prewarm_nodes):
        return None
    return HubBooking(entry.repo, entry.number, entry.start, entry.end, entry.prewarm_nodes)


class _HubView(Mapping[str, tuple[HubBooking, ...]]):
    """hub -> its bookings, read from the index as it is (no copy of the whole)."""

    def __init__(self, hubs: dict[str, dict[tuple[str, int], HubBooking]]) -> None:
        self._hubs = hubs

    def __getitem__(self, hub: str) -> tuple[HubBooking, ...]:
        return tuple(self._hubs[hub].values())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._hubs))

    def __len__(self) -> int:
        return len(self._hubs)


class RequestIndex:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], IndexEntry] = {}
        self._hubs: dict[str, dict[tuple[str, int], HubBooking]] = {}

    def put(self, entry: IndexEntry) -> None:
        self._unbook(self._entries.get(entry.key))
        self._entries[entry.key] = entry
        found = booking(entry)
        if found is not None and entry.hub:
            self._hubs.setdefault(entry.hub, {})[entry.key] = found

    def drop(self, repo: str, number: int) -> None:
        self._unbook(self._entries.pop((repo.lower(), number), None))

    def _unbook(self, old: IndexEntry | None) -> None:
        if old is None or not old.hub or old.hub not in self._hubs:
            return
        bookings = self._hubs[old.hub]
        bookings.pop(old.key, None)
        if not bookings:
            del self._hubs[old.hub]

    @property
    def hub_bookings(self) -> Mapping[str, tuple[HubBooking, ...]]:
        """The live requests holding nodes, by hub host (read-only, always current)."""
        return _HubView(self._hubs)

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
