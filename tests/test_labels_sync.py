"""The bot's labels: created or updated with colours and descriptions, no write when right."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

from bot.core.config import parse_config
from bot.core.plan import bot_owned_labels
from bot.github.client import AppCredentials, GitHubApp
from bot.github.labels_sync import label_specs, repos_in_payload, sync_labels

from .botapp import fast_config, running_bot
from .fakegithub import FakeGitHub
from .payloads import webhook_payload

INSTALLATION = 7301
REPO = "chem-dept/event-requests"
OTHER = "chem-dept/lab-hub"


def specs_by_name() -> dict[str, Any]:
    return {s.name: s for s in label_specs(fast_config())}


@pytest.mark.parametrize("raw", [{}, {"labels": {"event_request": "event", "type_prefix": "kind/",
                                                 "done": "done"}},
                                 {"tiers": {"gold": {"price_usd": 10}, "free": {}}}])
def test_every_label_the_bot_sets_has_a_spec(raw: dict[str, Any]) -> None:
    config = parse_config(raw)
    specs = label_specs(config)
    assert {s.name.lower() for s in specs} == set(bot_owned_labels(config))
    for spec in specs:
        assert re.fullmatch(r"[0-9a-f]{6}", spec.color), spec
        assert 0 < len(spec.description) <= 100, spec


def test_descriptions_say_what_the_label_means() -> None:
    specs = specs_by_name()
    assert specs["type: exam"].description == "Event type: exam (2 engineers on call)"
    assert specs["tier: enhanced"].description == "Support tier: enhanced ($500)"
    assert specs["tier: standard"].description == "Support tier: standard (free)"
    assert "21 days" in specs["short-notice"].description


async def sync_once(fake: FakeGitHub, app_key: str, repo: str = REPO) -> tuple[int, int]:
    config = fast_config()
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(session, AppCredentials(str(fake.app_id), app_key), fake.api_url,
                        config.github)
        client = await app.installation(INSTALLATION)
        result = await sync_labels(client, repo, label_specs(config))
    assert not result.failed
    return len(result.created), len(result.updated)


def seed(fake: FakeGitHub) -> None:
    fake.add_installation(INSTALLATION, "chem-dept")
    fake.add_repo(REPO, INSTALLATION)
    fake.add_repo(OTHER, INSTALLATION)


def labels_of(fake: FakeGitHub, repo: str) -> dict[str, dict[str, Any]]:
    return {label["name"]: label for label in fake.repo_labels(repo)}


async def test_labels_are_created_then_left_alone(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    specs = specs_by_name()
    assert await sync_once(fake_github, app_key) == (len(specs), 0)
    have = labels_of(fake_github, REPO)
    for name, spec in specs.items():
        assert (have[name]["color"], have[name]["description"]) == (spec.color,
                                                                    spec.description)
    fake_github.reset_log()
    assert await sync_once(fake_github, app_key) == (0, 0)
    assert [r.method for r in fake_github.requests if r.path.startswith("/repos/")] == ["GET"]


async def test_wrong_labels_are_updated_and_others_untouched(fake_github: FakeGitHub,
                                                             app_key: str) -> None:
    seed(fake_github)
    specs = specs_by_name()
    for name, spec in specs.items():  # all right...
        fake_github.add_label(REPO, name, spec.color, spec.description)
    # ...but these: a colour, a missing description, a name in other letters (kept as it is).
    fake_github.repo(REPO).labels["type: exam"].color = "ededed"
    fake_github.repo(REPO).labels["cancelled"].description = None
    fake_github.repo(REPO).labels["needs-info"].name = "Needs-Info"
    fake_github.repo(REPO).labels["needs-info"].color = "FFFFFF"
    fake_github.add_label(REPO, "bug", "d73a4a", "Something isn't working")

    assert await sync_once(fake_github, app_key) == (0, 3)
    have = labels_of(fake_github, REPO)
    assert have["type: exam"]["color"] == specs["type: exam"].color
    assert have["cancelled"]["description"] == specs["cancelled"].description
    assert have["Needs-Info"]["color"] == specs["needs-info"].color
    assert (have["bug"]["color"], have["bug"]["description"]) == ("d73a4a",
                                                                 "Something isn't working")
    patched = [r.path for r in fake_github.calls("PATCH")]
    assert sorted(patched) == sorted(f"/repos/{REPO}/labels/{n}"
                                     for n in ("type: exam", "cancelled", "Needs-Info"))


async def test_labels_are_synced_at_start_up_in_every_repository(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key) as running:
        results = await running.app["labels_task"]
    assert {r.repo for r in results} == {REPO, OTHER}
    for repo in (REPO, OTHER):
        assert set(labels_of(fake_github, repo)) == set(specs_by_name())


async def test_labels_are_synced_when_the_app_is_installed(fake_github: FakeGitHub,
                                                           app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key) as running:
        await running.app["labels_task"]
        await running.app["reconcile_task"]
        new_repo = "chem-dept/new-course"
        fake_github.add_repo(new_repo, INSTALLATION)
        payload = webhook_payload(
            "installation_repositories", "added",
            installation=fake_github.installation_json(INSTALLATION),
            repositories_added=[{k: fake_github.repo_json(new_repo)[k]
                                 for k in ("id", "node_id", "name", "full_name", "private")}],
            repositories_removed=[], sender=fake_github.user_json("chem-admin"))
        assert repos_in_payload(payload) == [new_repo]
        fake_github.reset_log()
        await running.deliver("installation_repositories", payload)
        await running.settle()
    assert set(labels_of(fake_github, new_repo)) == set(specs_by_name())
    # Only the repositories the delivery named were looked at.
    touched = {r.path.split("/labels")[0] for r in fake_github.requests if "/labels" in r.path}
    assert touched == {f"/repos/{new_repo}"}


async def test_a_dry_run_writes_no_label(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, dry_run=True) as running:
        assert "labels_task" not in running.app
    assert not fake_github.calls("POST") and not fake_github.calls("PATCH")


@pytest.mark.parametrize(
    ("payload", "repos"),
    [({"repositories": [{"full_name": "a/b"}, {"full_name": "bad"}]}, ["a/b"]),
     ({"repositories_added": [{"full_name": "a/c"}], "repositories": None}, ["a/c"]),
     ({"installation": {"id": 1}}, None)],
)
def test_repositories_named_by_a_delivery(payload: dict[str, Any],
                                          repos: list[str] | None) -> None:
    assert repos_in_payload(payload) == repos
