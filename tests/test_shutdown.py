"""SIGTERM: stop taking webhooks, finish (or hand back) what is in flight, exit 0 in time.

A platform restarting the process sends SIGTERM and waits about 30 s. The bot answers
new webhooks ``503`` from then on (GitHub records the failure and the redelivery sweep
sends it again), finishes the queued deliveries within ``server.shutdown_grace_seconds``,
leaves the issues it could not finish to the next start's reconciliation, and hands the
commands it could not finish back to GitHub to be delivered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest

from bot.service.loading import load_config
from bot.service.scheduler import Scheduler

from .botapp import running_bot
from .fakegithub import FakeGitHub, Faults
from .payloads import deliver, issue_comment_payload, issues_payload
from .test_crash import (
    INSTALLATION,
    REPO,
    free_port,
    requests_in_burst,
    serve,
    status_comments,
    wait_until,
    write_config,
)
from .test_faults import faulty_config, unsettled


def seed(fake: FakeGitHub) -> None:
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)


async def test_shutting_down_answers_503_and_finishes_the_queue(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    config = faulty_config()
    async with running_bot(fake_github, app_key, config=config) as running:
        numbers = requests_in_burst(fake_github, datetime.now(timezone.utc))[:5]
        fake_github.faults = Faults(latency_seconds=0.03)
        for n in numbers:
            resp = await running.deliver("issues", issues_payload(fake_github, REPO, n, "opened"))
            assert resp.status == 202
        shutdown = asyncio.create_task(running.app.shutdown())  # what SIGTERM starts
        await asyncio.sleep(0)
        late = await running.deliver("issues", issues_payload(fake_github, REPO, numbers[0],
                                                              "edited"))
        assert late.status == 503
        async with running.session.get(running.server.make_url("/healthz")) as resp:
            assert (await resp.json())["status"] == "shutting-down"
        await asyncio.wait_for(shutdown, config.server.shutdown_grace_seconds + 5)
        assert running.queue.depth == 0 and running.queue.in_flight == 0
    # Everything taken before the signal was finished.
    for n in numbers:
        assert len(status_comments(fake_github, n)) == 1, n


async def test_work_cut_off_by_the_grace_is_picked_up_on_the_next_start(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    base = faulty_config()
    config = replace(base, server=replace(base.server, shutdown_grace_seconds=0.3, workers=2))
    now = datetime.now(timezone.utc)
    async with running_bot(fake_github, app_key, config=config) as running:
        numbers = requests_in_burst(fake_github, now)[:6]
        fake_github.faults = Faults(latency_seconds=0.1)
        for n in numbers:
            await running.deliver("issues", issues_payload(fake_github, REPO, n, "opened"))
        loop = asyncio.get_running_loop()
        began = loop.time()
        await running.app.shutdown()
        took = loop.time() - began
        assert took < 0.3 + 1.0  # the grace, and not much more
        cut_off = running.queue.pending_ids
    assert cut_off, "the grace was long enough for everything: nothing was cut off"
    assert sum(1 for n in numbers if unsettled(fake_github, REPO, n, config, now) == []) < 6
    fake_github.faults = Faults()
    async with running_bot(fake_github, app_key, config=config):
        pass  # its start-up reconciliation runs before this
    for n in numbers:
        assert len(status_comments(fake_github, n)) == 1, n
        assert unsettled(fake_github, REPO, n, config, datetime.now(timezone.utc)) == [], n


async def test_sigterm_exits_0_within_the_grace_and_refuses_later_webhooks(
    fake_github: FakeGitHub, app_env: dict[str, str], tmp_path: Path
) -> None:
    seed(fake_github)
    grace = 2.0
    config_path = write_config(tmp_path, shutdown_grace_seconds=grace, workers=2)
    config = load_config(config_path)
    port = free_port()
    now = datetime.now(timezone.utc)
    numbers = requests_in_burst(fake_github, now)[:6]
    secret = app_env["GITHUB_WEBHOOK_SECRET"]
    log = tmp_path / "server.log"
    async with serve(app_env, config_path, log, port, "--no-scheduler") as server:
        fake_github.faults = Faults(latency_seconds=0.05)
        for n in numbers:
            code = await deliver(server.url, "issues",
                                 issues_payload(fake_github, REPO, n, "opened"), secret)
            assert code == 202
        loop = asyncio.get_running_loop()
        began = loop.time()
        server.process.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.2)
        # Not taken any more: a 503, or no connection at all once the socket is closed.
        with contextlib.suppress(aiohttp.ClientError, OSError):
            late = await deliver(server.url, "issues",
                                 issues_payload(fake_github, REPO, numbers[0], "edited"), secret)
            assert late == 503
        code = await asyncio.wait_for(server.process.wait(), grace + 8)
        took = loop.time() - began
    assert code == 0
    assert took < grace + 3
    fake_github.faults = Faults()
    # What was left is done by the next start's reconciliation.
    async with serve(app_env, config_path, log, port, "--no-scheduler"):
        await wait_until(lambda: all(unsettled(fake_github, REPO, n, config,
                                               now + timedelta(minutes=1)) == []
                                     for n in numbers), 20, "reconciliation after restart")
    for n in numbers:
        assert len(status_comments(fake_github, n)) == 1


async def test_a_command_cut_off_by_the_grace_is_handed_back_and_run_by_the_next_process(
    fake_github: FakeGitHub, app_key: str
) -> None:
    from .test_commands_integration import CONFIG, opened, replies
    from .test_commands_integration import seed as seed_leads

    seed_leads(fake_github)
    config = replace(CONFIG, server=replace(CONFIG.server, shutdown_grace_seconds=0.2,
                                            workers=1))
    guid = "approve-cut-off"
    async with running_bot(fake_github, app_key, config=config) as running:
        scene = await opened(fake_github, running)
        assert "tier: pending" in scene.labels
        fake_github.webhook_url = str(running.server.make_url("/webhook"))
        comment_id = fake_github.add_comment(REPO, scene.number, "/approve-tier", "lead-lee")
        payload = issue_comment_payload(fake_github, REPO, scene.number, comment_id)
        fake_github.add_delivery(guid, "issue_comment", "created", payload, 202)
        fake_github.faults = Faults(latency_seconds=0.5)  # the grace runs out mid-command
        assert (await running.deliver("issue_comment", payload, guid)).status == 202
        await running.app.shutdown()
        await fake_github.drain()
    # GitHub was asked to deliver it again; this process, shutting down, refused it.
    assert [(r.guid, r.status) for r in fake_github.redeliveries] == [(guid, 503)]
    assert "tier: pending" in scene.labels and replies(fake_github, scene.number) == []
    fake_github.faults = Faults()
    async with running_bot(fake_github, app_key, config=config) as running:
        fake_github.webhook_url = str(running.server.make_url("/webhook"))
        assert await Scheduler(running.bot).redeliver() == 1  # the next start's sweep
        await fake_github.drain()
        await running.settle()
    assert "tier: enhanced" in scene.labels and "tier: pending" not in scene.labels
    [reply] = replies(fake_github, scene.number)
    assert "approved the `enhanced` tier" in reply


async def test_a_command_missing_from_the_delivery_log_is_named_for_the_operator(
    fake_github: FakeGitHub, app_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    from .test_commands_integration import CONFIG, opened
    from .test_commands_integration import seed as seed_leads

    seed_leads(fake_github)
    config = replace(CONFIG, server=replace(CONFIG.server, shutdown_grace_seconds=0.1,
                                            workers=1))
    async with running_bot(fake_github, app_key, config=config) as running:
        scene = await opened(fake_github, running)
        comment_id = fake_github.add_comment(REPO, scene.number, "/approve-tier", "lead-lee")
        payload = issue_comment_payload(fake_github, REPO, scene.number, comment_id)
        fake_github.faults = Faults(latency_seconds=0.4)
        await running.deliver("issue_comment", payload, "not-in-the-log")
        await running.app.shutdown()
    assert fake_github.redeliveries == []
    lost = [r.getMessage() for r in caplog.records if "could not be handed back" in
            r.getMessage()]
    assert len(lost) == 1 and "not-in-the-log" in lost[0]
