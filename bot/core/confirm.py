"""Confirmed requests (pure): infrastructure follows only what a writer or team lead vouched for.

Anyone can open a request on a public repository, so a request's hub, dates and
attendees reach the cluster only once a writer or team lead has confirmed them:

- its author is one (the shell asks GitHub and says so in ``IssueSnapshot.trust``);
- one of them runs ``/confirm`` or ``/prewarm`` on it, or a team lead approves its tier;
- an edit by one of them of a confirmed request re-confirms the values as they now read.

A confirmation records who, when and a fingerprint of what it covered
(``Confirmation.covers``); once the request reads otherwise (an edit, a ``/reschedule`` by
someone else) it awaits confirmation again. Everything else (triage, labels, assignees,
reminders) goes on as for any request; only pre-warming and hub bookings wait.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from .model import IssueSnapshot
from .request import EventRequest
from .status import Confirmation, StatusState

COMMAND = "/confirm"


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat() if dt is not None else None


def covers(request: EventRequest) -> str:
    """A fingerprint of what a confirmation vouches for: hub, start, end and attendees."""
    values = [(request.hub_host or "").lower(), _iso(request.start), _iso(request.end),
              request.attendees]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def is_confirmed(request: EventRequest | None, state: StatusState) -> bool:
    """Confirmed for the values the request reads now."""
    c = state.confirmation
    return request is not None and c is not None and c.covers == covers(request)


def confirmed(state: StatusState, request: EventRequest, by: str, now: datetime
              ) -> StatusState:
    """The state with a confirmation by ``by`` of the request as it reads now."""
    if is_confirmed(request, state):
        return state
    at = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return replace(state, confirmation=Confirmation(by=by, at=at, covers=covers(request)))


def settle(issue: IssueSnapshot, request: EventRequest, state: StatusState, now: datetime,
           read_before: Callable[[str], EventRequest]) -> StatusState:
    """The confirmation the people behind this version of the issue give it.

    ``read_before(body)``: the request as an earlier body read (an edit's ``from``)."""
    trust = issue.trust
    if trust.author and issue.author:
        return confirmed(state, request, issue.author, now)
    c = state.confirmation
    if (trust.editor and c is not None and trust.edited_to == issue.body
            and trust.edited_from is not None and not is_confirmed(request, state)
            and covers(read_before(trust.edited_from)) == c.covers):
        # A writer's or lead's edit of what was confirmed keeps it confirmed.
        return confirmed(state, request, trust.editor, now)
    return state
