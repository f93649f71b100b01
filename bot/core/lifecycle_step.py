"""What one lifecycle step decides, as it is built: keys marked, replies, dispatches, and
when the request next needs the scheduler (shared by ``lifecycle`` and ``dispatch_due``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .model import WorkflowDispatch

ARMED = "armed"
SUMMARY = "summary"
FOLLOW_UP = "follow-up"
CLOSED = "closed"
START = "start"  # start:ISO, the start the people were last told of
PENDING = "pending"  # pending:TIER, the leads were asked to approve TIER
CONFIRM_ASKED = "confirm-asked"  # a reminder asked the engineers to confirm the request
PREWARM_REFUSED = "prewarm-refused"
SCALE_DOWN_REFUSED = "scale-down-refused"
RUN_FAILED = "run-failed"  # run-failed:KIND@AT, the engineers were told the run failed
MAX_DISPATCH_ATTEMPTS = 3
DISPATCH_RETRY = timedelta(minutes=5)


def reminder_key(item_id: str) -> str:
    return f"reminder:{item_id}"


def failure_key(kind: str, first_failure_at: str) -> str:
    return f"dispatch-failed:{kind}@{first_failure_at}"


@dataclass(frozen=True)
class LifecycleStep:
    """What to do now, and when the request next needs the scheduler once it is done."""

    sent: tuple[str, ...] = ()  # keys to add to the state's ``sent``
    unsent: tuple[str, ...] = ()  # keys to take out (reminders re-armed by a move)
    replies: tuple[str, ...] = ()
    dispatches: tuple[WorkflowDispatch, ...] = ()
    close_reason: str | None = None
    next_due: datetime | None = None


@dataclass
class Builder:
    sent: set[str]
    now: datetime
    keys: list[str] = field(default_factory=list)
    unkeys: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # dispatch reports, after the others
    dispatches: list[WorkflowDispatch] = field(default_factory=list)
    close_reason: str | None = None
    candidates: list[datetime] = field(default_factory=list)

    def mark(self, *keys: str) -> None:
        for key in keys:
            if key not in self.sent:
                self.sent.add(key)
                self.keys.append(key)

    def unmark(self, *keys: str) -> None:
        for key in keys:
            if key in self.sent:
                self.sent.discard(key)
                if key in self.keys:
                    self.keys.remove(key)
                else:
                    self.unkeys.append(key)

    def later(self, at: datetime) -> None:
        self.candidates.append(at)

    def step(self) -> LifecycleStep:
        return LifecycleStep(
            sent=tuple(self.keys), unsent=tuple(self.unkeys),
            replies=(*self.replies, *self.notes),
            dispatches=tuple(self.dispatches), close_reason=self.close_reason,
            next_due=min(self.candidates, default=None),
        )

