"""Applying a plan (module tests for ``bot.service.apply``): each part of ``Desired`` is
one write, in the order that keeps the state honest, against the shared fake GitHub."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.core.model import Desired, RepoRef, issue_from_json
from bot.core.status import StatusComment, StatusState
from bot.service.apply import apply_desired, sync_request

from .botapp import STATE_KEYS, fast_config, running_bot
from .fakegithub import FakeGitHub
from .test_commands_integration import INSTALLATION, REPO, seed

REF = RepoRef("jupyter-community", "event-requests", INSTALLATION)
ISSUE = f"/repos/{REPO}/issues/1"
COMMENTS = f"{ISSUE}/comments"


def writes(fake: FakeGitHub) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests if r.is_write]


@pytest.mark.parametrize(("desired", "with_status", "expected", "after"), [
    (Desired(), False, [], {}),
    (Desired(labels=("event-request", "keep-me")), False, [f"PATCH {ISSUE}"],
     {"labels": ["event-request", "keep-me"]}),
    (Desired(assignees=("alice",)), False, [f"PATCH {ISSUE}"], {"assignees": ["alice"]}),
    # Labels, assignees and closing go in one PATCH.
    (Desired(labels=("done",), assignees=(), close_reason="completed"), False,
     [f"PATCH {ISSUE}"], {"labels": ["done"], "assignees": [], "state": "closed"}),
    (Desired(status_body="first"), False, [f"POST {COMMENTS}"], {}),
    (Desired(status_body="again"), True, ["PATCH /repos/{repo}/issues/comments/{status}"], {}),
    # The issue first, then the status comment, the replies, and the reaction last.
    (Desired(labels=("x",), status_body="s", replies=("one", "two"),
             reactions=((0, "+1"),)), True,
     [f"PATCH {ISSUE}", "PATCH /repos/{repo}/issues/comments/{status}", f"POST {COMMENTS}",
      f"POST {COMMENTS}", "POST /repos/{repo}/issues/comments/{status}/reactions"],
     {"labels": ["x"]}),
])
async def test_each_part_of_a_plan_is_one_write(
        fake_github: FakeGitHub, app_key: str, desired: Desired, with_status: bool,
        expected: list[str], after: dict[str, Any]) -> None:
    seed(fake_github)
    number = fake_github.add_issue(REPO, labels=["keep-me"], assignees=["bob"])
    status = None
    if with_status:
        comment_id = fake_github.add_comment(REPO, number, "status", "event-support-bot[bot]",
                                             "Bot")
        status = StatusComment(comment_id, "status", StatusState(), frozenset())
        if desired.reactions:
            desired = replace(desired, reactions=((comment_id, "+1"),))
    async with running_bot(fake_github, app_key, config=fast_config()) as running:
        client = await running.bot.client_for(INSTALLATION)
        issue = issue_from_json(fake_github.issue(REPO, number), REF)
        fake_github.reset_log()
        made = await apply_desired(client, issue, status, desired)
    shown = [w.format(repo=REPO, status=status.id if status else 0) for w in expected]
    assert writes(fake_github) == shown
    assert made == len(shown)
    data = fake_github.issue(REPO, number)
    if "labels" in after:
        assert [x["name"] for x in data["labels"]] == after["labels"]
    if "assignees" in after:
        assert [x["login"] for x in data["assignees"]] == after["assignees"]
    assert data["state"] == after.get("state", "open")


@pytest.mark.parametrize(("body", "labels"), [
    ("Just a question about the hub.", []),  # not an event request
    ("", ["bug"]),
])
async def test_an_issue_that_is_not_a_request_is_read_and_left_alone(
        fake_github: FakeGitHub, app_key: str, body: str, labels: list[str]) -> None:
    seed(fake_github)
    number = fake_github.add_issue(REPO, body=body, labels=labels)
    config = fast_config()
    async with running_bot(fake_github, app_key, config=config) as running:
        client = await running.bot.client_for(INSTALLATION)
        fake_github.reset_log()
        result = await sync_request(client, REF, number, config, running.bot.form,
                                    running.bot.clock(), bot_login=None,
                                    state_keys=STATE_KEYS)
    assert result.triage is None and result.writes == 0
    assert writes(fake_github) == []
    # Read only: the issue, and its comments in the same round trip (the door lets
    # through requests only, so reading both at once saves a round trip on nearly all).
    assert sorted(r.path.rsplit("/", 1)[-1].split("?")[0] for r in fake_github.requests) == \
        sorted(["comments", str(number)])
    assert {r.method for r in fake_github.requests} == {"GET"}
