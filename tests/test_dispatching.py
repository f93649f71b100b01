"""Sending dispatches and ``/prewarm`` at once (module tests for ``bot.service.workflows`` and
``bot.service.dispatching``), through the real client against the shared fake GitHub."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.core.config import Config
from bot.core.model import RepoRef, WorkflowDispatch
from bot.core.prewarm import PREWARM, SCALE_DOWN
from bot.core.runs import QUEUED
from bot.core.status import MARKER, DispatchRecord, read_status
from bot.service.dispatching import prewarm_now
from bot.service.workflows import run_dispatches

from .botapp import fast_config, running_bot
from .fakegithub import FakeGitHub, Faults
from .lifecycle_sim import PREWARM_REPO, START, base_config
from .requests_seed import exam_body

REPO = "jupyter-community/event-requests"
INSTALLATION = 7001
REF = RepoRef("jupyter-community", "event-requests", INSTALLATION)
WORKFLOW = "scale-placeholders.yaml"
BOT_LOGIN = "event-support-bot[bot]"
HUB = "stat101.hubs.example.org"


def seed(fake: FakeGitHub) -> None:
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)
    fake.add_repo(PREWARM_REPO, INSTALLATION)
    fake.set_workflows(PREWARM_REPO, [WORKFLOW])
    fake.set_permission(REPO, "champion", "write")  # a writer's request: confirmed as filed
    fake.set_permission(REPO, "stranger", "read")


def config(**prewarm: Any) -> Config:
    return replace(fast_config(), prewarm=base_config(**prewarm).prewarm)


# --- run_dispatches: every outcome is a record ------------------------------------------------


def dispatch(workflow: str = WORKFLOW, repository: str = PREWARM_REPO,
             replicas: str = "3") -> WorkflowDispatch:
    return WorkflowDispatch(PREWARM, repository, workflow, "main", {"replicas": replicas},
                            comment=77, for_start="2027-03-09T19:00:00Z", hub=HUB)


# (what is dispatched, faults on the dispatch endpoint, sent to GitHub, ok, error starts)
SENDING = [
    pytest.param(dispatch(), False, True, True, "", id="sent"),
    pytest.param(dispatch("another.yaml"), False, True, False, "GitHub answered 404: ",
                 id="unknown-workflow"),
    pytest.param(dispatch(repository="jupyter-community/elsewhere"), False, True, False,
                 "GitHub answered 404: ", id="unknown-repository"),
    pytest.param(dispatch(), True, True, False, "GitHub answered 502: ", id="github-fails"),
    # Refused by the client before anything is sent; the record shows the type only.
    pytest.param(dispatch("../secrets"), False, False, False, "ValueError", id="not-a-path"),
]


@pytest.mark.parametrize(("sent", "faulty", "reaches", "ok", "error"), SENDING)
async def test_run_dispatches_records_each_outcome_and_never_raises(
        fake_github: FakeGitHub, app_key: str, sent: WorkflowDispatch, faulty: bool,
        reaches: bool, ok: bool, error: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=config()) as running:
        client = await running.bot.client_for(INSTALLATION)
        fake_github.reset_log()
        if faulty:
            fake_github.faults = Faults(error_rate=1.0, fault_paths=("POST /dispatches",))
        [record] = await run_dispatches(client, [sent], START)
    posted = [r for r in fake_github.requests if r.method == "POST"]
    assert bool(posted) == reaches
    assert record == DispatchRecord(
        kind=PREWARM, at="2027-03-09T19:00:00Z", inputs={"replicas": "3"}, ok=ok,
        error=record.error, comment=77, for_start="2027-03-09T19:00:00Z", hub=HUB,
        run=QUEUED if ok else "")
    assert record.error.startswith(error) and (record.error == "") == ok
    assert len(record.error) <= 200
    assert [(d.repo, d.workflow_id) for d in fake_github.dispatches] == (
        [(PREWARM_REPO, WORKFLOW)] if ok else [])


async def test_a_failure_does_not_stop_the_dispatches_after_it(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    batch = [dispatch(replicas="1"), dispatch("another.yaml", replicas="2"),
             dispatch("../secrets", replicas="3"), dispatch(replicas="4")]
    async with running_bot(fake_github, app_key, config=config()) as running:
        client = await running.bot.client_for(INSTALLATION)
        records = await run_dispatches(client, batch, START)
    assert [(r.inputs["replicas"], r.ok) for r in records] == [
        ("1", True), ("2", False), ("3", False), ("4", True)]
    assert [dict(d.inputs) for d in fake_github.dispatches] == [{"replicas": "1"},
                                                                {"replicas": "4"}]


# --- /prewarm at once ---------------------------------------------------------------------


def status_state(fake: FakeGitHub, number: int) -> tuple[DispatchRecord, ...]:
    found = [c for c in fake.comments(REPO, number)
             if MARKER in c["body"] and c["user"]["login"] == BOT_LOGIN]
    return read_status(found[0]["body"]).state.dispatches if found else ()


def replies(fake: FakeGitHub, number: int) -> list[str]:
    return [c["body"] for c in fake.comments(REPO, number)
            if c["user"]["login"] == BOT_LOGIN and MARKER not in c["body"]]


# (issue: author, labels, state, body; prewarm settings; nodes; the reply says). NODES out
# of range is refused before the issue is even read: nothing is written.
REFUSALS = [
    pytest.param("champion", [], "open", "Is the hub down?", {}, None,
                 "not an event request", id="not-a-request"),
    pytest.param("champion", ["event-request"], "closed", None, {}, None,
                 "closed or cancelled", id="closed"),
    pytest.param("stranger", ["event-request"], "open", None, {}, None,
                 "awaits confirmation", id="unconfirmed"),
    pytest.param("champion", ["event-request"], "open", None, {}, 51, "at most 50",
                 id="too-many-nodes"),
    pytest.param("champion", ["event-request"], "open", None, {}, -1,
                 "not a number of nodes", id="negative-nodes"),
    # Said before confirmation: without pre-warming, confirming would not help.
    pytest.param("champion", ["event-request"], "open", None, {"repository": ""}, None,
                 "not configured", id="not-configured"),
    pytest.param("champion", ["event-request"], "open", None, {"hub_pattern": ""}, None,
                 "not one this deployment lists", id="hub-not-listed"),
]


@pytest.mark.parametrize(("author", "labels", "state", "body", "prewarm", "nodes", "says"),
                         REFUSALS)
async def test_prewarm_now_refuses_and_says_why_without_dispatching(
        fake_github: FakeGitHub, app_key: str, author: str, labels: list[str], state: str,
        body: str | None, prewarm: dict[str, str], nodes: int | None, says: str) -> None:
    seed(fake_github)
    number = fake_github.add_issue(REPO, user=author, labels=labels, state=state,
                                   created_at="2026-11-23T09:00:00Z",
                                   body=exam_body() if body is None else body)
    async with running_bot(fake_github, app_key, config=config(**prewarm)) as running:
        fake_github.reset_log()  # after the start-up label sync
        outcome = await prewarm_now(running.bot, REF, number, nodes, "lead-lee")
    assert not outcome.ok and says in outcome.message
    assert not outcome.replied  # no comment asked: the caller posts it
    assert fake_github.dispatches == []
    assert status_state(fake_github, number) == ()
    assert replies(fake_github, number) == []
    if nodes is not None:
        assert not [r for r in fake_github.requests if "/issues" in r.path]


# (nodes, the kind dispatched, replicas, the reply starts)
DISPATCHES = [
    pytest.param(None, PREWARM, "4", "Pre-warming dispatched", id="the-sizing"),
    pytest.param(7, PREWARM, "7", "Pre-warming dispatched", id="nodes-given"),
    pytest.param(0, SCALE_DOWN, "0", "Scale-down dispatched", id="scale-down"),
]


@pytest.mark.parametrize(("nodes", "kind", "replicas", "says"), DISPATCHES)
async def test_prewarm_from_a_comment_dispatches_once_and_answers_it_once(
        fake_github: FakeGitHub, app_key: str, nodes: int | None, kind: str, replicas: str,
        says: str) -> None:
    seed(fake_github)
    number = fake_github.add_issue(REPO, labels=["event-request"], body=exam_body(),
                                   created_at="2026-11-23T09:00:00Z")
    comment = fake_github.add_comment(REPO, number, f"/prewarm {nodes or ''}", "lead-lee")
    async with running_bot(fake_github, app_key, config=config()) as running:
        outcomes = [await prewarm_now(running.bot, REF, number, nodes, "lead-lee", comment)
                    for _ in range(2)]  # the comment run again (a redelivery): done once
    for outcome in outcomes:
        assert outcome.ok and outcome.replied
        assert outcome.message.startswith(f"{says} for @lead-lee")
    wanted = {"cluster": "hubs", "hub": "stat101", "replicas": replicas}
    assert [(d.repo, d.workflow_id, dict(d.inputs)) for d in fake_github.dispatches] == [
        (PREWARM_REPO, WORKFLOW, wanted)]
    [record] = status_state(fake_github, number)
    assert (record.kind, record.ok, record.inputs, record.comment, record.hub) == (
        kind, True, wanted, comment, HUB)
    [reply] = replies(fake_github, number)
    assert says in reply
