"""The hidden state end to end: a block the bot did not sign for this issue grants nothing.

Anyone who may edit the status comment (every writer) can paste another request's block
or write one of their own; these run the real app against the loopback fake GitHub.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.core.config import Config
from bot.core.lifecycle import ARMED, SUMMARY, reminder_key
from bot.core.model import RepoRef
from bot.core.sealing import DEVELOPMENT_KEYS, StateKeys, derived_key
from bot.core.status import (
    MARKER,
    DispatchRecord,
    StatusState,
    listed_items,
    read_status,
    state_block,
    verify_status,
)
from bot.service.serve import server_keys

from .botapp import STATE_KEYS, Clock, RunningBot, fast_config, running_bot
from .fakegithub import FakeGitHub
from .lifecycle_sim import END, PREWARM_REPO, START, base_config
from .payloads import issue_comment_payload, issues_payload
from .requests_seed import exam_body, option

REPO = "jupyter-community/event-requests"
INSTALLATION = 7001
OPENED = "2026-11-23T09:00:00Z"
BOT_LOGIN = "event-support-bot[bot]"
REF = RepoRef("jupyter-community", "event-requests", INSTALLATION)
_BLOCK = re.compile(r"<!-- event-support-bot:state [^>]* -->")
D = timedelta(days=1)
H = timedelta(hours=1)


def config() -> Config:
    return replace(fast_config(), prewarm=base_config().prewarm)


def seed(fake: FakeGitHub) -> None:
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)
    fake.add_repo(PREWARM_REPO, INSTALLATION)
    fake.set_workflows(PREWARM_REPO, ["scale-placeholders.yaml"])


def enhanced_body(**answers: Any) -> str:
    """A midterm on the enhanced tier (which needs a lead's approval)."""
    return exam_body(**{"end": "2027-03-09 16:15", "memory_per_user": None,
                        "tier": option("tier", "enhanced"), **answers})


def status_of(fake: FakeGitHub, number: int) -> dict[str, Any]:
    [comment] = [c for c in fake.comments(REPO, number)
                 if MARKER in c["body"] and c["user"]["login"] == BOT_LOGIN]
    return comment


def replies(fake: FakeGitHub, number: int) -> list[str]:
    return [c["body"] for c in fake.comments(REPO, number)
            if c["user"]["login"] == BOT_LOGIN and MARKER not in c["body"]]


def labels(fake: FakeGitHub, number: int) -> set[str]:
    return set(fake.labels(REPO, number))


async def open_request(fake: FakeGitHub, bot: RunningBot, body: str) -> int:
    number = fake.add_issue(REPO, title="[Event]: STAT 101 midterm", labels=["event-request"],
                            created_at=OPENED, body=body, user="champion")
    await bot.deliver("issues", issues_payload(fake, REPO, number, "opened"))
    await bot.settle()
    return number


async def say(fake: FakeGitHub, bot: RunningBot, number: int, text: str, user: str) -> None:
    comment_id = fake.add_comment(REPO, number, text, user, "User")
    await bot.deliver("issue_comment", issue_comment_payload(fake, REPO, number, comment_id))
    await bot.settle()


async def resync(fake: FakeGitHub, bot: RunningBot, number: int) -> None:
    await bot.deliver("issues", issues_payload(fake, REPO, number, "edited"))
    await bot.settle()


def put_block(fake: FakeGitHub, number: int, block: str) -> None:
    """A writer edits the bot's status comment: its state block becomes ``block``."""
    status = status_of(fake, number)
    body = status["body"]
    start = list(_BLOCK.finditer(body))[-1]
    fake.edit_comment(REPO, status["id"], body[:start.start()] + block + body[start.end():])


def forge(fake: FakeGitHub, number: int, state: StatusState) -> None:
    """What a writer without the key can write: the block of a state of their choosing."""
    put_block(fake, number, state_block(state))


def signed_for(fake: FakeGitHub, number: int, keys: StateKeys = STATE_KEYS) -> StatusState:
    """The status comment's state, asserting its block is signed for this very issue."""
    status = verify_status(status_of(fake, number)["body"], 1, keys, REPO, number)
    assert status.verified
    return status.state


async def test_an_approved_block_pasted_into_another_request_approves_nothing(
        fake_github: FakeGitHub, app_key: str, caplog: pytest.LogCaptureFixture) -> None:
    seed(fake_github)
    caplog.set_level("WARNING", logger="bot.apply")
    async with running_bot(fake_github, app_key, config=config(), clock=Clock()) as bot:
        approved = await open_request(fake_github, bot, enhanced_body())
        other = await open_request(fake_github, bot, enhanced_body(event_name="STAT 102"))
        await say(fake_github, bot, approved, "/approve-tier", "lead-lee")
        assert "tier: enhanced" in labels(fake_github, approved)
        [block] = _BLOCK.findall(status_of(fake_github, approved)["body"])
        put_block(fake_github, other, block)  # the same repository's other issue
        await resync(fake_github, bot, other)
    assert "tier: pending" in labels(fake_github, other)
    assert "tier: enhanced" not in labels(fake_github, other)
    assert f"status comment on {REPO}#{other} does not verify" in caplog.text
    assert f"{REPO}#{approved} does not" not in caplog.text
    # Written again with a block signed for this request, which approves nothing.
    assert signed_for(fake_github, other).approval is None
    assert signed_for(fake_github, approved).approval is not None


async def test_a_forged_block_marking_reminders_sent_does_not_stop_them(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    clock = Clock(START - 30 * D)
    async with running_bot(fake_github, app_key, config=config(), clock=clock) as bot:
        number = await open_request(fake_github, bot, exam_body())
        said = len(replies(fake_github, number))
        body = status_of(fake_github, number)["body"]
        state = read_status(body).state
        every = [reminder_key(item) for item in listed_items(body)]
        forge(fake_github, number, state.with_sent(*every, ARMED, SUMMARY))
        clock.now = START - 2 * D  # most of the checklist has fallen due meanwhile
        await resync(fake_github, bot, number)
    later = replies(fake_github, number)[said:]
    assert any("**Reminder:**" in r or "**Already due:**" in r for r in later), later
    assert not set(every) <= set(signed_for(fake_github, number).sent)


async def test_forged_dispatch_records_get_no_scale_down(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    clock = Clock(START - 3 * D)
    async with running_bot(fake_github, app_key, config=config(), clock=clock) as bot:
        number = await open_request(fake_github, bot, exam_body())
        assert fake_github.dispatches == []
        state = read_status(status_of(fake_github, number)["body"]).state
        record = DispatchRecord("prewarm", (START - 2 * H).isoformat(),
                                {"cluster": "hubs", "hub": "stat101", "replicas": "3"}, True,
                                for_start=START.isoformat())
        forge(fake_github, number, replace(state, dispatches=(record,)))
        clock.now = END + H  # a pre-warm the bot made would be given back now
        await resync(fake_github, bot, number)
    assert fake_github.dispatches == []
    assert signed_for(fake_github, number).dispatches == ()


async def test_forged_outbox_text_is_never_posted(fake_github: FakeGitHub,
                                                  app_key: str) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=config(), clock=Clock()) as bot:
        number = await open_request(fake_github, bot, exam_body())
        state = read_status(status_of(fake_github, number)["body"]).state
        owed = [{"id": "0123456789abcdef", "body": "Pay the hosting fee at https://evil.example"}]
        forge(fake_github, number, replace(state, extra={**state.extra, "outbox": owed}))
        await resync(fake_github, bot, number)
        await resync(fake_github, bot, number)
    assert not any("evil.example" in r for r in replies(fake_github, number))
    assert "evil.example" not in status_of(fake_github, number)["body"]
    assert "outbox" not in signed_for(fake_github, number).extra


async def test_a_rotated_key_still_verifies_and_the_next_write_signs_with_the_first(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    old, new = StateKeys((b"old key",)), StateKeys((b"new key", b"old key"))
    async with running_bot(fake_github, app_key, config=config(), clock=Clock(),
                           state_keys=old) as bot:
        number = await open_request(fake_github, bot, enhanced_body())
        await say(fake_github, bot, number, "/approve-tier", "lead-lee")
    assert signed_for(fake_github, number, old).approval is not None
    async with running_bot(fake_github, app_key, config=config(), clock=Clock(),
                           state_keys=new) as bot:
        await resync(fake_github, bot, number)
        assert "tier: enhanced" in labels(fake_github, number)  # the old key verifies
        fake_github.edit_issue(REPO, number, body=enhanced_body(attendees="150"))
        await resync(fake_github, bot, number)
    assert "tier: enhanced" in labels(fake_github, number)
    assert signed_for(fake_github, number, StateKeys((b"new key",))).approval is not None
    body = status_of(fake_github, number)["body"]
    assert not verify_status(body, 1, old, REPO, number).verified


@pytest.mark.parametrize(("env", "keys", "warned"), [
    ({"BOT_STATE_KEY": "new,old", "GITHUB_WEBHOOK_SECRET": "s"}, (b"new", b"old"), False),
    ({"GITHUB_WEBHOOK_SECRET": "s"}, (derived_key("s").encode(),), False),
    ({}, DEVELOPMENT_KEYS.keys, True),  # serve --dry-run without credentials
])
def test_serve_takes_its_keys_from_the_environment_and_warns_without_any(
        env: dict[str, str], keys: tuple[bytes, ...], warned: bool,
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="bot.serve"):
        assert server_keys(env).keys == keys
    assert ("development key" in caplog.text) is warned
