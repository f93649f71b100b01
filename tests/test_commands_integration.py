"""Slash commands end to end: real issue_comment deliveries into the real app, against the
loopback fake GitHub (which checks every request against GitHub's OpenAPI description)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.config import Config, PrewarmConfig
from bot.core.model import RepoRef
from bot.core.status import MARKER, read_status

from .botapp import Clock, RunningBot, fast_config, running_bot
from .fakegithub import FakeGitHub
from .payloads import issue_comment_payload, issues_payload
from .requests_seed import exam_body, option

REPO = "jupyter-community/event-requests"
OPS = "jupyter-community/infrastructure"
INSTALLATION = 7001
OPENED = "2026-11-23T09:00:00Z"
BOT_LOGIN = "event-support-bot[bot]"
STATE = "<!-- event-support-bot:state"
REPLY_MARKER = re.compile(r"\n\n<!-- event-support-bot:reply [0-9a-f]{16} -->$")
CONFIG = replace(fast_config(), team_lead_team="jupyter-community/leads")
REF = RepoRef("jupyter-community", "event-requests", INSTALLATION)


def body(**answers: Any) -> str:
    """A midterm on the enhanced tier (which needs a lead's approval)."""
    base: dict[str, Any] = {
        "hub_url": "https://stat101.midwest.hubs.example.org",
        "event_name": "STAT 101 midterm",
        "end": "2027-03-09 16:15",
        "memory_per_user": None,
        "tier": option("tier", "enhanced"),
    }
    base.update(answers)
    return exam_body(**base)


def seed(fake: FakeGitHub) -> None:
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)
    fake.add_repo(OPS, INSTALLATION)
    fake.set_permission(REPO, "maint", "write")
    fake.set_permission(REPO, "reader", "read")
    fake.add_team_member("jupyter-community", "leads", "team-lead-tia")


def status_of(fake: FakeGitHub, number: int) -> dict[str, Any]:
    [comment] = [c for c in fake.comments(REPO, number)
                 if MARKER in c["body"] and c["user"]["login"] == BOT_LOGIN]
    return comment


def replies(fake: FakeGitHub, number: int) -> list[str]:
    """The bot's comments other than the status comment, as people read them (without
    the hidden reply marker)."""
    return [REPLY_MARKER.sub("", c["body"]) for c in fake.comments(REPO, number)
            if c["user"]["login"] == BOT_LOGIN and MARKER not in c["body"]]


def thumbs_up(fake: FakeGitHub, comment_id: int) -> int:
    count: int = fake.comment(REPO, comment_id)["reactions"]["+1"]
    return count


def writes(fake: FakeGitHub) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests if r.is_write]


class Scene:
    """One request, triaged, and people commenting on it."""

    def __init__(self, fake: FakeGitHub, bot: RunningBot, number: int) -> None:
        self.fake, self.bot, self.number = fake, bot, number

    async def say(self, text: str, user: str, user_type: str = "User",
                  action: str = "created") -> int:
        comment_id = self.fake.add_comment(REPO, self.number, text, user, user_type)
        payload = issue_comment_payload(self.fake, REPO, self.number, comment_id, action)
        resp = await self.bot.deliver("issue_comment", payload)
        assert resp.status == 202
        await self.bot.settle()
        return comment_id

    @property
    def labels(self) -> set[str]:
        return set(self.fake.labels(REPO, self.number))

    @property
    def assignees(self) -> list[str]:
        return self.fake.assignees(REPO, self.number)

    @property
    def status(self) -> dict[str, Any]:
        return status_of(self.fake, self.number)

    @property
    def replies(self) -> list[str]:
        return replies(self.fake, self.number)


async def opened(fake: FakeGitHub, bot: RunningBot, **answers: Any) -> Scene:
    number = fake.add_issue(REPO, title="[Event]: STAT 101 midterm", labels=["event-request"],
                            created_at=OPENED, body=body(**answers), user="champion")
    await bot.deliver("issues", issues_payload(fake, REPO, number, "opened"))
    await bot.settle()
    await bot.bot.bot_login()
    fake.reset_log()
    return Scene(fake, bot, number)


def refused(scene: Scene, comment_id: int, before: dict[str, Any], labels: set[str],
            assignees: list[str]) -> str:
    """A refused or unreadable command: one reply, no reaction, nothing else changed."""
    assert thumbs_up(scene.fake, comment_id) == 0
    assert scene.status["body"] == before["body"]
    assert scene.labels == labels and scene.assignees == assignees
    [reply] = scene.replies
    assert writes(scene.fake) == [f"POST /repos/{REPO}/issues/{scene.number}/comments"]
    return reply


# --- /approve-tier --------------------------------------------------------------------------

@pytest.mark.parametrize("lead", ["lead-lee", "team-lead-tia"])
async def test_a_lead_approves(fake_github: FakeGitHub, app_key: str, lead: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        assert "tier: pending" in scene.labels
        comment_id = await scene.say("Looks good.\n/approve-tier\n", lead)
        assert "tier: enhanced" in scene.labels and "tier: pending" not in scene.labels
        assert thumbs_up(fake_github, comment_id) == 1
        state = read_status(scene.status["body"]).state
        assert state.approval is not None and state.approval.by == lead
        assert f"approved by @{lead}" in scene.status["body"]
        [reply] = scene.replies
        assert reply.startswith(f"@champion @prof-okafor: @{lead} approved the `enhanced` tier")


async def test_approving_twice_changes_nothing_and_posts_nothing(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        await scene.say("/approve-tier", "lead-lee")
        before, comments = scene.status, fake_github.comments(REPO, scene.number)
        fake_github.reset_log()
        again = await scene.say("/approve-tier enhanced", "lead-lee")
        assert scene.status == before
        assert len(fake_github.comments(REPO, scene.number)) == len(comments) + 1  # theirs
        # The one write is the acknowledgement on their comment.
        assert writes(fake_github) == [f"POST /repos/{REPO}/issues/comments/{again}/reactions"]


# --- /decline-tier --------------------------------------------------------------------------

async def test_decline(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot, tier=option("tier", "premium"))
        comment_id = await scene.say("/decline-tier no budget left this term", "lead-lee")
        assert "tier: standard" in scene.labels and "tier: pending" not in scene.labels
        assert thumbs_up(fake_github, comment_id) == 1
        assert "declined by @lead-lee: no budget left this term" in scene.status["body"]
        [reply] = scene.replies
        assert "goes on at the `standard` tier. Reason: no budget left this term" in reply


async def test_declining_a_tier_that_needs_no_approval_changes_nothing(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        free = await opened(fake_github, bot, tier=option("tier", "standard"))
        before, labels = free.status, free.labels
        await free.say("/decline-tier", "lead-lee")
        [reply] = free.replies
        assert "nothing to decline" in reply
        assert free.status == before and free.labels == labels


# --- /assign and /unassign ------------------------------------------------------------------

async def test_assign_by_a_writer(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        engineers = scene.assignees
        comment_id = await scene.say("/assign @carol dan", "maint")
        assert scene.assignees == [*engineers, "carol", "dan"]
        assert thumbs_up(fake_github, comment_id) == 1
        assert scene.replies == []
        assert "@carol" in scene.status["body"] and "@dan" in scene.status["body"]
        # Permission is asked once, and then only when no known role allows the command.
        assert len(fake_github.calls("GET", "/collaborators/maint/permission")) == 1


async def test_an_assigned_engineer_unassigns_themselves(fake_github: FakeGitHub,
                                                         app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        first, second = scene.assignees
        comment_id = await scene.say("Swapping with carol.\n/unassign\n/assign @carol", first)
        assert scene.assignees == [second, "carol"]
        assert thumbs_up(fake_github, comment_id) == 1
        assert len(fake_github.calls("PATCH", f"/issues/{scene.number}")) == 1
        # A later edit of the request does not put the rotation's engineer back.
        fake_github.edit_issue(REPO, scene.number, body=body(attendees="200"))
        await bot.deliver("issues", issues_payload(fake_github, REPO, scene.number, "edited"))
        await bot.settle()
        assert scene.assignees == [second, "carol"]


# --- /reschedule ----------------------------------------------------------------------------

async def test_reschedule_by_the_champion_keeps_ticks(fake_github: FakeGitHub,
                                                      app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        status = scene.status
        ticked = status["body"].replace("- [ ] Check cloud quotas", "- [x] Check cloud quotas")
        assert ticked != status["body"]
        fake_github.edit_comment(REPO, status["id"], ticked)
        comment_id = await scene.say("/reschedule 2027-03-23 13:00 to 16:15", "champion")
        after = scene.status
        assert after["id"] == status["id"]
        assert "2027-03-23 18:00 UTC" in after["body"]
        assert "- [x] Check cloud quotas" in after["body"]
        assert thumbs_up(fake_github, comment_id) == 1
        state = read_status(after["body"]).state
        assert state.reschedule is not None and state.reschedule.by == "champion"
        assert state.rotation_start == "2027-03-23T18:00:00Z"
        assert scene.assignees == list(state.rotation)
        # An edited status comment notifies nobody: the move is said once, to the people
        # who plan around it (the representative and the engineers now on call).
        [moved] = scene.replies
        assert moved.startswith("📅 **The event moved** to 2027-03-23 18:00 UTC")
        assert "@prof-okafor" in moved and all(f"@{e}" in moved for e in state.rotation)


# --- /cancel --------------------------------------------------------------------------------

async def test_cancel_by_the_community_rep(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        comment_id = await scene.say("The exam moved online.\n\n/cancel", "prof-okafor")
        issue = fake_github.issue(REPO, scene.number)
        assert (issue["state"], issue["state_reason"]) == ("closed", "not_planned")
        assert "cancelled" in scene.labels
        assert "Cancelled** by @prof-okafor" in scene.status["body"]
        assert thumbs_up(fake_github, comment_id) == 1
        # Closed now: further commands are not answered.
        fake_github.reset_log()
        await scene.say("/help", "prof-okafor")
        assert writes(fake_github) == []


@pytest.mark.parametrize("who, comes_back", [("champion", True),
                                             ("event-support-bot[bot]", False)])
async def test_a_cancelled_request_reopened_by_a_person_is_active_again(
        fake_github: FakeGitHub, app_key: str, who: str, comes_back: bool) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        engineers = scene.assignees
        await scene.say("/cancel", "prof-okafor")
        assert "cancelled" in scene.labels
        fake_github.edit_issue(REPO, scene.number, state="open")
        payload = issues_payload(fake_github, REPO, scene.number, "reopened", sender=who)
        for delivery in ("reopened-1", "reopened-2"):  # and once more, redelivered
            await bot.deliver("issues", payload, delivery)
            await bot.settle()
        state = read_status(scene.status["body"]).state
        if not comes_back:
            assert state.cancelled_by == "prof-okafor" and "cancelled" in scene.labels
            assert scene.replies == []
            return
        assert state.cancelled_by is None and "Cancelled" not in scene.status["body"]
        assert "cancelled" not in scene.labels and "tier: pending" in scene.labels
        assert scene.assignees == engineers
        [reply] = scene.replies
        assert reply.startswith("♻️ @champion reopened this request, so it is active again")
        entry = bot.bot.index.get(REPO, scene.number)
        assert entry is not None and not entry.cancelled


# --- /checklist -----------------------------------------------------------------------------

async def test_checklist_repairs_a_deleted_status_comment(fake_github: FakeGitHub,
                                                          app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        old = scene.status
        fake_github.delete_comment(REPO, old["id"])
        comment_id = await scene.say("/checklist", "maint")
        new = scene.status
        # The text is the same; the state it held (labels the bot added) went with it.
        assert new["id"] != old["id"]
        assert new["body"].split(STATE)[0] == old["body"].split(STATE)[0]
        assert thumbs_up(fake_github, comment_id) == 1


# --- /prewarm -------------------------------------------------------------------------------

HUB = "stat101.midwest.hubs.example.org"


def prewarm_config() -> Config:
    # The operator lists the hub the requests name: only listed hubs are pre-warmed.
    return replace(CONFIG, prewarm=PrewarmConfig(repository=OPS, max_nodes=20,
                                                 clusters={HUB: "midwest"}))


async def test_prewarm_dispatches(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=prewarm_config()) as bot:
        scene = await opened(fake_github, bot)
        comment_id = await scene.say("/prewarm 6", "maint")
        [dispatch] = fake_github.dispatches
        assert dispatch.repo.lower() == OPS
        assert dict(dispatch.inputs) == {"cluster": "midwest", "hub": "stat101",
                                         "replicas": "6"}
        assert thumbs_up(fake_github, comment_id) == 1
        state = read_status(scene.status["body"]).state
        assert [(d.kind, d.ok) for d in state.dispatches] == [("prewarm", True)]


# --- refusals: one table, every command --------------------------------------------------------

@dataclass(frozen=True)
class Refusal:
    """A command the bot answers with one reply and changes nothing for. ``{engineer}``
    in the command or as the user stands for the first engineer the rotation assigned."""

    command: str
    user: str
    says: tuple[str, ...] = ()  # each in the reply
    reply: str | None = None  # the whole reply, where its wording is the point
    prewarm: bool = False  # run under a config that lists the request's hub


REFUSALS = {
    "approve-by-a-writer": Refusal(
        "/approve-tier premium", "maint",
        reply="@maint, `/approve-tier premium` can be run by the team leads (`@lead-lee` or "
              "members of `jupyter-community/leads`); nothing was changed."),
    "approve-an-unknown-tier": Refusal(
        "/approve-tier platinum", "lead-lee",
        says=("`platinum` is not a support tier", "`standard`, `enhanced`, `premium`")),
    "decline-by-the-rep": Refusal("/decline-tier", "prof-okafor",
                                  says=("can be run by the team leads",)),
    "assign-by-a-reader": Refusal(
        "/assign @carol", "reader",
        says=("@reader, `/assign @carol` can be run by the team leads",
              "the engineers assigned to this issue (`@")),
    "assign-not-a-login": Refusal(
        "/assign @carol @not_a_login!", "lead-lee",
        says=("is not a GitHub login. Usage: `/assign [@login ...]`",)),
    "unassign-by-the-champion": Refusal("/unassign @{engineer}", "champion",
                                        says=("can be run by the team leads",)),
    "unassign-not-a-login": Refusal("/unassign @@", "{engineer}",
                                    says=("Usage: `/unassign [@login ...]`",)),
    "reschedule-by-a-reader": Refusal("/reschedule 2027-03-23 13:00", "reader",
                                      says=("the issue's author (`@champion`)",)),
    "reschedule-unreadable": Refusal(
        "/reschedule sometime in spring", "champion",
        says=("`sometime in spring`", "Usage: `/reschedule START [END]`")),
    "cancel-by-a-stranger": Refusal("/cancel", "stranger", says=("`/cancel` can be run by",)),
    "cancel-with-arguments": Refusal("/cancel the pre-warm only", "champion",
                                     says=("takes nothing after the command",)),
    "checklist-by-the-champion": Refusal(
        "/checklist", "champion",
        says=("collaborators with write access to this repository or the team leads",)),
    "confirm-by-the-author": Refusal("/confirm", "champion", says=("`/confirm` can be run by",),
                                     prewarm=True),
    "prewarm-not-configured": Refusal("/prewarm", "{engineer}",
                                      says=("pre-warming is not configured",)),
    "prewarm-by-the-champion": Refusal("/prewarm", "champion",
                                       says=("`/prewarm` can be run by",), prewarm=True),
    "prewarm-too-many-nodes": Refusal(
        "/prewarm 999", "lead-lee", says=("NODES must be a whole number from 0 to 20",),
        prewarm=True),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
async def test_a_refused_command_is_answered_once_and_changes_nothing(
        fake_github: FakeGitHub, app_key: str, case: Refusal) -> None:
    seed(fake_github)
    config = prewarm_config() if case.prewarm else CONFIG
    async with running_bot(fake_github, app_key, config=config) as bot:
        scene = await opened(fake_github, bot)
        before, labels, assignees = scene.status, scene.labels, scene.assignees
        engineer = assignees[0]
        user = case.user.format(engineer=engineer)
        comment_id = await scene.say(case.command.format(engineer=engineer), user)
        reply = refused(scene, comment_id, before, labels, assignees)
        assert reply.startswith(f"@{user}"), reply  # said to the person who asked
        if case.reply is not None:
            assert reply == case.reply
        for said in case.says:
            assert said in reply, reply
        assert fake_github.issue(REPO, scene.number)["state"] == "open"
        assert fake_github.dispatches == []


# --- /help ----------------------------------------------------------------------------------

async def test_help_lists_only_what_this_person_may_use(fake_github: FakeGitHub,
                                                        app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        comment_id = await scene.say("/help", "champion")
        [reply] = scene.replies
        assert "`/reschedule START [END]`" in reply and "`/cancel`" in reply
        assert "/approve-tier" not in reply and "/checklist" not in reply
        assert CONFIG.policy_url in reply
        assert thumbs_up(fake_github, comment_id) == 1


# --- what is never a command ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "user", "user_type", "action"),
    [
        ("/cancel", "other-bot[bot]", "Bot", "created"),
        ("/cancel", "dependabot", "Bot", "created"),
        ("/cancel", BOT_LOGIN, "Bot", "created"),
        ("> /cancel\n\nquoting the template", "champion", "User", "created"),
        ("```\n/cancel\n```", "champion", "User", "created"),
        ("<!--\n/cancel\n-->", "champion", "User", "created"),
        ("/cancel", "champion", "User", "edited"),
        ("/cancel", "champion", "User", "deleted"),
        ("see /home/champion/notes", "champion", "User", "created"),
    ],
)
async def test_ignored(fake_github: FakeGitHub, app_key: str, text: str, user: str,
                       user_type: str, action: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        await scene.say(text, user, user_type, action)
        assert fake_github.requests == []  # not even a read
        assert fake_github.issue(REPO, scene.number)["state"] == "open"


async def test_a_comment_on_an_issue_that_is_not_a_request_is_ignored(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        number = fake_github.add_issue(REPO, title="Bug: the hub is slow", body="It is slow.",
                                       created_at=OPENED)
        await bot.bot.bot_login()
        scene = Scene(fake_github, bot, number)
        fake_github.reset_log()
        await scene.say("/help\n/cancel", "lead-lee")
        assert writes(fake_github) == []
        assert fake_github.issue(REPO, number)["state"] == "open"


async def test_several_commands_one_reply_one_patch(fake_github: FakeGitHub,
                                                    app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        comment_id = await scene.say("/approve-tier\n/assign @carol\n/checklist\n/help",
                                     "lead-lee")
        assert "tier: enhanced" in scene.labels and "carol" in scene.assignees
        [reply] = scene.replies
        assert "approved the `enhanced` tier" in reply and "| command |" in reply
        assert thumbs_up(fake_github, comment_id) == 1
        assert len(fake_github.calls("PATCH", f"/issues/{scene.number}")) == 1
        metrics = (await (await bot.session.get(bot.server.make_url("/metrics"))).text())
        assert 'bot_commands_total{command="approve-tier",outcome="ok"} 1.0' in metrics


async def test_dry_run_writes_nothing_and_logs_what_it_would(fake_github: FakeGitHub,
                                                            app_key: str) -> None:
    seed(fake_github)
    number = fake_github.add_issue(REPO, title="[Event]: STAT 101 midterm",
                                   labels=["event-request"], created_at=OPENED, body=body(),
                                   user="champion")
    async with running_bot(fake_github, app_key, config=CONFIG, dry_run=True) as bot:
        scene = Scene(fake_github, bot, number)
        fake_github.reset_log()
        comment_id = await scene.say("/approve-tier", "lead-lee")
        assert writes(fake_github) == []
        would = [(w.method, w.path) for w in bot.bot.dry_run_client.writes]
        assert ("POST", f"/repos/{REPO}/issues/comments/{comment_id}/reactions") in would
        assert ("PATCH", f"/repos/{REPO}/issues/{number}") in would
        [patch] = [w.data for w in bot.bot.dry_run_client.writes if w.method == "PATCH"]
        assert "tier: enhanced" in patch["labels"]


async def test_an_issue_closed_since_the_comment_stays_silent(fake_github: FakeGitHub,
                                                              app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        comment_id = fake_github.add_comment(REPO, scene.number, "/cancel", "champion")
        payload = issue_comment_payload(fake_github, REPO, scene.number, comment_id)
        fake_github.edit_issue(REPO, scene.number, state="closed")
        fake_github.reset_log()
        await bot.deliver("issue_comment", payload)
        await bot.settle()
        assert not any(r.path.endswith("/comments") and r.method == "POST"
                       for r in fake_github.requests)
        assert thumbs_up(fake_github, comment_id) == 0
        assert "cancelled" not in scene.labels


async def test_a_permission_github_will_not_tell_is_a_role_not_held() -> None:
    from bot.core.commands import Role
    from bot.core.model import RepoRef
    from bot.github.client import DryRunClient, GitHubError
    from bot.service.commanding import _looked_up

    class Forbidden(DryRunClient):
        async def get(self, url: str, params: Any = None) -> Any:
            raise GitHubError(403, "Resource not accessible by integration")

    roles = await _looked_up(Forbidden(), RepoRef("o", "r", 1), "someone",
                             frozenset({Role.WRITER, Role.TEAM_LEAD}), CONFIG)
    assert roles == set()

    class Down(DryRunClient):
        async def get(self, url: str, params: Any = None) -> Any:
            raise GitHubError(502, "Server Error")

    with pytest.raises(GitHubError):  # a failure is not a refusal: the delivery fails
        await _looked_up(Down(), RepoRef("o", "r", 1), "someone",
                         frozenset({Role.WRITER}), CONFIG)


# --- a comment run twice --------------------------------------------------------------------

@pytest.mark.parametrize("command, user", [
    ("/prewarm 6", "maint"),
    ("/help", "champion"),
    ("/decline-tier over budget", "lead-lee"),
    ("/approve-tier premium", "maint"),  # refused: the refusal is said once too
])
async def test_a_comment_run_twice_acts_and_answers_once(
        fake_github: FakeGitHub, app_key: str, command: str, user: str) -> None:
    """The same comment delivered under two delivery ids (handed back at a shutdown and
    redelivered, or taken by a second process) dispatches once and is answered once."""
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=prewarm_config()) as bot:
        scene = await opened(fake_github, bot)
        comment_id = await scene.say(command, user)
        first = (scene.replies, scene.status["body"], len(fake_github.dispatches))
        assert len(first[0]) == 1
        payload = issue_comment_payload(fake_github, REPO, scene.number, comment_id)
        assert (await bot.deliver("issue_comment", payload, "another-delivery")).status == 202
        await bot.settle()
        assert scene.replies == first[0]
        assert scene.status["body"] == first[1]
        assert len(fake_github.dispatches) == first[2] == (1 if "prewarm" in command else 0)


async def test_a_prewarm_whose_reply_was_lost_is_answered_once_on_the_rerun(
        fake_github: FakeGitHub, app_key: str) -> None:
    """Dispatched and recorded, then the reply failed: the rerun posts the owed reply and
    does not dispatch again."""
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=prewarm_config()) as bot:
        scene = await opened(fake_github, bot)
        comment_id = fake_github.add_comment(REPO, scene.number, "/prewarm 6", "maint")
        payload = issue_comment_payload(fake_github, REPO, scene.number, comment_id)
        fake_github.faults.fault_paths = ("POST /repos/{owner}/{repo}/issues/{issue_number}/"
                                          "comments",)
        fake_github.faults.error_rate = 1.0
        await bot.deliver("issue_comment", payload, "first")
        await bot.settle()
        assert len(fake_github.dispatches) == 1 and scene.replies == []
        fake_github.faults.error_rate = 0.0
        await bot.deliver("issue_comment", payload, "second")
        await bot.settle()
    assert len(fake_github.dispatches) == 1
    [reply] = scene.replies
    assert reply.startswith("Pre-warming dispatched for @maint")


# --- each comment runs once, as it was seen ---------------------------------------------------

async def _reopened_by_champion(scene: Scene) -> None:
    scene.fake.edit_issue(REPO, scene.number, state="open")
    payload = issues_payload(scene.fake, REPO, scene.number, "reopened")
    payload["sender"]["login"] = "champion"
    await scene.bot.deliver("issues", payload)
    await scene.bot.settle()


@pytest.mark.parametrize("first, user, then", [
    ("/approve-tier", "lead-lee", "/decline-tier over budget"),
    ("/assign @maint", "maint", "/unassign @maint"),
    ("/cancel", "champion", None),  # then reopened by the champion
])
async def test_a_comment_redelivered_later_under_a_new_id_does_not_run_again(
        fake_github: FakeGitHub, app_key: str, first: str, user: str,
        then: str | None) -> None:
    """A redelivery (a new delivery id) after the request moved on does not undo what
    came after: the comment's commands ran once."""
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        comment_id = await scene.say(first, user)
        if then is not None:
            await scene.say(then, user)
        else:
            await _reopened_by_champion(scene)
        after = (scene.status["body"], scene.labels, scene.assignees,
                 fake_github.issue(REPO, scene.number)["state"], scene.replies)
        payload = issue_comment_payload(fake_github, REPO, scene.number, comment_id)
        assert (await bot.deliver("issue_comment", payload, "redelivered")).status == 202
        await bot.settle()
        assert (scene.status["body"], scene.labels, scene.assignees,
                fake_github.issue(REPO, scene.number)["state"], scene.replies) == after
        assert thumbs_up(fake_github, comment_id) == 1


async def test_a_comment_older_than_the_record_is_not_run(fake_github: FakeGitHub,
                                                          app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot)
        comment_id = fake_github.add_comment(REPO, scene.number, "/approve-tier", "lead-lee",
                                             created_at="2026-10-01T09:00:00Z")
        payload = issue_comment_payload(fake_github, REPO, scene.number, comment_id)
        await bot.deliver("issue_comment", payload)
        await bot.settle()
        assert "tier: pending" in scene.labels and scene.replies == []
        assert read_status(scene.status["body"]).state.approval is None


async def test_an_unnamed_approval_approves_the_tier_asked_when_it_was_written(
        fake_github: FakeGitHub, app_key: str) -> None:
    """The lead approves while the form asks for standard; before the bot reads the
    comment, the champion edits the form to ask for enhanced: standard is approved and
    enhanced awaits approval."""
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=CONFIG) as bot:
        scene = await opened(fake_github, bot, tier=option("tier", "standard"))
        assert "tier: standard" in scene.labels
        written = fake_github.clock() - 60
        comment_id = fake_github.add_comment(REPO, scene.number, "/approve-tier", "lead-lee",
                                             created_at=written)
        fake_github.edit_issue(REPO, scene.number, body=body(tier=option("tier", "enhanced")))
        payload = issue_comment_payload(fake_github, REPO, scene.number, comment_id)
        await bot.deliver("issue_comment", payload)
        await bot.settle()
        state = read_status(scene.status["body"]).state
        assert state.approval is not None and state.approval.tier == "standard"
        assert "tier: pending" in scene.labels
        assert "tier: enhanced" not in scene.labels and "tier: standard" not in scene.labels
        pending, reply = scene.replies  # the leads are asked for the new tier, too
        assert "now asks for the `enhanced` tier, which needs a team lead's approval" in pending
        assert "approved the `standard` tier" in reply
        assert "the form now asks for `enhanced`, which awaits a team lead's approval" in reply
        # The edit's own delivery changes nothing: enhanced still awaits a lead.
        await bot.deliver("issues", issues_payload(fake_github, REPO, scene.number, "edited"))
        await bot.settle()
        assert "tier: pending" in scene.labels
        # A lead who sees the form as it is now (a later second: a tie counts as before
        # the edit, so a scripted edit in the same second as the comment gains nothing)
        # approves enhanced.
        later = fake_github.add_comment(REPO, scene.number, "/approve-tier", "lead-lee",
                                        created_at=fake_github.clock() + 2)
        await bot.deliver("issue_comment",
                          issue_comment_payload(fake_github, REPO, scene.number, later))
        await bot.settle()
        assert "tier: enhanced" in scene.labels and "tier: pending" not in scene.labels


# --- confirmed requests: a stranger's request never reaches the cluster by itself ------------

START_UTC = datetime(2027, 3, 9, 19, 0, tzinfo=UTC)  # 13:00 Chicago
NEXT_HUB = "stat102.midwest.hubs.example.org"


def listed_config() -> Config:
    cfg = prewarm_config()
    return replace(cfg, prewarm=replace(cfg.prewarm, clusters={HUB: "midwest",
                                                               NEXT_HUB: "midwest"}))


async def edit_body(scene: Scene, new_body: str, sender: str) -> None:
    old = scene.fake.issue(REPO, scene.number)["body"]
    scene.fake.edit_issue(REPO, scene.number, body=new_body)
    await scene.bot.deliver("issues", issues_payload(
        scene.fake, REPO, scene.number, "edited", sender=sender,
        changes={"body": {"from": old}}))
    await scene.bot.settle()


def hubs_dispatched(fake: FakeGitHub) -> list[tuple[str, str]]:
    return [(d.inputs["hub"], d.inputs["replicas"]) for d in fake.dispatches]


async def test_a_strangers_request_within_the_lead_time_waits_for_a_writers_confirm(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    clock = Clock(START_UTC - timedelta(hours=1))
    fake_github.clock = lambda: clock.now.timestamp()  # comments written at the bot's now
    async with running_bot(fake_github, app_key, config=listed_config(), clock=clock) as bot:
        scene = await opened(fake_github, bot)  # by champion, who has no write access
        assert fake_github.dispatches == []
        assert "awaiting confirmation" in scene.status["body"]
        assert "/confirm" in scene.status["body"]
        labels = scene.labels
        assert "event-request" in labels and scene.assignees  # triaged as any request
        comment_id = await scene.say("/confirm", "maint")
        assert [h for h, _ in hubs_dispatched(fake_github)] == ["stat101"]
        assert thumbs_up(fake_github, comment_id) == 1
        state = read_status(scene.status["body"]).state
        assert state.confirmation is not None and state.confirmation.by == "maint"
        assert "✅ by `@maint`" in scene.status["body"]
        refused_id = await scene.say("/confirm", "champion")  # the author is no writer
        assert thumbs_up(fake_github, refused_id) == 0
        assert len(fake_github.dispatches) == 1


async def test_a_strangers_edit_of_the_hub_after_confirmation_stops_dispatches(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    clock = Clock(START_UTC - timedelta(days=3))
    fake_github.clock = lambda: clock.now.timestamp()  # comments written at the bot's now
    async with running_bot(fake_github, app_key, config=listed_config(), clock=clock) as bot:
        scene = await opened(fake_github, bot)
        await scene.say("/confirm", "maint")
        await edit_body(scene, body(hub_url=f"https://{NEXT_HUB}"), "champion")
        clock.now = START_UTC - timedelta(hours=1)  # within the lead time
        await bot.bot.sync(REF, scene.number)
        assert fake_github.dispatches == []
        assert "awaiting confirmation again" in scene.status["body"]
        # A writer confirms the new hub: it is pre-warmed at once, inside the lead time.
        await scene.say("/confirm", "maint")
        assert [h for h, _ in hubs_dispatched(fake_github)] == ["stat102"]


async def test_a_writers_edit_of_a_confirmed_request_keeps_it_confirmed(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    clock = Clock(START_UTC - timedelta(days=3))
    fake_github.clock = lambda: clock.now.timestamp()  # comments written at the bot's now
    async with running_bot(fake_github, app_key, config=listed_config(), clock=clock) as bot:
        scene = await opened(fake_github, bot)
        await scene.say("/confirm", "maint")
        await edit_body(scene, body(hub_url=f"https://{NEXT_HUB}"), "team-lead-tia")
        state = read_status(scene.status["body"]).state
        assert state.confirmation is not None and state.confirmation.by == "team-lead-tia"
        clock.now = START_UTC - timedelta(hours=1)
        await bot.bot.sync(REF, scene.number)
        assert [h for h, _ in hubs_dispatched(fake_github)] == ["stat102"]


async def test_an_unlisted_hub_is_never_dispatched(fake_github: FakeGitHub,
                                                   app_key: str) -> None:
    seed(fake_github)
    fake_github.set_permission(REPO, "champion", "write")  # confirmed as filed
    clock = Clock(START_UTC - timedelta(hours=1))
    fake_github.clock = lambda: clock.now.timestamp()  # comments written at the bot's now
    async with running_bot(fake_github, app_key, config=listed_config(), clock=clock) as bot:
        # Looks like hub.cluster.domain, but the operator never listed it.
        scene = await opened(fake_github, bot, hub_url="https://payroll.prod.example.com")
        assert fake_github.dispatches == []
        await scene.say("/prewarm", "lead-lee")
        await bot.bot.sync(REF, scene.number)
        assert fake_github.dispatches == []
        assert "✅ by `@champion`" in scene.status["body"]  # confirmed: only the hub refuses
        assert any("not one this deployment lists" in r for r in scene.replies)


@pytest.mark.parametrize("confirm", [False, True])
async def test_closing_a_request_never_prewarmed_dispatches_no_scale_down(
        fake_github: FakeGitHub, app_key: str, confirm: bool) -> None:
    seed(fake_github)
    clock = Clock(START_UTC - timedelta(hours=1) if not confirm else START_UTC - timedelta(days=3))
    fake_github.clock = lambda: clock.now.timestamp()  # comments written at the bot's now
    async with running_bot(fake_github, app_key, config=listed_config(), clock=clock) as bot:
        scene = await opened(fake_github, bot)
        if confirm:
            await scene.say("/confirm", "maint")  # confirmed, but not yet pre-warmed
        fake_github.edit_issue(REPO, scene.number, state="closed")
        await bot.deliver("issues", issues_payload(fake_github, REPO, scene.number, "closed"))
        await bot.settle()
        clock.now = START_UTC + timedelta(days=1)
        await bot.bot.sync(REF, scene.number)
    assert fake_github.dispatches == []


async def test_an_unconfirmed_booking_does_not_raise_another_requests_replicas(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    clock = Clock(START_UTC - timedelta(days=3))
    fake_github.clock = lambda: clock.now.timestamp()  # comments written at the bot's now
    async with running_bot(fake_github, app_key, config=listed_config(), clock=clock) as bot:
        # A stranger books the hub for a huge event at the same time...
        big = await opened(fake_github, bot, attendees="600", event_name="Big")
        # ...and an engineer's own request for a small one.
        fake_github.set_permission(REPO, "maint", "write")
        number = fake_github.add_issue(REPO, title="[Event]: small", labels=["event-request"],
                                       created_at=OPENED, body=body(attendees="30"),
                                       user="maint")
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
        await bot.bot.sync(REF, big.number)
        clock.now = START_UTC - timedelta(hours=1)
        for n in (big.number, number):
            await bot.bot.sync(REF, n)
        own = read_status(status_of(fake_github, number)["body"]).state
    [(hub, replicas)] = hubs_dispatched(fake_github)
    assert own.dispatches[0].inputs["replicas"] == replicas
    assert replicas == "1", "the stranger's 600 attendees set the replicas"
