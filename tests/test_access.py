"""The dashboard token, the App manifest, and check-config's look at the App's grants."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.cli import main
from bot.github.grants import REQUIRED_EVENTS, REQUIRED_PERMISSIONS, permission_problems
from bot.views.access import presented_token, refusal, token_matches

from . import fakegithub
from .fakegithub import FakeGitHub

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("headers", "path", "token"),
    [({}, "/", None),
     ({"Authorization": "Bearer abc"}, "/", "abc"),
     ({"Authorization": "bearer  abc "}, "/", "abc"),
     ({"Authorization": "Basic abc"}, "/", None),
     ({"Authorization": "Bearer "}, "/?token=q", "q"),
     ({}, "/events.ics?token=q%2Bw", "q+w"),
     ({"Authorization": "Bearer h"}, "/?token=q", "h"),
     ({}, "/?token=", None)],
)
def test_the_token_comes_from_the_header_or_the_query(headers: dict[str, str], path: str,
                                                      token: str | None) -> None:
    assert presented_token(make_mocked_request("GET", path, headers=headers)) == token


@pytest.mark.parametrize(
    ("presented", "expected", "ok"),
    [("s3cret", "s3cret", True), ("s3cre", "s3cret", False), (None, "s3cret", False),
     ("", "s3cret", False), ("ünï", "ünï", True), ("S3CRET", "s3cret", False)],
)
def test_tokens_compare_exactly(presented: str | None, expected: str, ok: bool) -> None:
    assert token_matches(presented, expected) is ok


@pytest.mark.parametrize(
    ("expected", "path", "status"),
    [(None, "/?token=x", 404), ("", "/?token=", 404), ("x", "/", 401), ("x", "/?token=y", 401),
     ("x", "/?token=x", None)],
)
def test_refusals(expected: str | None, path: str, status: int | None) -> None:
    answer = refusal(make_mocked_request("GET", path), expected)
    assert (answer.status if isinstance(answer, web.Response) else None) == status


def test_the_manifest_asks_for_what_the_bot_checks() -> None:
    manifest = yaml.safe_load((ROOT / "app.yml").read_text())
    assert manifest["default_permissions"] == dict(REQUIRED_PERMISSIONS)
    assert tuple(manifest["default_events"]) == REQUIRED_EVENTS
    assert manifest["hook_attributes"]["url"].endswith("/webhook")
    for key in ("name", "url", "redirect_url"):
        assert isinstance(manifest[key], str) and manifest[key]


FULL = {"permissions": dict(REQUIRED_PERMISSIONS), "events": list(REQUIRED_EVENTS)}


@pytest.mark.parametrize(
    ("app", "problems"),
    [(FULL, []),
     ({**FULL, "permissions": {**REQUIRED_PERMISSIONS, "issues": "admin",
                               "checks": "write"}}, []),
     ({**FULL, "permissions": {**REQUIRED_PERMISSIONS, "issues": "read"}},
      ["permission 'issues' is 'read', the bot needs 'write'"]),
     ({**FULL, "permissions": {k: v for k, v in REQUIRED_PERMISSIONS.items()
                               if k != "actions"}},
      ["permission 'actions' is 'none', the bot needs 'write'"]),
     ({**FULL, "events": ["issues"]}, ["not subscribed to the 'issue_comment' event"]),
     ({}, ["permission 'issues' is 'none'", "permission 'contents' is 'none'",
           "permission 'metadata' is 'none'", "permission 'actions' is 'none'",
           "permission 'members' is 'none'", "'issues' event", "'issue_comment' event"]),
     ("not an app", ["did not answer with an App"])],
)
def test_permission_problems(app: Any, problems: list[str]) -> None:
    found = permission_problems(app)
    assert len(found) == len(problems)
    for line, part in zip(found, problems, strict=True):
        assert line.startswith("GitHub App: ") and part in line


async def check_config(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> int:
    for key in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH",
                "GITHUB_API_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return await asyncio.to_thread(main, ["check-config", str(ROOT / "config.yaml")])


async def test_check_config_checks_the_apps_grants(
        fake_github: FakeGitHub, app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert await check_config(app_env, monkeypatch) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "GitHub App: the permissions and events app.yml lists are granted" in out
    assert fake_github.calls("GET", operation_id="apps/get-authenticated")

    monkeypatch.setattr(fakegithub, "_APP_PERMISSIONS", {**REQUIRED_PERMISSIONS,
                                                         "actions": "read"})
    assert await check_config(app_env, monkeypatch) == 1
    assert ("GitHub App: permission 'actions' is 'read', the bot needs 'write' (see app.yml)"
            in capsys.readouterr().out.splitlines())


async def test_check_config_without_credentials_does_not_call_github(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert await check_config({}, monkeypatch) == 0
    assert "GitHub App" not in capsys.readouterr().out


async def test_check_config_says_when_the_app_cannot_be_reached(
        monkeypatch: pytest.MonkeyPatch, app_key: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    env = {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": app_key,
           "GITHUB_API_URL": "http://127.0.0.1:9/api/v3"}
    assert await check_config(env, monkeypatch) == 1
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("GitHub App")]
    assert len(lines) == 1 and "GET /app" in lines[0]
