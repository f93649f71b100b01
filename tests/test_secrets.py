"""Secrets: the App key, tokens, the webhook secret and the dashboard token stay secret.

They never show in the log (at DEBUG, as JSON), in an error, in ``/healthz`` or in
``/metrics``; the webhook signature is compared in constant time; ``serve`` refuses to
start without its credentials (exit 2, one line); the dashboard and the calendar need
the dashboard token.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import re
import secrets
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import bot.service.serve
import bot.wiring
from bot.cli import build_parser
from bot.service.server import signature_ok

from .botapp import running_bot
from .fakegithub import FakeGitHub, Faults
from .payloads import deliver, issues_payload, sign
from .test_crash import ROOT, free_port, requests_in_burst, serve, wait_until, write_config
from .test_faults import faulty_config

REPO = "jupyter-community/event-requests"
INSTALLATION = 7001
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")


def secret_values(fake: FakeGitHub, pem: str, *others: str) -> set[str]:
    """Everything that must never be shown: key lines, every token issued, the secrets."""
    key_lines = {line for line in pem.splitlines() if line and "-----" not in line}
    issued = set(fake.issued_tokens)  # the installation tokens the fake gave the bot
    return key_lines | issued | {o for o in others if o}


def leaks(text: str, values: set[str]) -> list[str]:
    found = [v[:6] + "…" for v in values if v in text]
    if "PRIVATE KEY" in text:
        found.append("a PEM header")
    found += [m.group(0)[:10] + "…" for m in _JWT_RE.finditer(text)]
    return found


async def test_nothing_secret_in_the_log_healthz_or_metrics(
    fake_github: FakeGitHub, app_env: dict[str, str], app_key: str, tmp_path: Path
) -> None:
    fake_github.add_installation(INSTALLATION, "jupyter-community")
    fake_github.add_repo(REPO, INSTALLATION)
    webhook_secret = "whsec-" + secrets.token_hex(16)
    dashboard = "dash-" + secrets.token_hex(16)
    env = {**app_env, "GITHUB_WEBHOOK_SECRET": webhook_secret, "DASHBOARD_TOKEN": dashboard}
    config_path = write_config(tmp_path)
    log = tmp_path / "server.log"
    numbers = requests_in_burst(fake_github, datetime.now(timezone.utc))[:3]
    bodies: list[str] = []
    async with serve({**env, "LOG_LEVEL": "DEBUG"}, config_path, log, free_port(),
                     "--no-scheduler") as server, aiohttp.ClientSession() as session:
        # Work, a token revoked under the bot's feet, GitHub failing, bad deliveries.
        await deliver(server.url, "issues", issues_payload(fake_github, REPO, numbers[0],
                                                            "opened"), webhook_secret)
        await wait_until(lambda: fake_github.comments(REPO, numbers[0]), 10, "the first sync")
        fake_github.expire_tokens()
        fake_github.faults = Faults(error_rate=1.0, fault_paths=("/comments",))
        await deliver(server.url, "issues", issues_payload(fake_github, REPO, numbers[1],
                                                            "opened"), webhook_secret)
        assert await deliver(server.url, "issues", b"{}", "wrong-" + webhook_secret) == 401
        assert await deliver(server.url, "issues", b"{}", None) == 401
        await wait_until(lambda: any(r.status == 502 for r in fake_github.requests), 10,
                         "a failed call")
        await asyncio.sleep(0.5)  # its retries and the error it ends in
        fake_github.faults = Faults()
        for path, headers in (("/healthz", {}), ("/metrics", {}),
                              (f"/events.ics?token={dashboard}", {}),
                              ("/", {"Authorization": f"Bearer {dashboard}"}),
                              ("/?token=wrong", {})):
            async with session.get(server.url + path, headers=headers) as resp:
                bodies.append(f"{path.split('?')[0]} {resp.status} {await resp.text()}")
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.process.wait(), 15) == 0
    text = log.read_text(encoding="utf-8")
    assert '"level": "debug"' in text  # the log really was at DEBUG
    assert "failed" in text or "giving up" in text  # and shows the errors
    values = secret_values(fake_github, app_key, webhook_secret, dashboard)
    assert len(values) > 20  # the key's lines, at least two tokens, both secrets
    assert leaks(text, values) == []
    for body in bodies[:2]:  # /healthz and /metrics say nothing secret...
        assert leaks(body, values) == []
    for body in bodies[2:]:  # ...and the views do not echo the token they were given
        assert dashboard not in body


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("GITHUB_WEBHOOK_SECRET", "GITHUB_WEBHOOK_SECRET"),
        ("GITHUB_APP_ID", "GITHUB_APP_ID"),
        ("GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY"),
    ],
)
def test_serve_refuses_to_start_without_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], app_key: str,
    missing: str, named: str
) -> None:
    monkeypatch.setattr(bot.service.serve, "setup_logging", lambda *a, **k: None)
    monkeypatch.setattr(bot.wiring, "setup_logging", lambda *a, **k: None)
    monkeypatch.chdir(ROOT)
    env = {"GITHUB_APP_ID": "4242", "GITHUB_PRIVATE_KEY": app_key,
           "GITHUB_WEBHOOK_SECRET": "s3cret-value", "GITHUB_API_URL": "http://127.0.0.1:9"}
    del env[missing]
    args: argparse.Namespace = build_parser().parse_args(["serve", "--no-scheduler"])
    assert bot.wiring.serve(args, env) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert named in err
    assert "s3cret-value" not in err and "PRIVATE KEY" not in err


def test_a_broken_key_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], app_key: str
) -> None:
    monkeypatch.setattr(bot.service.serve, "setup_logging", lambda *a, **k: None)
    monkeypatch.setattr(bot.wiring, "setup_logging", lambda *a, **k: None)
    monkeypatch.chdir(ROOT)
    broken = app_key.replace("\n", "\n#", 3)
    env = {"GITHUB_APP_ID": "4242", "GITHUB_PRIVATE_KEY": broken,
           "GITHUB_WEBHOOK_SECRET": "s3cret-value"}
    args = build_parser().parse_args(["serve"])
    assert bot.wiring.serve(args, env) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "GITHUB_PRIVATE_KEY" in err
    assert not any(line in err for line in app_key.splitlines()[1:-1])


async def test_python_m_bot_serve_without_a_secret_exits_2_with_one_line(
    app_key: str, tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "GITHUB_APP_ID": "4242", "GITHUB_PRIVATE_KEY": app_key,
           "PORT": str(free_port()), "BOT_CONFIG": str(write_config(tmp_path))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "GITHUB_WEBHOOK_SECRET" in lines[0], lines
    assert "PRIVATE KEY" not in out.decode() + err.decode()


def test_the_signature_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    body = b'{"action": "opened"}'
    good = sign(body, "k3y")
    cases = [(good, True), (good[:-1] + ("0" if good[-1] != "0" else "1"), False),
             ("sha256=" + "0" * 64, False), ("sha256=" + good[7:].upper(), False)]
    for header, expected in cases:
        assert signature_ok("k3y", body, header) is expected
    assert len(compared) == len(cases)  # every check went through compare_digest
    assert signature_ok("k3y", body, None) is False
    assert signature_ok("k3y", body, "sha1=abc") is False


@pytest.mark.parametrize(
    ("configured", "path", "headers", "status"),
    [
        (None, "/", {}, 404),
        (None, "/events.ics", {}, 404),
        ("tok-1234567890", "/", {}, 401),
        ("tok-1234567890", "/events.ics", {}, 401),
        ("tok-1234567890", "/", {"Authorization": "Bearer wrong"}, 401),
        ("tok-1234567890", "/events.ics?token=tok-123456789", {}, 401),
        ("tok-1234567890", "/", {"Authorization": "Bearer tok-1234567890"}, 200),
        ("tok-1234567890", "/events.ics?token=tok-1234567890", {}, 200),
    ],
)
async def test_the_dashboard_and_calendar_need_the_token(
    fake_github: FakeGitHub, app_key: str, configured: str | None, path: str,
    headers: dict[str, str], status: int
) -> None:
    async with (
        running_bot(fake_github, app_key, config=faulty_config(), dashboard_token=configured,
                    github=False) as running,
        running.session.get(running.url.rstrip("/") + path, headers=headers) as resp,
    ):
        assert resp.status == status
        text = await resp.text()
    if status != 200 and configured:
        assert configured not in text
