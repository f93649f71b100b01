"""The outbox: replies owed in the status comment, each posted once (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core import outbox
from bot.core.model import Comment, Desired, IssueSnapshot, RepoRef
from bot.core.status import MARKER, StatusComment, StatusState, read_status, state_block

BOT = "event-support-bot[bot]"
ISSUE = IssueSnapshot(repo=RepoRef("o", "r", 1), number=7, title="t", body="", author="a",
                      labels=(), assignees=(), state="open",
                      created_at=datetime(2026, 11, 23, tzinfo=UTC))


def status(state: StatusState | None = None) -> StatusComment:
    state = state if state is not None else StatusState()
    return StatusComment(id=1, body=f"{MARKER}\nstatus\n{state_block(state)}", state=state,
                         ticked=frozenset())


def by_bot(body: str, i: int = 50) -> Comment:
    return Comment(id=i, author=BOT, author_is_bot=True, body=body)


def test_an_answer_to_a_comment_has_the_same_id_every_run() -> None:
    assert outbox.command_reply_id(42) == outbox.command_reply_id(42)
    assert outbox.command_reply_id(42) != outbox.command_reply_id(43)
    assert outbox.command_reply_id(42, 1) != outbox.command_reply_id(42, 0)
    marked = outbox.answering(42, "Done.")
    assert marked.startswith("Done.\n\n") and outbox.command_reply_id(42) in marked


def test_an_answer_already_on_the_issue_is_not_posted_again() -> None:
    answer = outbox.answering(42, "Here are the commands.")
    desired = Desired(replies=(answer,))
    # First run: no status change, so the answer is posted directly, marked.
    first = outbox.settle(ISSUE, status(), [], BOT, desired)
    assert first.replies == (answer,)
    # Run again after it was posted: nothing to say.
    again = outbox.settle(ISSUE, status(), [by_bot(answer)], BOT, desired)
    assert again.replies == ()
    # A marker someone else pasted does not count as the bot's answer.
    pasted = Comment(id=51, author="mallory", author_is_bot=False, body=answer)
    assert outbox.settle(ISSUE, status(), [pasted], BOT, desired).replies == (answer,)


def test_an_owed_answer_and_its_rerun_make_one_reply() -> None:
    answer = outbox.answering(42, "Approved.")
    owed_state = StatusState(extra={outbox.OUTBOX_KEY: [
        {"id": outbox.command_reply_id(42), "body": answer}]})
    rerun = outbox.answering(42, "It was approved already.")  # what a rerun decides
    desired = Desired(replies=(rerun,), status_body=status().body + "\nchanged")
    settled = outbox.settle(ISSUE, status(owed_state), [], BOT, desired)
    assert settled.replies == (answer,)  # the one owed first, once


def test_other_replies_still_get_an_id_and_are_owed() -> None:
    desired = Desired(replies=("**Reminder:** quotas",), status_body=status().body + "\nx")
    settled = outbox.settle(ISSUE, status(), [], BOT, desired)
    [reply] = settled.replies
    assert reply.startswith("**Reminder:** quotas\n\n<!-- event-support-bot:reply ")
    assert settled.status_body is not None
    [entry] = outbox.owed(read_status(settled.status_body).state)
    assert entry.body == reply  # owed in the status comment written with it
