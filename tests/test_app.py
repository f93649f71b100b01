"""The running bot's routing and its one decision per delivery (module tests for
``bot.service.app``, against the shared fake GitHub)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

import bot.core.plan
from bot.service.app import ROUTER, routable
from bot.service.server import Delivery

from .botapp import running_bot
from .fakegithub import FakeGitHub
from .payloads import issues_payload
from .test_commands_integration import CONFIG, REPO, opened, seed, status_of


class PlanCount:
    def __init__(self) -> None:
        self.calls = 0


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> Iterator[PlanCount]:
    """Counts the calls of ``bot.core.plan.plan``, wherever a module imported it."""
    count = PlanCount()
    original = bot.core.plan.plan

    def counted(*args: Any, **kwargs: Any) -> Any:
        count.calls += 1
        return original(*args, **kwargs)

    for name, module in list(sys.modules.items()):
        if name.startswith("bot.") and getattr(module, "plan", None) is original:
            monkeypatch.setattr(module, "plan", counted)
    yield count


async def test_an_opened_request_is_planned_once(fake_github: FakeGitHub, app_key: str,
                                                 plans: PlanCount) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as running:
        await opened(fake_github, running)
        assert plans.calls == 1
        assert status_of(fake_github, 1)  # and it was triaged


@pytest.mark.parametrize(("comment", "by", "label"), [
    ("/approve-tier", "lead-lee", "tier: enhanced"),
    ("/decline-tier too big for this term", "lead-lee", "tier: standard"),
    ("/cancel", "champion", "cancelled"),
])
async def test_a_command_is_planned_once(fake_github: FakeGitHub, app_key: str,
                                         plans: PlanCount, comment: str, by: str,
                                         label: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as running:
        scene = await opened(fake_github, running)
        plans.calls = 0
        await scene.say(comment, by)
        assert label in scene.labels  # the command did its work
        assert plans.calls == 1


async def test_reopening_a_cancelled_request_is_planned_once(
        fake_github: FakeGitHub, app_key: str, plans: PlanCount) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as running:
        scene = await opened(fake_github, running)
        await scene.say("/cancel", "champion")
        assert "cancelled" in scene.labels
        fake_github.edit_issue(REPO, scene.number, state="open", state_reason="reopened")
        plans.calls = 0
        payload = issues_payload(fake_github, REPO, scene.number, "reopened")
        payload["issue"]["state"] = "open"
        payload["sender"] = {"login": "champion", "type": "User", "id": 1}
        await running.deliver("issues", payload)
        await running.settle()
        assert "cancelled" not in scene.labels
        assert plans.calls == 1


@pytest.mark.parametrize(("event", "payload", "routed"), [
    ("issues", {"action": "opened"}, True),
    ("issues", {"action": "labeled"}, True),
    ("issues", {"action": "assigned"}, False),
    ("issues", {"action": ["opened"]}, False),  # not text: routed nowhere, and no crash
    ("issues", {"action": {"opened": 1}}, False),
    ("issues", {}, False),
    ("issue_comment", {"action": "created"}, True),
    ("issue_comment", {"action": "edited"}, True),
    ("issue_comment", {"action": "deleted"}, False),
    ("installation", {"action": "created"}, True),
    ("installation", {"action": "deleted"}, False),
    ("installation_repositories", {"action": "added"}, True),
    ("installation_repositories", {"action": "removed"}, False),
    ("pull_request", {"action": "opened"}, False),
])
def test_routing_by_event_and_action(event: str, payload: dict[str, Any],
                                     routed: bool) -> None:
    found = ROUTER.fetch(routable(Delivery("d-1", event, payload)))
    assert bool(found) == routed
    assert len(found) <= 1  # one concern answers each delivery
