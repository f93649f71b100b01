"""bot.service.index: the in-memory index of open requests, and the hub bookings it keeps.

Pure: entries come from a real triage of a real form body, or are written out here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.model import HubBooking, IssueSnapshot, RepoRef, Trust
from bot.core.plan import triage
from bot.core.status import StatusState
from bot.core.triage import Triage
from bot.service.index import IndexedItem, IndexEntry, RequestIndex, booking, entry_from

from .botapp import fast_config
from .requests_seed import FORM, request_body

OPENED = datetime(2026, 11, 23, 9, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
START = datetime(2027, 3, 9, 19, tzinfo=UTC)
END = START + timedelta(hours=3)
HUB = "stat101.hubs.example.org"


# --- entry_from: a triage as the index keeps it -----------------------------------------------

def issue(**changes: Any) -> IssueSnapshot:
    base = IssueSnapshot(
        repo=RepoRef("Stat-Dept", "Event-Requests", 7101), number=12,
        title="[Event]: STAT 101 final",
        body=request_body(hub=f"https://{HUB}", name="STAT 101 final", event_type="exam",
                          start="2027-03-09 13:00", end="2027-03-09 16:00",
                          timezone="America/Chicago", tier="standard", attendees="180"),
        author="prof", labels=("event-request",), assignees=(), state="open",
        created_at=OPENED, html_url="https://github.com/Stat-Dept/Event-Requests/issues/12",
        trust=Trust(author=True))
    return replace(base, **changes)


def triaged(snapshot: IssueSnapshot) -> Triage:
    return triage(snapshot, None, fast_config(), FORM, NOW)


def test_an_entry_holds_what_the_views_show() -> None:
    snapshot = issue()
    result = triaged(snapshot)
    assert result.request is not None and result.sizing is not None and result.checklist
    first = result.checklist[0].id
    entry = entry_from(snapshot, result, frozenset({first}))
    assert entry is not None
    assert (entry.repo, entry.number, entry.installation_id, entry.key) == (
        "Stat-Dept/Event-Requests", 12, 7101, ("stat-dept/event-requests", 12))
    assert (entry.title, entry.html_url) == (snapshot.title, snapshot.html_url)
    assert (entry.hub, entry.event_name, entry.event_type) == (HUB, "STAT 101 final", "exam")
    assert (entry.start, entry.end) == (START, END)
    assert entry.zone == "America/Chicago" and entry.attendees == 180
    assert (entry.tier_requested, entry.tier_effective, entry.tier_status) == (
        "standard", "standard", "granted")
    assert entry.assignees == result.assignees and len(entry.assignees) == 2
    assert [i.id for i in entry.items] == [i.id for i in result.checklist]
    assert [i.id for i in entry.items if i.ticked] == [first]
    assert entry.progress == (1, len(result.checklist))
    assert entry.prewarm_nodes == result.sizing.prewarm_nodes and entry.prewarm_nodes
    assert entry.confirmed  # filed by a writer
    assert entry.open and not entry.cancelled and not entry.needs_info
    assert entry.created_at == OPENED and entry.dispatches == ()


@pytest.mark.parametrize(("snapshot", "changes", "expected"), [
    # GitHub's address for the issue when the snapshot came without one.
    (issue(html_url=""), {},
     {"html_url": "https://github.com/Stat-Dept/Event-Requests/issues/12"}),
    (issue(state="closed"), {}, {"open": False}),
    (issue(), {"state": StatusState(cancelled_by="prof")}, {"cancelled": True}),
    (issue(trust=Trust()), {}, {"confirmed": False}),  # a stranger's request
    (issue(body=request_body(hub=f"https://{HUB}", name="x", event_type="exam",
                             start="soon", end="later", tier="standard")), {},
     {"needs_info": True, "start": None, "items": (), "assignees": ()}),
])
def test_an_entry_follows_the_issue_and_its_state(snapshot: IssueSnapshot,
                                                  changes: dict[str, Any],
                                                  expected: dict[str, Any]) -> None:
    entry = entry_from(snapshot, replace(triaged(snapshot), **changes), frozenset())
    assert entry is not None
    assert {key: getattr(entry, key) for key in expected} == expected


@pytest.mark.parametrize("result", [
    Triage(is_event_request=False),
    Triage(is_event_request=True),  # no request read: nothing to show
])
def test_no_request_no_entry(result: Triage) -> None:
    assert entry_from(issue(), result, frozenset()) is None


# --- booking: which entries hold nodes on their hub -------------------------------------------

def entry(number: int = 1, repo: str = "Org/Requests", **changes: Any) -> IndexEntry:
    """A live, confirmed request holding 4 nodes on HUB."""
    base = IndexEntry(
        repo=repo, number=number, installation_id=1, title=f"request {number}",
        html_url="", hub=HUB, event_name=f"event {number}", event_type="exam",
        tier_requested="standard", tier_effective="standard", tier_status="granted",
        start=START, end=END, zone="UTC", attendees=100, assignees=(), items=(),
        dispatches=(), needs_info=False, cancelled=False, open=True, created_at=OPENED,
        prewarm_nodes=4, confirmed=True)
    return replace(base, **changes)


def test_a_live_confirmed_request_books_its_nodes() -> None:
    assert booking(entry(7)) == HubBooking("Org/Requests", 7, START, END, 4)


@pytest.mark.parametrize("changes", [
    {"open": False}, {"confirmed": False}, {"cancelled": True}, {"start": None},
    {"end": None}, {"hub": None}, {"hub": ""}, {"prewarm_nodes": None}, {"prewarm_nodes": 0},
], ids=lambda c: ",".join(f"{k}={v!r}" for k, v in c.items()))
def test_what_books_no_nodes(changes: dict[str, Any]) -> None:
    assert booking(entry(**changes)) is None


# --- RequestIndex -----------------------------------------------------------------------------

def bookings(index: RequestIndex) -> dict[str, list[int]]:
    return {hub: [b.number for b in found] for hub, found in index.hub_bookings.items()}


def test_put_get_and_drop_by_repository_in_any_case() -> None:
    index = RequestIndex()
    index.put(entry(1, "Org/Requests"))
    assert index.get("org/requests", 1) == entry(1, "Org/Requests")
    assert index.get("ORG/REQUESTS", 1) is not None and index.get("org/requests", 2) is None
    index.put(entry(1, "org/requests", title="renamed"))  # the same issue, not a second
    assert len(index) == 1 and [e.title for e in index] == ["renamed"]
    assert bookings(index) == {HUB: [1]}
    index.drop("ORG/Requests", 1)
    assert len(index) == 0 and index.get("Org/Requests", 1) is None
    assert bookings(index) == {}
    index.drop("Org/Requests", 1)  # gone already: nothing to do
    assert len(index) == 0


OTHER_HUB = "bio200.hubs.example.org"

# (the entries put in order, by number and changes; the bookings by hub afterwards)
PUTS: list[tuple[str, list[tuple[int, dict[str, Any]]], dict[str, list[int]]]] = [
    ("two on one hub", [(1, {}), (2, {})], {HUB: [1, 2]}),
    ("two hubs", [(1, {}), (2, {"hub": OTHER_HUB})], {HUB: [1], OTHER_HUB: [2]}),
    ("moved to another hub", [(1, {}), (1, {"hub": OTHER_HUB})], {OTHER_HUB: [1]}),
    ("moved, the other stays", [(1, {}), (2, {}), (1, {"hub": OTHER_HUB})],
     {HUB: [2], OTHER_HUB: [1]}),
    ("no longer confirmed", [(1, {}), (1, {"confirmed": False})], {}),
    ("confirmed later", [(1, {"confirmed": False}), (1, {})], {HUB: [1]}),
    ("closed", [(1, {}), (2, {}), (1, {"open": False})], {HUB: [2]}),
    ("cancelled", [(1, {}), (1, {"cancelled": True})], {}),
    ("hub removed", [(1, {}), (1, {"hub": None})], {}),
    ("new size", [(1, {}), (1, {"prewarm_nodes": 9})], {HUB: [1]}),
]


@pytest.mark.parametrize(("puts", "expected"), [(p, e) for _, p, e in PUTS],
                         ids=[name for name, _, _ in PUTS])
def test_hub_bookings_follow_each_put(puts: list[tuple[int, dict[str, Any]]],
                                      expected: dict[str, list[int]]) -> None:
    index = RequestIndex()
    for number, changes in puts:
        index.put(entry(number, **changes))
    assert bookings(index) == expected
    assert len(index) == len({n for n, _ in puts})  # an entry stays, booked or not
    for hub, found in index.hub_bookings.items():  # each booking is its entry's, as put last
        for b in found:
            current = index.get(b.repo, b.number)
            assert current is not None and current.hub == hub and booking(current) == b


def test_the_hub_view_is_always_current_and_safe_to_walk_while_it_changes() -> None:
    index = RequestIndex()
    view = index.hub_bookings
    index.put(entry(1))
    assert dict(view) == {HUB: (booking(entry(1)),)} and len(view) == 1
    index.put(entry(2, hub=OTHER_HUB))
    for _ in view:  # the other hub's one booking goes, and one more comes, mid-walk
        index.drop("Org/Requests", 2)
        index.put(entry(3))
    assert sorted(view) == [HUB] and [b.number for b in view[HUB]] == [1, 3]


def test_the_index_is_safe_to_walk_while_entries_are_dropped() -> None:
    index = RequestIndex()
    for n in range(5):
        index.put(entry(n))
    for e in index:
        index.drop(e.repo, e.number)
    assert len(index) == 0 and dict(index.hub_bookings) == {}


def test_upcoming_is_the_open_requests_not_yet_over_in_start_order() -> None:
    index = RequestIndex()
    later = START + timedelta(days=1)
    for e in [
        entry(1, start=later, end=later + timedelta(hours=1)),
        entry(2),
        entry(3, start=None, end=None),  # unreadable dates: last
        entry(4, open=False),
        entry(5, cancelled=True),
        entry(6, start=NOW - timedelta(hours=2), end=NOW),  # just over
        entry(7, start=NOW - timedelta(hours=1), end=NOW + timedelta(minutes=1)),  # running
        entry(8, "Another/Repo"),  # the same start: by repository, then number
        entry(9, "Another/Repo"),
    ]:
        index.put(e)
    assert [(e.repo, e.number) for e in index.upcoming(NOW)] == [
        ("Org/Requests", 7), ("Another/Repo", 8), ("Another/Repo", 9), ("Org/Requests", 2),
        ("Org/Requests", 1), ("Org/Requests", 3)]


def test_overdue_is_the_unticked_items_due_by_now() -> None:
    items = (IndexedItem("a", "A", NOW - timedelta(days=1), False, False),
             IndexedItem("b", "B", NOW - timedelta(days=1), True, False),
             IndexedItem("c", "C", NOW, False, False),
             IndexedItem("d", "D", NOW + timedelta(seconds=1), False, True))
    e = entry(items=items)
    assert [i.id for i in e.overdue(NOW)] == ["a", "c"]
    assert e.progress == (1, 4) and entry().progress == (0, 0)
