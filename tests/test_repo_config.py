"""Per-repository config: ``.github/event-bot.yml`` over the deployment's, and a broken one."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from bot.core.config import ConfigError, default_config, parse_config
from bot.core.status import MARKER, StatusState, read_status, state_block
from bot.github.client import AppCredentials, GitHubApp
from bot.service.repo_config import (
    NOTE_KEY,
    OVERRIDE_PATH,
    RepoConfigs,
    merged,
    parse_override,
    with_state_extra,
)

from .botapp import RunningBot, fast_config, running_bot
from .fakegithub import FakeGitHub
from .payloads import issue_comment_payload, issues_payload
from .requests_seed import BOT_LOGIN, add_request

INSTALLATION = 7201
OWN = "physics-dept/event-requests"  # carries its own config
PLAIN = "biology-dept/event-requests"  # uses the deployment's
OPENED = datetime(2026, 11, 23, 9, tzinfo=UTC)
DEPLOYMENT_ENGINEERS = {"alice", "bob", "carol", "dan"}


# --- pure parts ----------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    {},
    {"oncall": {"engineers": ["a", {"login": "b", "away": [{"from": "2026-12-20",
                                                             "to": "2027-01-03"}]}]}},
    {"prewarm": {"repository": "org/infra", "clusters": {"hub.example.org": "c1"}},
     "timezone_abbreviations": {"IST": "Asia/Kolkata", "NPT": "+05:45"},
     "checklist": [{"id": "only", "text": "One thing", "due": "start-3h", "types": ["exam"]}],
     "labels": {"event_request": "event"}, "team_lead_team": "org/leads"},
])
def test_a_config_keeps_the_yaml_it_was_read_from(raw: dict[str, Any]) -> None:
    config = parse_config(raw)
    assert config.raw == raw and parse_config(config.raw) == config
    raw["notice_days"] = 99  # the caller's mapping changing later changes nothing
    assert "notice_days" not in config.raw


def test_an_override_keeps_what_the_deployment_runs_with() -> None:
    """Deployment-only values come from the running config, not from its YAML: a value set
    in code (here the test's fast GitHub timings) survives a repository's override."""
    base = fast_config()
    assert base.github != parse_config(base.raw).github
    config = parse_override("notice_days: 30\nsizing: {min_users_per_node: 5}\n", base)
    assert config.notice_days == 30 and config.sizing.min_users_per_node == 5
    assert config.sizing.node_types == base.sizing.node_types
    for name in ("github", "server", "scheduler", "tiers", "team_leads", "prewarm",
                 "form_path", "default_tier", "oncall", "checklist", "labels"):
        assert getattr(config, name) == getattr(base, name), name


@pytest.mark.parametrize(
    ("base", "override", "expected"),
    [({"a": 1, "b": {"x": 1, "y": 2}}, {"b": {"y": 3}}, {"a": 1, "b": {"x": 1, "y": 3}}),
     ({"l": [1, 2]}, {"l": [3]}, {"l": [3]}),
     ({"m": {"k": 1}}, {"m": None}, {"m": None}),
     ({"a": 1}, {"b": {"c": 2}}, {"a": 1, "b": {"c": 2}}),
     ({"o": {"p": {"q": 1, "r": 2}}}, {"o": {"p": {"r": 5}}}, {"o": {"p": {"q": 1, "r": 5}}})],
)
def test_mappings_merge_and_lists_replace(base: dict[str, Any], override: dict[str, Any],
                                          expected: dict[str, Any]) -> None:
    assert merged(base, override) == expected


def test_an_override_changes_only_what_it_names() -> None:
    base = fast_config()
    config = parse_override("oncall:\n  engineers: [zed, yan]\nnotice_days: 30\n"
                            "checklist:\n  - {id: only-one, text: The one thing, due: -2d}\n",
                            base)
    assert [e.login for e in config.oncall.engineers] == ["zed", "yan"]
    assert config.oncall.start == base.oncall.start and config.oncall.timezone == "UTC"
    assert config.notice_days == 30 and config.team_leads == base.team_leads
    assert [i.id for i in config.checklist] == ["only-one"]
    assert config.tiers == base.tiers and config.sizing == base.sizing
    assert parse_override("", base) is base
    assert parse_override("# nothing here\n", base) is base


@pytest.mark.parametrize(
    ("text", "problem"),
    [("notice_days: 3\noncall: [unclosed\n", f"{OVERRIDE_PATH}:3: not valid YAML"),
     ("- just\n- a list\n", "must be a mapping of config keys, not list"),
     ("form: /etc/passwd\n", "form: cannot be set per repository"),
     ("notice_days: soon\n", "notice_days: 'soon' is not a whole number"),
     ("oncall:\n  timezone: Mars/Olympus\n", "oncall.timezone"),
     ("checklist:\n  - {id: Bad Id, text: x, due: -1d}\n", "checklist[0]"),
     ("policy_url: 'javascript:alert(1)'\n", "policy_url: 'javascript:alert(1)' is not an "
                                              "https:// URL"),
     ("policy_url: http://example.org/policy\n", "is not an https:// URL"),
     ("notice_days: &n 3\nmax_attendees: *n\n", ":1: uses an anchor"),
     ("a: &a [x, x]\nb: [*a, *a]\n", "anchors and aliases are not accepted"),
     pytest.param("notice_days: 3\n" + "# padding\n" * 7200,
                  "at most 65536 (64 KiB) are read", id="70-KiB")],
)
def test_a_broken_override_names_its_problem(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_override(text, fast_config())
    assert any(problem in line for line in caught.value.problems), caught.value.problems
    assert all(line.startswith(OVERRIDE_PATH) for line in caught.value.problems)


@pytest.mark.parametrize("key, value", [
    ("team_leads", "[repo-writer]"),
    ("team_lead_team", "university/writers"),
    ("tiers", "{gold: {price_usd: 0, requires_approval: false}}"),
    ("default_tier", "premium"),
    ("prewarm", "{repository: someone/else, hub_pattern: '.*'}"),
])
def test_deployment_only_keys_are_ignored_and_named(key: str, value: str) -> None:
    base = fast_config()
    configs = RepoConfigs(base)
    loaded = configs.from_text(f"{key}: {value}\nnotice_days: 30\n")
    assert not loaded.broken and loaded.config.notice_days == 30  # the rest applies
    assert getattr(loaded.config, key) == getattr(base, key)
    [line] = loaded.ignored
    assert line.startswith(f"{OVERRIDE_PATH}: {key}: ") and "ignored" in line
    assert loaded.noteworthy == loaded.ignored


def billion_laughs(levels: int = 30) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_before_it_is_built() -> None:
    configs = RepoConfigs(fast_config())
    started = time.perf_counter()
    loaded = configs.from_text(billion_laughs())
    assert time.perf_counter() - started < 0.5
    assert loaded.broken and loaded.config is configs.base
    assert "anchors and aliases are not accepted" in loaded.problem[0]


def test_the_state_block_keeps_the_note_and_everything_else() -> None:
    state = StatusState(rotation=("alice",), sent=("r1",), extra={"future": 1})
    body = f"{MARKER}\ntext\n{state_block(state)}\ntail"
    marked = with_state_extra(body, NOTE_KEY, "abc")
    assert marked is not None and marked.endswith("\ntail")
    again = read_status(marked).state
    assert again.extra == {"future": 1, NOTE_KEY: "abc"}
    assert again.rotation == ("alice",) and again.sent == ("r1",)
    assert with_state_extra("no block here", NOTE_KEY, "abc") is None


def test_text_is_parsed_once_per_content() -> None:
    configs = RepoConfigs(default_config())
    first = configs.from_text("notice_days: 30\n")
    assert configs.from_text("notice_days: 30\n") is first
    assert first.config.notice_days == 30 and not first.broken
    broken = configs.from_text("notice_days: -1\n")
    assert broken.broken and broken.config is configs.base and broken.digest
    assert configs.from_text(None).source == "deployment"


# --- through the API -------------------------------------------------------------


def seed(fake: FakeGitHub) -> None:
    fake.add_installation(INSTALLATION, "university")
    fake.add_repo(OWN, INSTALLATION)
    fake.add_repo(PLAIN, INSTALLATION)


def exam(fake: FakeGitHub, repo: str, name: str = "Final") -> int:
    return add_request(fake, repo, opened=OPENED, title=f"[Event]: {name}",
                       hub="https://physics.hubs.example.org", name=name, event_type="exam",
                       start="2027-03-09 13:00", end="2027-03-09 16:00",
                       timezone="America/Chicago", tier="premium").number


def notes(fake: FakeGitHub, repo: str, number: int) -> list[str]:
    return [c["body"] for c in fake.comments(repo, number)
            if OVERRIDE_PATH in c["body"] and MARKER not in c["body"]
            and c["user"]["login"] == BOT_LOGIN]


def status_of(fake: FakeGitHub, repo: str, number: int) -> dict[str, Any]:
    found = [c for c in fake.comments(repo, number)
             if MARKER in c["body"] and c["user"]["login"] == BOT_LOGIN]
    assert len(found) == 1
    return found[0]


@asynccontextmanager
async def started(fake: FakeGitHub, app_key: str) -> AsyncIterator[RunningBot]:
    async with running_bot(fake, app_key) as running:
        await running.app["reconcile_task"]
        await running.app["labels_task"]
        yield running


async def test_a_repository_override_sets_rotation_and_notice(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    fake_github.set_file(OWN, OVERRIDE_PATH,
                         "oncall:\n  engineers: [zed, yan]\nnotice_days: 120\n")
    own, plain = exam(fake_github, OWN), exam(fake_github, PLAIN)
    async with started(fake_github, app_key):
        pass
    assert set(fake_github.assignees(OWN, own)) == {"zed", "yan"}
    assert set(fake_github.assignees(PLAIN, plain)) <= DEPLOYMENT_ENGINEERS
    assert len(fake_github.assignees(PLAIN, plain)) == 2
    assert "short-notice" in fake_github.labels(OWN, own)  # 106 days < 120
    assert "short-notice" not in fake_github.labels(PLAIN, plain)
    assert not notes(fake_github, OWN, own)


async def test_a_repository_cannot_name_its_own_team_lead(
        fake_github: FakeGitHub, app_key: str) -> None:
    """A writer who adds themselves as a team lead in the repository's file is no lead:
    their /approve-tier is refused, and the repository is told once why the key is ignored."""
    seed(fake_github)
    fake_github.set_permission(OWN, "repo-writer", "write")
    fake_github.add_team_member("university", "writers", "repo-writer")
    fake_github.set_file(OWN, OVERRIDE_PATH, "team_leads: [repo-writer]\n"
                         "team_lead_team: university/writers\nnotice_days: 30\n")
    number = exam(fake_github, OWN)
    async with started(fake_github, app_key) as running:
        assert "tier: pending" in fake_github.labels(OWN, number)
        comment = fake_github.add_comment(OWN, number, "/approve-tier", "repo-writer")
        await running.deliver("issue_comment",
                              issue_comment_payload(fake_github, OWN, number, comment))
        await running.settle()
    assert "tier: pending" in fake_github.labels(OWN, number)
    assert "tier: premium" not in fake_github.labels(OWN, number)
    state = read_status(status_of(fake_github, OWN, number)["body"]).state
    assert state.approval is None
    assert "@repo-writer" not in status_of(fake_github, OWN, number)["body"]
    refusal = [c["body"] for c in fake_github.comments(OWN, number)
               if c["user"]["login"] == BOT_LOGIN and "can be run by" in c["body"]]
    assert len(refusal) == 1 and "`@lead-lee`" in refusal[0]
    [note] = notes(fake_github, OWN, number)
    assert "team_leads: only the deployment's config.yaml sets this" in note
    assert "team_lead_team: only the deployment's config.yaml sets this" in note


async def test_the_file_is_read_from_the_default_branch_with_its_etag(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    fake_github.set_file(OWN, OVERRIDE_PATH, "notice_days: 30\n")
    config = fast_config()
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(session, AppCredentials(str(fake_github.app_id), app_key),
                        fake_github.api_url, config.github)
        client = await app.installation(INSTALLATION)
        configs = RepoConfigs(config, ttl_seconds=0)
        for _ in range(3):
            loaded = await configs.load(client, OWN)
            assert loaded.config.notice_days == 30 and loaded.source == OVERRIDE_PATH
        assert (await configs.load(client, PLAIN)).source == "deployment"
    reads = fake_github.calls("GET", f"/repos/{OWN}/contents/")
    assert [r.status for r in reads] == [200, 304, 304]
    assert all("ref" not in r.query for r in reads)  # the default branch
    assert not any(r.counted_against_limit for r in reads[1:])


@pytest.mark.parametrize(
    ("text", "named"),
    [("oncall: [unclosed\n", "not valid YAML"),
     ("form: /etc/passwd\n", "form: cannot be set per repository"),
     ("notice_days: soon\n", "notice_days"),
     pytest.param(billion_laughs(), "anchors and aliases are not accepted", id="alias-bomb"),
     pytest.param("notice_days: 3\n" + "#" * 70 * 1024 + "\n", "64 KiB", id="70-KiB")],
)
async def test_a_broken_override_is_named_once_and_the_deployment_config_used(
        fake_github: FakeGitHub, app_key: str, text: str, named: str) -> None:
    seed(fake_github)
    fake_github.set_file(OWN, OVERRIDE_PATH, text)
    first = exam(fake_github, OWN, "Midterm")
    async with started(fake_github, app_key) as running:
        assert set(fake_github.assignees(OWN, first)) <= DEPLOYMENT_ENGINEERS
        assert "@lead-lee" in status_of(fake_github, OWN, first)["body"]
        [note] = notes(fake_github, OWN, first)
        assert named in note and "deployment's config" in note
        assert "@" not in note  # no one is pinged by the note
        # An edit and a second request: the note is not repeated.
        fake_github.edit_issue(OWN, first, title="[Event]: Midterm (room changed)")
        await running.deliver("issues", issues_payload(fake_github, OWN, first, "edited"))
        second = exam(fake_github, OWN, "Final")
        await running.deliver("issues", issues_payload(fake_github, OWN, second, "opened"))
        await running.settle()
        assert len(notes(fake_github, OWN, first)) == 1
        assert notes(fake_github, OWN, second) == []
        assert status_of(fake_github, OWN, second)  # triaged all the same
    state = read_status(status_of(fake_github, OWN, first)["body"]).state
    assert NOTE_KEY in state.extra

    # A restart forgets what the process saw; the status comment remembers.
    async with started(fake_github, app_key):
        pass
    assert len(notes(fake_github, OWN, first)) == 1


async def test_a_fixed_override_takes_effect(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    fake_github.set_file(OWN, OVERRIDE_PATH, "oncall: {engineers: [[zed]]}\n")
    number = exam(fake_github, OWN)
    async with started(fake_github, app_key) as running:
        assert set(fake_github.assignees(OWN, number)) <= DEPLOYMENT_ENGINEERS
        assert "short-notice" not in fake_github.labels(OWN, number)
        fake_github.set_file(OWN, OVERRIDE_PATH, "notice_days: 200\n")
        running.bot.repo_configs.forget(OWN)
        await running.deliver("issues", issues_payload(fake_github, OWN, number, "edited"))
        await running.settle()
    assert "short-notice" in fake_github.labels(OWN, number)
    assert len(notes(fake_github, OWN, number)) == 1



async def test_a_missing_override_is_remembered_so_reconciliation_costs_nothing(
    fake_github: FakeGitHub,
) -> None:
    """A 404 has no ETag: without remembering it, every pass would spend a counted call."""
    import aiohttp

    from bot.github.client import TokenClient

    fake_github.add_installation(1, "org")
    fake_github.add_repo("org/plain", 1)
    fake_github.personal_tokens.add("tok")
    clock = [0.0]
    configs = RepoConfigs(default_config(), ttl_seconds=60, absent_ttl_seconds=3600,
                          timer=lambda: clock[0])
    async with aiohttp.ClientSession() as session:
        client = TokenClient(session, "tok", fake_github.api_url, default_config().github)
        await configs.load(client, "org/plain")
        clock[0] += 900  # a reconciliation interval later
        fake_github.reset_log()
        loaded = await configs.load(client, "org/plain")
        assert loaded.config == default_config() and fake_github.requests == []
        configs.forget("org/plain")  # an installation event
        fake_github.set_file("org/plain", ".github/event-bot.yml", "notice_days: 30\n")
        assert (await configs.load(client, "org/plain")).config.notice_days == 30
