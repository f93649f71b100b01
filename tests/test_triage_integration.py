"""End to end: real webhook deliveries into the real app, against the loopback fake GitHub."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from bot.core.config import AwayRange, Engineer
from bot.core.status import MARKER

from .botapp import Clock, RunningBot, fast_config, running_bot
from .fakegithub import FakeGitHub
from .payloads import issues_payload
from .requests_seed import exam_body, option

REPO = "jupyter-community/event-requests"
INSTALLATION = 7001
OPENED = "2026-11-23T09:00:00Z"
BOT_LOGIN = "event-support-bot[bot]"

def body(**answers: Any) -> str:
    return exam_body(**answers)


def seed(fake: FakeGitHub) -> None:
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)


async def open_request(bot: RunningBot, fake: FakeGitHub, text: str) -> int:
    """A champion opens a request; the bot has triaged it when this returns."""
    number = fake.add_issue(REPO, labels=["event-request"], created_at=OPENED, body=text)
    await bot.deliver("issues", issues_payload(fake, REPO, number, "opened"))
    await bot.settle()
    return number


def status_comments(fake: FakeGitHub, number: int) -> list[dict[str, Any]]:
    return [c for c in fake.comments(REPO, number)
            if MARKER in c["body"] and c["user"]["login"] == BOT_LOGIN]


def issue_calls(fake: FakeGitHub) -> list[str]:
    """The calls about issues (token and App calls excluded)."""
    return [f"{r.method} {r.path}" for r in fake.requests
            if r.path.startswith("/repos/")]


@pytest.mark.parametrize(
    ("type_prefix", "label", "engineers"),
    [("exam", "type: exam", 2), ("workshop", "type: workshop", 1),
     ("demo", "type: demo", 1), ("other", "type: other", 1)],
)
async def test_each_event_type_is_triaged_in_four_calls(
    fake_github: FakeGitHub, app_key: str, type_prefix: str, label: str, engineers: int
) -> None:
    seed(fake_github)
    name = "Community meetup" if type_prefix == "other" else "Spring event"
    async with running_bot(fake_github, app_key) as bot:
        number = fake_github.add_issue(
            REPO, title="Event request", labels=["event-request"], created_at=OPENED,
            body=body(event_type=option("event_type", type_prefix), event_name=name))
        await bot.bot.bot_login()  # the App's slug is read once at start, not per request
        fake_github.reset_log()
        resp = await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        assert resp.status == 202
        await bot.settle()
    calls = issue_calls(fake_github)
    # The issue is read when its work runs (level-triggered), not taken from the payload.
    assert len(calls) <= 4, calls
    assert sorted(c.split()[0] for c in calls) == ["GET", "GET", "PATCH", "POST"]
    labels = set(fake_github.labels(REPO, number))
    assert {"event-request", label, "tier: standard"} <= labels
    assert "needs-info" not in labels
    assert len(fake_github.assignees(REPO, number)) == engineers
    [comment] = status_comments(fake_github, number)
    assert "@prof-okafor" in comment["body"]
    assert "2027-03-09 19:00 UTC" in comment["body"]  # 13:00 CST


async def test_redelivery_and_a_second_delivery_leave_one_comment(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key) as bot:
        number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                       body=body())
        payload = issues_payload(fake_github, REPO, number, "opened")
        await bot.deliver("issues", payload, delivery_id="d-1")
        await bot.settle()
        fake_github.reset_log()
        await bot.deliver("issues", payload, delivery_id="d-1")  # redelivery: same id
        await bot.settle()
        assert issue_calls(fake_github) == []  # already done: not even a read
        await bot.deliver("issues", payload, delivery_id="d-2")  # same change, new id
        await bot.settle()
        writes = [r for r in fake_github.requests if r.is_write]
        assert writes == []
    # A restart (a new process) with the same delivery: still one comment, no write.
    async with running_bot(fake_github, app_key) as bot:
        fake_github.reset_log()
        await bot.deliver("issues", payload, delivery_id="d-1")
        await bot.settle()
        assert [r for r in fake_github.requests if r.is_write] == []
    assert len(status_comments(fake_github, number)) == 1


async def test_editing_dates_edits_the_same_comment_and_keeps_ticks(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key) as bot:
        number = await open_request(bot, fake_github, body())
        [comment] = status_comments(fake_github, number)
        # An engineer ticks a box by editing the comment, as GitHub's UI does.
        ticked = comment["body"].replace("- [ ] Check cloud quotas", "- [x] Check cloud quotas")
        assert ticked != comment["body"]
        fake_github.edit_comment(REPO, comment["id"], ticked)
        fake_github.edit_issue(REPO, number, body=body(start="2027-03-16 13:00",
                                                       end="2027-03-16 16:00"))
        await bot.deliver("issues", issues_payload(
            fake_github, REPO, number, "edited", changes={"body": {"from": body()}}))
        await bot.settle()
    [after] = status_comments(fake_github, number)
    assert after["id"] == comment["id"]
    assert "2027-03-16 18:00 UTC" in after["body"]  # 13:00 CDT after the DST change
    assert re.search(r"- \[x\] Check cloud quotas.*2027-03-02", after["body"])


async def test_invalid_then_fixed(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    bad = body(attendees="about 30?", start="next tuesday-ish", hub_url="not a url!!")
    async with running_bot(fake_github, app_key) as bot:
        number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED, body=bad)
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
        assert "needs-info" in fake_github.labels(REPO, number)
        [comment] = status_comments(fake_github, number)
        for quoted in ("about 30?", "next tuesday-ish", "not a url!!"):
            assert quoted in comment["body"]
        assert fake_github.assignees(REPO, number) == []
        fake_github.edit_issue(REPO, number, body=body())
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "edited"))
        await bot.settle()
    assert "needs-info" not in fake_github.labels(REPO, number)
    [fixed] = status_comments(fake_github, number)
    assert fixed["id"] == comment["id"] and "needs a few more details" not in fixed["body"]
    assert len(fake_github.assignees(REPO, number)) == 2


async def test_short_notice(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key) as bot:
        number = await open_request(bot, fake_github,
                                    body(start="2026-12-01 13:00", end="2026-12-01 16:00"))
    assert "short-notice" in fake_github.labels(REPO, number)
    [comment] = status_comments(fake_github, number)
    assert "Short notice" in comment["body"]


async def test_an_engineer_away_is_skipped(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    config = fast_config()
    oncall = replace(config.oncall, engineers=(
        Engineer("alice", (AwayRange(date(2027, 3, 9), date(2027, 3, 9)),)),
        Engineer("bob"), Engineer("carol")))
    config = replace(config, oncall=oncall)
    async with running_bot(fake_github, app_key, config=config) as bot:
        workshop = body(event_type=option("event_type", "workshop"))
        number = await open_request(bot, fake_github, workshop)
    assignees = fake_github.assignees(REPO, number)
    assert len(assignees) == 1 and "alice" not in assignees


async def test_a_non_event_issue_is_left_alone(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key) as bot:
        number = fake_github.add_issue(REPO, title="Kernel dies on import", body="It crashes.")
        await bot.bot.bot_login()
        fake_github.reset_log()
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
    assert fake_github.requests == []
    assert fake_github.comments(REPO, number) == []


async def test_a_person_set_label_and_assignee_stay(fake_github: FakeGitHub, app_key: str
                                                    ) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key) as bot:
        number = fake_github.add_issue(REPO, labels=["event-request", "needs-info", "priority"],
                                       assignees=["zoe"], created_at=OPENED, body=body())
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
    labels = fake_github.labels(REPO, number)
    # needs-info was set by a person, not by the bot: it stays although the form is fine.
    assert "priority" in labels and "needs-info" in labels
    assert "zoe" in fake_github.assignees(REPO, number)


@pytest.mark.parametrize(
    ("headers", "raw", "status"),
    [
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, None, 401),
        ({"X-Hub-Signature-256": None}, None, 401),
        ({"X-Hub-Signature-256": "sha1=abc"}, None, 401),
        ({"X-GitHub-Event": None}, None, 400),
        ({"X-GitHub-Delivery": None}, None, 400),
        ({}, b"not json", 400),
        ({}, b"[1, 2, 3]", 400),
    ],
)
async def test_bad_deliveries_are_refused_without_an_api_call(
    fake_github: FakeGitHub, app_key: str, headers: dict[str, str | None], raw: bytes | None,
    status: int
) -> None:
    from .payloads import deliver

    seed(fake_github)
    async with running_bot(fake_github, app_key) as bot:
        number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                       body=body())
        payload: Any = raw if raw is not None else issues_payload(fake_github, REPO, number,
                                                                  "opened")
        fake_github.reset_log()
        got = await deliver(bot.url.rstrip("/"), "issues", payload, bot.secret,
                            headers=headers)
        await bot.settle()
    assert got == status
    assert fake_github.requests == []


async def test_acknowledging_costs_no_github_call(fake_github: FakeGitHub, app_key: str
                                                  ) -> None:
    seed(fake_github)
    clock = Clock()
    async with running_bot(fake_github, app_key, clock=clock) as bot:
        number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                       body=body())
        bot.queue.accepting = True
        # Hold the workers: the 202 must come back before any GitHub work starts.
        await bot.queue.stop()
        fake_github.reset_log()
        resp = await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        assert resp.status == 202
        assert fake_github.requests == []
        assert bot.queue.depth == 1


async def test_a_person_ticking_a_box_updates_progress(fake_github: FakeGitHub, app_key: str
                                                       ) -> None:
    from .payloads import issue_comment_payload

    seed(fake_github)
    async with running_bot(fake_github, app_key) as bot:
        number = await open_request(bot, fake_github, body())
        [comment] = status_comments(fake_github, number)
        assert "(0/12 done)" in comment["body"]
        fake_github.edit_comment(REPO, comment["id"], comment["body"].replace(
            "- [ ] Confirm the event details", "- [x] Confirm the event details"))
        payload = issue_comment_payload(fake_github, REPO, number, comment["id"], "edited",
                                        changes={"body": {"from": comment["body"]}})
        payload["sender"] = fake_github.user_json("alice")
        await bot.deliver("issue_comment", payload)
        await bot.settle()
    [after] = status_comments(fake_github, number)
    assert "(1/12 done)" in after["body"]
    assert "- [x] Confirm the event details" in after["body"]


async def test_a_reconciliation_pass_over_unchanged_requests_costs_no_counted_call(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key) as bot:
        for _ in range(3):
            fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                  body=body())
        await bot.bot.reconcile_all()  # triages the three (no webhook was delivered)
        await bot.bot.reconcile_all()  # warms every ETag
        fake_github.reset_log()
        await bot.bot.reconcile_all()
    assert fake_github.requests, "the pass did not look at GitHub at all"
    assert [r.path for r in fake_github.requests if r.counted_against_limit] == []
    # The listing is fresh: no second read of each issue.
    assert not [r for r in fake_github.requests if r.operation_id == "issues/get"]


_MENTION_RE = re.compile(r"(?<![\w`/])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))")
_CODE_RE = re.compile(r"`[^`\n]*`|<!--.*?-->", re.DOTALL)


def mentioned(markdown: str) -> set[str]:
    """The logins a comment's markdown pings (not those in code spans or HTML comments)."""
    return {m.lower() for m in _MENTION_RE.findall(_CODE_RE.sub("", markdown))}


async def test_a_thousand_edits_naming_new_representatives_stay_bounded(
    fake_github: FakeGitHub, app_key: str
) -> None:
    """An author cannot make the bot ping anyone: the status comment keeps updating and stays
    under GitHub's limit, and the notices stop at a few however many names come."""
    from bot.core.mentions import MAX_MENTIONS, MAX_REP_NOTICES
    from bot.core.model import RepoRef

    seed(fake_github)
    clock = Clock()
    ref = RepoRef("jupyter-community", "event-requests", INSTALLATION)
    # Logins as long as GitHub allows, ten new ones each time.
    def names(i: int) -> list[str]:
        return [f"r{i:04d}x{j}-" + "n" * 30 for j in range(10)]

    async with running_bot(fake_github, app_key, clock=clock) as bot:
        number = await open_request(bot, fake_github, body(
            community_rep=", ".join(f"@{n}" for n in names(0))))
        for i in range(1, 1001):
            clock.now += timedelta(hours=1)  # past any cool-down, many times over
            fake_github.edit_issue(REPO, number, body=body(
                community_rep=", ".join(f"@{n}" for n in names(i))))
            await bot.bot.sync(ref, number)
    [status] = status_comments(fake_github, number)
    assert len(status["body"]) < 65_536
    assert names(1000)[0] in status["body"]  # still updating: the last edit's names show
    assert names(999)[0] not in status["body"]
    ours = [c for c in fake_github.comments(REPO, number) if c["user"]["login"] == BOT_LOGIN]
    assert len(ours) <= 1 + MAX_REP_NOTICES
    pinged = set().union(*(mentioned(c["body"]) for c in ours))
    reps = {p for p in pinged if p.startswith("r") and "x" in p}
    assert 0 < len(reps) <= MAX_MENTIONS * (1 + MAX_REP_NOTICES)
