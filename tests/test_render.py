"""The status comment's table: what it says about a field that was given but not read."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from bot.forms import load_form
from bot.model import IssueSnapshot, RepoRef
from bot.plan import triage

from .requests_seed import exam_body, option

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_config(ROOT / "config.yaml")
FORM = load_form(CONFIG.form_path)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def comment_for(body: str) -> str:
    issue = IssueSnapshot(repo=RepoRef("org", "requests", 1), number=3, title="[Event]: x",
                          body=body, author="champion", labels=("event-request",),
                          assignees=(), state="open", created_at=NOW)
    result = triage(issue, None, CONFIG, FORM, NOW)
    assert result.comment is not None
    return result.comment


def tier_row(comment: str) -> str:
    [row] = [line for line in comment.splitlines() if line.startswith("| **Tier** |")]
    return row


def cells(row: str) -> list[str]:
    """A table row's cells as GitHub splits them: at every pipe not escaped."""
    return re.split(r"(?<!\\)\|", row)[1:-1]


def test_the_invalid_example_says_its_tier_is_unknown() -> None:
    comment = comment_for((ROOT / "examples" / "invalid.md").read_text())
    assert "`gold` is not one of the support tiers" in comment  # the problem, above
    assert tier_row(comment) == \
        "| **Tier** | unknown tier `gold` — see the problems above |"
    assert "not given yet" not in comment


@pytest.mark.parametrize(
    ("tier", "row"),
    [
        (None, "| **Tier** | — (not given yet) |"),
        ("   ", "| **Tier** | — (not given yet) |"),
        ("standard", "| **Tier** | `standard` — no approval needed |"),
    ],
)
def test_a_tier_not_given_or_read_is_said_as_before(tier: str | None, row: str) -> None:
    answer = option("tier", tier) if tier == "standard" else tier
    assert tier_row(comment_for(exam_body(tier=answer))) == row


@pytest.mark.parametrize(
    "written",
    ["@everyone | gold", "gold \\| x", "`gold` <!-- event-support-bot:status -->",
     "gold\u202e | " + "x" * 300],
)
def test_the_unknown_tier_is_shown_inert(written: str) -> None:
    row = tier_row(comment_for(exam_body(tier=written)))
    assert row.startswith("| **Tier** | unknown tier `") and \
        row.endswith("` — see the problems above |")
    assert len(cells(row)) == 2, row  # the person's pipes do not add cells
    outside_code = re.sub(r"`[^`]*`", "", row)
    assert "@" not in outside_code  # in code, a mention does not ping
    assert "<!--" not in row and "\u202e" not in row
    assert row.count("`") == 2 and len(row) < 150
