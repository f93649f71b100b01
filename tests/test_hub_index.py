"""Hubs from the operator's own repository (``prewarm.hub_index``), and following the
workflow run a dispatch started, through the real app and the fake GitHub."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.config import HubIndexConfig
from bot.core.hub_index import MAX_FILE_BYTES, HubEntry, build_index, read_cluster_file
from bot.core.prewarm import PrewarmTarget, Refusal, target_for
from bot.core.status import MARKER, StatusState, read_status
from bot.service.dispatching import prewarm_now
from bot.service.scheduler import Scheduler

from .botapp import Clock, fast_config, running_bot
from .fakegithub import FakeGitHub
from .lifecycle_sim import PREWARM_REPO, START, base_config, form_body
from .payloads import issues_payload
from .test_prewarm import INSTALLATION, REF, REPO

INFRA = "hub-operator/infrastructure"
NASA_CRYO = """\
name: nasa-cryo
provider: aws
hubs:
  - name: staging
    domain: staging.hub.cryointhecloud.com
  - name: prod
    domain: hub.cryointhecloud.com
"""
OPENSCAPES = """\
name: openscapeshub
provider: aws
hubs:
  - name: prod
    domain: openscapes.2i2c.cloud
"""


@pytest.mark.parametrize(("text", "hubs", "problem"), [
    (NASA_CRYO, {"staging.hub.cryointhecloud.com": HubEntry("nasa-cryo", "staging", "aws"),
                 "hub.cryointhecloud.com": HubEntry("nasa-cryo", "prod", "aws")}, None),
    ("name: c\nhubs:\n  - {name: p, domain: P.Example.org}\n",
     {"p.example.org": HubEntry("c", "p", None)}, None),
    ("name: c\nhubs:\n  - &h {name: p, domain: p.example.org}\n  - *h\n", {}, "aliases"),
    ("name: c\nhubs: [" + "{name: p, domain: p.example.org}, " * 20_000 + "]\n", {},
     f"at most {MAX_FILE_BYTES}"),
    ("name: c\nhubs:\n  - {name: 'p;rm -rf', domain: p.example.org}\n"
     "  - {name: q, domain: q.example.org}\n",
     {"q.example.org": HubEntry("c", "q", None)}, "1 hub(s) without"),
    ("- just\n- a list\n", {}, "not a mapping"),
    ("name: c\nhubs: {}\n", {}, "no `hubs` list"),
    ("name: [c\n", {}, "not valid YAML"),
    ("hubs: []\n", {}, "no usable `name`"),
])
def test_a_cluster_file_is_read_safely(text: str, hubs: dict[str, HubEntry],
                                       problem: str | None) -> None:
    read = read_cluster_file("config/clusters/x/cluster.yaml", text)
    assert dict(build_index([read])) == hubs
    assert (read.problem is None) if problem is None else (problem in (read.problem or ""))


@pytest.mark.parametrize(("host", "index", "expected"), [
    ("hub.cryointhecloud.com", {"hub.cryointhecloud.com": HubEntry("nasa-cryo", "prod")},
     PrewarmTarget("nasa-cryo", "prod")),
    ("openscapes.2i2c.cloud", {"openscapes.2i2c.cloud": HubEntry("openscapeshub", "prod")},
     PrewarmTarget("openscapeshub", "prod")),
    # The pattern would have guessed this one; with an index, nothing is guessed.
    ("stat101.hubs.example.org", {}, "not listed in"),
    ("hub.cryointhecloud.com", None, "not been read yet"),
])
def test_with_a_hub_index_a_hub_is_found_by_its_domain(
        host: str, index: dict[str, HubEntry] | None, expected: PrewarmTarget | str) -> None:
    cfg = replace(base_config().prewarm, hub_index=HubIndexConfig(INFRA))
    found = target_for(host, cfg, index)
    if isinstance(expected, str):
        assert isinstance(found, Refusal) and expected in found.reason
        assert found.transient is (index is None)
    else:
        assert found == expected


def _seed(fake: FakeGitHub, hub: str) -> int:
    fake.validate_responses = True  # the directory listings and runs are GitHub's shape
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)
    fake.add_repo(PREWARM_REPO, INSTALLATION)
    fake.add_repo(INFRA, INSTALLATION)
    fake.set_file(INFRA, "config/clusters/nasa-cryo/cluster.yaml", NASA_CRYO)
    fake.set_file(INFRA, "config/clusters/openscapeshub/cluster.yaml", OPENSCAPES)
    fake.set_file(INFRA, "config/clusters/README.md", "not a cluster")
    fake.set_workflows(PREWARM_REPO, ["scale-placeholders.yaml"])
    fake.set_permission(REPO, "champion", "write")
    return fake.add_issue(REPO, labels=["event-request"], created_at="2026-11-23T09:00:00Z",
                          body=form_body(hub_url=hub))


def _config() -> object:
    prewarm = replace(base_config().prewarm, hub_pattern="", hub_index=HubIndexConfig(INFRA))
    return replace(fast_config(), prewarm=prewarm)


def _state(fake: FakeGitHub, number: int) -> tuple[str, StatusState]:
    [status] = [c for c in fake.comments(REPO, number)
                if c["user"]["type"] == "Bot" and MARKER in c["body"]]
    return status["body"], read_status(status["body"]).state


@pytest.mark.parametrize(("hub", "inputs"), [
    ("https://hub.cryointhecloud.com", {"cluster": "nasa-cryo", "hub": "prod"}),
    ("https://openscapes.2i2c.cloud/hub/login", {"cluster": "openscapeshub", "hub": "prod"}),
    ("https://stat101.hubs.example.org", None),  # listed nowhere: never dispatched
])
async def test_a_hub_is_resolved_through_the_operators_cluster_files(
        fake_github: FakeGitHub, app_key: str, hub: str, inputs: dict[str, str] | None
        ) -> None:
    number = _seed(fake_github, hub)
    async with running_bot(fake_github, app_key, config=_config(),  # type: ignore[arg-type]
                           clock=Clock()) as bot:
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
        outcome = await prewarm_now(bot.bot, REF, number, None, "alice")
    body, state = _state(fake_github, number)
    if inputs is None:
        assert not outcome.ok and "not listed in" in outcome.message
        assert fake_github.dispatches == []
        assert "never pre-warmed" in body and "not listed in" in body
        return
    [d] = fake_github.dispatches
    assert {k: d.inputs[k] for k in ("cluster", "hub")} == inputs
    assert f"cluster `{inputs['cluster']}` on `aws`, hub `prod`" in body


async def test_a_push_to_the_index_repository_reads_it_again(
        fake_github: FakeGitHub, app_key: str) -> None:
    number = _seed(fake_github, "https://new.cryointhecloud.com")
    clock = Clock()
    async with running_bot(fake_github, app_key, config=_config(),  # type: ignore[arg-type]
                           clock=clock) as bot:
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
        assert "not listed in" in _state(fake_github, number)[0]
        fake_github.set_file(INFRA, "config/clusters/nasa-cryo/cluster.yaml", NASA_CRYO +
                             "  - name: new\n    domain: new.cryointhecloud.com\n")
        # Within refresh_minutes and no push: the index read before still holds.
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "edited"))
        await bot.settle()
        assert "not listed in" in _state(fake_github, number)[0]
        push = {"ref": "refs/heads/main", "repository": {"full_name": INFRA},
                "installation": {"id": INSTALLATION}}
        await bot.deliver("push", push)
        await bot.settle()
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "edited"))
        await bot.settle()
        assert "hub `new`" in _state(fake_github, number)[0]


@pytest.mark.parametrize("conclusion", ["success", "failure"])
async def test_the_run_a_dispatch_started_is_followed_and_a_failure_said_at_once(
        fake_github: FakeGitHub, app_key: str, conclusion: str) -> None:
    number = _seed(fake_github, "https://hub.cryointhecloud.com")
    fake_github.run_outcome = None  # the run stays queued until the test ends it
    clock = Clock(START - timedelta(hours=2))
    async with running_bot(fake_github, app_key, config=_config(),  # type: ignore[arg-type]
                           clock=clock) as bot:
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
        [d] = fake_github.dispatches  # at the lead time, by itself
        clock.now += timedelta(minutes=1)
        await Scheduler(bot.bot).tick()  # the run is found (if a sync has not found it yet)
        body, state = _state(fake_github, number)
        [record] = state.dispatches
        [run] = fake_github.runs
        assert record.run == "queued" and record.run_id == run.id
        assert f"/actions/runs/{run.id}" in body and "running" in body
        assert "- [ ] Pre-warm" in body  # not ticked while the run goes on
        fake_github.finish_run(run.id, conclusion)
        clock.now += timedelta(minutes=1)
        await Scheduler(bot.bot).tick()  # one pass
        body, state = _state(fake_github, number)
    said = [c["body"] for c in fake_github.comments(REPO, number) if "did not succeed" in
            c["body"]]
    assert state.dispatches[0].run == conclusion
    if conclusion == "success":
        assert "- [x] Pre-warm" in body and "✅ succeeded" in body and said == []
    else:
        assert "- [ ] Pre-warm" in body and "❌ failure" in body
        assert len(said) == 1 and f"runs/{run.id}" in said[0]




async def test_an_index_that_cannot_be_read_holds_pre_warming_back_without_guessing(
        fake_github: FakeGitHub, app_key: str) -> None:
    number = _seed(fake_github, "https://hub.cryointhecloud.com")
    files = dict(fake_github.repo(INFRA).files)
    fake_github.repo(INFRA).files.clear()  # the path names nothing (or the App cannot see it)
    clock = Clock(START - timedelta(hours=2))
    async with running_bot(fake_github, app_key, config=_config(),  # type: ignore[arg-type]
                           clock=clock) as bot:
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
        body = _state(fake_github, number)[0]
        assert fake_github.dispatches == []
        assert "has not been read yet" in body and "never pre-warmed" not in body
        fake_github.repo(INFRA).files.update(files)
        clock.now += timedelta(minutes=5)
        await Scheduler(bot.bot).tick()  # tried again, read, dispatched
    [d] = fake_github.dispatches
    assert (d.inputs["cluster"], d.inputs["hub"]) == ("nasa-cryo", "prod")
    assert not [c for c in fake_github.comments(REPO, number) if "not started" in c["body"]]
