"""Crash and restart: ``python -m bot serve`` killed with SIGKILL mid-burst, started again.

The server runs as a real subprocess against the loopback fake GitHub (which runs in the
test's event loop and answers slowly, so the kill lands in the middle of the work). The
second process catches up by its start-up reconciliation and by GitHub redelivering what
the first one never finished; every request must end as one clean run leaves it, with
one status comment each. Every wait is bounded, so the test stops by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bot.core.status import MARKER
from bot.service.loading import load_config

from .fakegithub import FakeGitHub, Faults
from .payloads import deliver, issues_payload
from .test_faults import BOT_LOGIN, form_body, option, unsettled

ROOT = Path(__file__).resolve().parent.parent
REPO = "jupyter-community/event-requests"
INSTALLATION = 7001
BURST = 10
START_TIMEOUT = 20.0
CONVERGE_TIMEOUT = 25.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(tmp_path: Path, **server: Any) -> Path:
    """The shipped config with millisecond waits (every wait comes from config)."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["github"] = {"timeout_seconds": 3, "retries": 4, "backoff_base_seconds": 0.01,
                     "backoff_max_seconds": 0.05, "write_interval_seconds": 0.0,
                     "secondary_limit_fallback_seconds": 0.2}
    raw["server"] = {"workers": 4, "shutdown_grace_seconds": 5, **server}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@dataclass
class ServerProcess:
    process: asyncio.subprocess.Process
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()


async def wait_healthy(server: ServerProcess, timeout: float = START_TIMEOUT) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as session:
        while loop.time() < deadline:
            if server.process.returncode is not None:
                raise AssertionError(f"the server exited ({server.process.returncode}):\n"
                                     + "\n".join(server.lines()[-20:]))
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(f"{server.url}/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise AssertionError("the server did not answer /healthz in time:\n"
                         + "\n".join(server.lines()[-20:]))


@contextlib.asynccontextmanager
async def serve(env: dict[str, str], config: Path, log: Path, port: int,
                *args: str) -> AsyncIterator[ServerProcess]:
    """``python -m bot serve`` in a subprocess; killed at the end whatever happened."""
    full_env = {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO", **env,
                "PORT": str(port), "BOT_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", *args, cwd=ROOT, env=full_env,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT)
    server = ServerProcess(process, port, log)
    try:
        await wait_healthy(server)
        yield server
    finally:
        if process.returncode is None:
            process.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 10)


def status_comments(fake: FakeGitHub, number: int) -> list[dict[str, Any]]:
    return [c for c in fake.comments(REPO, number)
            if MARKER in c["body"] and c["user"]["login"] == BOT_LOGIN]


async def wait_until(check: Any, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def requests_in_burst(fake: FakeGitHub, now: datetime) -> list[int]:
    """Requests opened a day ago for events some weeks ahead, of several kinds."""
    kinds = ("exam", "workshop", "demo", "other")
    numbers = []
    for i in range(BURST):
        start = (now + timedelta(days=40 + i)).strftime("%Y-%m-%d 13:00")
        end = (now + timedelta(days=40 + i)).strftime("%Y-%m-%d 16:00")
        answers: dict[str, str | None] = {
            "event_type": option("event_type", kinds[i % 4]), "start": start, "end": end,
            "event_name": f"Event {i}"}
        if i % 5 == 3:
            answers["attendees"] = "lots"  # needs-info
        numbers.append(fake.add_issue(REPO, labels=["event-request"], body=form_body(**answers),
                                      created_at=now - timedelta(days=1)))
    return numbers


async def test_sigkill_mid_burst_then_restart_converges_without_duplicates(
    fake_github: FakeGitHub, app_env: dict[str, str], tmp_path: Path
) -> None:
    fake_github.add_installation(INSTALLATION, "jupyter-community")
    fake_github.add_repo(REPO, INSTALLATION)
    config_path = write_config(tmp_path)
    config = load_config(config_path)
    log = tmp_path / "server.log"
    port = free_port()
    now = datetime.now(timezone.utc)
    numbers = requests_in_burst(fake_github, now)
    payloads = {n: issues_payload(fake_github, REPO, n, "opened") for n in numbers}
    secret = app_env["GITHUB_WEBHOOK_SECRET"]

    async with serve(app_env, config_path, log, port, "--no-scheduler") as first:
        # GitHub answers slowly: the burst takes a while, and the kill lands inside it.
        fake_github.faults = Faults(latency_seconds=0.04)
        answers = await asyncio.gather(*(
            deliver(first.url, "issues", payloads[n], secret, f"burst-{n}") for n in numbers))
        assert answers == [202] * BURST
        await wait_until(lambda: any(status_comments(fake_github, n) for n in numbers),
                         10, "the first status comment")
        first.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(first.process.wait(), 10)
        assert first.process.returncode == -signal.SIGKILL
    done_before = sum(1 for n in numbers if status_comments(fake_github, n))
    assert done_before < BURST, "the kill came after the burst: nothing was interrupted"

    fake_github.faults = Faults()
    async with serve(app_env, config_path, log, port, "--no-scheduler") as second:
        # GitHub's redelivery sweep sends the same deliveries again (same ids).
        again = await asyncio.gather(*(
            deliver(second.url, "issues", payloads[n], secret, f"burst-{n}") for n in numbers))
        assert set(again) == {202}

        def converged() -> bool:
            return all(unsettled(fake_github, REPO, n, config, datetime.now(timezone.utc)) == []
                       for n in numbers)

        await wait_until(converged, CONVERGE_TIMEOUT, "every request to be correct")
        await asyncio.sleep(0.3)  # anything still in flight would show up now
        second.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(second.process.wait(), 10)
        assert code == 0

    for n in numbers:
        assert len(status_comments(fake_github, n)) == 1, n
        labels = fake_github.labels(REPO, n)
        assert ("needs-info" in labels) == (n % 5 == 4), (n, labels)  # the 4th of each five
    assert all(unsettled(fake_github, REPO, n, config, datetime.now(timezone.utc)) == []
               for n in numbers)
    # The log is JSON, one object a line, each naming its delivery and issue.
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()
               if line.startswith("{")]
    applied = [r for r in records if r["message"].startswith("applied ")]
    assert applied
    assert all(r["issue"].startswith(f"{REPO}#") for r in applied)
    assert any(r["delivery"].startswith("burst-") for r in applied)
    assert "PRIVATE KEY" not in log.read_text(encoding="utf-8")
