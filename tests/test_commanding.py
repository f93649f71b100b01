"""A comment's commands as an edit of the state before the one plan (module tests for
``bot.service.commanding`` and ``bot.service.dispatching``; pure, no GitHub needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.commands import Role, parse_commands
from bot.core.config import Config
from bot.core.plan import plan
from bot.core.status import StatusComment, StatusState, has_run, with_ran
from bot.service.commanding import DRY_RUN_PREWARM, CommandEdit
from bot.service.dispatching import ManualDispatch

from .test_commands import CONFIG, ENABLED, FORM, NOW, make_issue

COMMENT = 4242


def edit_for(text: str, actor: str, looked_up: frozenset[Role] = frozenset(),
             dry_run: bool = False, config: Config = CONFIG) -> CommandEdit:
    return CommandEdit(parse_commands(text), actor, looked_up, config, FORM, NOW, COMMENT,
                       dry_run=dry_run)


EMPTY = StatusState()


def status(state: StatusState = EMPTY) -> StatusComment:
    return StatusComment(id=7, body="status", state=state, ticked=frozenset())


# (comment, actor, looked up, edits the state, closes, reply starts, reacts)
CASES = [
    ("/approve-tier", "lead-lee", frozenset(), True, False, "@champion", True),
    ("/approve-tier", "reader", frozenset(), False, False, "@reader", False),
    ("/cancel", "champion", frozenset(), True, True, None, True),
    ("/assign @carol", "maint", frozenset({Role.WRITER}), True, False, None, True),
    ("/help", "reader", frozenset(), False, False, "@reader", True),
    ("/reschedule whenever", "champion", frozenset(), False, False, "@champion", False),
]


@pytest.mark.parametrize(("text", "actor", "looked_up", "edits", "closes", "reply", "reacts"),
                         CASES)
def test_a_comment_is_one_edit_then_additions_to_the_one_plan(
        text: str, actor: str, looked_up: frozenset[Role], edits: bool, closes: bool,
        reply: str | None, reacts: bool) -> None:
    issue = make_issue()
    read = status()
    edit = edit_for(text, actor, looked_up)
    edited = edit.before(issue, read)
    assert (edited is not None) == edits
    if edited is not None:
        assert has_run(edited.state, COMMENT)  # recorded with the edit: run once only
    _, desired = plan(issue, read, CONFIG, FORM, NOW, edited)
    desired = edit.after(issue, read, _, desired)
    assert (desired.close_reason == "not_planned") == closes
    if reply is None:
        assert not desired.replies
    else:
        [said] = desired.replies
        assert said.startswith(reply)
    assert desired.reactions == (((COMMENT, "+1"),) if reacts else ())
    if "/assign" in text:
        assert desired.assignees is not None and "carol" in desired.assignees


@pytest.mark.parametrize(("state", "issue_state"), [
    (with_ran(StatusState(), COMMENT, NOW), "open"),  # ran before: redelivered
    (StatusState(), "closed"),  # closed since it was written
])
def test_a_comment_that_must_not_run_changes_nothing(state: StatusState,
                                                     issue_state: str) -> None:
    issue = replace(make_issue(), state=issue_state)
    edit = edit_for("/cancel", "champion")
    assert edit.before(issue, status(state)) is None
    _, desired = plan(issue, status(state), CONFIG, FORM, NOW)
    assert edit.after(issue, status(state), _, desired) == desired


def test_prewarm_in_a_dry_run_only_says_what_it_would_do() -> None:
    issue = make_issue()
    edit = edit_for("/prewarm 2", "lead-lee", dry_run=True, config=ENABLED)
    edited = edit.before(issue, status())
    assert edit.prewarm is None  # nothing to dispatch in a dry run
    triaged, desired = plan(issue, status(), ENABLED, FORM, NOW, edited)
    desired = edit.after(issue, status(), triaged, desired)
    assert not desired.dispatches
    assert any(DRY_RUN_PREWARM in r for r in desired.replies)


@pytest.mark.parametrize(("issue_state", "says"), [
    ("closed", "closed or cancelled"),
    ("open", "awaits confirmation"),
])
def test_a_prewarm_that_may_not_dispatch_says_why(issue_state: str, says: str) -> None:
    issue = replace(make_issue(), state=issue_state)
    manual = ManualDispatch(ENABLED, None, "lead-lee", COMMENT)
    assert manual.before(issue, status()) is None
    triaged, desired = plan(issue, status(), ENABLED, FORM, NOW)
    desired = manual.after(issue, status(), triaged, desired)
    assert not desired.dispatches
    assert manual.outcome is not None and not manual.outcome.ok
    assert says in manual.outcome.message
    assert any(says in r for r in desired.replies)
