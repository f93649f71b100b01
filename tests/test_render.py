"""The status comment's table: what it says about a field that was given but not read."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.core.config import AwayRange, Config, Engineer
from bot.core.forms import load_form
from bot.core.model import IssueSnapshot, RepoRef
from bot.core.plan import triage
from bot.core.status import Decline, DispatchRecord, StatusComment, StatusState
from bot.service.loading import load_config

from .requests_seed import exam_body, option

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_config(ROOT / "config.yaml")
FORM = load_form(CONFIG.form_path)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def comment_for(body: str, *, config: Config = CONFIG, state: StatusState | None = None,
                now: datetime = NOW, issue_state: str = "open",
                labels: tuple[str, ...] = ("event-request",)) -> str:
    issue = IssueSnapshot(repo=RepoRef("org", "requests", 1), number=3, title="[Event]: x",
                          body=body, author="champion", labels=labels,
                          assignees=(), state=issue_state, created_at=NOW)
    status = None if state is None else StatusComment(1, "", state, frozenset())
    result = triage(issue, status, config, FORM, now)
    assert result.comment is not None
    return result.comment


def row(comment: str, name: str) -> str:
    [found] = [line for line in comment.splitlines() if line.startswith(f"| **{name}** |")]
    return found


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
    # One code span, fenced longer than any backtick run in it; in code, nothing renders
    # and a mention does not ping.
    span = re.fullmatch(r"\| \*\*Tier\*\* \| unknown tier (`+)(.*)\1 — see the problems above \|",
                        row)
    assert span is not None, row
    assert span.group(1) not in span.group(2)
    assert len(cells(row)) == 2, row  # the person's pipes do not add cells
    assert "<!--" not in row and "\u202e" not in row
    assert len(row) < 150


def table_rows(comment: str) -> list[str]:
    return [line for line in comment.splitlines() if line.startswith("|")]


@pytest.mark.parametrize("hub", ["stat101.hubs.example.org/hub|x",
                                 "stat101.hubs.example.org/hub\\|x",
                                 "stat101.hubs.example.org/a|b|c"])
def test_a_pipe_in_any_cell_does_not_split_the_table(hub: str) -> None:
    state = StatusState(
        decline=Decline(by="lead-lee", at="2026-11-24T10:00:00Z", reason="too | dear",
                        requested="premium"),
        dispatches=(DispatchRecord(kind="prewarm", at="2027-03-09T17:00:00Z",
                                   inputs={"hub": "a|b"}, ok=False, error="HTTP | 422"),))
    comment = comment_for(exam_body(hub_url=hub, tier=option("tier", "premium")), state=state)
    assert "is not a hub address" not in comment  # the hub was read, and is shown
    rows = table_rows(comment)
    assert len(rows) == 11, rows  # the header, eight rows and the dispatch
    for line in rows:
        assert len(cells(line)) == 2, line
    assert row(comment, "Hub").startswith("| **Hub** | `https://stat101.hubs.example.org/")


# The exam's checklist has items due before 2027-03-09 19:00 UTC; on the day all are late.
EVENT_DAY = datetime(2027, 3, 9, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("issue_state", "state", "labels", "flagged"),
    [
        ("open", StatusState(), ("event-request",), True),
        ("closed", StatusState(), ("event-request",), False),
        ("open", StatusState(cancelled_by="prof-okafor", cancelled_at="2027-03-01T00:00:00Z"),
         ("event-request",), False),
        ("open", StatusState(sent=("follow-up",)), ("event-request",), False),
        ("open", StatusState(), ("event-request", "event: done"), False),
    ],
)
def test_overdue_is_flagged_only_while_the_request_is_live(
        issue_state: str, state: StatusState, labels: tuple[str, ...], flagged: bool) -> None:
    assert CONFIG.labels.done == "event: done"
    comment = comment_for(exam_body(), state=state, now=EVENT_DAY, issue_state=issue_state,
                          labels=labels)
    assert "#### Checklist" in comment
    assert ("overdue" in comment) == flagged


def test_the_zone_notes_name_the_forms_field() -> None:
    label = FORM.field("timezone").label  # type: ignore[union-attr]
    assert label == "Time zone"
    chosen = comment_for(exam_body())
    assert "_Times were read in `America/Chicago`, from the “Time zone” field._" in chosen
    default = comment_for(exam_body(timezone=None))
    assert "set the “Time zone” field if that is wrong" in default
    assert "Timezone field" not in chosen + default


@pytest.mark.parametrize("answers", [{"start": "next tuesday-ish"},
                                     {"start": "next tuesday-ish", "timezone": None},
                                     {"start": None, "end": None}])
def test_no_zone_note_when_no_time_was_read(answers: dict[str, str | None]) -> None:
    comment = comment_for(exam_body(**answers))
    assert "Times were read" not in comment


def with_engineers(*engineers: Engineer) -> Config:
    return replace(CONFIG, oncall=replace(CONFIG.oncall, engineers=engineers))


AWAY = (AwayRange(date(2027, 3, 9), date(2027, 3, 9)),)


@pytest.mark.parametrize(
    ("engineers", "said"),
    [
        ((Engineer("alice"), Engineer("bob", AWAY)),
         "— ⚠️ only 1 of the 2 engineers wanted is free during the event"),
        ((Engineer("alice", AWAY), Engineer("bob", AWAY)),
         "— ⚠️ none of the 2 engineers wanted is free during the event"),
    ],
)
def test_too_few_engineers_is_said_grammatically(engineers: tuple[Engineer, ...],
                                                 said: str) -> None:
    comment = comment_for(exam_body(), config=with_engineers(*engineers))
    assert row(comment, "Engineers").endswith(f"{said} |")
    assert "only 0" not in comment


@pytest.mark.parametrize(
    ("memory", "shown"),
    [("4 GB", "4 GB each, read as 4 GiB"), ("4 GiB", "4 GiB each"),
     ("4096 MiB", "4096 MiB each, read as 4 GiB"), (None, "2 GiB each")],
)
def test_memory_is_shown_in_the_unit_written(memory: str | None, shown: str) -> None:
    sizing = row(comment_for(exam_body(memory_per_user=memory)), "Sizing")
    assert f"users a node, {shown});" in sizing


def test_a_prewarm_above_the_maximum_is_said_at_triage() -> None:
    # 180 users of 4 GiB: 4 × n2-highmem-32 (55 a node) at the peak, all 4 pre-warmed (an
    # exam's users arrive within minutes).
    on = replace(CONFIG, prewarm=replace(CONFIG.prewarm, repository="org/infra", max_nodes=2))
    sizing = row(comment_for(exam_body(), config=on), "Sizing")
    assert "pre-warm 4 nodes (" in sizing
    assert sizing.endswith("— ⚠️ more than the bot may pre-warm (2); "
                           "an engineer scales by hand |")
    at_most = replace(on, prewarm=replace(on.prewarm, max_nodes=4))
    off = replace(on, prewarm=replace(on.prewarm, repository=""))
    for config in (at_most, off):
        assert "more than the bot may pre-warm" not in comment_for(exam_body(), config=config)


def test_a_small_event_with_much_memory_is_sized() -> None:
    comment = comment_for(exam_body(attendees="3", memory_per_user="64 GB"))
    assert "needs a few more details" not in comment
    assert row(comment, "Sizing") == (
        "| **Sizing** | 1 × `n2-highmem-32` at the peak (3 users a node, 64 GB each, read as "
        "64 GiB); pre-warm 1 node (3 users over 5 min = 0.6/min × 10 min node start-up = "
        "room for 3; at most 30 % waiting = 3 ready; max(3, 3) ÷ 3 a node → 1 node) |")


def test_every_community_rep_is_mentioned() -> None:
    comment = comment_for(exam_body(community_rep="@prof-okafor, @ta-jones"))
    assert "cc @prof-okafor @ta-jones" in comment
    assert "needs a few more details" not in comment


def test_a_community_rep_that_is_no_handle_is_a_note() -> None:
    comment = comment_for(exam_body(community_rep="Prof. Okafor (email)"))
    assert "needs a few more details" not in comment
    assert "ℹ️ The community representative `Prof. Okafor (email)` is not a GitHub " \
        "handle" in comment
    assert "\ncc " not in comment


FIELDS = ("hub_url", "event_name", "start", "end", "timezone", "attendees", "memory_per_user",
          "tier", "community_rep", "details")


@pytest.mark.parametrize("unit", [
    "*_@a|`<!--\\", "@" + "a" * 38 + ", ", "9 ", "\u202e\x00ü🎉 ", "https://github.com/x ",
])
def test_the_status_comment_stays_under_github_s_limit_whatever_the_request_holds(
        unit: str) -> None:
    """Every field as long as an issue body allows, of the characters that grow most when
    escaped, and a state holding as much as one ever could."""
    from bot.core.status import DispatchRecord as Rec

    each = 65_536 // len(FIELDS) - 100
    body = exam_body(**{f: (unit * each)[:each] for f in FIELDS})
    assert len(body) <= 65_536
    state = StatusState(
        sent=(*(f"rep:{'r' * 39}{i}" for i in range(2000)),
              *(f"dispatch-failed:prewarm@{i}" for i in range(2000))),
        dispatches=tuple(Rec("prewarm", "2027-03-09T17:00:00Z",
                             {unit * 50 + str(k): unit * 500 for k in range(40)},
                             False, unit * 3000) for _ in range(30)),
        cancelled_by=unit * 300, extra={"outbox": [{"id": "0" * 16, "body": "x" * 9000}] * 20})
    comment = comment_for(body, state=state)
    assert len(comment) < 65_536
