"""The concrete clients: an installation's, a plain token's, and the dry run's.

``InstallationClient`` and ``TokenClient`` send the primitives of ``GitHubClient``
over a ``Channel`` (retries, rate limits, pacing, ETags); ``DryRunClient`` reads
through another client, or not at all, and only records its writes.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.core.config import GitHubClientConfig
from bot.github.auth import TokenAuth
from bot.github.channel import DEFAULT_API_URL, Channel, ClientOptions, GitHubStats
from bot.github.ratelimit import Clock
from bot.github.surface import GitHubClient

log = logging.getLogger("bot.github")


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

