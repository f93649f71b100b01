"""Following the workflow run a dispatch started (pure): which run it is, and its outcome.

Public API::

    QUEUED                                   a dispatch's run not found yet, or not done
    awaiting(state) -> tuple[int, ...]       indexes of the records whose run to look at
    pick_run(runs, record, claimed) -> RunSeen | None
    with_run(state, index, seen, now) -> StatusState
    succeeded(record) / failed(record) -> bool

GitHub does not say which run a ``workflow_dispatch`` started; the shell lists the
workflow's runs with ``event=workflow_dispatch`` created since the dispatch, and the
first one no other record of this request has claimed is taken. A run not found within
``FIND_WITHIN`` is given up (``LOST``) and said like a failure: people look.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from .model import parse_github_time
from .status import DispatchRecord, StatusState

QUEUED = "queued"
LOST = "not found"
SUCCESS = "success"
FIND_WITHIN = timedelta(minutes=30)
POLL_EVERY = timedelta(minutes=1)
# A dispatch's run is created a moment after GitHub answered; clocks may differ a little.
_CLOCK_SKEW = timedelta(seconds=30)
_URL_RE = re.compile(r"https://[A-Za-z0-9.-]{1,100}/[A-Za-z0-9./_-]{1,200}")  # a link, inert
_CONCLUSIONS = frozenset({"success", "failure", "cancelled", "timed_out", "action_required",
                          "neutral", "skipped", "stale", "startup_failure"})


@dataclass(frozen=True)
class RunSeen:
    run_id: int
    url: str
    outcome: str  # QUEUED while it runs, else its conclusion


def awaiting(state: StatusState) -> tuple[int, ...]:
    return tuple(i for i, r in enumerate(state.dispatches) if r.ok and r.run == QUEUED)


def succeeded(record: DispatchRecord) -> bool:
    """Dispatched and, when followed, its run succeeded (older records were not followed)."""
    return record.ok and record.run in ("", SUCCESS)


def failed(record: DispatchRecord) -> bool:
    return record.ok and record.run not in ("", QUEUED, SUCCESS)


def _seen(run: Any) -> RunSeen | None:
    if not isinstance(run, dict):
        return None
    run_id = run.get("id")
    if not isinstance(run_id, int) or isinstance(run_id, bool) or run_id <= 0:
        return None
    url = run.get("html_url")
    url = url if isinstance(url, str) and _URL_RE.fullmatch(url) else ""
    outcome = QUEUED
    if run.get("status") == "completed":
        conclusion = run.get("conclusion")
        outcome = conclusion if conclusion in _CONCLUSIONS else "failure"
    return RunSeen(run_id, url, outcome)


def pick_run(runs: Iterable[Any], record: DispatchRecord, claimed: Collection[int]
             ) -> RunSeen | None:
    """The earliest ``workflow_dispatch`` run created since the record's dispatch that no
    other record claimed (its id when already known: that run, as it is now)."""
    since = parse_github_time(record.at)
    best: tuple[datetime, RunSeen] | None = None
    for run in runs:
        seen = _seen(run)
        if seen is None or not isinstance(run, dict):
            continue
        if record.run_id is not None:
            if seen.run_id == record.run_id:
                return seen
            continue
        created = parse_github_time(run.get("created_at"))
        if (seen.run_id in claimed or created is None or since is None
                or created < since - _CLOCK_SKEW or run.get("event") != "workflow_dispatch"):
            continue
        if best is None or (created, seen.run_id) < (best[0], best[1].run_id):
            best = (created, seen)
    return best[1] if best is not None else None


def with_run(state: StatusState, index: int, seen: RunSeen | None, now: datetime
             ) -> StatusState:
    """The record at ``index`` with what was seen of its run (not found for too long:
    ``LOST``)."""
    record = state.dispatches[index]
    if seen is None:
        at = parse_github_time(record.at)
        if record.run_id is None and at is not None and now - at > FIND_WITHIN:
            record = replace(record, run=LOST)
        else:
            return state
    else:
        record = replace(record, run=seen.outcome, run_id=seen.run_id,
                         run_url=seen.url or record.run_url)
    records = list(state.dispatches)
    records[index] = record
    return replace(state, dispatches=tuple(records))


def claimed(state: StatusState) -> frozenset[int]:
    return frozenset(r.run_id for r in state.dispatches if r.run_id is not None)
