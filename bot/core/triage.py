"""What the bot concluded about one request (``Triage``), and how it writes a time.

A module of its own so that ``plan`` imports ``lifecycle`` and not the other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from .checklist import ChecklistItem
from .model import HubBooking
from .oncall import OnCallPick
from .render import TierView
from .request import EventRequest, FieldError
from .sizing import Sizing
from .status import StatusState


@dataclass(frozen=True)
class Triage:
    """Everything the bot concluded about one request (also what ``plan --format json`` shows)."""

    is_event_request: bool
    request: EventRequest | None = None
    tier: TierView | None = None
    sizing: Sizing | None = None
    pick: OnCallPick | None = None
    checklist: tuple[ChecklistItem, ...] = ()
    labels: tuple[str, ...] = ()  # the bot's labels the issue should carry
    assignees: tuple[str, ...] = ()  # the assignees once applied
    errors: tuple[FieldError, ...] = ()
    state: StatusState = StatusState()
    comment: str | None = None
    overlaps: tuple[HubBooking, ...] = ()  # other live requests on this hub, overlapping
    confirmed: bool = False  # a writer or team lead vouched for its hub, dates, attendees
    next_due: datetime | None = None  # when the scheduler next needs it (set by ``plan``)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
