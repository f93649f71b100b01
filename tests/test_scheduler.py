"""The scheduler against the loopback fake GitHub: a whole event on an injected clock, a restart
in the middle, reconciliation at start-up, and asking GitHub again for failed deliveries."""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.config import Config
from bot.core.model import RepoRef
from bot.core.status import MARKER, read_status
from bot.service.scheduler import MAX_REDELIVERIES, Agenda, Scheduler, failed_deliveries
from bot.service.serve import tick

from .botapp import Clock, RunningBot, fast_config, running_bot
from .fakegithub import FakeGitHub
from .lifecycle_sim import END, PREWARM_REPO, ROOT, START, base_config, form_body, option
from .payloads import issues_payload

REPO = "jupyter-community/event-requests"
INSTALLATION = 7001
OPENED = "2026-11-23T09:00:00Z"
BOT_LOGIN = "event-support-bot[bot]"
REF = RepoRef("jupyter-community", "event-requests", INSTALLATION)
H = timedelta(hours=1)
D = timedelta(days=1)


def config(**scheduler: Any) -> Config:
    fast = fast_config()
    return replace(fast, prewarm=base_config().prewarm,
                   scheduler=replace(fast.scheduler, **scheduler))


def seed(fake: FakeGitHub) -> None:
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)
    fake.add_repo(PREWARM_REPO, INSTALLATION)
    fake.set_workflows(PREWARM_REPO, ["scale-placeholders.yaml"])
    fake.set_permission(REPO, "champion", "write")  # writers' requests: confirmed as filed


def new_request(fake: FakeGitHub, **answers: str | None) -> int:
    return fake.add_issue(REPO, title="Event request", labels=["event-request"],
                          created_at=OPENED, body=form_body(**answers))


def bot_comments(fake: FakeGitHub, number: int) -> list[str]:
    return [c["body"] for c in fake.comments(REPO, number) if c["user"]["login"] == BOT_LOGIN]


def replies(fake: FakeGitHub, number: int) -> list[str]:
    return [b for b in bot_comments(fake, number) if MARKER not in b]


def status_body(fake: FakeGitHub, number: int) -> str:
    [body] = [b for b in bot_comments(fake, number) if MARKER in b]
    return body


def writes(fake: FakeGitHub) -> list[str]:
    return [f"{r.method} {r.path}" for r in fake.requests
            if r.is_write and r.path.startswith("/repos/")]


async def walk(bot: RunningBot, clock: Clock, number: int, until: datetime) -> list[datetime]:
    """Move the clock to each time the agenda names and tick there, up to ``until``."""
    scheduler = Scheduler(bot.bot)
    seen: list[datetime] = []
    while True:
        due = bot.bot.agenda.when(REF, number)
        if due is None or due > until:
            return seen
        clock.now = max(due, clock.now)
        seen.append(clock.now)
        await scheduler.tick()


def tick_boxes(fake: FakeGitHub, number: int, *item_ids: str) -> None:
    """An engineer ticks boxes in the status comment, as GitHub's editor does."""
    [comment] = [c for c in fake.comments(REPO, number)
                 if c["user"]["login"] == BOT_LOGIN and MARKER in c["body"]]
    body = comment["body"]
    for item in item_ids:
        body = re.sub(rf"^- \[ \](.*<!-- item:{item} -->)$", r"- [x]\1", body, flags=re.M)
    fake.edit_comment(REPO, comment["id"], body)


ITEM_TEXTS = {
    "confirm-details": "Confirm the event details",
    "cloud-quotas": "Check cloud quotas",
    "image-update": "Update the user image",
    "image-freeze": "Freeze the user image",
    "node-pool": "Set the node pool",
    "access-test": "Engineers on call test their access",
    "login-test": "runs a login test",
    "guaranteed-qos": "guaranteed QoS",
    "prewarm": "Pre-warm the cluster",
    "oncall-watch": "watches the hub",
    "scale-down": "Scale down the placeholders",
    "debrief": "Debrief with the community",
}


async def test_a_whole_event_with_a_restart_in_the_middle(fake_github: FakeGitHub,
                                                          app_key: str) -> None:
    seed(fake_github)
    number = new_request(fake_github)
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    cfg = config()

    async with running_bot(fake_github, app_key, config=cfg, clock=clock) as bot:
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
        assert bot.bot.agenda.when(REF, number) == START - 21 * D
        await walk(bot, clock, number, START - 3 * D)
        # A late webhook for an old change must not repeat anything already said.
        before = len(replies(fake_github, number))
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "edited"))
        await bot.settle()
        assert len(replies(fake_github, number)) == before

    # Down for a day and a half: the login test fell due meanwhile.
    clock.now = START - 2 * D + 12 * H
    async with running_bot(fake_github, app_key, config=cfg, clock=clock) as bot:
        scheduler = Scheduler(bot.bot)
        await scheduler.reconcile()
        fake_github.reset_log()
        await scheduler.reconcile()
        assert writes(fake_github) == []  # a second pass changes nothing
        await walk(bot, clock, number, END + 7 * D)
        assert bot.bot.agenda.when(REF, number) is None  # only people can move it on now
        tick_boxes(fake_github, number, "scale-down", "debrief")
        clock.now = END + 8 * D
        await scheduler.reconcile()

    said = replies(fake_github, number)
    for item, text in ITEM_TEXTS.items():
        named = [r for r in said if r.startswith("⏰ **Reminder:**") and text in r]
        # The bot pre-warmed the cluster itself: nobody is reminded to, and it is ticked.
        assert len(named) == (0 if item == "prewarm" else 1), (item, named)
    assert sum("**Reminder:**" in r for r in said) == 9  # two pairs fell due together
    assert sum("The event starts in 24 hours" in r for r in said) == 1
    [follow_up] = [r for r in said if "The event is over" in r]
    assert "@prof-okafor" in follow_up and "What should we do differently" in follow_up
    assert len(said) == 11
    assert "prewarm" in read_status(status_body(fake_github, number)).ticked
    assert [(d.repo, d.workflow_id, d.ref, dict(d.inputs)) for d in fake_github.dispatches] == [
        (PREWARM_REPO, "scale-placeholders.yaml", "main",
         {"cluster": "hubs", "hub": "stat101", "replicas": "4"}),
        (PREWARM_REPO, "scale-placeholders.yaml", "main",
         {"cluster": "hubs", "hub": "stat101", "replicas": "0"}),
    ]
    issue = fake_github.issue(REPO, number)
    assert issue["state"] == "closed" and issue["state_reason"] == "completed"
    assert "event: done" in fake_github.labels(REPO, number)
    state = read_status(status_body(fake_github, number)).state
    assert [(r.kind, r.ok) for r in state.dispatches] == [("prewarm", True),
                                                          ("scale-down", True)]
    assert {"summary", "follow-up", "closed"} <= set(state.sent)


async def test_a_failed_dispatch_is_reported_once_and_retried(fake_github: FakeGitHub,
                                                              app_key: str) -> None:
    seed(fake_github)
    fake_github.set_workflows(PREWARM_REPO, ["something-else.yaml"])  # ours answers 404
    number = new_request(fake_github)
    clock = Clock(START - 3 * H)
    async with running_bot(fake_github, app_key, config=config(), clock=clock) as bot:
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
        await walk(bot, clock, number, START - H)
        fake_github.set_workflows(PREWARM_REPO, ["scale-placeholders.yaml"])
        await walk(bot, clock, number, START - H)
        metrics = bot.bot.metrics.render().decode()
    assert 'bot_dispatches_total{kind="prewarm",outcome="failed"} 3.0' in metrics
    assert 'bot_reminders_total{kind="dispatch-failed"} 1.0' in metrics
    failed = [r for r in replies(fake_github, number) if "Pre-warming failed" in r]
    assert len(failed) == 1 and "404" in failed[0]
    state = read_status(status_body(fake_github, number)).state
    assert [r.ok for r in state.dispatches] == [False, False, False]  # bounded: three tries
    assert fake_github.dispatches == []


async def test_start_up_reconciliation_triages_what_came_while_down(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    numbers = [new_request(fake_github), new_request(fake_github, event_name="Data workshop",
                                                     event_type=option("event_type", "work"))]
    plain = fake_github.add_issue(REPO, title="Typo in the docs", body="Fix it please")
    # Hold the issue lists, so reconciliation is still going when /healthz is asked.
    fake_github.faults.fault_paths = ("GET /repos/{owner}/{repo}/issues",)
    fake_github.faults.timeout_seconds = 0.3
    fake_github.faults.timeout_rate = 1.0
    cfg = config(tick_seconds=0.02, reconcile_seconds=3600, redeliver_seconds=3600)
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    async with running_bot(fake_github, app_key, config=cfg, clock=clock,
                           scheduler=True) as bot:
        async with bot.session.get(bot.server.make_url("/healthz")) as resp:
            assert resp.status == 200
            assert (await resp.json())["status"] == "ok"
        scheduler: Scheduler = bot.app["scheduler"]
        # It answered while reconciling (the held lists take 0.3 s a try), not after.
        assert scheduler.stats.reconciliations == 0
        fake_github.faults.timeout_rate = 0.0
        deadline = time.monotonic() + 20
        while scheduler.stats.reconciliations < 1:
            # On a slow machine the held pass may have given up already; it is retried after
            # a short backoff on the bot's clock, well inside the hour-long interval.
            assert time.monotonic() < deadline, "start-up reconciliation did not finish"
            clock.now += timedelta(seconds=1)
            await asyncio.sleep(0.05)
        fake_github.reset_log()
        assert await Scheduler(bot.bot).reconcile() == 2
        assert writes(fake_github) == []
    for n in numbers:
        assert len(bot_comments(fake_github, n)) == 1
        assert "event-request" in fake_github.labels(REPO, n)
    assert fake_github.comments(REPO, plain) == []


async def test_a_failed_start_up_reconciliation_is_retried_soon_not_next_interval(
        fake_github: FakeGitHub, app_key: str) -> None:
    seed(fake_github)
    number = new_request(fake_github)
    fake_github.faults.fault_paths = ("GET /repos/{owner}/{repo}/issues",)
    fake_github.faults.error_rate = 1.0  # GitHub down when the bot starts
    cfg = config(tick_seconds=0.02, reconcile_seconds=3600, redeliver_seconds=3600)
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    async with running_bot(fake_github, app_key, config=cfg, clock=clock,
                           scheduler=True) as bot:
        scheduler: Scheduler = bot.app["scheduler"]
        failures = scheduler.stats.failures_in_a_row
        deadline = time.monotonic() + 20
        while failures.get("reconcile", 0) < 1:
            assert time.monotonic() < deadline, "the start-up pass did not run"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # the clock stands still: no retry before the backoff
        assert failures["reconcile"] == 1
        # The backoff doubles from the client's longest (0.05 s here), far below the hour.
        while failures["reconcile"] < 3:
            assert time.monotonic() < deadline, "the failed pass was not tried again"
            clock.now += timedelta(seconds=1)
            await asyncio.sleep(0.02)
        assert scheduler.stats.reconciliations == 0
        assert bot_comments(fake_github, number) == []
        fake_github.faults.error_rate = 0.0  # GitHub is back: the next retry does the work
        while scheduler.stats.reconciliations < 1:
            assert time.monotonic() < deadline, "reconciliation did not recover"
            clock.now += timedelta(seconds=1)
            await asyncio.sleep(0.02)
        assert scheduler.stats.failures_in_a_row["reconcile"] == 0
    assert len(bot_comments(fake_github, number)) == 1


async def test_the_server_loop_ticks_on_the_injected_clock(fake_github: FakeGitHub,
                                                           app_key: str) -> None:
    seed(fake_github)
    number = new_request(fake_github)
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    cfg = config(tick_seconds=0.02, reconcile_seconds=10 * 24 * 3600,
                 redeliver_seconds=10 * 24 * 3600)
    async with running_bot(fake_github, app_key, config=cfg, clock=clock, scheduler=True):
        deadline = time.monotonic() + 20
        while not bot_comments(fake_github, number):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        clock.now = START - 21 * D + H
        while not replies(fake_github, number):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # more ticks: nothing more is said
    [reminder] = replies(fake_github, number)
    assert "Confirm the event details" in reminder


async def test_failed_deliveries_are_asked_for_again(fake_github: FakeGitHub,
                                                     app_key: str) -> None:
    seed(fake_github)
    number = new_request(fake_github)
    now = datetime.now(UTC)
    async with running_bot(fake_github, app_key, config=config(), clock=Clock(now)) as bot:
        fake_github.webhook_url = str(bot.server.make_url("/webhook"))
        payload = issues_payload(fake_github, REPO, number, "opened")
        stamp = now.timestamp()
        fake_github.add_delivery("lost", "issues", "opened", payload, 502,
                                 delivered_at=stamp - 3600)
        fake_github.add_delivery("recovered", "issues", "opened", payload, 500,
                                 delivered_at=stamp - 7200)
        fake_github.add_delivery("recovered", "issues", "opened", payload, 202,
                                 delivered_at=stamp - 7000, redelivery=True)
        fake_github.add_delivery("too-old", "issues", "opened", payload, 502,
                                 delivered_at=stamp - 4 * 24 * 3600)
        fake_github.add_delivery("hopeless", "issues", "opened", payload, 401,
                                 delivered_at=stamp - 600)
        for i in range(MAX_REDELIVERIES):
            fake_github.add_delivery("hopeless", "issues", "opened", payload, 401,
                                     delivered_at=stamp - 500 + i, redelivery=True)
        fake_github.add_delivery("fine", "issues", "opened", payload, 202,
                                 delivered_at=stamp - 100)

        scheduler = Scheduler(bot.bot)
        assert await scheduler.redeliver() == 1
        await fake_github.drain()
        await bot.settle()
        assert [(r.guid, r.status) for r in fake_github.redeliveries] == [("lost", 202)]
        assert len(bot_comments(fake_github, number)) == 1  # the lost opening, triaged
        assert await scheduler.redeliver() == 0  # it succeeded: not asked for again
        assert await Scheduler(bot.bot).redeliver() == 0  # nor by a new process


def _delivery(i: int, guid: str, code: int, *, redelivery: bool = False,
              status: str | None = None) -> dict[str, Any]:
    return {"id": i, "guid": guid, "status_code": code, "redelivery": redelivery,
            "status": status or ("OK" if code < 400 else f"Invalid HTTP Response: {code}"),
            "delivered_at": f"2026-11-23T10:00:{i:02d}Z", "event": "issues"}


@pytest.mark.parametrize(("deliveries", "already", "expected"), [
    ([_delivery(1, "a", 502)], (), [1]),
    ([_delivery(1, "a", 502), _delivery(2, "a", 202, redelivery=True)], (), []),
    # Delivered, then handed back at a shutdown and not taken: asked for again.
    ([_delivery(1, "a", 202), _delivery(2, "a", 502, redelivery=True)], (), [2]),
    ([_delivery(1, "a", 502), _delivery(2, "a", 202, redelivery=True),
      _delivery(3, "a", 502, redelivery=True)], (), [3]),
    ([_delivery(1, "a", 502), _delivery(2, "a", 503, redelivery=True)], (), [2]),
    ([_delivery(1, "a", 502)] + [_delivery(2 + i, "a", 502, redelivery=True)
                                 for i in range(MAX_REDELIVERIES)], (), []),
    ([_delivery(1, "a", 502)], ("a",), []),
    ([_delivery(1, "a", 200, status="failed to connect")], (), [1]),
    ([_delivery(1, "a", 0, status="failed to connect"), _delivery(2, "b", 404)], (), [1, 2]),
    ([{"id": "x", "guid": "a", "status_code": 500}, "junk", {"guid": None}], (), []),
])
def test_which_deliveries_are_asked_for_again(deliveries: list[Any], already: tuple[str, ...],
                                              expected: list[int]) -> None:
    assert failed_deliveries(deliveries, already) == expected


def test_the_agenda_backs_off_failed_syncs_and_then_leaves_them_to_reconciliation() -> None:
    agenda = Agenda()
    t0 = datetime(2027, 1, 1, tzinfo=UTC)
    cap = timedelta(minutes=15)
    agenda.set(REF, 1, t0 + D)
    assert agenda.due(t0) == [] and agenda.when(REF, 1) == t0 + D
    waits = []
    for _ in range(8):
        agenda.failed(REF, 1, t0, cap)
        when = agenda.when(REF, 1)
        assert when is not None
        waits.append(when - t0)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15, 15, 15)]
    agenda.failed(REF, 1, t0, cap)
    assert agenda.when(REF, 1) is None
    agenda.set(REF, 2, t0)
    agenda.set(RepoRef("Jupyter-Community", "Event-Requests", INSTALLATION), 3, t0 - H)
    assert [n for _, n in agenda.due(t0)] == [3, 2]
    agenda.set(REF, 2, None)
    assert len(agenda) == 1


async def test_the_tick_command_runs_one_pass(fake_github: FakeGitHub,
                                              app_env: dict[str, str]) -> None:
    seed(fake_github)
    number = new_request(fake_github)
    args = argparse.Namespace(config=str(ROOT / "config.yaml"))
    code = await asyncio.to_thread(tick, args, app_env)
    assert code == 0
    assert len(bot_comments(fake_github, number)) == 1


@pytest.mark.parametrize("missing", ["GITHUB_APP_ID", "GITHUB_WEBHOOK_SECRET"])
def test_tick_and_clock_refuse_to_start_without_credentials(missing: str,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    from bot.service.serve import clock

    env = {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": "x", "GITHUB_WEBHOOK_SECRET": "s"}
    del env[missing]
    args = argparse.Namespace(config=None)
    assert tick(args, env) == 2
    assert clock(args, env) == 2
    assert missing in capsys.readouterr().err


async def test_reconciliation_keeps_going_past_a_failing_request(fake_github: FakeGitHub,
                                                                 app_key: str) -> None:
    seed(fake_github)
    first, second = new_request(fake_github), new_request(fake_github)
    async with running_bot(fake_github, app_key, config=config()) as bot:
        fake_github.faults.error_rate = 1.0
        fake_github.faults.fault_paths = (f"/issues/{first}/comments",)
        await Scheduler(bot.bot).reconcile()
        assert (REPO.lower(), first) in bot.bot.failures
        assert bot.bot.agenda.when(REF, first) is not None  # retried by the tick, backing off
        assert len(bot_comments(fake_github, second)) == 1
        fake_github.faults.error_rate = 0.0
        clock: Clock = bot.bot.clock  # type: ignore[assignment]
        clock.now += timedelta(minutes=2)
        await Scheduler(bot.bot).tick()
        assert (REPO.lower(), first) not in bot.bot.failures
    assert len(bot_comments(fake_github, first)) == 1


async def test_a_web_process_without_the_scheduler_keeps_its_dashboard_current(
        fake_github: FakeGitHub, app_key: str) -> None:
    """Two processes: `web --no-scheduler` (A) and another that takes the webhook (B).
    A's index follows what B did, by reading only."""
    seed(fake_github)
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    quick = config(reconcile_seconds=0.1)
    async with running_bot(fake_github, app_key, config=quick, clock=clock) as web, \
            running_bot(fake_github, app_key, config=config(), clock=clock) as other:
        assert len(web.bot.index) == 0
        number = new_request(fake_github)
        await other.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await other.settle()
        assert other.bot.index.get(REPO, number) is not None
        deadline = time.monotonic() + 20
        while web.bot.index.get(REPO, number) is None:
            assert time.monotonic() < deadline, "the web process never saw the request"
            await asyncio.sleep(0.05)
        entry = web.bot.index.get(REPO, number)
        assert entry is not None and entry.assignees == other.bot.index.get(
            REPO, number).assignees  # type: ignore[union-attr]
        before = writes(fake_github)
        fake_github.edit_issue(REPO, number, state="closed")
        while web.bot.index.get(REPO, number) is not None:
            assert time.monotonic() < deadline, "a closed request stayed on the dashboard"
            await asyncio.sleep(0.05)
        assert writes(fake_github) == before  # the refresh read; it wrote nothing


async def test_two_overlapping_requests_on_one_hub_share_its_nodes(
        fake_github: FakeGitHub, app_key: str) -> None:
    """The index tells each sync what else runs on the hub: the first event's scale-down
    leaves the second's nodes, and only the last one out scales to zero."""
    seed(fake_github)
    first = new_request(fake_github)  # 13:00-16:00 Chicago
    second = new_request(fake_github, event_name="STAT 102 final",
                         start="2027-03-09 15:00", end="2027-03-09 18:00")
    clock = Clock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    async with running_bot(fake_github, app_key, config=config(), clock=clock) as bot:
        for number in (first, second):
            await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
            await bot.settle()
        for number in (first, second):  # the first learns of the second on its next sync
            await bot.bot.sync(REF, number)
        scheduler = Scheduler(bot.bot)
        until = END + 2 * H + D
        while True:
            due = [d for d in (bot.bot.agenda.when(REF, n) for n in (first, second))
                   if d is not None and d <= until]
            if not due:
                break
            clock.now = max(min(due), clock.now)
            await scheduler.tick()
    sent = [(dict(d.inputs)["replicas"]) for d in fake_github.dispatches]
    assert sent == ["4", "4", "4", "0"], fake_github.dispatches


async def test_a_fresh_process_books_every_listed_request_before_dispatching(
        fake_github: FakeGitHub, app_key: str) -> None:
    """Restarted while two events share a hub: the first one synced in the start-up pass
    (newest first) must not scale the hub to zero under the other, not yet synced."""
    seed(fake_github)
    later = new_request(fake_github, event_name="STAT 102 final",  # listed second
                        start="2027-03-09 15:00", end="2027-03-09 18:00")
    first = new_request(fake_github)  # 13:00-16:00 Chicago, listed first
    clock = Clock(START - 3 * H)
    async with running_bot(fake_github, app_key, config=config(), clock=clock) as bot:
        for number in (later, first):
            await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
            await bot.settle()
        scheduler = Scheduler(bot.bot)
        for now in (START - 2 * H, START):  # each request pre-warms at its lead time
            clock.now = now
            await scheduler.tick()
    assert [dict(d.inputs)["replicas"] for d in fake_github.dispatches] == ["4", "4"]
    clock.now = END + H  # down meanwhile: the first's scale-down fell due; the other runs on
    async with running_bot(fake_github, app_key, config=config(), clock=clock):
        pass  # its start-up reconciliation dispatches what is due
    assert [dict(d.inputs)["replicas"] for d in fake_github.dispatches] == ["4", "4", "4"]
