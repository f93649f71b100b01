"""Drive the pure plan through time without GitHub: apply each Desired to an in-memory issue.

Used by the lifecycle and pre-warm unit tests. It follows what ``apply.sync_request``
does (dispatch first, plan again with the records, then write), with a dispatch outcome
the test chooses, so the tests show the decisions alone; the shell is tested against the
fake GitHub in test_scheduler.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core import lifecycle
from bot.core.config import Config
from bot.core.forms import FormTemplate
from bot.core.model import Desired, IssueSnapshot, RepoRef, Trust, WorkflowDispatch
from bot.core.plan import plan
from bot.core.prewarm import iso, with_records
from bot.core.status import DispatchRecord, StatusComment, StatusState, read_status
from bot.core.triage import Triage
from bot.service.loading import load_config

from .requests_seed import FORM, option  # noqa: F401  (re-exported for the lifecycle tests)
from .requests_seed import exam_body as form_body

ROOT = Path(__file__).resolve().parent.parent
OPENED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
START = datetime(2027, 3, 9, 19, 0, tzinfo=UTC)  # 13:00 in America/Chicago
END = datetime(2027, 3, 9, 22, 0, tzinfo=UTC)
PREWARM_REPO = "jupyter-community/infra"
# The operator lists the hubs the bot may pre-warm (nothing matches by default).
HUB_PATTERN = r"^(?P<hub>[a-z0-9-]+)\.(?P<cluster>[a-z0-9-]+)\.[a-z0-9.-]+$"


def base_config(**prewarm: Any) -> Config:
    config = load_config(ROOT / "config.yaml")
    settings = {"repository": PREWARM_REPO, "hub_pattern": HUB_PATTERN, **prewarm}
    return replace(config, prewarm=replace(config.prewarm, **settings))




def make_issue(body: str | None = None, opened: datetime = OPENED, trusted: bool = True
               ) -> IssueSnapshot:
    """The request; ``trusted``: its author is a writer, so it is confirmed as filed."""
    return IssueSnapshot(
        repo=RepoRef("jupyter-community", "event-requests", 7001), number=12,
        title="Event request: STAT 101 final", body=body or form_body(), author="champion",
        labels=("event-request",), assignees=(), state="open", created_at=opened,
        trust=Trust(author=trusted),
    )


@dataclass(frozen=True)
class Said:
    at: datetime
    text: str


DispatchOutcome = Callable[[WorkflowDispatch, datetime], str | None]  # None: ok, else error


def always_ok(_: WorkflowDispatch, __: datetime) -> str | None:
    return None


@dataclass
class Sim:
    """One request, its status comment and everything the bot said and dispatched."""

    config: Config
    issue: IssueSnapshot = field(default_factory=make_issue)
    form: FormTemplate = FORM
    status: StatusComment | None = None
    ticked: set[str] = field(default_factory=set)
    replies: list[Said] = field(default_factory=list)
    dispatches: list[tuple[datetime, WorkflowDispatch]] = field(default_factory=list)
    closed_at: datetime | None = None
    outcome: DispatchOutcome = always_ok
    last: Triage | None = None

    def state(self) -> StatusState:
        return self.status.state if self.status is not None else StatusState()

    def set_state(self, **changes: Any) -> None:
        """What a command would leave in the state (a cancellation, say)."""
        current = self.status or StatusComment(0, "", StatusState(), frozenset())
        self.status = replace(current, state=replace(current.state, **changes))

    def _status(self) -> StatusComment | None:
        if self.status is None:
            return None
        return replace(self.status, ticked=frozenset(self.ticked))

    def run(self, now: datetime) -> Desired:
        """One sync at ``now``."""
        status = self._status()
        result, desired = plan(self.issue, status, self.config, self.form, now)
        if desired.dispatches:
            records = []
            for d in desired.dispatches:
                error = self.outcome(d, now)
                if error is None:
                    self.dispatches.append((now, d))
                records.append(DispatchRecord(d.kind, iso(now), dict(d.inputs), error is None,
                                              error or "", for_start=d.for_start, hub=d.hub))
            status = with_records(status, records)
            result, desired = plan(self.issue, status, self.config, self.form, now)
            desired = replace(desired, dispatches=())
        self.last = result
        if desired.status_body is not None:
            self.status = read_status(desired.status_body, 1)
        labels = [x for x in self.issue.labels if x not in desired.labels_remove]
        labels += sorted(desired.labels_add)
        assignees = [*self.issue.assignees,
                     *(a for a in desired.assignees_add if a not in self.issue.assignees)]
        state = self.issue.state
        if desired.close_reason and state == "open":
            state = "closed"
            self.closed_at = now
        self.issue = replace(self.issue, labels=tuple(labels), assignees=tuple(assignees),
                             state=state)
        self.replies += [Said(now, r) for r in desired.replies]
        return desired

    def next_due(self, now: datetime) -> datetime | None:
        assert self.last is not None
        return lifecycle.next_due(self.issue, self.last, frozenset(self.ticked), self.config,
                                  now)

    def follow(self, start: datetime, until: datetime,
               at_times: Mapping[datetime, Callable[[Sim], None]] | None = None) -> list[datetime]:
        """Sync at ``start``, then whenever next_due says, until ``until``; returns the times."""
        times = []
        now = start
        hooks = dict(at_times or {})
        while now <= until:
            for at in sorted(t for t in hooks if t <= now):
                hooks.pop(at)(self)
            self.run(now)
            times.append(now)
            due = self.next_due(now)
            pending = [t for t in hooks if t > now]
            candidates = [t for t in (due, *pending) if t is not None]
            if not candidates:
                break
            nxt = min(candidates)
            now = nxt if nxt > now else now + timedelta(minutes=1)
        return times

    def said(self, contains: str) -> list[Said]:
        return [r for r in self.replies if contains in r.text]
