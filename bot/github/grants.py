"""What the App itself was granted (``GET /app``), checked by ``check-config``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..core.config import GitHubClientConfig
from .client import GitHubApp, GitHubError, api_url, credentials_from_env

# What the App must be granted (app.yml says the same; a test keeps them in step).
REQUIRED_PERMISSIONS: Mapping[str, str] = {
    "issues": "write",  # labels, assignees, the status comment
    "contents": "read",  # .github/event-bot.yml and the issue form
    "metadata": "read",  # every App has it
    "actions": "write",  # dispatching the pre-warm workflow
    "members": "read",  # team-lead teams
}
# Installation events reach every App without a subscription, so only these are checked.
REQUIRED_EVENTS: tuple[str, ...] = ("issues", "issue_comment")
_LEVELS = {"none": 0, "read": 1, "write": 2, "admin": 3}

def permission_problems(app_json: Any) -> list[str]:
    """What ``GET /app`` says the App lacks, one line per problem (empty when all is there)."""
    if not isinstance(app_json, dict):
        return ["GitHub App: GET /app did not answer with an App"]
    granted = app_json.get("permissions")
    granted = granted if isinstance(granted, dict) else {}
    problems = []
    for name, wanted in REQUIRED_PERMISSIONS.items():
        have = str(granted.get(name) or "none")
        if _LEVELS.get(have, 0) < _LEVELS[wanted]:
            problems.append(f"GitHub App: permission {name!r} is {have!r}, the bot needs "
                            f"{wanted!r} (see app.yml)")
    events = app_json.get("events")
    subscribed = {str(e) for e in events} if isinstance(events, list) else set()
    for event in REQUIRED_EVENTS:
        if event not in subscribed:
            problems.append(f"GitHub App: not subscribed to the {event!r} event (see app.yml)")
    return problems


async def app_get(app: GitHubApp, path: str) -> Any:
    """A GET as the App itself (JWT), e.g. ``/app`` or ``/repos/O/R/installation``.

    ``GitHubApp`` keeps its App-level channel to itself; this goes through it so
    the call gets the same retries, pacing and ETag cache as every other.
    """
    data, _ = await app._channel.request("GET", path)
    return data


async def check_app_grants(env: Mapping[str, str], config: GitHubClientConfig
                           ) -> list[str] | None:
    """Problems with what the App was granted (``GET /app``); None without App credentials.

    Used by ``check-config`` when the App's id and key are in the environment.
    """
    import aiohttp


    try:
        creds = credentials_from_env(env)
    except ValueError as e:
        return [f"GitHub App: {e}"]
    if creds is None:
        return None
    quick = replace(config, retries=min(config.retries, 1), backoff_max_seconds=2.0)
    async with aiohttp.ClientSession() as session:
        app = GitHubApp(session, creds, api_url(env), quick)
        try:
            data = await app_get(app, "/app")
        except GitHubError as e:
            return [f"GitHub App: cannot read its settings with GET /app ({e})"]
    return permission_problems(data)
