"""The App: its own calls with its JWT, installation tokens, and one client per installation.

``GitHubApp`` asks as the App (``GET /app``, its installations, webhook deliveries)
and makes one reused ``InstallationClient`` per installation, whose token it fetches
and renews through ``bot.github.auth``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiohttp
from gidgethub import apps as gh_apps

from bot.core.config import GitHubClientConfig
from bot.core.model import parse_github_time as parse_time
from bot.github.auth import AppAuth, AppCredentials, Auth, InstallationAuth
from bot.github.channel import DEFAULT_API_URL, MAX_PAGES, Channel, ClientOptions, page_items
from bot.github.clients import InstallationClient
from bot.github.errors import GitHubError
from bot.github.surface import repo_path, whole_number

log = logging.getLogger("bot.github")


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
            data, _ = await self._channel.request("GET", f"{repo_path(repo)}/installation")
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        found = data.get("id") if isinstance(data, dict) else None
        return found if isinstance(found, int) else None

    async def installation(self, installation_id: int) -> InstallationClient:
        client = self._installations.get(installation_id)
        if client is None:
            auth = InstallationAuth(self, whole_number(installation_id, "installation id"))
            auth.channel = self._new_channel(auth, f"installation {installation_id}")
            client = InstallationClient(auth.channel, installation_id, self.config, self.clock,
                                        self.wall_clock)
            self._installations[installation_id] = client
        return client

    async def fetch_installation_token(self, installation_id: int) -> tuple[str, float]:
        """A new installation token and its lifetime in seconds (retried like any call)."""
        url = self._channel.resolve(f"/app/installations/{whole_number(installation_id, 'id')}"
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
        expires = parse_time(expires_at)
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
                when = parse_time(item.get("delivered_at"))
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
            "POST", f"/app/hook/deliveries/{whole_number(delivery_id, 'id')}/attempts", b"",
            idempotent=True)


def api_url(env: Mapping[str, str]) -> str:
    return (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
