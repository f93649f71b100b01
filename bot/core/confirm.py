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
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from .config import Config
from .forms import FormTemplate, parse_form_body
from .model import IssueSnapshot, RepoRef, Trust, issue_from_json
from .request import EventRequest, read_request
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


def body_digest(body: str) -> str:
    """A fingerprint of a whole body: an edit's facts name the body it left by this."""
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def edit_trust(editor: str, before: IssueSnapshot, after_body: str, form: FormTemplate,
               config: Config) -> Trust:
    """The facts of a person's edit, kept as fingerprints: who, what the request read
    before (``covers``) and which body it left. Whether ``editor`` is a writer or a team
    lead is the shell's to ask; until then the facts vouch for nothing."""
    request = read_request(before, form, config, parsed=parse_form_body(before.body, form))
    return Trust(editor=editor, edited_from=covers(request), edited_to=body_digest(after_body))


def edit_from_payload(payload: dict[str, Any], repo: RepoRef, form: FormTemplate,
                      config: Config) -> Trust | None:
    """A person's body edit in an ``issues`` payload, as fingerprints (see ``edit_trust``):
    taken as the door wrote them (``payload["edit"]``), else from ``changes.body.from``."""
    facts = payload.get("edit")
    if isinstance(facts, dict):
        editor, before, after = facts.get("editor"), facts.get("from"), facts.get("to")
        if not all(isinstance(x, str) and x for x in (editor, before, after)):
            return None
        return Trust(editor=str(editor), edited_from=str(before), edited_to=str(after))
    sender = payload.get("sender")
    login = sender.get("login") if isinstance(sender, dict) else None
    changes = payload.get("changes")
    body = changes.get("body") if isinstance(changes, dict) else None
    before = body.get("from") if isinstance(body, dict) else None
    if payload.get("action") != "edited" or not isinstance(login, str) or not login \
            or not isinstance(before, str):
        return None
    try:
        issue = issue_from_json(payload.get("issue"), repo)
    except ValueError:
        return None
    return edit_trust(login, replace(issue, body=before), issue.body, form, config)


def edit_facts(trust: Trust | None) -> dict[str, str] | None:
    """``trust``'s edit as the small mapping waiting work keeps (``payload["edit"]``)."""
    if trust is None or not trust.editor or trust.edited_from is None or \
            trust.edited_to is None:
        return None
    # A login is at most 39 characters on GitHub; a longer one is no person's.
    return {"editor": trust.editor[:64], "from": trust.edited_from[:64],
            "to": trust.edited_to[:64]}


def settle(issue: IssueSnapshot, request: EventRequest, state: StatusState, now: datetime
           ) -> StatusState:
    """The confirmation the people behind this version of the issue give it."""
    trust = issue.trust
    if trust.author and issue.author:
        return confirmed(state, request, issue.author, now)
    c = state.confirmation
    if (trust.editor and c is not None and trust.edited_to == body_digest(issue.body)
            and not is_confirmed(request, state) and trust.edited_from == c.covers):
        # A writer's or lead's edit of what was confirmed keeps it confirmed.
        return confirmed(state, request, trust.editor, now)
    return state
