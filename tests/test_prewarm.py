"""Pre-warming: inputs checked against config, when it is dispatched, failures, and /prewarm."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.core import lifecycle
from bot.core.config import PrewarmConfig
from bot.core.model import RepoRef, WorkflowDispatch
from bot.core.prewarm import (
    PREWARM,
    SCALE_DOWN,
    PrewarmTarget,
    Refusal,
    prewarm_dispatch,
    render_inputs,
    scale_down_dispatch,
    target_for,
)
from bot.core.request import EventRequest
from bot.core.sizing import Sizing
from bot.core.status import DispatchRecord, StatusState, read_status
from bot.github.client import GitHubError
from bot.service.dispatching import prewarm_now
from bot.service.workflows import run_dispatches

from .botapp import Clock, fast_config, running_bot
from .fakegithub import FakeGitHub
from .lifecycle_sim import END, OPENED, PREWARM_REPO, START, Sim, base_config, form_body, make_issue
from .payloads import issues_payload

H = timedelta(hours=1)
D = timedelta(days=1)
PATTERN = base_config().prewarm.hub_pattern


@pytest.mark.parametrize(("host", "clusters", "expected"), [
    ("stat101.hubs.example.org", {}, PrewarmTarget("hubs", "stat101")),
    ("STAT101.hubs.example.org", {}, PrewarmTarget("hubs", "stat101")),
    ("stat101.hubs.example.org", {"stat101.hubs.example.org": "gke-east"},
     PrewarmTarget("gke-east", "stat101")),
    ("jupyter.school.edu", {"jupyter.school.edu": "uni-1"}, PrewarmTarget("uni-1", "jupyter")),
    ("hub.org", {}, "does not match"),  # two labels: no cluster in the pattern
    (None, {}, "no readable hub"),
    ("stat101.hubs.example.org", {"stat101.hubs.example.org": "Bad Cluster;rm"},
     "may only hold"),
    ("stat101.hubs.example.org", {"stat101.hubs.example.org": "-rf"}, "may only hold"),
])
def test_target_for(host: str | None, clusters: dict[str, str],
                    expected: PrewarmTarget | str) -> None:
    cfg = replace(base_config().prewarm, clusters=clusters)
    got = target_for(host, cfg)
    if isinstance(expected, str):
        assert isinstance(got, Refusal) and expected in got.reason
    else:
        assert got == expected


@pytest.mark.parametrize(("host", "clusters", "expected"), [
    # A stranger's hub that merely looks like hub.cluster.domain is not listed by default.
    ("stat101.hubs.example.org", {}, "not one this deployment lists"),
    ("evil.prod.example.com", {"stat101.hubs.example.org": "gke"}, "not one this deployment"),
    ("stat101.hubs.example.org", {"stat101.hubs.example.org": "gke"},
     PrewarmTarget("gke", "stat101")),
])
def test_the_default_config_lists_only_the_clusters_keys(
        host: str, clusters: dict[str, str], expected: PrewarmTarget | str) -> None:
    cfg = PrewarmConfig(repository=PREWARM_REPO, clusters=clusters)
    assert cfg.hub_pattern == ""
    got = target_for(host, cfg)
    if isinstance(expected, str):
        assert isinstance(got, Refusal) and expected in got.reason
    else:
        assert got == expected


def test_a_pattern_that_matches_nothing_usable_is_refused() -> None:
    cfg = replace(base_config().prewarm, hub_pattern=r"^(?P<hub>.+)\.(?P<cluster>.+)$")
    got = target_for("a_b.c", cfg)  # the pattern lets "_" through; the value check does not
    assert isinstance(got, Refusal)


@pytest.mark.parametrize(("templates", "replicas", "expected"), [
    ({"cluster": "{cluster}", "hub": "{hub}", "replicas": "{replicas}"}, 7,
     {"cluster": "c1", "hub": "h1", "replicas": "7"}),
    ({"target": "{cluster}/{hub}", "count": "{replicas}", "note": "{not-a-field} {}"}, 0,
     {"target": "c1/h1", "count": "0", "note": "{not-a-field} {}"}),
])
def test_render_inputs(templates: dict[str, str], replicas: int,
                       expected: dict[str, str]) -> None:
    assert render_inputs(templates, PrewarmTarget("c1", "h1"), replicas) == expected


def _request() -> EventRequest:
    sim = Sim(base_config())
    sim.run(OPENED)
    assert sim.last is not None and sim.last.request is not None
    return sim.last.request


SIZING = Sizing("n2-highmem-4", 6, 30, 21, 4.0, 26.0)


@pytest.mark.parametrize(("repository", "sizing", "nodes", "expected"), [
    (PREWARM_REPO, SIZING, None, (PREWARM, "21")),
    (PREWARM_REPO, SIZING, 5, (PREWARM, "5")),
    (PREWARM_REPO, None, 5, (PREWARM, "5")),
    (PREWARM_REPO, SIZING, 0, (SCALE_DOWN, "0")),
    (PREWARM_REPO, SIZING, 51, "at most 50"),
    (PREWARM_REPO, SIZING, -1, "not a number of nodes"),
    (PREWARM_REPO, None, None, "cannot be sized"),
    ("", SIZING, None, "not configured"),
])
def test_prewarm_dispatch(repository: str, sizing: Sizing | None, nodes: int | None,
                          expected: tuple[str, str] | str) -> None:
    config = base_config(repository=repository)
    got = prewarm_dispatch(_request(), sizing, config, nodes)
    if isinstance(expected, str):
        assert isinstance(got, Refusal) and expected in got.reason
    else:
        assert isinstance(got, WorkflowDispatch)
        assert (got.kind, got.inputs["replicas"]) == expected
        assert got.inputs["cluster"] == "hubs" and got.inputs["hub"] == "stat101"
        assert (got.repository, got.workflow, got.ref) == (
            PREWARM_REPO, "scale-placeholders.yaml", "main")


def test_scale_down_goes_to_what_was_prewarmed_even_after_the_hub_was_edited() -> None:
    config = base_config()
    state = StatusState(dispatches=(DispatchRecord(
        PREWARM, "2027-03-09T17:00:00Z", {"cluster": "old", "hub": "exam1", "replicas": "9"},
        True, hub="exam1.old.example.org"),))
    got = scale_down_dispatch(state, _request(), config)
    assert isinstance(got, WorkflowDispatch)
    assert got.inputs == {"cluster": "old", "hub": "exam1", "replicas": "0"}


@pytest.mark.parametrize(("recorded", "clusters", "expected"), [
    # The inputs come from the config now, not from what the record says was sent.
    ({"cluster": "prod-main", "hub": "payroll", "replicas": "9"}, {},
     {"cluster": "old", "hub": "exam1", "replicas": "0"}),
    ({"cluster": "old", "hub": "exam1"}, {"exam1.old.example.org": "gke-2"},
     {"cluster": "gke-2", "hub": "exam1", "replicas": "0"}),
])
def test_scale_down_inputs_are_derived_from_the_config_not_the_record(
        recorded: dict[str, str], clusters: dict[str, str], expected: dict[str, str]) -> None:
    config = base_config(clusters=clusters)
    state = StatusState(dispatches=(DispatchRecord(
        PREWARM, "2027-03-09T17:00:00Z", recorded, True, hub="exam1.old.example.org"),))
    got = scale_down_dispatch(state, _request(), config)
    assert isinstance(got, WorkflowDispatch) and got.inputs == expected


def test_scale_down_of_a_hub_no_longer_listed_is_refused() -> None:
    config = base_config(hub_pattern="")  # the operator lists no pattern any more
    state = StatusState(dispatches=(DispatchRecord(
        PREWARM, "2027-03-09T17:00:00Z", {"cluster": "old", "hub": "exam1"}, True,
        hub="exam1.old.example.org"),))
    got = scale_down_dispatch(state, _request(), config)
    assert isinstance(got, Refusal) and "not one this deployment lists" in got.reason


# --- when the lifecycle dispatches ----------------------------------------------------------


def test_prewarm_at_lead_time_and_scale_down_after_the_end() -> None:
    sim = Sim(base_config())
    sim.follow(OPENED, END + 2 * D)
    assert [(at, d.kind, d.inputs) for at, d in sim.dispatches] == [
        (START - 2 * H, PREWARM, {"cluster": "hubs", "hub": "stat101", "replicas": "3"}),
        (END + timedelta(minutes=30), SCALE_DOWN,
         {"cluster": "hubs", "hub": "stat101", "replicas": "0"}),
    ]
    assert sim.last is not None and sim.last.sizing is not None
    assert sim.last.sizing.prewarm_nodes == 3  # the sizing's pre-warm count, as planned
    recorded = sim.state().dispatches
    assert [(r.kind, r.ok) for r in recorded] == [(PREWARM, True), (SCALE_DOWN, True)]
    assert sim.status is not None and "Scaled down" in sim.status.body


@pytest.mark.parametrize("how", ["cancelled", "closed"])
def test_a_prewarmed_request_cancelled_or_closed_is_scaled_down_at_once(how: str) -> None:
    sim = Sim(base_config())
    sim.run(OPENED)
    sim.run(START - H)
    assert [d.kind for _, d in sim.dispatches] == [PREWARM]
    if how == "cancelled":
        sim.set_state(cancelled_by="prof-okafor", cancelled_at="2027-03-09T18:10:00Z")
    else:
        sim.issue = replace(sim.issue, state="closed")
    sim.run(START - H + timedelta(minutes=10))
    assert [d.kind for _, d in sim.dispatches] == [PREWARM, SCALE_DOWN]
    assert sim.next_due(START) is None


def test_a_request_broken_by_an_edit_keeps_its_nodes_until_fixed() -> None:
    sim = Sim(base_config())
    sim.run(START - H)
    sim.issue = replace(sim.issue, body=form_body(end="whenever"))
    sim.run(END + 2 * H)
    assert [d.kind for _, d in sim.dispatches] == [PREWARM]
    sim.issue = replace(sim.issue, body=form_body())
    sim.run(END + 3 * H)
    assert [d.kind for _, d in sim.dispatches] == [PREWARM, SCALE_DOWN]


def test_nothing_is_prewarmed_after_the_end_or_twice_in_a_window() -> None:
    late = Sim(base_config())
    late.run(END + H)
    assert late.dispatches == []
    manual = Sim(base_config())
    manual.run(OPENED)
    manual.set_state(dispatches=(DispatchRecord(
        PREWARM, "2027-03-09T16:30:00Z", {"cluster": "hubs", "hub": "stat101", "replicas": "4"},
        True),))
    manual.run(START - 2 * H)  # a /prewarm half an hour before the lead time counts
    assert [d.kind for _, d in manual.dispatches] == []


def test_a_failed_dispatch_is_reported_once_and_retried_a_bounded_number_of_times() -> None:
    attempts: list[datetime] = []

    def failing(_: WorkflowDispatch, now: datetime) -> str | None:
        attempts.append(now)
        return "GitHub answered 502: Bad Gateway"

    sim = Sim(base_config(), outcome=failing)
    sim.follow(OPENED, START)
    window = START - 2 * H
    step = lifecycle.DISPATCH_RETRY
    assert attempts == [window, window + step, window + 2 * step]
    [report] = sim.said("Pre-warming failed")
    assert report.at == window and "502" in report.text and "@alice" in report.text
    assert sim.status is not None and "failed" in sim.status.body
    records = sim.state().dispatches
    assert [r.ok for r in records] == [False, False, False]


def test_a_dispatch_that_works_on_retry_is_recorded_as_done() -> None:
    outcomes = iter(["GitHub answered nothing: timeout", None])
    sim = Sim(base_config(), outcome=lambda d, now: next(outcomes))
    sim.follow(OPENED, START)
    assert [(r.ok, r.at) for r in sim.state().dispatches] == [
        (False, "2027-03-09T17:00:00Z"), (True, "2027-03-09T17:05:00Z")]
    assert len(sim.said("Pre-warming failed")) == 1


def test_refused_inputs_are_reported_once_and_never_sent() -> None:
    sim = Sim(base_config(), issue=make_issue(form_body(hub_url="https://hub.org")))
    sim.follow(OPENED, END + 2 * D)
    assert sim.dispatches == []
    [refused] = sim.said("Pre-warming was not started")
    assert refused.at == START - 2 * H and "does not match" in refused.text


# --- dispatching ---------------------------------------------------------------------------


class _Recorder:
    """Stands in for the client's one dispatch call (the network path is tested with the fake)."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.calls: list[tuple[str, str, str, dict[str, str]]] = []

    async def dispatch_workflow(self, repo: str, workflow: str, ref: str,
                                inputs: Mapping[str, str]) -> None:
        self.calls.append((repo, workflow, ref, dict(inputs)))
        if self.fail is not None:
            raise self.fail


@pytest.mark.parametrize(("fail", "ok", "error"), [
    (None, True, ""),
    (GitHubError(404, "Not Found", method="POST", path="/x"), False,
     "GitHub answered 404: Not Found"),
    (GitHubError(0, "timeout"), False, "GitHub answered nothing: timeout"),
    (RuntimeError("token ghs_abcdefghijklmnopqrstuvwxyz0123"), False, "RuntimeError"),
])
async def test_run_dispatches_records_every_outcome(fail: Exception | None, ok: bool,
                                                    error: str) -> None:
    client = _Recorder(fail)
    d = WorkflowDispatch(PREWARM, PREWARM_REPO, "scale.yaml", "main", {"replicas": "3"})
    [record] = await run_dispatches(client, [d], START)
    assert client.calls == [(PREWARM_REPO, "scale.yaml", "main", {"replicas": "3"})]
    assert (record.kind, record.at, record.inputs, record.ok, record.error) == (
        PREWARM, "2027-03-09T19:00:00Z", {"replicas": "3"}, ok, error)


# --- /prewarm through the real app and the fake GitHub ----------------------------------------

REPO = "jupyter-community/event-requests"
INSTALLATION = 7001
REF = RepoRef("jupyter-community", "event-requests", INSTALLATION)


def _seed(fake: FakeGitHub) -> int:
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)
    fake.add_repo(PREWARM_REPO, INSTALLATION)
    fake.set_workflows(PREWARM_REPO, ["scale-placeholders.yaml"])
    fake.set_permission(REPO, "champion", "write")  # a writer's request: confirmed as filed
    return fake.add_issue(REPO, labels=["event-request"], created_at="2026-11-23T09:00:00Z",
                          body=form_body())


def _state(fake: FakeGitHub, number: int) -> StatusState:
    [status] = [c for c in fake.comments(REPO, number) if c["user"]["type"] == "Bot"]
    return read_status(status["body"]).state


@pytest.mark.parametrize(("nodes", "dispatched", "reply"), [
    (None, {"cluster": "hubs", "hub": "stat101", "replicas": "3"}, "Pre-warming dispatched"),
    (4, {"cluster": "hubs", "hub": "stat101", "replicas": "4"}, "Pre-warming dispatched"),
    (0, {"cluster": "hubs", "hub": "stat101", "replicas": "0"}, "Scale-down dispatched"),
    (51, None, "at most 50"),
])
async def test_prewarm_now_dispatches_and_records_in_the_status_comment(
        fake_github: FakeGitHub, app_key: str, nodes: int | None,
        dispatched: dict[str, Any] | None, reply: str) -> None:
    number = _seed(fake_github)
    config = replace(fast_config(), prewarm=base_config().prewarm)
    async with running_bot(fake_github, app_key, config=config, clock=Clock()) as bot:
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
        outcome = await prewarm_now(bot.bot, REF, number,
                                    nodes, "alice")
    assert reply in outcome.message
    assert outcome.ok is (dispatched is not None)
    if dispatched is None:
        assert fake_github.dispatches == []
        assert _state(fake_github, number).dispatches == ()
        return
    [d] = fake_github.dispatches
    assert (d.repo, d.workflow_id, d.ref, dict(d.inputs)) == (
        PREWARM_REPO, "scale-placeholders.yaml", "main", dispatched)
    [record] = _state(fake_github, number).dispatches
    assert record.ok and record.inputs == dispatched


async def test_prewarm_now_reports_a_failed_dispatch(fake_github: FakeGitHub,
                                                     app_key: str) -> None:
    number = _seed(fake_github)
    fake_github.set_workflows(PREWARM_REPO, ["another.yaml"])  # ours answers 404
    config = replace(fast_config(), prewarm=base_config().prewarm)
    async with running_bot(fake_github, app_key, config=config) as bot:
        outcome = await prewarm_now(bot.bot, REF, number,
                                    None, "alice")
    assert not outcome.ok and "404" in outcome.message
    [record] = _state(fake_github, number).dispatches
    assert not record.ok and "404" in record.error
