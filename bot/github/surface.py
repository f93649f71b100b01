"""What the bot asks of GitHub: ``GitHubClient``, the calls built on a few REST primitives.

No planning logic lives here, and nothing about how a call is sent: the concrete
clients (``bot.github.clients``) send the primitives over a channel, or record them.
Every name that goes into a URL is checked here first.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import logging
import math
import re
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import cachetools

from bot.core.config import GitHubClientConfig
from bot.core.model import parse_github_time as parse_time
from bot.github.errors import GitHubError
from bot.github.ratelimit import Clock

log = logging.getLogger("bot.github")

_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_.\-\[\]]+$")


# --- names that go into URLs -----------------------------------------------


def url_segment(value: str, what: str) -> str:
    """One path segment of a URL, or ValueError for a name that could steer the URL."""
    if not isinstance(value, str) or not _SEGMENT_RE.match(value) or value in (".", ".."):
        raise ValueError(f"{what} {value!r} cannot be part of a GitHub URL")
    return urllib.parse.quote(value, safe="")


def repo_path(repo: str) -> str:
    """``/repos/OWNER/NAME`` for ``OWNER/NAME``, each part checked."""
    owner, _, name = repo.partition("/") if isinstance(repo, str) else ("", "", "")
    return f"/repos/{url_segment(owner, 'owner')}/{url_segment(name, 'repository')}"


def whole_number(value: int, what: str = "number") -> int:
    """A positive whole number for a URL (an issue, a comment, an installation)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{what} {value!r} is not a positive whole number")
    return value


# --- the client surface ----------------------------------------------------


class GitHubClient(abc.ABC):
    """What the bot needs from GitHub: REST primitives and the calls built on them.

    ``repo`` is always ``OWNER/NAME``; URLs are relative to GITHUB_API_URL or
    absolute under it.
    """

    def __init__(self, config: GitHubClientConfig, clock: Clock,
                 wall_clock: Clock = time.time) -> None:
        self.config = config
        self._wall_clock = wall_clock
        ttl = config.permission_cache_seconds
        self._permissions: cachetools.TTLCache[tuple[str, str], str] = cachetools.TTLCache(
            maxsize=4096, ttl=ttl, timer=clock)
        self._teams: cachetools.TTLCache[tuple[str, str, str], bool] = cachetools.TTLCache(
            maxsize=4096, ttl=ttl, timer=clock)
        self._users: cachetools.TTLCache[str, bool] = cachetools.TTLCache(
            maxsize=4096, ttl=ttl, timer=clock)

    @abc.abstractmethod
    async def get(self, url: str, params: Mapping[str, Any] | None = None) -> Any: ...

    @abc.abstractmethod
    async def get_all(self, url: str, params: Mapping[str, Any] | None = None,
                      items_key: str | None = None) -> list[Any]: ...

    @abc.abstractmethod
    async def post(self, url: str, data: Any, *, idempotent: bool = False) -> Any:
        """``idempotent``: sending it twice does no harm, so it may be retried blindly."""

    @abc.abstractmethod
    async def patch(self, url: str, data: Any) -> Any: ...

    @abc.abstractmethod
    async def put(self, url: str, data: Any = None) -> Any: ...

    @abc.abstractmethod
    async def delete(self, url: str, data: Any = None) -> None: ...

    async def _pause_before_retry(self, failures: int) -> None:
        """Wait before trying a failed write again (no wait where nothing is sent)."""
        await asyncio.sleep(0)

    async def issue(self, repo: str, number: int) -> dict[str, Any]:
        data = await self.get(f"{repo_path(repo)}/issues/{whole_number(number)}")
        return data if isinstance(data, dict) else {}

    async def issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        items = await self.get_all(f"{repo_path(repo)}/issues/{whole_number(number)}/comments")
        return [c for c in items if isinstance(c, dict)]

    async def open_issues(self, repo: str, label: str | None = None) -> list[dict[str, Any]]:
        """Open issues (pull requests left out), with ``label`` when given; ETag-cached."""
        params: dict[str, Any] = {"state": "open", "per_page": 100}
        if label:
            params["labels"] = label
        items = await self.get_all(f"{repo_path(repo)}/issues", params)
        return [i for i in items if isinstance(i, dict) and "pull_request" not in i]

    async def repositories(self) -> list[dict[str, Any]]:
        items = await self.get_all("/installation/repositories", items_key="repositories")
        return [r for r in items if isinstance(r, dict)]

    async def update_issue(self, repo: str, number: int, **fields: Any) -> dict[str, Any]:
        data = await self.patch(f"{repo_path(repo)}/issues/{whole_number(number)}", fields)
        return data if isinstance(data, dict) else {}

    async def create_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        """Post a comment exactly once, even when GitHub fails after posting it.

        A POST is not repeated blindly: after an answer that leaves open whether
        the comment was made, the issue's comments are read and the POST is
        repeated only if the comment is not there.
        """
        url = f"{repo_path(repo)}/issues/{whole_number(number)}/comments"
        # GitHub's created_at has whole seconds: look from the second before.
        since = math.floor(self._wall_clock()) - 1
        failures = 0
        while True:
            try:
                data = await self.post(url, {"body": body})
                return data if isinstance(data, dict) else {}
            except GitHubError as exc:
                failures += 1
                if not exc.ambiguous or failures > self.config.retries:
                    raise
            await self._pause_before_retry(failures)
            posted = await self._comment_posted_since(repo, number, body, since)
            if posted is not None:
                log.info("comment on %s#%d was made before the error; not posting it again",
                         repo, number)
                return posted

    async def _comment_posted_since(self, repo: str, number: int, body: str,
                                    since: float) -> dict[str, Any] | None:
        wanted = _normalise_body(body)
        comments: list[dict[str, Any]] = await self.issue_comments(repo, number)
        for comment in comments[::-1]:
            created = parse_time(comment.get("created_at"))
            if created is None or created.timestamp() < since:
                continue
            if _normalise_body(str(comment.get("body") or "")) == wanted:
                return comment
        return None

    async def edit_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        url = f"{repo_path(repo)}/issues/comments/{whole_number(comment_id, 'id')}"
        data = await self.patch(url, {"body": body})
        return data if isinstance(data, dict) else {}

    async def delete_comment(self, repo: str, comment_id: int) -> None:
        try:
            await self.delete(f"{repo_path(repo)}/issues/comments/{whole_number(comment_id, 'id')}")
        except GitHubError as exc:
            if exc.status != 404:  # already gone is what we wanted
                raise

    async def add_reaction(self, repo: str, comment_id: int, content: str = "+1") -> None:
        # GitHub answers 200 for a reaction that exists: safe to repeat.
        url = f"{repo_path(repo)}/issues/comments/{whole_number(comment_id, 'id')}/reactions"
        await self.post(url, {"content": content}, idempotent=True)

    async def permission(self, repo: str, user: str) -> str:
        """``admin``, ``write``, ``read`` or ``none`` (``maintain`` reads as ``write``)."""
        key = (repo.lower(), user.lower())
        cached = self._permissions.get(key)
        if cached is not None:
            return cached
        try:
            data = await self.get(
                f"{repo_path(repo)}/collaborators/{url_segment(user, 'login')}/permission")
        except GitHubError as exc:
            if exc.status != 404:
                raise
            data = {}
        level = data.get("permission") if isinstance(data, dict) else None
        result = level if isinstance(level, str) and level else "none"
        self._permissions[key] = result
        return result

    async def is_user(self, login: str) -> bool:
        """Whether ``login`` is a person's GitHub account (``GET /users/{login}``, cached)."""
        key = login.lower()
        cached = self._users.get(key)
        if cached is not None:
            return cached
        try:
            data = await self.get(f"/users/{url_segment(login, 'login')}")
        except GitHubError as exc:
            if exc.status != 404:
                raise
            data = {}
        result = isinstance(data, dict) and data.get("type") == "User"
        self._users[key] = result
        return result

    async def is_team_member(self, org: str, team: str, user: str) -> bool:
        key = (org.lower(), team.lower(), user.lower())
        cached = self._teams.get(key)
        if cached is not None:
            return cached
        url = (f"/orgs/{url_segment(org, 'org')}/teams/{url_segment(team, 'team')}"
               f"/memberships/{url_segment(user, 'login')}")
        try:
            data = await self.get(url)
        except GitHubError as exc:
            if exc.status != 404:
                raise
            data = {}
        result = isinstance(data, dict) and data.get("state") == "active"
        self._teams[key] = result
        return result

    async def dispatch_workflow(self, repo: str, workflow: str, ref: str,
                                inputs: Mapping[str, str]) -> None:
        url = f"{repo_path(repo)}/actions/workflows/{url_segment(workflow, 'workflow')}/dispatches"
        # A second run scales to the same size as the first: safe to repeat.
        await self.post(url, {"ref": ref, "inputs": dict(inputs)}, idempotent=True)

    async def file_text(self, repo: str, path: str, ref: str | None = None) -> str | None:
        """A file's text from the contents API (ETag-cached), or None when it is not there."""
        parts = [p for p in path.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise ValueError(f"path {path!r} cannot be part of a GitHub URL")
        quoted = "/".join(urllib.parse.quote(p, safe="") for p in parts)
        try:
            data = await self.get(f"{repo_path(repo)}/contents/{quoted}",
                                  {"ref": ref} if ref else None)
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(data, dict) or data.get("encoding") != "base64":
            return None  # a directory, or a file too large for the contents API
        try:
            raw = base64.b64decode(str(data.get("content", "")))
        except ValueError:
            return None
        return raw.decode("utf-8", errors="replace")


def _normalise_body(text: str) -> str:
    return text.replace("\r\n", "\n").strip()
