"""SIGTERM: stop taking webhooks, finish (or hand back) what is in flight, exit 0 in time.

A platform restarting the process sends SIGTERM and waits about 30 s. The bot answers
new webhooks ``503`` from then on (GitHub records the failure and the redelivery sweep
sends it again), finishes the queued deliveries within ``server.shutdown_grace_seconds``,
and leaves what it could not finish to the next start's reconciliation.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp

from bot.config import load_config

from .botapp import running_bot
from .fakegithub import FakeGitHub, Faults
from .payloads import deliver, issues_payload
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
