"""Event requests seeded into the fake GitHub, for the report, dashboard and calendar tests.

Bodies are rendered from the shipped form exactly as GitHub renders a
submission; a status comment, when a test wants one, is written as the App's
bot user with a hidden state block (an approval, a decline, a cancellation,
ticked items), as the bot itself would have left it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core.forms import FormTemplate, load_form, render_form_body
from bot.core.status import MARKER, StatusState, seal_status, state_block

from .botapp import STATE_KEYS, fast_config
from .fakegithub import FakeGitHub

BOT_LOGIN = "event-support-bot[bot]"
FORM: FormTemplate = load_form(fast_config().form_path)
TYPE_OPTION = {"exam": "exam", "workshop": "workshop", "demo": "demo", "other": "other"}


def option(field_id: str, prefix: str) -> str:
    found = FORM.field(field_id)
    assert found is not None, field_id
    return next(o for o in found.options if o.lower().startswith(prefix.lower()))


def exam_body(**answers: str | None) -> str:
    """The usual exam request (STAT 101 final, Chicago), with ANSWERS replacing fields."""
    values: dict[str, str | None] = {
        "hub_url": "https://stat101.hubs.example.org",
        "event_name": "STAT 101 final",
        "event_type": option("event_type", "exam"),
        "start": "2027-03-09 13:00",
        "end": "2027-03-09 16:00",
        "timezone": "America/Chicago",
        "attendees": "180",
        "memory_per_user": "4 GB",
        "tier": option("tier", "standard"),
        "community_rep": "@prof-okafor",
        "details": None,
    }
    values.update(answers)
    return render_form_body(FORM, values)


def request_body(*, hub: str, name: str, event_type: str, start: str, end: str,
                 tier: str, attendees: str = "120", timezone: str | None = "UTC",
                 rep: str | None = "@prof-okafor", details: str | None = None,
                 daily_hours: str | None = None) -> str:
    answers: dict[str, Any] = {
        "hub_url": hub, "event_name": name, "event_type": option("event_type", event_type),
        "start": start, "end": end, "timezone": timezone, "attendees": attendees,
        "memory_per_user": None, "tier": option("tier", tier), "community_rep": rep,
        "details": details, "daily_hours": daily_hours,
    }
    return render_form_body(FORM, answers)


def status_body(state: StatusState, ticked: Iterable[str] = (), *, repo: str = "",
                number: int = 0) -> str:
    """A status comment with just what the bot reads back: the marker, ticks and state
    (signed for ``repo#number`` as the bot signs it under the test secret)."""
    lines = [MARKER, "### Event support", ""]
    lines += [f"- [x] done <!-- item:{item} -->" for item in ticked]
    lines += ["", state_block(state)]
    return seal_status("\n".join(lines), STATE_KEYS, repo, number)


@dataclass(frozen=True)
class Seeded:
    repo: str
    number: int


def add_request(fake: FakeGitHub, repo: str, *, opened: datetime, title: str,
                status: StatusState | None = None, ticked: Iterable[str] = (),
                closed: datetime | None = None, state_reason: str = "completed",
                **body: Any) -> Seeded:
    number = fake.add_issue(repo, title=title, body=request_body(**body),
                            labels=["event-request"], created_at=opened)
    if status is not None:
        fake.add_comment(repo, number, status_body(status, ticked, repo=repo, number=number),
                         BOT_LOGIN, "Bot", created_at=opened)
    if closed is not None:
        issue = fake.repo(repo).issues[number]
        issue.state, issue.state_reason = "closed", state_reason
        issue.closed_at = closed.astimezone(UTC).timestamp()
    return Seeded(repo, number)
