"""Request bodies built to make the bot work hard: the bounded-work tests and the benchmark.

Each answer fills the form to GitHub's 65,536-character limit with what made a regular
expression backtrack (or a conversion fail) on long input before the bot bounded it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.model import IssueSnapshot, RepoRef

from .requests_seed import exam_body

GITHUB_BODY_LIMIT = 65_536  # characters GitHub keeps of an issue body or a comment
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Attack:
    name: str
    field: str  # the form element whose answer it is
    unit: str  # repeated to fill the body
    head: str = ""
    tail: str = ""

    def answer(self) -> str:
        """The answer filling the body to GitHub's limit."""
        room = GITHUB_BODY_LIMIT - len(exam_body(**{self.field: self.head + self.tail}))
        count = (room - 1) // len(self.unit)
        return self.head + self.unit * count + self.tail

    def body(self) -> str:
        return exam_body(**{self.field: self.answer()})


# The worst first: the benchmark reports it.
ATTACKS = (
    Attack("attendees: a number, spaces, a word", "attendees", " ", head="120", tail="x"),
    Attack("memory per user: a number, spaces, a word", "memory_per_user", " ", head="4",
           tail="x"),
    Attack("attendees: 65,000 digits", "attendees", "1"),
    Attack("attendees: lines of spaces", "attendees", " \n", head="120", tail="x"),
)
# Not bugs, but the most work a body can ask of the form parser: a line it must look at
# (a heading or a fence mark) on every line, up to GitHub's limit.
HEAVY = (
    Attack("details: a backtick on every line", "details", "`\n"),
    Attack("details: a hash on every line", "details", "#\n"),
    Attack("details: a fence on every other line", "details", "```\nx\n"),
    Attack("details: 65,000 blank lines", "details", "\n"),
    Attack("community representative: 16,000 handles", "community_rep", "@a "),
)
WORST = ATTACKS[0]


def issue_with(body: str, number: int = 7) -> IssueSnapshot:
    return IssueSnapshot(
        repo=RepoRef("org", "repo", 1), number=number, title="Event request", body=body,
        author="champion", labels=("event-request",), assignees=(), state="open",
        created_at=NOW - timedelta(days=1))


def backtick_runs(length: int) -> str:
    """``a`aa``a```…``: one run of each length, so no run closes another (a code span)."""
    parts: list[str] = []
    size, run = 0, 1
    while size + run + 1 <= length:
        parts.append("`" * run + "a")
        size += run + 1
        run += 1
    return "".join(parts)
