"""The bot's GitHub client: the I/O shell between the bot and GitHub's REST API.

No planning logic lives here, only how to talk to GitHub well:

- App auth: a JWT from the App key (gidgethub builds and caches it) and one
  installation token per installation, cached until shortly before it expires
  and fetched again, once, when GitHub answers ``401``.
- Faults: timeouts, dropped connections and ``5xx`` are retried with
  exponential backoff and full jitter a bounded number of times, then raised
  as ``GitHubError`` so the caller keeps the work for reconciliation.
- Rate limits as GitHub publishes them: a secondary limit closes a
  per-installation gate for ``retry-after`` (else until ``x-ratelimit-reset``,
  else a fallback) and no request of that installation passes the gate early.
- Pacing: writes of an installation go one at a time with a gap between them,
  and content-creating requests stay under a per-minute and per-hour budget.
- ETags: every GET goes through gidgethub's ``cache=``, so an unchanged read
  costs a ``304`` that does not count against the primary limit.

Every wait comes from ``GitHubClientConfig`` and the clock and sleep are
injectable, so tests run it all in milliseconds. Nothing here logs or raises
a token, the JWT or the key.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import json
import logging
import math
import random
import re
import time
import urllib.parse
import zlib
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiohttp
import cachetools
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from gidgethub import HTTPException
from gidgethub import aiohttp as gh_aiohttp
from gidgethub import apps as gh_apps

from bot.config import GitHubClientConfig
from bot.pacing import WritePace

log = logging.getLogger("bot.github")

DEFAULT_API_URL = "https://api.github.com"
USER_AGENT = "event-support-bot"
ACCEPT = "application/vnd.github+json"
API_VERSION_HEADERS = {"x-github-api-version": "2022-11-28"}
MAX_PAGES = 1000  # a Link chain longer than this is a server bug, not data
ETAG_CACHE_SIZE = 4096  # answers kept per identity, for ETags (~2,000 open requests)
ETAG_CACHE_BYTES = 16 * 1024 * 1024  # and at most this much compressed JSON per identity

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
CallHook = Callable[[str, str], None]  # (method, status): "200", "304", "timeout", "error"
T = TypeVar("T")

_SECRET_RE = re.compile(
    r"-----BEGIN[^-]*-----.*?-----END[^-]*-----"
    r"|\bgh[opsuer]_[A-Za-z0-9_]+"
    r"|\bgithub_pat_[A-Za-z0-9_]+"
    r"|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|\b(?:token|bearer)\s+[A-Za-z0-9_.-]{20,}",
    re.IGNORECASE | re.DOTALL,
)
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_.\-\[\]]+$")


def redact(text: str) -> str:
    """Text with anything shaped like a token, a JWT or a PEM key replaced."""
    return _SECRET_RE.sub("[redacted]", text)


class GitHubError(Exception):
    """GitHub refused, failed or did not answer; ``status`` is 0 when there was no answer.

    ``ambiguous``: a request that is not safe to repeat (a POST creating a comment) failed
    in a way that leaves open whether GitHub applied it (a timeout, a ``5xx``).
    """

    def __init__(self, status: int, message: str, *, method: str = "", path: str = "",
                 ambiguous: bool = False) -> None:
        self.status = status
        self.message = redact(message)
        self.method = method
        self.path = path
        self.ambiguous = ambiguous
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}{status or 'no answer'}: {self.message}")


# --- credentials -----------------------------------------------------------


@dataclass(frozen=True)
class AppCredentials:
    app_id: str
    private_key: str = field(repr=False)  # PEM text; never in a repr, a log or an error


def _normalise_pem(text: str) -> str:
    text = text.strip().strip("'\"").strip()
    # Platforms that cannot hold multi-line values get the key with "\n" escapes.
    text = text.replace("\\r\\n", "\n").replace("\\n", "\n").replace("\r\n", "\n")
    return text + "\n"


def credentials_from_env(env: Mapping[str, str]) -> AppCredentials | None:
    """The App's credentials, or None when the id or the key is not set.

    Raises ``ValueError`` (one line, never the key) when a key is set but
    cannot be read or is not a PEM private key.
    """
    app_id = env.get("GITHUB_APP_ID", "").strip()
    key_text = env.get("GITHUB_PRIVATE_KEY", "")
    key_path = env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
    if not app_id or not (key_text.strip() or key_path):
        return None
    source = "GITHUB_PRIVATE_KEY"
    if not key_text.strip():
        source = "GITHUB_PRIVATE_KEY_PATH"
        try:
            key_text = Path(key_path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ValueError(f"{source}: cannot read {key_path} ({reason})") from None
    pem = _normalise_pem(key_text)
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError(f"{source}: not a usable PEM private key") from None
    if not isinstance(key, RSAPrivateKey):  # GitHub signs App JWTs with RS256 only
        raise ValueError(f"{source}: not an RSA private key")
    return AppCredentials(app_id=app_id, private_key=pem)


# --- observability ---------------------------------------------------------


@dataclass
class GitHubStats:
    """Counters the server exports as metrics; shared by every client of one App."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (method, status)
    retries: Counter[str] = field(default_factory=Counter)  # by reason
    failures: int = 0  # calls given up after their retries
    token_fetches: int = 0
    rate_limit_waits: int = 0  # windows GitHub closed on us
    rate_limit_wait_seconds: float = 0.0
    pacing_waits: int = 0
    pacing_wait_seconds: float = 0.0


# --- the ETag cache -----------------------------------------------------------


class _EtagCache(MutableMapping[str, tuple[Any, ...]]):
    """gidgethub's ETag cache, each answer held as compressed JSON text, least recent out.

    Parsed JSON costs about three times its text in memory, and a reconciliation keeps
    two answers per open request (its issue, its comments); compressed text costs a
    tenth of that. Every read parses a fresh copy, so callers may change what they get.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._entries: OrderedDict[str, tuple[Any, Any, bytes, Any]] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self.bytes = 0

    def __getitem__(self, url: str) -> tuple[Any, ...]:
        etag, last_modified, blob, more = self._entries[url]
        self._entries.move_to_end(url)
        return etag, last_modified, json.loads(zlib.decompress(blob)), more

    def __setitem__(self, url: str, value: tuple[Any, ...]) -> None:
        etag, last_modified, data, more = value
        blob = zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)
        self.pop(url, None)
        self._entries[url] = (etag, last_modified, blob, more)
        self.bytes += len(blob)
        while len(self._entries) > self._max_entries or self.bytes > self._max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self.bytes -= len(dropped[2])

    def __delitem__(self, url: str) -> None:
        self.bytes -= len(self._entries.pop(url)[2])

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


# --- the gate, pacing and one identity's channel ---------------------------


class _Gate:
    """No request passes before ``blocked_until``: how a rate-limit window is obeyed."""

    def __init__(self, clock: Clock, sleep: Sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self.blocked_until = -math.inf

    def remaining(self) -> float:
        return max(0.0, self.blocked_until - self._clock())

    def block(self, seconds: float) -> None:
        self.blocked_until = max(self.blocked_until, self._clock() + seconds)

    async def wait(self, longest: float, method: str = "", path: str = "") -> None:
        """Sleep until the gate opens; fail at once if that is more than ``longest`` away."""
        # Loop: the window may grow while we sleep (another request hit the limit).
        while (left := self.remaining()) > 0:
            if left > longest:
                # A spent primary limit can close the gate for an hour: hand the work
                # back to be reconciled rather than hold a worker that long.
                raise GitHubError(403, f"rate limited for another {left:.0f} s; not waiting",
                                  method=method, path=path)
            await self._sleep(left)


class _Auth(Protocol):
    refreshable: bool

    async def credentials(self) -> dict[str, str]:
        """Keyword arguments for gidgethub: ``{"oauth_token": ...}``, or ``{}`` for the JWT."""
        ...

    def invalidate(self, used: Mapping[str, str]) -> None: ...


class _AppAuth:
    """The App's JWT, which gidgethub builds from its ``app_id``/``private_key`` and caches."""

    refreshable = False

    async def credentials(self) -> dict[str, str]:
        return {}

    def invalidate(self, used: Mapping[str, str]) -> None:
        pass


class _TokenAuth:
    refreshable = False

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "_TokenAuth(token=[redacted])"

    async def credentials(self) -> dict[str, str]:
        return {"oauth_token": self._token}

    def invalidate(self, used: Mapping[str, str]) -> None:
        pass


class _API(gh_aiohttp.GitHubAPI):
    """gidgethub over aiohttp, with the channel's gate, timeout and call counting."""

    def __init__(self, session: aiohttp.ClientSession, channel: _Channel, **kwargs: Any) -> None:
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


class _Channel:
    """One identity's pipe to GitHub: an App, an installation or a plain token.

    Owns that identity's ETag cache, rate-limit gate, write lock and pacing.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        api_url: str,
        config: GitHubClientConfig,
        auth: _Auth,
        stats: GitHubStats,
        clock: Clock,
        wall_clock: Clock,
        sleep: Sleep,
        rng: random.Random,
        on_call: CallHook | None,
        label: str,
        max_in_flight: int,
        longest_wait: float,
        app: AppCredentials | None = None,
    ) -> None:
        self.config = config
        self.in_flight = asyncio.Semaphore(max_in_flight)
        self.longest_wait = longest_wait
        self.stats = stats
        self.label = label
        self.sleep = sleep
        self.timeout = aiohttp.ClientTimeout(total=config.timeout_seconds)
        self.gate = _Gate(clock, sleep)
        self._auth = auth
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng
        self._on_call = on_call
        self._base = api_url.rstrip("/") + "/"
        base = urllib.parse.urlsplit(self._base)
        self._origin = (base.scheme, base.netloc)
        self.cache = _EtagCache(ETAG_CACHE_SIZE, ETAG_CACHE_BYTES)
        creds: dict[str, Any] = {}
        if app is not None:
            creds = {"app_id": app.app_id, "private_key": app.private_key}
        self.api = _API(session, self, base_url=self._base, cache=self.cache, **creds)
        self._write_lock = asyncio.Lock()
        self.pace = WritePace(config)

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
            reset = _float(headers.get("x-ratelimit-reset"))
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
        cap = min(self.config.backoff_max_seconds,
                  self.config.backoff_base_seconds * 2 ** max(0, attempt - 1))
        return self._rng.uniform(0.0, cap)

    async def _pace(self, content: bool) -> None:
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
        """Run ``send`` until it succeeds, retrying what may be retried, boundedly."""
        path = self.path(url)
        failures = limited = 0
        refreshed = False
        while True:
            creds = await self._auth.credentials()
            if write:
                await self._pace(content)
            try:
                return await send(creds)
            except HTTPException as exc:
                status = int(exc.status_code)
                message = str(exc)
                if status == 401 and self._auth.refreshable and not refreshed:
                    refreshed = True
                    self._auth.invalidate(creds)
                    self.stats.retries["token"] += 1
                    log.info("%s: 401 on %s %s; fetching a new token once", self.label, method,
                             path)
                    continue
                if is_rate_limited(status, exc.headers, message):
                    limited += 1
                    window = rate_limit_window(exc.headers, self._wall_clock(),
                                               self.config.secondary_limit_fallback_seconds)
                    self._close_gate(window,
                                     f"rate limited ({status}) on {method} {path}")
                    if limited > self.config.retries:
                        raise self._give_up(status, message, method, path) from None
                    self.stats.retries["rate_limit"] += 1
                    if limited > 1:  # hit again right after a window: back off beyond it
                        await self.sleep(self.backoff(limited - 1))
                    continue
                if status >= 500 and not idempotent:
                    # GitHub may have done it before failing (the fake's error_after_write
                    # does): the caller checks before it repeats a POST.
                    raise self._ambiguous(str(status), status, method, path) from None
                if status >= 500:
                    failures += 1
                    if failures > self.config.retries:
                        raise self._give_up(status, message, method, path) from None
                    await self._retry_later("5xx", failures, f"{status} on {method} {path}")
                    continue
                raise GitHubError(status, message, method=method, path=path) from None
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                kind = _fault_kind(exc)
                # A refused connection never reached GitHub; anything else may have.
                if not idempotent and not isinstance(exc, aiohttp.ClientConnectorError):
                    raise self._ambiguous(kind, 0, method, path) from None
                failures += 1
                if failures > self.config.retries:
                    raise self._give_up(0, kind, method, path) from None
                await self._retry_later(kind, failures, f"{kind} on {method} {path}")
            finally:
                if write:
                    self.pace.ended(self._clock())

    async def _retry_later(self, reason: str, failures: int, what: str) -> None:
        delay = self.backoff(failures)
        self.stats.retries[reason] += 1
        log.warning("%s: %s; retry %d/%d in %.3f s", self.label, what, failures,
                    self.config.retries, delay)
        await self.sleep(delay)

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
            items.extend(_page_items(page, items_key))
        raise GitHubError(0, f"more than {MAX_PAGES} pages", method="GET", path=self.path(url))


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _fault_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ValueError):
        return "unreadable answer"
    return f"connection error ({type(exc).__name__})"


def is_rate_limited(status: int, headers: Mapping[str, str], message: str) -> bool:
    """Whether an error answer is a rate limit (primary or secondary) rather than a refusal."""
    if status == 429:
        return True
    if status != 403:
        return False
    text = message.lower()
    return (
        "retry-after" in headers
        or headers.get("x-ratelimit-remaining") == "0"
        or "rate limit" in text
        or "abuse" in text
    )


def rate_limit_window(headers: Mapping[str, str], now: float, fallback: float) -> float:
    """Seconds GitHub asked us to stay away: ``retry-after``, else until
    ``x-ratelimit-reset`` when nothing remains, else ``fallback``. ``now`` is epoch seconds.
    """
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        seconds = _float(retry_after)
        if seconds is None:
            try:
                seconds = parsedate_to_datetime(retry_after).timestamp() - now
            except (TypeError, ValueError):
                seconds = None
        if seconds is not None:
            return max(0.0, seconds)
    if headers.get("x-ratelimit-remaining") == "0":
        reset = _float(headers.get("x-ratelimit-reset"))
        if reset is not None:
            return max(0.0, reset - now)
    return fallback


def _page_items(page: Any, items_key: str | None) -> list[Any]:
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

    def __init__(self, channel: _Channel, config: GitHubClientConfig, clock: Clock,
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

    def __init__(self, channel: _Channel, installation_id: int, config: GitHubClientConfig,
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
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        *,
        wall_clock: Clock = time.time,
        rng: random.Random | None = None,
        stats: GitHubStats | None = None,
        on_call: CallHook | None = None,
        max_in_flight: int | None = None,
        longest_wait_seconds: float | None = None,
    ) -> None:
        if max_in_flight is None:
            max_in_flight = config.max_in_flight
        if longest_wait_seconds is None:
            longest_wait_seconds = config.longest_wait_seconds
        channel = _Channel(
            session=session, api_url=api_url or DEFAULT_API_URL, config=config,
            auth=_TokenAuth(token), stats=stats or GitHubStats(), clock=clock,
            wall_clock=wall_clock, sleep=sleep, rng=rng or random.Random(), on_call=on_call,
            label="token", max_in_flight=max_in_flight, longest_wait=longest_wait_seconds,
        )
        super().__init__(channel, config, clock, wall_clock)

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


class _InstallationAuth:
    """One installation's token: cached until shortly before it expires, fetched once at a time."""

    refreshable = True

    def __init__(self, app: GitHubApp, installation_id: int) -> None:
        self._app = app
        self._id = installation_id
        self.channel: _Channel | None = None  # set once the channel that uses it exists
        self._token: str | None = None
        self._refresh_at = -math.inf
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"_InstallationAuth(installation_id={self._id})"

    def _valid(self) -> bool:
        return self._token is not None and self._app.clock() < self._refresh_at

    async def credentials(self) -> dict[str, str]:
        if not self._valid():
            async with self._lock:  # many callers, one access_tokens request
                if not self._valid():
                    if self.channel is not None:  # no use for a token inside a window
                        await self.channel.gate.wait(self.channel.longest_wait)
                    self._token, lifetime = await self._app.fetch_installation_token(self._id)
                    # Refresh a minute early, or a quarter early for short-lived tokens.
                    margin = min(self._app.token_refresh_margin_seconds, lifetime / 4)
                    self._refresh_at = self._app.clock() + lifetime - margin
        assert self._token is not None
        return {"oauth_token": self._token}

    def invalidate(self, used: Mapping[str, str]) -> None:
        # Only the token that failed: another caller may already hold a fresh one.
        if used.get("oauth_token") == self._token:
            self._token = None


class GitHubApp:
    """The App: its own calls (with its JWT) and one reused client per installation."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        creds: AppCredentials,
        api_url: str,
        config: GitHubClientConfig,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        *,
        wall_clock: Clock = time.time,
        rng: random.Random | None = None,
        stats: GitHubStats | None = None,
        on_call: CallHook | None = None,
        token_refresh_margin_seconds: float | None = None,
        max_in_flight: int | None = None,
        longest_wait_seconds: float | None = None,
    ) -> None:
        # None: the value in config (github.token_refresh_margin_seconds, ...).
        if token_refresh_margin_seconds is None:
            token_refresh_margin_seconds = config.token_refresh_margin_seconds
        self.session = session
        self.api_url = api_url or DEFAULT_API_URL
        self.config = config
        self.clock = clock
        self.sleep = sleep
        self.wall_clock = wall_clock
        self.stats = stats or GitHubStats()
        self.token_refresh_margin_seconds = token_refresh_margin_seconds
        self._creds = creds
        self._rng = rng or random.Random()
        self._on_call = on_call
        self._max_in_flight = config.max_in_flight if max_in_flight is None else max_in_flight
        self._longest_wait = (config.longest_wait_seconds if longest_wait_seconds is None
                              else longest_wait_seconds)
        self._channel = self._new_channel(_AppAuth(), "app", app=creds)
        self._installations: dict[int, InstallationClient] = {}
        self._bot_login: str | None = None

    def __repr__(self) -> str:
        return f"GitHubApp(app_id={self._creds.app_id!r}, api_url={self.api_url!r})"

    def _new_channel(self, auth: _Auth, label: str, app: AppCredentials | None = None) -> _Channel:
        return _Channel(
            session=self.session, api_url=self.api_url, config=self.config, auth=auth,
            stats=self.stats, clock=self.clock, wall_clock=self.wall_clock, sleep=self.sleep,
            rng=self._rng, on_call=self._on_call, label=label,
            max_in_flight=self._max_in_flight, longest_wait=self._longest_wait, app=app,
        )

    def blocked_for(self) -> float:
        """Seconds until a window GitHub opened on the App's own calls closes."""
        return self._channel.gate.remaining()

    async def bot_login(self) -> str:
        """``SLUG[bot]``, the login of the App's comments (from ``GET /app``, asked once)."""
        if self._bot_login is None:
            data, _ = await self._channel.request("GET", "/app")
            slug = data.get("slug") if isinstance(data, dict) else None
            if not isinstance(slug, str) or not slug:
                raise GitHubError(0, "GET /app answered without a slug", method="GET",
                                  path="/app")
            self._bot_login = f"{slug}[bot]"
        return self._bot_login

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
            auth = _InstallationAuth(self, _number(installation_id, "installation id"))
            auth.channel = self._new_channel(auth, f"installation {installation_id}")
            client = InstallationClient(auth.channel, installation_id, self.config, self.clock,
                                        self.wall_clock)
            self._installations[installation_id] = client
        return client

    def forget_installation(self, installation_id: int) -> None:
        """Drop an uninstalled installation's client, with its token and caches."""
        self._installations.pop(installation_id, None)

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
            for item in _page_items(page, None):
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
