"""The bot's GitHub client: what the bot asks of GitHub, and the App it asks as.

No planning logic lives here. ``GitHubClient`` is the surface the bot uses (issues,
comments, permissions, dispatches, files), built on a few REST primitives;
``InstallationClient`` and ``TokenClient`` send them over a channel, ``DryRunClient``
only records writes, and ``GitHubApp`` makes one reused client per installation.

How each call is sent lives beside this module: retries, rate limits and pacing in
``github_channel`` (with ``ratelimit``, ``pacing`` and ``etag_cache``); credentials
and tokens in ``github_auth``; ``GitHubError`` in ``github_errors``. The names other
modules import from here are re-exported, so ``bot.github.client`` stays the one door.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import json
import logging
import math
import re
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import cachetools
from gidgethub import apps as gh_apps

from bot.core.config import GitHubClientConfig
from bot.github.auth import (
    AppAuth,
    AppCredentials,
    Auth,
    InstallationAuth,
    TokenAuth,
    credentials_from_env,
)
from bot.github.channel import (
    DEFAULT_API_URL,
    MAX_PAGES,
    Channel,
    ClientOptions,
    GitHubStats,
    page_items,
)
from bot.github.errors import GitHubError, redact
from bot.github.ratelimit import Clock, is_rate_limited, rate_limit_window

__all__ = [
    "DEFAULT_API_URL",
    "AppCredentials",
    "ClientOptions",
    "DryRunClient",
    "GitHubApp",
    "GitHubClient",
    "GitHubError",
    "GitHubStats",
    "InstallationClient",
    "RecordedWrite",
    "TokenClient",
    "credentials_from_env",
    "is_rate_limited",
    "rate_limit_window",
    "redact",
]

log = logging.getLogger("bot.github")

_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_.\-\[\]]+$")


# --- names that go into URLs -----------------------------------------------


def _segment(value: str, what: str) -> str:
    if not isinstance(value, str) or not _SEGMENT_RE.match(value) or value in (".", ".."):
        raise ValueError(f"{what} {value!r} cannot be part of a GitHub URL")
    return urllib.parse.quote(value, safe="")


def _repo(repo: str) -> str:
    owner, _, name = repo.partition("/") if isinstance(repo, str) else ("", "", "")
    return f"/repos/{_segment(owner, 'owner')}/{_segment(name, 'repository')}"


def _number(value: int, what: str = "number") -> int:
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
        data = await self.get(f"{_repo(repo)}/issues/{_number(number)}")
        return data if isinstance(data, dict) else {}

    async def issue_comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        items = await self.get_all(f"{_repo(repo)}/issues/{_number(number)}/comments")
        return [c for c in items if isinstance(c, dict)]

    async def open_issues(self, repo: str, label: str | None = None) -> list[dict[str, Any]]:
        """Open issues (pull requests left out), with ``label`` when given; ETag-cached."""
        params: dict[str, Any] = {"state": "open", "per_page": 100}
        if label:
            params["labels"] = label
        items = await self.get_all(f"{_repo(repo)}/issues", params)
        return [i for i in items if isinstance(i, dict) and "pull_request" not in i]

    async def repositories(self) -> list[dict[str, Any]]:
        items = await self.get_all("/installation/repositories", items_key="repositories")
        return [r for r in items if isinstance(r, dict)]

    async def update_issue(self, repo: str, number: int, **fields: Any) -> dict[str, Any]:
        data = await self.patch(f"{_repo(repo)}/issues/{_number(number)}", fields)
        return data if isinstance(data, dict) else {}

    async def create_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        """Post a comment exactly once, even when GitHub fails after posting it.

        A POST is not repeated blindly: after an answer that leaves open whether
        the comment was made, the issue's comments are read and the POST is
        repeated only if the comment is not there.
        """
        url = f"{_repo(repo)}/issues/{_number(number)}/comments"
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
            created = _parse_time(comment.get("created_at"))
            if created is None or created.timestamp() < since:
                continue
            if _normalise_body(str(comment.get("body") or "")) == wanted:
                return comment
        return None

    async def edit_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        data = await self.patch(f"{_repo(repo)}/issues/comments/{_number(comment_id, 'id')}",
                                {"body": body})
        return data if isinstance(data, dict) else {}

    async def delete_comment(self, repo: str, comment_id: int) -> None:
        try:
            await self.delete(f"{_repo(repo)}/issues/comments/{_number(comment_id, 'id')}")
        except GitHubError as exc:
            if exc.status != 404:  # already gone is what we wanted
                raise

    async def add_reaction(self, repo: str, comment_id: int, content: str = "+1") -> None:
        # GitHub answers 200 for a reaction that exists: safe to repeat.
        await self.post(f"{_repo(repo)}/issues/comments/{_number(comment_id, 'id')}/reactions",
                        {"content": content}, idempotent=True)

    async def permission(self, repo: str, user: str) -> str:
        """``admin``, ``write``, ``read`` or ``none`` (``maintain`` reads as ``write``)."""
        key = (repo.lower(), user.lower())
        cached = self._permissions.get(key)
        if cached is not None:
            return cached
        try:
            data = await self.get(
                f"{_repo(repo)}/collaborators/{_segment(user, 'login')}/permission")
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
            data = await self.get(f"/users/{_segment(login, 'login')}")
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
        url = (f"/orgs/{_segment(org, 'org')}/teams/{_segment(team, 'team')}"
               f"/memberships/{_segment(user, 'login')}")
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
        url = f"{_repo(repo)}/actions/workflows/{_segment(workflow, 'workflow')}/dispatches"
        # A second run scales to the same size as the first: safe to repeat.
        await self.post(url, {"ref": ref, "inputs": dict(inputs)}, idempotent=True)

    async def file_text(self, repo: str, path: str, ref: str | None = None) -> str | None:
        """A file's text from the contents API (ETag-cached), or None when it is not there."""
        parts = [p for p in path.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise ValueError(f"path {path!r} cannot be part of a GitHub URL")
        quoted = "/".join(urllib.parse.quote(p, safe="") for p in parts)
        try:
            data = await self.get(f"{_repo(repo)}/contents/{quoted}",
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


class _ChannelClient(GitHubClient):
    """The primitives over a channel; installation and token clients differ only in auth."""

    def __init__(self, channel: Channel, config: GitHubClientConfig, clock: Clock,
                 wall_clock: Clock) -> None:
        super().__init__(config, clock, wall_clock)
        self._channel = channel

    @property
    def stats(self) -> GitHubStats:
        return self._channel.stats

    def blocked_for(self) -> float:
        """Seconds until a rate-limit window GitHub opened closes (0 when none is open)."""
        return self._channel.gate.remaining()

    async def _pause_before_retry(self, failures: int) -> None:
        await self._channel.sleep(self._channel.backoff(failures))

    async def get(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        data, _ = await self._channel.request("GET", url, params=params)
        return data

    async def get_all(self, url: str, params: Mapping[str, Any] | None = None,
                      items_key: str | None = None) -> list[Any]:
        return await self._channel.get_all(url, params, items_key)

    async def post(self, url: str, data: Any, *, idempotent: bool = False) -> Any:
        body, _ = await self._channel.request("POST", url, data, idempotent=idempotent,
                                              content=True)
        return body

    async def patch(self, url: str, data: Any) -> Any:
        body, _ = await self._channel.request("PATCH", url, data)
        return body

    async def put(self, url: str, data: Any = None) -> Any:
        body, _ = await self._channel.request("PUT", url, b"" if data is None else data)
        return body

    async def delete(self, url: str, data: Any = None) -> None:
        await self._channel.request("DELETE", url, b"" if data is None else data)


class InstallationClient(_ChannelClient):
    """Calls as one installation of the App; made (once per id) by ``GitHubApp.installation``."""

    def __init__(self, channel: Channel, installation_id: int, config: GitHubClientConfig,
                 clock: Clock, wall_clock: Clock) -> None:
        super().__init__(channel, config, clock, wall_clock)
        self.installation_id = installation_id

    def __repr__(self) -> str:
        return f"InstallationClient(installation_id={self.installation_id})"


class TokenClient(_ChannelClient):
    """Calls with a plain token (``GITHUB_TOKEN``), for ``report`` without an App."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        api_url: str,
        config: GitHubClientConfig,
        *,
        options: ClientOptions | None = None,
    ) -> None:
        options = ClientOptions() if options is None else options
        channel = Channel(
            session=session, api_url=api_url or DEFAULT_API_URL, config=config,
            auth=TokenAuth(token), options=options, label="token",
        )
        super().__init__(channel, config, options.clock, options.wall_clock)

    def __repr__(self) -> str:
        return "TokenClient()"


@dataclass(frozen=True)
class RecordedWrite:
    method: str
    path: str
    data: Any


class DryRunClient(GitHubClient):
    """Reads go to ``inner`` (empty answers without one); writes are logged and recorded only."""

    def __init__(self, inner: GitHubClient | None = None, *,
                 config: GitHubClientConfig | None = None, clock: Clock = time.monotonic) -> None:
        super().__init__(config or GitHubClientConfig(), clock)
        self.inner = inner
        self.writes: list[RecordedWrite] = []

    def __repr__(self) -> str:
        return f"DryRunClient(inner={self.inner!r}, writes={len(self.writes)})"

    async def get(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.inner.get(url, params) if self.inner is not None else {}

    async def get_all(self, url: str, params: Mapping[str, Any] | None = None,
                      items_key: str | None = None) -> list[Any]:
        if self.inner is None:
            return []
        return await self.inner.get_all(url, params, items_key)

    def _record(self, method: str, url: str, data: Any) -> Any:
        parts = urllib.parse.urlsplit(url)
        path = "/" + parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
        self.writes.append(RecordedWrite(method, path, data))
        shown = "" if data is None else " " + json.dumps(data, sort_keys=True, ensure_ascii=False,
                                                         default=str)
        log.info("would %s %s%s", method, path, shown)
        if isinstance(data, dict):
            # Enough of an answer for a caller that reads the id of what it created.
            return {**data, "id": -len(self.writes), "dry_run": True}
        return None

    async def post(self, url: str, data: Any, *, idempotent: bool = False) -> Any:
        return self._record("POST", url, data)

    async def patch(self, url: str, data: Any) -> Any:
        return self._record("PATCH", url, data)

    async def put(self, url: str, data: Any = None) -> Any:
        return self._record("PUT", url, data)

    async def delete(self, url: str, data: Any = None) -> None:
        self._record("DELETE", url, data)


# --- the App -----------------------------------------------------------------


class GitHubApp:
    """The App: its own calls (with its JWT) and one reused client per installation."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        creds: AppCredentials,
        api_url: str,
        config: GitHubClientConfig,
        *,
        options: ClientOptions | None = None,
        token_refresh_margin_seconds: float | None = None,
    ) -> None:
        options = ClientOptions() if options is None else options
        # None: the value in config (github.token_refresh_margin_seconds).
        if token_refresh_margin_seconds is None:
            token_refresh_margin_seconds = config.token_refresh_margin_seconds
        self.session = session
        self.api_url = api_url or DEFAULT_API_URL
        self.config = config
        self.options = options
        self.clock = options.clock
        self.sleep = options.sleep
        self.wall_clock = options.wall_clock
        self.stats = options.stats  # one set of counters for the App and every installation
        self.token_refresh_margin_seconds = token_refresh_margin_seconds
        self._creds = creds
        self._channel = self._new_channel(AppAuth(), "app", app=creds)
        self._installations: dict[int, InstallationClient] = {}
        self._bot_login: str | None = None
        self._bot_login_lock = asyncio.Lock()  # many workers at start-up, one GET /app

    def __repr__(self) -> str:
        return f"GitHubApp(app_id={self._creds.app_id!r}, api_url={self.api_url!r})"

    def _new_channel(self, auth: Auth, label: str, app: AppCredentials | None = None) -> Channel:
        return Channel(
            session=self.session, api_url=self.api_url, config=self.config, auth=auth,
            options=self.options, label=label, app=app,
        )

    def blocked_for(self) -> float:
        """Seconds until a window GitHub opened on the App's own calls closes."""
        return self._channel.gate.remaining()

    async def bot_login(self) -> str:
        """``SLUG[bot]``, the login of the App's comments (from ``GET /app``, asked once)."""
        async with self._bot_login_lock:
            if self._bot_login is None:
                self._bot_login = await self._ask_bot_login()
        return self._bot_login

    async def _ask_bot_login(self) -> str:
        data, _ = await self._channel.request("GET", "/app")
        slug = data.get("slug") if isinstance(data, dict) else None
        if not isinstance(slug, str) or not slug:
            raise GitHubError(0, "GET /app answered without a slug", method="GET", path="/app")
        return f"{slug}[bot]"

    async def installations(self) -> list[dict[str, Any]]:
        items = await self._channel.get_all("/app/installations")
        return [i for i in items if isinstance(i, dict)]

    async def repo_installation_id(self, repo: str) -> int | None:
        """The id of the installation that covers ``repo``, or None when none does."""
        try:
            data, _ = await self._channel.request("GET", f"{_repo(repo)}/installation")
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        found = data.get("id") if isinstance(data, dict) else None
        return found if isinstance(found, int) else None

    async def installation(self, installation_id: int) -> InstallationClient:
        client = self._installations.get(installation_id)
        if client is None:
            auth = InstallationAuth(self, _number(installation_id, "installation id"))
            auth.channel = self._new_channel(auth, f"installation {installation_id}")
            client = InstallationClient(auth.channel, installation_id, self.config, self.clock,
                                        self.wall_clock)
            self._installations[installation_id] = client
        return client

    async def fetch_installation_token(self, installation_id: int) -> tuple[str, float]:
        """A new installation token and its lifetime in seconds (retried like any call)."""
        url = self._channel.resolve(f"/app/installations/{_number(installation_id, 'id')}"
                                    "/access_tokens")

        async def send(_: dict[str, str]) -> dict[str, Any]:
            return await gh_apps.get_installation_access_token(
                self._channel.api, installation_id=str(installation_id),
                app_id=self._creds.app_id, private_key=self._creds.private_key)

        # A token nobody uses is harmless: safe to ask again.
        data = await self._channel.attempts("POST", url, send, idempotent=True)
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise GitHubError(0, "access_tokens answered without a token", method="POST",
                              path=self._channel.path(url))
        self.stats.token_fetches += 1
        expires_at = str(data.get("expires_at", ""))
        expires = _parse_time(expires_at)
        # Unknown expiry: refresh soon rather than use a dead token.
        lifetime = 300.0 if expires is None else expires.timestamp() - self.wall_clock()
        log.info("installation %s: new token, expires at %s", installation_id,
                 expires_at or "(not given)")
        return token, max(0.0, lifetime)

    async def recent_deliveries(self, since: datetime) -> list[dict[str, Any]]:
        """Webhook deliveries at or after ``since`` (an aware datetime), newest first."""
        found: list[dict[str, Any]] = []
        next_url: str | None = self._channel.resolve("/app/hook/deliveries", {"per_page": 100})
        for _ in range(MAX_PAGES):
            if next_url is None:
                break
            page, next_url = await self._channel.request("GET", next_url)
            older_seen = False
            for item in page_items(page, None):
                if not isinstance(item, dict):
                    continue
                when = _parse_time(item.get("delivered_at"))
                if when is not None and when < since:
                    older_seen = True  # GitHub lists newest first: the rest are older
                    continue
                found.append(item)
            if older_seen:
                break
        return found

    async def redeliver(self, delivery_id: int) -> None:
        # The bot de-duplicates deliveries by their GUID: a second redelivery is harmless.
        await self._channel.request(
            "POST", f"/app/hook/deliveries/{_number(delivery_id, 'id')}/attempts", b"",
            idempotent=True)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def api_url(env: Mapping[str, str]) -> str:
    return (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
