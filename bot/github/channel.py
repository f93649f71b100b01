"""One identity's pipe to GitHub: how the bot talks to GitHub's REST API well.

A ``Channel`` is an App, an installation or a plain token. It owns that identity's
ETag cache, rate-limit gate, write lock and pacing, and sends every call:

- Faults: timeouts, dropped connections and ``5xx`` are retried with exponential
  backoff and full jitter a bounded number of times, then raised as ``GitHubError``
  so the caller keeps the work for reconciliation. A POST that is not safe to repeat
  is not repeated blindly.
- Rate limits: a secondary limit closes the gate for ``retry-after`` (else until
  ``x-ratelimit-reset``, else a fallback), and a spent primary limit closes it before
  GitHub has to refuse us.
- Pacing: writes go one at a time, spaced and under the content budgets.
- ETags: every GET goes through gidgethub's ``cache=`` (``etag_cache``), so an
  unchanged read costs a ``304`` that does not count against the primary limit.
- ``401``: an installation token is fetched again, once.

Every wait comes from ``GitHubClientConfig``; ``ClientOptions`` carries what a client
runs with besides it (clocks, sleep, randomness, shared counters, a hook per answer),
so tests run it all in milliseconds. Nothing here logs or raises a token or the key.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import tenacity
from gidgethub import HTTPException
from gidgethub import aiohttp as gh_aiohttp

from bot.core.config import GitHubClientConfig
from bot.github.auth import AppCredentials, Auth
from bot.github.backoff import Again, FullJitter, delay, wait_asked
from bot.github.errors import GitHubError
from bot.github.etag_cache import ETAG_CACHE_BYTES, ETAG_CACHE_SIZE, EtagCache
from bot.github.options import ClientOptions, GitHubStats
from bot.github.pacing import WritePace
from bot.github.ratelimit import (
    Gate,
    is_rate_limited,
    rate_limit_window,
    seconds_or_none,
)

# The client's log records keep one logger name, whichever module they come from.
log = logging.getLogger("bot.github")

DEFAULT_API_URL = "https://api.github.com"
USER_AGENT = "event-support-bot"
ACCEPT = "application/vnd.github+json"
API_VERSION_HEADERS = {"x-github-api-version": "2022-11-28"}
MAX_PAGES = 1000  # a Link chain longer than this is a server bug, not data

T = TypeVar("T")

__all__ = ["DEFAULT_API_URL", "MAX_PAGES", "Channel", "ClientOptions", "GitHubStats",
           "page_items"]


# --- one identity's channel --------------------------------------------------


class _API(gh_aiohttp.GitHubAPI):
    """gidgethub over aiohttp, with the channel's gate, timeout and call counting."""

    def __init__(self, session: aiohttp.ClientSession, channel: Channel, **kwargs: Any) -> None:
        super().__init__(session, USER_AGENT, **kwargs)
        self._channel = channel

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        channel = self._channel
        try:
            # GitHub asks for no concurrent requests per identity; it is also what makes
            # a window safe: no request is already on its way when a 403 opens one.
            async with channel.in_flight:
                await channel.gate.wait(channel.longest_wait, method, channel.path(url))
                async with self._session.request(
                    method, url, headers=headers, data=body, timeout=channel.timeout
                ) as response:
                    payload = await response.read()
        except TimeoutError:
            self._channel.observe(method, "timeout", None)
            raise
        except aiohttp.ClientError:
            self._channel.observe(method, "error", None)
            raise
        self._channel.observe(method, str(response.status), response.headers)
        return response.status, response.headers, payload

    async def sleep(self, seconds: float) -> None:
        await self._channel.sleep(seconds)


class Channel:
    """One identity's pipe to GitHub: an App, an installation or a plain token.

    Owns that identity's ETag cache, rate-limit gate, write lock and pacing.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        api_url: str,
        config: GitHubClientConfig,
        auth: Auth,
        options: ClientOptions,
        label: str,
        app: AppCredentials | None = None,
    ) -> None:
        self.config = config
        max_in_flight = (config.max_in_flight if options.max_in_flight is None
                         else options.max_in_flight)
        self.in_flight = asyncio.Semaphore(max_in_flight)
        self.longest_wait = (config.longest_wait_seconds if options.longest_wait_seconds is None
                             else options.longest_wait_seconds)
        self.stats = options.stats
        self.label = label
        self.sleep = options.sleep
        self.timeout = aiohttp.ClientTimeout(total=config.timeout_seconds)
        self.gate = Gate(options.clock, options.sleep)
        self._auth = auth
        self._clock = options.clock
        self._wall_clock = options.wall_clock
        self.jitter = FullJitter(config.backoff_base_seconds, config.backoff_max_seconds,
                                 options.rng)
        self._on_call = options.on_call
        self._base = api_url.rstrip("/") + "/"
        base = urllib.parse.urlsplit(self._base)
        self._origin = (base.scheme, base.netloc)
        self.cache = EtagCache(ETAG_CACHE_SIZE, ETAG_CACHE_BYTES)
        creds: dict[str, Any] = {}
        if app is not None:
            creds = {"app_id": app.app_id, "private_key": app.private_key}
        self.api = _API(session, self, base_url=self._base, cache=self.cache, **creds)
        self._write_lock = asyncio.Lock()
        self.pace = WritePace(config)
        self.shared_pace = options.write_pace(label) if options.write_pace is not None else None

    # -- URLs --

    def resolve(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        """An absolute URL under GITHUB_API_URL; absolute URLs elsewhere are refused."""
        if url.startswith(("http://", "https://")):
            parts = urllib.parse.urlsplit(url)
            if (parts.scheme, parts.netloc) != self._origin:
                # Never send a token to a host a payload or a Link header names.
                raise GitHubError(0, f"refusing a URL outside GITHUB_API_URL: {parts.netloc}")
            full = url
        else:
            full = urllib.parse.urljoin(self._base, url.lstrip("/"))
        if params:
            query = urllib.parse.urlencode(
                {k: v for k, v in params.items() if v is not None},
                quote_via=urllib.parse.quote,
            )
            if query:
                full += ("&" if "?" in full else "?") + query
        return full

    def path(self, url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    # -- observing answers --

    def observe(self, method: str, status: str, headers: Mapping[str, str] | None) -> None:
        self.stats.calls[(method, status)] += 1
        if self._on_call is not None:
            try:
                self._on_call(method, status)
            except Exception:  # a metrics hook must never break a call
                log.exception("on_call hook failed")
        # The primary limit is spent: close the gate before GitHub has to refuse us.
        if (headers is not None and status.isdigit() and int(status) < 400
                and headers.get("x-ratelimit-remaining") == "0"):
            reset = seconds_or_none(headers.get("x-ratelimit-reset"))
            if reset is not None and reset > self._wall_clock():
                self._close_gate(reset - self._wall_clock(), "primary limit spent")

    def _close_gate(self, seconds: float, why: str) -> None:
        self.gate.block(seconds)
        self.stats.rate_limit_waits += 1
        self.stats.rate_limit_wait_seconds += seconds
        log.warning("%s: %s; no request for %.3f s", self.label, why, seconds)

    # -- pacing --

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**(attempt-1)))."""
        return delay(self.jitter, attempt)

    async def _pace(self, content: bool) -> None:
        if self.shared_pace is not None:
            waited = await self.shared_pace.take(content)
            if waited > 0:
                self.stats.pacing_waits += 1
                self.stats.pacing_wait_seconds += waited
            return
        while (wait := self.pace.wait(self._clock(), content)) > 0:
            self.stats.pacing_waits += 1
            self.stats.pacing_wait_seconds += wait
            await self.sleep(wait)
        self.pace.started(self._clock(), content)

    # -- sending --

    async def request(
        self,
        method: str,
        url: str,
        data: Any = b"",
        *,
        params: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        content: bool = False,
    ) -> tuple[Any, str | None]:
        """One logical call: ``(decoded body, next page URL)``, or ``GitHubError``."""
        full = self.resolve(url, params)
        if idempotent is None:
            idempotent = method != "POST"

        async def send(creds: dict[str, str]) -> tuple[Any, str | None]:
            # _make_request rather than getitem: pagination needs each page's next
            # link, and each page is retried on its own.
            body, more, _ = await self.api._make_request(
                method, full, None, data, ACCEPT, extra_headers=dict(API_VERSION_HEADERS),
                **creds,
            )
            return body, more

        if method == "GET":
            # The ETag cache keeps its own copy (JSON text), so this one is the caller's.
            return await self.attempts(method, full, send, idempotent=True)
        async with self._write_lock:  # GitHub asks for serial writes
            return await self.attempts(method, full, send, idempotent=idempotent, write=True,
                                       content=content)

    async def attempts(
        self,
        method: str,
        url: str,
        send: Callable[[dict[str, str]], Awaitable[T]],
        *,
        idempotent: bool,
        write: bool = False,
        content: bool = False,
    ) -> T:
        """Run ``send`` until it succeeds, retrying what may be retried, boundedly.

        tenacity runs the loop: an attempt that may be tried again raises ``Again``
        with its wait; one that may not (a refusal, an ambiguous write, a bound
        reached) raises ``GitHubError``, which ends it.
        """
        tally = _Tally(method, self.path(url), idempotent)
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(Again),
            wait=wait_asked,
            stop=tenacity.stop_never,  # each kind of failure is bounded where it is counted
            sleep=self.sleep,
            before_sleep=self._note_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(send, tally, write, content)
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    async def _attempt(
        self,
        send: Callable[[dict[str, str]], Awaitable[T]],
        tally: _Tally,
        write: bool,
        content: bool,
    ) -> T:
        """One try of ``send``: its answer, ``Again`` to try again, or ``GitHubError``."""
        method, path = tally.method, tally.path
        creds = await self._auth.credentials()
        if write:
            await self._pace(content)
        try:
            return await send(creds)
        except HTTPException as exc:
            status = int(exc.status_code)
            message = str(exc)
            if status == 401 and self._auth.refreshable and not tally.refreshed:
                tally.refreshed = True
                self._auth.invalidate(creds)
                log.info("%s: 401 on %s %s; fetching a new token once", self.label, method,
                         path)
                raise Again("token", 0.0) from None
            if is_rate_limited(status, exc.headers, message):
                tally.limited += 1
                window = rate_limit_window(exc.headers, self._wall_clock(),
                                           self.config.secondary_limit_fallback_seconds)
                self._close_gate(window, f"rate limited ({status}) on {method} {path}")
                if tally.limited > self.config.retries:
                    raise self._give_up(status, message, method, path) from None
                # The gate holds the first retry back; hit again right after a window,
                # back off beyond it.
                wait = self.backoff(tally.limited - 1) if tally.limited > 1 else 0.0
                raise Again("rate_limit", wait) from None
            if status >= 500 and not tally.idempotent:
                # GitHub may have done it before failing (the fake's error_after_write
                # does): the caller checks before it repeats a POST.
                raise self._ambiguous(str(status), status, method, path) from None
            if status >= 500:
                raise self._fault("5xx", f"{status} on {method} {path}", tally, status,
                                  message) from None
            raise GitHubError(status, message, method=method, path=path) from None
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            kind = _fault_kind(exc)
            # A refused connection never reached GitHub; anything else may have.
            if not tally.idempotent and not isinstance(exc, aiohttp.ClientConnectorError):
                raise self._ambiguous(kind, 0, method, path) from None
            raise self._fault(kind, f"{kind} on {method} {path}", tally, 0, kind) from None
        finally:
            if write:
                self.pace.ended(self._clock())

    def _fault(self, reason: str, what: str, tally: _Tally, status: int,
               message: str) -> Exception:
        """A fault (5xx, timeout, dropped connection): ``Again`` after a backoff, or give up."""
        tally.failures += 1
        if tally.failures > self.config.retries:
            return self._give_up(status, message, tally.method, tally.path)
        return Again(reason, self.backoff(tally.failures),
                      f"{what}; retry {tally.failures}/{self.config.retries}")

    def _note_retry(self, state: tenacity.RetryCallState) -> None:
        again = state.outcome.exception() if state.outcome is not None else None
        if not isinstance(again, Again):  # pragma: no cover - only Again is retried
            return
        self.stats.retries[again.reason] += 1
        if again.what:
            log.warning("%s: %s in %.3f s", self.label, again.what, again.wait)

    def _ambiguous(self, what: str, status: int, method: str, path: str) -> GitHubError:
        self.stats.failures += 1
        log.warning("%s: %s on %s %s; not repeated, it may have been applied", self.label,
                    what, method, path)
        return GitHubError(status, f"{what}; not repeated, the {method} may have been applied",
                           method=method, path=path, ambiguous=True)

    def _give_up(self, status: int, message: str, method: str, path: str) -> GitHubError:
        self.stats.failures += 1
        log.error("%s: giving up on %s %s after %d retries (%s)", self.label, method, path,
                  self.config.retries, status or "no answer")
        return GitHubError(status, message, method=method, path=path)

    async def get_all(
        self, url: str, params: Mapping[str, Any] | None = None, items_key: str | None = None
    ) -> list[Any]:
        """Every item of a paginated list, each page retried and ETag-cached on its own."""
        query = {"per_page": 100, **(params or {})}
        items: list[Any] = []
        next_url: str | None = self.resolve(url, query)
        for _ in range(MAX_PAGES):
            if next_url is None:
                return items
            page, next_url = await self.request("GET", next_url)
            items.extend(page_items(page, items_key))
        raise GitHubError(0, f"more than {MAX_PAGES} pages", method="GET", path=self.path(url))


@dataclass
class _Tally:
    """One logical call's failures so far, each kind bounded on its own."""

    method: str
    path: str
    idempotent: bool
    failures: int = 0  # 5xx, timeouts, dropped connections
    limited: int = 0  # rate-limit answers
    refreshed: bool = False  # the token was fetched again once already


def _fault_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ValueError):
        return "unreadable answer"
    return f"connection error ({type(exc).__name__})"


def page_items(page: Any, items_key: str | None) -> list[Any]:
    """The items of one page of a list answer (a list, or the list inside an object)."""
    if isinstance(page, list):
        return page
    if isinstance(page, dict):
        if items_key is not None:
            found = page.get(items_key)
            return found if isinstance(found, list) else []
        # {"total_count": N, "repositories": [...]} and the like: the one list inside.
        lists = [v for v in page.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    return []

