"""Which workflow run a dispatch started, and what becomes of a record (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.runs import FIND_WITHIN, LOST, QUEUED, RunSeen, pick_run, with_run
from bot.core.status import DispatchRecord, StatusState

AT = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)
URL = "https://github.com/org/infra/actions/runs/"


def _run(run_id: int, minutes: float, *, event: str = "workflow_dispatch",
         status: str = "completed", conclusion: str | None = "success",
         url: str | None = None) -> dict[str, Any]:
    created = (AT + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": run_id, "created_at": created, "event": event, "status": status,
            "conclusion": conclusion, "html_url": url if url is not None else f"{URL}{run_id}"}


RECORD = DispatchRecord("prewarm", "2027-03-09T17:00:00Z", {}, True, run=QUEUED)


@pytest.mark.parametrize(("runs", "claimed", "record", "expected"), [
    ([_run(2, 0.1), _run(1, -5)], (), RECORD, RunSeen(2, f"{URL}2", "success")),  # not older
    ([_run(3, 2), _run(2, 0.1)], (), RECORD, RunSeen(2, f"{URL}2", "success")),  # earliest
    ([_run(3, 2), _run(2, 0.1)], (2,), RECORD, RunSeen(3, f"{URL}3", "success")),  # claimed
    ([_run(2, 1, event="push")], (), RECORD, None),
    ([_run(2, 1, status="in_progress", conclusion=None)], (), RECORD,
     RunSeen(2, f"{URL}2", QUEUED)),
    ([_run(2, 1, conclusion="failure")], (), RECORD, RunSeen(2, f"{URL}2", "failure")),
    ([_run(2, 1, conclusion="made-up")], (), RECORD, RunSeen(2, f"{URL}2", "failure")),
    # A link that is not a plain GitHub URL is not shown.
    ([_run(2, 1, url="javascript:alert(1)")], (), RECORD, RunSeen(2, "", "success")),
    ([_run(2, 1, url=f"{URL}2) [x](https://evil.example")], (), RECORD,
     RunSeen(2, "", "success")),
    # Once its id is known, that run is followed whatever else there is.
    ([_run(3, 0.1), _run(2, 1, conclusion="cancelled")], (), RECORD.__class__(
        **{**RECORD.__dict__, "run_id": 2}), RunSeen(2, f"{URL}2", "cancelled")),
    (["junk", {"id": True}, {"id": -1}], (), RECORD, None),
])
def test_pick_run(runs: list[Any], claimed: tuple[int, ...], record: DispatchRecord,
                  expected: RunSeen | None) -> None:
    assert pick_run(runs, record, claimed) == expected


def test_a_run_never_found_is_given_up_and_said() -> None:
    state = StatusState(dispatches=(RECORD,))
    assert with_run(state, 0, None, AT + FIND_WITHIN) == state  # still looked for
    lost = with_run(state, 0, None, AT + FIND_WITHIN + timedelta(minutes=1))
    assert lost.dispatches[0].run == LOST
