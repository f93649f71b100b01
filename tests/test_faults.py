"""Fault injection: GitHub failing, timing out, rate limiting and expiring tokens mid-burst.

The bot runs for real (``running_bot``) against the loopback fake GitHub with a large
share of ``502``s, held requests that time out, secondary-limit ``403``s with a
``retry-after``, writes that succeed and then answer ``502`` anyway, and installation
tokens that expire every couple of seconds (and are revoked under its feet). A burst of
requests and slash commands must still end exactly where a fault-free run ends: the
right labels and assignees, one status comment per request, each reminder once. The
``fake_github`` fixture fails any test that sent a request inside a ``retry-after``
window. Work that fails for good is kept for reconciliation and shown in ``/healthz``
and ``/metrics``; the test runs the reconciliation passes the scheduler would run.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import re
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot.core.config import Config
from bot.core.model import RepoRef, comment_from_json, issue_from_json
from bot.core.plan import plan
from bot.core.status import MARKER, find_status
from bot.service.app import EventBot
from bot.service.logs import setup_logging

from .botapp import STATE_KEYS, Clock, RunningBot, fast_config, running_bot
from .fakegithub import FakeGitHub, Faults
from .payloads import issue_comment_payload, issues_payload
from .requests_seed import FORM, option
from .requests_seed import exam_body as form_body

REPO = "jupyter-community/event-requests"
OTHER_REPO = "stats-dept/events"
INSTALLATION = 7001
OTHER_INSTALLATION = 7002
OPENED = "2026-11-23T09:00:00Z"
BOT_LOGIN = "event-support-bot[bot]"
LEAD = "lead-lee"



def faulty_config(**github: Any) -> Config:
    """Millisecond waits, a client timeout shorter than the fake's held requests."""
    config = fast_config()
    settings = {"timeout_seconds": 0.25, "retries": 4, "write_interval_seconds": 0.005,
                "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.04,
                "secondary_limit_fallback_seconds": 0.1, **github}
    return replace(config, github=replace(config.github, **settings))


HEAVY = Faults(error_rate=0.22, timeout_rate=0.04, timeout_seconds=0.6,
               secondary_limit_rate=0.06, retry_after_seconds=0.05,
               error_after_write_rate=0.15)


@dataclass(frozen=True)
class Case:
    """One request of the burst and what it must look like at the end."""

    repo: str
    answers: dict[str, str | None]
    labels: frozenset[str]  # labels it must have
    absent: frozenset[str]  # labels it must not have
    engineers: int  # assignees the rotation gives (commands may add more)
    command: str | None = None  # a slash command a team lead posts
    extra_assignee: str | None = None  # who the command assigns


CASES = (
    Case(REPO, {}, frozenset({"event-request", "type: exam", "tier: standard"}),
         frozenset({"needs-info", "tier: pending"}), 2),
    Case(REPO, {"event_type": option("event_type", "workshop"), "event_name": "Intro"},
         frozenset({"type: workshop", "tier: standard"}), frozenset({"needs-info"}), 1,
         command="/assign @zoe", extra_assignee="zoe"),
    Case(REPO, {"event_type": option("event_type", "demo"), "event_name": "Showcase",
                "tier": option("tier", "enhanced")},
         frozenset({"type: demo", "tier: enhanced"}), frozenset({"tier: pending"}), 1,
         command="/approve-tier"),
    Case(REPO, {"attendees": "about 30?", "start": "next tuesday-ish"},
         frozenset({"needs-info"}), frozenset({"tier: pending"}), 0),
    Case(REPO, {"start": "2026-12-01 13:00", "end": "2026-12-01 16:00"},
         frozenset({"short-notice", "type: exam"}), frozenset({"needs-info"}), 2),
    Case(REPO, {"tier": option("tier", "premium")},
         frozenset({"tier: pending", "type: exam"}), frozenset({"tier: premium"}), 2),
    Case(OTHER_REPO, {"event_type": option("event_type", "workshop"),
                      "tier": option("tier", "premium"), "event_name": "Bootcamp"},
         frozenset({"type: workshop", "tier: premium"}), frozenset({"tier: pending"}),
         2, command="/approve-tier"),  # premium, approved, promises two engineers
    Case(OTHER_REPO, {"event_type": option("event_type", "other"),
                      "event_name": "Community meetup"},
         frozenset({"type: other", "tier: standard"}), frozenset(), 1),
)


def seed(fake: FakeGitHub) -> None:
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)
    fake.add_installation(OTHER_INSTALLATION, "stats-dept")
    fake.add_repo(OTHER_REPO, OTHER_INSTALLATION)


def open_requests(fake: FakeGitHub, copies: int = 1) -> list[tuple[Case, int]]:
    made = []
    for case in CASES * copies:
        number = fake.add_issue(case.repo, labels=["event-request"], created_at=OPENED,
                                body=form_body(**case.answers),
                                title="Event request")
        made.append((case, number))
    return made


def status_comments(fake: FakeGitHub, repo: str, number: int) -> list[dict[str, Any]]:
    return [c for c in fake.comments(repo, number)
            if MARKER in c["body"] and c["user"]["login"] == BOT_LOGIN]


def bot_replies(fake: FakeGitHub, repo: str, number: int) -> list[str]:
    return [c["body"] for c in fake.comments(repo, number)
            if c["user"]["login"] == BOT_LOGIN and MARKER not in c["body"]]


def reminders(fake: FakeGitHub, repo: str, number: int) -> list[str]:
    return [b for b in bot_replies(fake, repo, number) if "**Reminder:**" in b]


def unsettled(fake: FakeGitHub, repo: str, number: int, config: Config,
              now: datetime) -> list[str]:
    """What the plan would still change on the fake's issue: [] when it has converged."""
    owner, name = repo.split("/")
    ref = RepoRef(owner, name, fake.repo(repo).installation_id)
    issue = issue_from_json(fake.issue(repo, number), ref)
    comments = [c for c in (comment_from_json(x) for x in fake.comments(repo, number))
                if c is not None]
    status, duplicates = find_status(comments, BOT_LOGIN, STATE_KEYS, repo, number)
    _, desired = plan(issue, status, config, FORM, now)
    left = [f"duplicate status comments {duplicates}"] if duplicates else []
    for name in ("labels_add", "labels_remove", "assignees_add", "assignees_remove",
                 "replies", "dispatches"):
        if getattr(desired, name):
            left.append(f"{name}={getattr(desired, name)!r}")
    if desired.status_body is not None:
        left.append("status comment out of date")
    return left


@contextlib.asynccontextmanager
async def revoking_tokens(fake: FakeGitHub, every: float) -> AsyncIterator[None]:
    """Revoke every installation token now and then, as GitHub may at any time."""

    async def revoke() -> None:
        while True:
            await asyncio.sleep(every)
            fake.expire_tokens()

    task = asyncio.create_task(revoke())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def reconcile_until_settled(running: RunningBot, passes: int = 8) -> int:
    """The reconciliation passes the scheduler runs, until nothing is left to retry."""
    bot: EventBot = running.bot
    for done in range(1, passes + 1):
        with contextlib.suppress(Exception):  # a pass that fails is simply run again
            await bot.reconcile_all()
        if not bot.pending:
            return done
    return passes


async def healthz(running: RunningBot) -> dict[str, Any]:
    async with running.session.get(running.server.make_url("/healthz")) as resp:
        assert resp.status == 200
        data: dict[str, Any] = await resp.json()
        return data


async def metrics_text(running: RunningBot) -> str:
    async with running.session.get(running.server.make_url("/metrics")) as resp:
        assert resp.status == 200
        return await resp.text()


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if m is None or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total


@contextlib.contextmanager
def faults_on(fake: FakeGitHub, faults: Faults, token_lifetime: float) -> Iterator[None]:
    fake.faults = faults
    fake.token_lifetime_seconds = token_lifetime
    try:
        yield
    finally:
        fake.faults = Faults()
        fake.token_lifetime_seconds = 3600.0


async def test_a_burst_under_heavy_faults_converges_to_the_fault_free_result(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    clock = Clock()
    config = faulty_config()
    async with running_bot(fake_github, app_key, config=config, clock=clock) as running:
        made = open_requests(fake_github, copies=2)  # after start-up: only the burst acts
        with faults_on(fake_github, HEAVY, token_lifetime=2.0):
            async with revoking_tokens(fake_github, every=0.7):
                # Every request opened, half of them delivered twice (a second delivery of
                # the same change), and the team leads' commands, all at once.
                sends = []
                for i, (case, number) in enumerate(made):
                    payload = issues_payload(fake_github, case.repo, number, "opened")
                    sends.append(running.deliver("issues", payload))
                    if i % 2 == 0:
                        sends.append(running.deliver("issues", payload))
                    if case.command is not None:
                        fake_github.set_permission(case.repo, LEAD, "write")
                        cid = fake_github.add_comment(case.repo, number, case.command, LEAD)
                        sends.append(running.deliver("issue_comment", issue_comment_payload(
                            fake_github, case.repo, number, cid)))
                answers = await asyncio.gather(*sends)
                assert {r.status for r in answers} == {202}
                await running.settle(timeout=30)
                # What failed for good is not lost: it is counted and waits for a pass.
                health = await healthz(running)
                assert health["pending_reconciliation"] == running.bot.pending
                passes = await reconcile_until_settled(running)
        assert passes < 8, f"still failing after reconciliation: {running.bot.failures}"
        stats = running.bot.github.stats if running.bot.github else None
        assert stats is not None
        after = await healthz(running)
        text = await metrics_text(running)

    # The faults really happened (so this test can fail), and the bot rode them out.
    statuses = [r.status for r in fake_github.requests]
    assert statuses.count(502) >= 5
    assert sum(1 for r in fake_github.requests if r.status == 403) >= 1
    assert stats.token_fetches >= 3
    assert stats.retries["token"] >= 1  # a revoked token was refreshed and the call retried
    assert sum(stats.retries.values()) >= 5
    assert after["pending_reconciliation"] == 0
    # The bot saw a held request as a timeout; the fake logs it as a 502 when it lets go.
    seen_502 = metric(text, "bot_github_calls_total", status="502")
    seen_timeouts = metric(text, "bot_github_calls_total", status="timeout")
    assert 0 < seen_502 <= statuses.count(502) <= seen_502 + seen_timeouts
    assert metric(text, "bot_github_retries_total") == sum(stats.retries.values())
    assert metric(text, "bot_rate_limit_waits_total") >= 1
    assert metric(text, "bot_deliveries_total", event="issues") >= len(CASES)

    for case, number in made:
        where = f"{case.repo}#{number}"
        assert len(status_comments(fake_github, case.repo, number)) == 1, where
        labels = set(fake_github.labels(case.repo, number))
        assert case.labels <= labels, (where, labels)
        assert not (case.absent & labels), (where, labels)
        assignees = fake_github.assignees(case.repo, number)
        expected = case.engineers + (1 if case.extra_assignee else 0)
        assert len(assignees) == expected, (where, assignees)
        if case.extra_assignee:
            assert case.extra_assignee in assignees
        if case.command is not None:
            # The command's reply, once, even when a failed delivery was run again.
            assert len(bot_replies(fake_github, case.repo, number)) <= 1, where
        assert unsettled(fake_github, case.repo, number, config, clock.now) == [], where


async def test_each_reminder_is_posted_once_under_faults(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    clock = Clock()
    config = faulty_config()
    async with running_bot(fake_github, app_key, config=config, clock=clock) as running:
        made = [(c, n) for c, n in open_requests(fake_github)
                if "needs-info" not in c.labels and "short-notice" not in c.labels]
        for case, number in made:
            await running.deliver("issues", issues_payload(fake_github, case.repo, number,
                                                           "opened"))
        await running.settle()
        # Time passes: the first item (three weeks before) falls due, then the next two.
        for day in (datetime(2027, 2, 17, 12, tzinfo=timezone.utc),
                    datetime(2027, 2, 24, 12, tzinfo=timezone.utc)):
            clock.now = day
            with faults_on(fake_github, HEAVY, token_lifetime=2.0):
                async with revoking_tokens(fake_github, every=0.5):
                    await reconcile_until_settled(running)
                    # Another pass finds nothing to do: the reminders are in the state.
                    await reconcile_until_settled(running)
            assert not running.bot.failures
        clock.now += timedelta(hours=1)
        await running.bot.reconcile_all()  # fault-free: still nothing more to say

    assert [r for r in fake_github.requests if r.status == 502]
    for case, number in made:
        where = f"{case.repo}#{number}"
        sent = reminders(fake_github, case.repo, number)
        assert len(sent) == 2, (where, sent)
        assert "Confirm the event details" in sent[0]
        assert "Check cloud quotas" in sent[1] and "Update the user image" in sent[1]
        assert len(status_comments(fake_github, case.repo, number)) == 1, where
        assert unsettled(fake_github, case.repo, number, config, clock.now) == [], where


async def test_work_that_keeps_failing_is_kept_and_reported_then_reconciled(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    config = faulty_config(retries=2)
    async with running_bot(fake_github, app_key, config=config) as running:
        number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                       body=form_body())
        fake_github.faults = Faults(error_rate=1.0, fault_paths=(f"/repos/{REPO}/issues",))
        resp = await running.deliver("issues", issues_payload(fake_github, REPO, number,
                                                              "opened"))
        assert resp.status == 202
        await running.settle()
        health = await healthz(running)
        text = await metrics_text(running)
        assert health["pending_reconciliation"] == 1
        assert health["failed_deliveries"] == 1
        assert metric(text, "bot_pending_work") == 1
        assert metric(text, "bot_deliveries_total", event="issues", outcome="error") == 1
        assert metric(text, "bot_github_failures_total") >= 1
        assert status_comments(fake_github, REPO, number) == []
        # GitHub recovers; the next reconciliation pass does the work.
        fake_github.faults = Faults()
        assert await running.bot.reconcile_all() == 1
        health = await healthz(running)
        text = await metrics_text(running)
    assert health["pending_reconciliation"] == 0
    assert metric(text, "bot_pending_work") == 0
    assert metric(text, "bot_reconcile_total", result="changed") == 1
    assert len(status_comments(fake_github, REPO, number)) == 1


async def test_a_command_that_failed_is_run_again_by_reconciliation(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    config = faulty_config(retries=1)
    number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                   body=form_body(tier=option("tier", "premium")))
    async with running_bot(fake_github, app_key, config=config) as running:
        await running.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await running.settle()
        assert "tier: pending" in fake_github.labels(REPO, number)
        cid = fake_github.add_comment(REPO, number, "/approve-tier", LEAD)
        fake_github.faults = Faults(error_rate=1.0, fault_paths=("/issues/comments",
                                                                 "PATCH /issues"))
        await running.deliver("issue_comment",
                              issue_comment_payload(fake_github, REPO, number, cid))
        await running.settle()
        assert "tier: pending" in fake_github.labels(REPO, number)
        # The issue's sync failed, and so did the command, which only running it can redo.
        assert (await healthz(running))["pending_reconciliation"] == 2
        fake_github.faults = Faults()
        await running.bot.reconcile_all()
        assert (await healthz(running))["pending_reconciliation"] == 0
    labels = fake_github.labels(REPO, number)
    assert "tier: premium" in labels and "tier: pending" not in labels
    assert len(status_comments(fake_github, REPO, number)) == 1


@pytest.mark.parametrize("retry_after", [0.3, 1.0])
async def test_no_request_inside_a_retry_after_window(
    fake_github: FakeGitHub, app_key: str, retry_after: float
) -> None:
    """Every call answered with a window: the bot waits it out, to the second, each time."""
    seed(fake_github)
    config = faulty_config(retries=2)
    async with running_bot(fake_github, app_key, config=config) as running:
        number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                       body=form_body())
        await running.bot.bot_login()
        fake_github.reset_log()
        fake_github.faults = Faults(secondary_limit_rate=1.0, retry_after_seconds=retry_after)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await running.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await running.settle()
        took = loop.time() - began
        text = await metrics_text(running)
    refused = [r for r in fake_github.requests if r.status == 403]
    assert len(refused) == 3  # the first try and two retries, each after its window
    gaps = [b.time - a.time for a, b in zip(refused, refused[1:], strict=False)]
    assert all(gap >= retry_after for gap in gaps), gaps
    assert took >= 2 * retry_after
    assert fake_github.window_violations == []
    assert metric(text, "bot_rate_limit_wait_seconds_total") >= 3 * retry_after * 0.99


async def test_writes_of_an_installation_are_paced(fake_github: FakeGitHub,
                                                   app_key: str) -> None:
    seed(fake_github)
    interval = 0.2
    config = faulty_config(write_interval_seconds=interval, write_burst=1)
    async with running_bot(fake_github, app_key, config=config) as running:
        numbers = [fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                         body=form_body()) for _ in range(4)]
        await asyncio.gather(*(running.deliver("issues", issues_payload(
            fake_github, REPO, n, "opened")) for n in numbers))
        await running.settle()
    writes = [r for r in fake_github.requests if r.is_write and r.installation_id == INSTALLATION]
    assert len(writes) >= 2 * len(numbers)
    # Arrival to arrival: the bucket starts writes an interval apart; what reaches the
    # server may be a little closer when one write was delayed on its way (a loaded
    # machine), never much closer, and on average not closer at all.
    gaps = [b.time - a.time for a, b in zip(writes, writes[1:], strict=False)]
    assert min(gaps) >= interval * 0.9, gaps
    assert (writes[-1].time - writes[0].time) / len(gaps) >= interval * 0.99, gaps


@pytest.mark.parametrize(
    "fault",
    [
        # The status comment recording the reminder is written; posting the reminder fails.
        Faults(error_rate=1.0, fault_paths=("POST /comments",)),
        # Or the PATCH of labels between the two fails, so the reminder is never tried.
        Faults(error_rate=1.0, fault_paths=("PATCH /repos/{owner}/{repo}/issues/{issue_number}",)),
    ],
    ids=["reply-fails", "patch-fails"],
)
async def test_a_reminder_recorded_but_not_posted_is_posted_by_the_next_pass(
    fake_github: FakeGitHub, app_key: str, fault: Faults
) -> None:
    seed(fake_github)
    clock = Clock()
    config = faulty_config(retries=1)
    async with running_bot(fake_github, app_key, config=config, clock=clock) as running:
        number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                       body=form_body())
        await running.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await running.settle()
        clock.now = datetime(2027, 2, 17, 12, tzinfo=timezone.utc)
        if "PATCH" in (fault.fault_paths or ("",))[0]:
            # Give the sync a label change to make, so it has a PATCH to fail.
            fake_github.edit_issue(REPO, number, labels=["event-request"])
        fake_github.faults = fault
        await running.bot.reconcile_all()
        assert running.bot.failures  # the pass failed, and says so
        assert reminders(fake_github, REPO, number) == []
        fake_github.faults = Faults()
        await running.bot.reconcile_all()
        await running.bot.reconcile_all()
        assert not running.bot.failures
    sent = reminders(fake_github, REPO, number)
    assert len(sent) == 1 and "Confirm the event details" in sent[0]
    assert unsettled(fake_github, REPO, number, config, clock.now) == []


async def test_a_closed_window_of_one_installation_does_not_hold_another(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=faulty_config(retries=3)) as running:
        held = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                     body=form_body())
        free = fake_github.add_issue(OTHER_REPO, labels=["event-request"], created_at=OPENED,
                                     body=form_body())
        # Every call of the first installation opens a 1.5 s window.
        fake_github.faults = Faults(secondary_limit_rate=1.0, retry_after_seconds=1.5,
                                    fault_paths=(f"/repos/{REPO}/",))
        loop = asyncio.get_running_loop()
        began = loop.time()
        await running.deliver("issues", issues_payload(fake_github, REPO, held, "opened"))
        await asyncio.sleep(0.05)  # the first installation is inside its window now
        await running.deliver("issues", issues_payload(fake_github, OTHER_REPO, free, "opened"))
        while not status_comments(fake_github, OTHER_REPO, free):
            assert loop.time() - began < 1.0, "the other installation waited for the window"
            await asyncio.sleep(0.01)
        assert status_comments(fake_github, REPO, held) == []
        fake_github.faults = Faults()
        await running.settle()
    assert len(status_comments(fake_github, REPO, held)) == 1


async def test_a_full_queue_answers_503(fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    base = faulty_config()
    # A short grace: at the end the two queued deliveries are simply left behind.
    config = replace(base, server=replace(base.server, queue_size=2, shutdown_grace_seconds=0.1))
    async with running_bot(fake_github, app_key, config=config) as running:
        await running.queue.stop()  # workers busy elsewhere: nothing leaves the queue
        numbers = [fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                         body=form_body()) for _ in range(4)]
        # The bound is in issues waiting: a second delivery about a waiting issue joins it.
        again = await running.deliver("issues", issues_payload(fake_github, REPO, numbers[0],
                                                               "opened"))
        answers = [again.status] + [
            (await running.deliver("issues", issues_payload(fake_github, REPO, n,
                                                            "edited"))).status
            for n in numbers]
        text = await metrics_text(running)
        health = await healthz(running)
    assert answers == [202, 202, 202, 503, 503]
    assert health["queue_depth"] == 2
    assert metric(text, "bot_queue_depth") == 2
    assert metric(text, "bot_webhook_rejected_total", reason="queue_full") == 2


async def test_every_log_line_of_a_delivery_names_it_and_its_issue(
    fake_github: FakeGitHub, app_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(fake_github)
    out = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    monkeypatch.setattr(sys, "stdout", out)
    setup_logging("DEBUG", "json")  # what LOG_FORMAT=json gives
    try:
        async with running_bot(fake_github, app_key, config=faulty_config()) as running:
            number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                           body=form_body(tier=option("tier", "premium")))
            fake_github.faults = Faults(error_rate=0.5)  # retries, so warnings, get logged
            await running.deliver("issues", issues_payload(fake_github, REPO, number,
                                                           "opened"), delivery_id="obs-1")
            await running.settle()
            fake_github.faults = Faults()
            cid = fake_github.add_comment(REPO, number, "/approve-tier", LEAD)
            await running.deliver("issue_comment", issue_comment_payload(
                fake_github, REPO, number, cid), delivery_id="obs-2")
            await running.settle()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    records = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    about = [r for r in records if r["logger"].startswith("bot.")
             and (f"/issues/{number}" in r["message"] or f"#{number}" in r["message"])]
    assert len(about) >= 3
    for record in about:
        assert record["delivery"] in ("obs-1", "obs-2"), record
        assert record["issue"] == f"{REPO}#{number}", record
    assert {r["delivery"] for r in about} == {"obs-1", "obs-2"}
    assert any(r["logger"] == "bot.github" and r["level"] == "warning" for r in about)
