"""The GitHub client against the shared loopback fake GitHub (``fake_github``).

Every wait comes from a fast config (or a fake clock), so the suite runs in
about a second or two. Faults are switched on and off from the client's
``on_call`` hook, which runs as each answer arrives, so the tests are exact
rather than probabilistic.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.core.config import GitHubClientConfig
from bot.github.client import (
    AppCredentials,
    ClientOptions,
    DryRunClient,
    GitHubApp,
    GitHubError,
    InstallationClient,
    RecordedWrite,
    TokenClient,
    credentials_from_env,
    is_rate_limited,
    rate_limit_window,
    redact,
)
from tests.fakegithub import FakeGitHub

REPO = "acme/events"
INSTALLATION = 11
TOKEN_OPERATION = "apps/create-installation-access-token"

FAST = GitHubClientConfig(
    timeout_seconds=2.0,
    retries=4,
    backoff_base_seconds=0.001,
    backoff_max_seconds=0.005,
    write_interval_seconds=0.0,
    secondary_limit_fallback_seconds=0.05,
    content_per_minute=80,
    content_per_hour=500,
    permission_cache_seconds=300.0,
)


def fast(**changes: Any) -> GitHubClientConfig:
    return dataclasses.replace(FAST, **changes)


class Headers(dict[str, str]):
    """Just enough of a case-insensitive header mapping for the pure functions."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class FakeClock:
    """A monotonic clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_installation(INSTALLATION, "acme")
    fake_github.add_repo(REPO, INSTALLATION)
    for n in range(3):
        fake_github.add_issue(REPO, title=f"Exam {n}", body="body", labels=["event-request"])
    return fake_github


@pytest.fixture
def creds(fake_github: FakeGitHub, app_key: str) -> AppCredentials:
    return AppCredentials(app_id=str(fake_github.app_id), private_key=app_key)


def make_app(fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials,
             config: GitHubClientConfig = FAST, **options: Any) -> GitHubApp:
    return GitHubApp(session, creds, fake.api_url, config, options=ClientOptions(**options))


async def client(fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials,
                 config: GitHubClientConfig = FAST, **kwargs: Any) -> InstallationClient:
    return await make_app(fake, session, creds, config, **kwargs).installation(INSTALLATION)


def switch_off_after(fake: FakeGitHub, status: str, count: int,
                     fault: str) -> Callable[[str, str], None]:
    """An on_call hook that turns ``fake.faults.<fault>`` off after ``count`` answers."""
    seen = {"n": 0}

    def hook(method: str, answer: str) -> None:
        if answer == status:
            seen["n"] += 1
            if seen["n"] >= count:
                setattr(fake.faults, fault, 0.0)

    return hook


# --- credentials and secrets ------------------------------------------------


@pytest.mark.parametrize("form", ["pem", "escaped", "quoted-escaped", "path"])
def test_credentials_from_env_reads_the_key(app_key: str, tmp_path: Path, form: str) -> None:
    env = {"GITHUB_APP_ID": "4242"}
    if form == "pem":
        env["GITHUB_PRIVATE_KEY"] = app_key
    elif form == "escaped":
        env["GITHUB_PRIVATE_KEY"] = app_key.replace("\n", "\\n")
    elif form == "quoted-escaped":
        env["GITHUB_PRIVATE_KEY"] = '"' + app_key.strip().replace("\n", "\\n") + '"'
    else:
        (tmp_path / "key.pem").write_text(app_key)
        env["GITHUB_PRIVATE_KEY_PATH"] = str(tmp_path / "key.pem")
    creds = credentials_from_env(env)
    assert creds is not None
    assert creds.app_id == "4242"
    assert creds.private_key.strip() == app_key.strip()


@pytest.mark.parametrize("env", [
    {},
    {"GITHUB_APP_ID": "1"},
    {"GITHUB_PRIVATE_KEY": "x"},
    {"GITHUB_APP_ID": " ", "GITHUB_PRIVATE_KEY": "x"},
])
def test_credentials_from_env_none_when_missing(env: dict[str, str]) -> None:
    assert credentials_from_env(env) is None


def _ec_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize("env, where", [
    ({"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": "not a key at all"}, "GITHUB_PRIVATE_KEY:"),
    ({"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": _ec_key()}, "GITHUB_PRIVATE_KEY:"),
    ({"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY_PATH": "/nonexistent/key.pem"},
     "GITHUB_PRIVATE_KEY_PATH:"),
])
def test_credentials_from_env_unusable_key_is_one_clear_line(env: dict[str, str],
                                                             where: str) -> None:
    with pytest.raises(ValueError) as caught:
        credentials_from_env(env)
    message = str(caught.value)
    assert message.startswith(where) and "\n" not in message
    assert "not a key at all" not in message


def test_key_absent_from_reprs(app_key: str) -> None:
    creds = AppCredentials(app_id="7", private_key=app_key)
    body_line = app_key.splitlines()[1]
    for text in (repr(creds), str(creds), repr(DryRunClient())):
        assert body_line not in text and "PRIVATE KEY" not in text
    assert "7" in repr(creds)


@pytest.mark.parametrize("text, secret", [
    ("bad credentials for token ghs_16C7e42F292c6912E7710c838347Ae178B4a", "ghs_16C7e42F"),
    ("Authorization: bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJl", "eyJhbGci"),
    ("key -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- x", "MIIEow"),
    ("token 0123456789abcdef0123456789abcdef", "0123456789abcdef"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_11"),
])
def test_redact_removes_secret_shapes(text: str, secret: str) -> None:
    assert secret not in redact(text)
    assert secret not in str(GitHubError(401, text))


def test_redact_keeps_ordinary_messages() -> None:
    assert redact("Bad credentials: token expired") == "Bad credentials: token expired"


# --- rate-limit rules (pure) --------------------------------------------------

NOW = 1_800_000_000.0


@pytest.mark.parametrize("headers, expected", [
    ({"retry-after": "30"}, 30.0),
    ({"retry-after": "0.25"}, 0.25),
    ({"retry-after": format_datetime(datetime.fromtimestamp(NOW + 90, UTC), usegmt=True)}, 90.0),
    ({"retry-after": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW + 900)},
     5.0),
    ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 42)}, 42.0),
    ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW - 10)}, 0.0),
    ({"x-ratelimit-remaining": "17", "x-ratelimit-reset": str(NOW + 900)}, 60.0),
    ({}, 60.0),
    ({"retry-after": "soon"}, 60.0),
])
def test_rate_limit_window(headers: dict[str, str], expected: float) -> None:
    assert rate_limit_window(Headers(headers), NOW, 60.0) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("status, headers, message, limited", [
    (429, {}, "Too Many Requests", True),
    (403, {"retry-after": "60"}, "whatever", True),
    (403, {"x-ratelimit-remaining": "0"}, "API rate limit exceeded", True),
    (403, {}, "You have exceeded a secondary rate limit.", True),
    (403, {"x-ratelimit-remaining": "4000"}, "Resource not accessible by integration", False),
    (404, {"retry-after": "60"}, "Not Found", False),
    (502, {}, "Server Error", False),
])
def test_is_rate_limited(status: int, headers: dict[str, str], message: str,
                         limited: bool) -> None:
    assert is_rate_limited(status, Headers(headers), message) is limited


# --- App auth and tokens -------------------------------------------------------


async def test_bot_login_from_get_app_asked_once(fake: FakeGitHub, session: aiohttp.ClientSession,
                                                 creds: AppCredentials) -> None:
    app = make_app(fake, session, creds)
    assert await app.bot_login() == f"{fake.app_slug}[bot]"
    assert await app.bot_login() == f"{fake.app_slug}[bot]"
    assert len(fake.calls("GET", operation_id="apps/get-authenticated")) == 1


async def test_bot_login_is_asked_once_by_many_at_once(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    app = make_app(fake, session, creds)
    logins = await asyncio.gather(*(app.bot_login() for _ in range(32)))  # start-up's workers
    assert set(logins) == {f"{fake.app_slug}[bot]"}
    assert len(fake.calls("GET", operation_id="apps/get-authenticated")) == 1


async def test_one_token_for_many_requests(fake: FakeGitHub, session: aiohttp.ClientSession,
                                           creds: AppCredentials) -> None:
    app = make_app(fake, session, creds)
    inst = await app.installation(INSTALLATION)
    assert await app.installation(INSTALLATION) is inst  # one client per installation
    issues = await asyncio.gather(*(inst.issue(REPO, 1 + n % 3) for n in range(20)))
    assert {i["number"] for i in issues} == {1, 2, 3}
    assert len(fake.calls(operation_id=TOKEN_OPERATION)) == 1
    assert app.stats.token_fetches == 1


async def test_expired_token_refreshed_once_on_401(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    app = make_app(fake, session, creds)
    inst = await app.installation(INSTALLATION)
    await inst.issue(REPO, 1)
    fake.expire_tokens()  # revoked or expired early: the client still thinks it is good
    assert (await inst.issue(REPO, 2))["number"] == 2
    assert [r.status for r in fake.calls("GET", "/issues/2")] == [401, 200]
    assert len(fake.calls(operation_id=TOKEN_OPERATION)) == 2
    assert app.stats.retries["token"] == 1


async def test_dead_tokens_refreshed_only_once_then_error(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    fake.token_lifetime_seconds = -1  # every token is dead on arrival
    inst = await client(fake, session, creds)
    with pytest.raises(GitHubError) as caught:
        await inst.issue(REPO, 1)
    assert caught.value.status == 401
    assert len(fake.calls(operation_id=TOKEN_OPERATION)) == 2
    assert len(fake.calls("GET", "/issues/1")) == 2


async def test_short_lived_tokens_refreshed_before_they_expire(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    # expires_at has whole seconds, so the client may see less than it has: never more.
    fake.token_lifetime_seconds = 1
    inst = await client(fake, session, creds)
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        await inst.issue(REPO, 1)
        await asyncio.sleep(0.05)
    assert not [r for r in fake.requests if r.status == 401]
    assert len(fake.calls(operation_id=TOKEN_OPERATION)) >= 2


# --- faults ------------------------------------------------------------------------


async def test_5xx_retried_then_success(fake: FakeGitHub, session: aiohttp.ClientSession,
                                        creds: AppCredentials) -> None:
    seen: list[tuple[str, str]] = []
    off = switch_off_after(fake, "502", 2, "error_rate")

    def hook(method: str, status: str) -> None:
        seen.append((method, status))
        off(method, status)

    app = make_app(fake, session, creds, on_call=hook)
    inst = await app.installation(INSTALLATION)
    fake.faults.error_rate = 1.0
    assert (await inst.issue(REPO, 1))["number"] == 1
    assert [r.status for r in fake.calls("GET", "/issues/1")] == [502, 502, 200]
    assert app.stats.retries["5xx"] == 2
    assert app.stats.calls[("GET", "502")] == 2 and app.stats.calls[("GET", "200")] == 1
    assert seen.count(("GET", "502")) == 2


@pytest.mark.parametrize("retries", [0, 1, 3])
async def test_bounded_retries_then_github_error(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials,
        retries: int) -> None:
    app = make_app(fake, session, creds, fast(retries=retries))
    inst = await app.installation(INSTALLATION)
    fake.faults.error_rate = 1.0
    with pytest.raises(GitHubError) as caught:
        await inst.update_issue(REPO, 1, labels=["x"])
    assert caught.value.status == 502 and not caught.value.ambiguous
    assert len(fake.calls("PATCH")) == retries + 1
    assert app.stats.failures == 1


async def test_timeout_retried(fake: FakeGitHub, session: aiohttp.ClientSession,
                               creds: AppCredentials) -> None:
    fake.faults.timeout_seconds = 5.0  # held far longer than the client waits
    app = make_app(fake, session, creds, fast(timeout_seconds=0.1),
                   on_call=switch_off_after(fake, "timeout", 1, "timeout_rate"))
    inst = await app.installation(INSTALLATION)
    fake.faults.timeout_rate = 1.0
    assert len(await inst.issue_comments(REPO, 1)) == 0
    assert app.stats.calls[("GET", "timeout")] == 1
    assert app.stats.retries["timeout"] == 1


@pytest.mark.parametrize("status", [404, 403])
async def test_client_errors_not_retried(fake: FakeGitHub, session: aiohttp.ClientSession,
                                         creds: AppCredentials, status: int) -> None:
    inst = await client(fake, session, creds)
    if status == 404:
        call = inst.issue(REPO, 99)
    else:  # the installation endpoint needs an installation token, not a plain one
        fake.personal_tokens.add("personal-token-for-tests")
        call = TokenClient(session, "personal-token-for-tests", fake.api_url,
                           FAST).repositories()
    with pytest.raises(GitHubError) as caught:
        await call
    assert caught.value.status == status
    assert len([r for r in fake.requests if r.status == status]) == 1


@pytest.mark.parametrize("fault", ["error_after_write_rate", "error_rate", "timeout_rate"])
async def test_comment_posted_exactly_once_despite_ambiguous_failures(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials,
        fault: str) -> None:
    fake.faults.fault_paths = ("POST /comments",)
    fake.faults.timeout_seconds = 5.0
    status = "timeout" if fault == "timeout_rate" else "502"
    inst = await client(fake, session, creds, fast(timeout_seconds=0.2),
                        on_call=switch_off_after(fake, status, 1, fault))
    setattr(fake.faults, fault, 1.0)
    comment = await inst.create_comment(REPO, 1, "Status: triaged\r\n")
    bodies = [c["body"] for c in fake.comments(REPO, 1)]
    assert bodies == ["Status: triaged\r\n"]
    assert comment["id"] == fake.comments(REPO, 1)[0]["id"]


async def test_ambiguous_post_error_kept_for_the_caller(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    fake.faults.fault_paths = ("POST /comments",)
    fake.faults.error_after_write_rate = 1.0
    inst = await client(fake, session, creds)
    with pytest.raises(GitHubError) as caught:
        await inst.post(f"/repos/{REPO}/issues/1/comments", {"body": "hello"})
    assert caught.value.ambiguous and caught.value.status == 502
    assert len(fake.calls("POST", "/comments")) == 1  # never repeated blindly


# --- rate limits ---------------------------------------------------------------------


async def test_secondary_limit_obeyed_with_no_request_inside_the_window(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    fake.faults.secondary_limit_rate = 0.3
    fake.faults.retry_after_seconds = 0.15
    app = make_app(fake, session, creds, fast(retries=10))
    inst = await app.installation(INSTALLATION)
    reads = [inst.issue(REPO, 1 + n % 3) for n in range(12)]
    writes = [inst.update_issue(REPO, 1 + n % 3, labels=[f"l{n}"]) for n in range(6)]
    results = await asyncio.gather(*reads, *writes)
    assert all(r.get("number") for r in results)
    limited = [r for r in fake.requests if r.status == 403]
    assert limited, "the fault should have fired"
    assert fake.window_violations == []
    assert app.stats.rate_limit_waits >= len(limited)
    assert app.stats.rate_limit_wait_seconds >= 0.15 * len(limited) - 1e-9


async def test_window_longer_than_the_longest_wait_fails_fast(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    fake.faults.secondary_limit_rate = 1.0
    fake.faults.retry_after_seconds = 30
    inst = await client(fake, session, creds, longest_wait_seconds=1.0)
    started = time.monotonic()
    for _ in range(2):  # the second call is refused at the gate without a request
        with pytest.raises(GitHubError) as caught:
            await inst.issue(REPO, 1)
        assert caught.value.status == 403
    assert time.monotonic() - started < 5
    assert len(fake.calls("GET", "/issues/1")) == 1
    assert inst.blocked_for() > 25


async def test_spent_primary_limit_stops_requests_until_reset(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    fake.rate_limit = 2
    inst = await client(fake, session, creds)
    await inst.issue(REPO, 1)
    await inst.issue(REPO, 2)  # answered with x-ratelimit-remaining: 0
    with pytest.raises(GitHubError) as caught:
        await inst.issue(REPO, 3)
    assert caught.value.status == 403 and "/issues/3" in caught.value.path
    assert [r.status for r in fake.calls("GET", "/issues/")] == [200, 200]
    assert inst.blocked_for() > 3000


async def test_etag_makes_a_repeated_open_issues_read_a_304(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    fake.add_issue(REPO, title="Not an event")
    inst = await client(fake, session, creds)
    first = await inst.open_issues(REPO, "event-request")
    second = await inst.open_issues(REPO, "event-request")
    assert sorted(i["number"] for i in first) == [1, 2, 3]
    assert second == first
    reads = fake.calls("GET", "/issues", operation_id="issues/list-for-repo")
    assert [r.status for r in reads] == [200, 304]
    assert reads[1].query["labels"] == "event-request"
    assert not reads[1].counted_against_limit
    first[0]["title"] = "changed by the caller"  # must not leak into the cache
    fake.add_issue(REPO, title="New", labels=["event-request"])
    third = await inst.open_issues(REPO, "event-request")
    assert len(third) == 4 and "changed by the caller" not in {i["title"] for i in third}


# --- pacing ----------------------------------------------------------------------------


async def test_writes_one_at_a_time_with_spacing(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    interval = 0.05
    inst = await client(fake, session, creds,
                        fast(write_interval_seconds=interval, write_burst=1))
    await inst.issue(REPO, 1)  # token fetched outside the timing
    await asyncio.gather(*(inst.update_issue(REPO, 1 + n % 3, labels=[f"l{n}"])
                           for n in range(5)))
    times = [r.time for r in fake.calls("PATCH")]
    assert len(times) == 5
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= interval * 0.95


async def test_a_burst_of_writes_goes_at_one_per_interval_after_the_first_few(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    interval = 0.1
    inst = await client(fake, session, creds,
                        fast(write_interval_seconds=interval, write_burst=2))
    await inst.issue(REPO, 1)
    started = time.monotonic()
    await inst.update_issue(REPO, 1, labels=["a"])
    await inst.create_comment(REPO, 1, "status")
    lone = time.monotonic() - started
    assert lone < interval  # a lone request's two writes do not wait the interval
    await asyncio.sleep(2.5 * interval)  # a quiet spell earns the burst back
    await asyncio.gather(*(inst.update_issue(REPO, 1 + n % 3, labels=[f"l{n}"])
                           for n in range(6)))
    times = [r.time for r in fake.calls("PATCH")][1:]
    assert len(times) == 6
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] < interval  # the second of the burst rides on the credit
    assert min(gaps[1:]) >= interval * 0.95  # then one write an interval
    assert times[-1] - times[0] >= 4 * interval * 0.95


async def test_reads_do_not_wait_behind_paced_writes(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    inst = await client(fake, session, creds,
                        fast(write_interval_seconds=0.5, write_burst=1))
    await inst.issue(REPO, 1)
    writes = asyncio.gather(*(inst.update_issue(REPO, 1, labels=[f"l{n}"]) for n in range(2)))
    await asyncio.sleep(0.1)  # the first write is done; the second waits its turn
    await inst.issue(REPO, 2)
    await writes
    # The read went between the two writes (0.5 s apart): it did not queue behind them.
    order = [(r.method, r.path) for r in fake.requests if r.path.startswith("/repos")]
    assert order[-3:] == [("PATCH", f"/repos/{REPO}/issues/1"), ("GET", f"/repos/{REPO}/issues/2"),
                          ("PATCH", f"/repos/{REPO}/issues/1")]


@pytest.mark.parametrize("per_minute, per_hour, posts, waited", [
    (2, 500, 3, 60.0),   # the third waits for the first to leave the minute
    (1, 500, 3, 120.0),
    (80, 3, 4, 3600.0),  # the fourth waits for the first to leave the hour
    (80, 500, 5, 0.0),
])
async def test_content_creation_stays_under_the_budgets(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials,
        per_minute: int, per_hour: int, posts: int, waited: float) -> None:
    clock = FakeClock()
    config = fast(content_per_minute=per_minute, content_per_hour=per_hour,
                  permission_cache_seconds=1.0)
    inst = await client(fake, session, creds, config, clock=clock, sleep=clock.sleep)
    start = clock.now
    for n in range(posts):
        await inst.create_comment(REPO, 1, f"comment {n}")
    assert clock.now - start == pytest.approx(waited, abs=1e-6)
    assert len(fake.comments(REPO, 1)) == posts


# --- reads and URLs ---------------------------------------------------------------------


async def test_pagination_follows_absolute_links_under_the_api_path(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    for n in range(230):
        fake.add_issue(REPO, title=f"Workshop {n}", labels=["event-request"])
    inst = await client(fake, session, creds)
    issues = await inst.open_issues(REPO, "event-request")
    assert len(issues) == 233
    pages = fake.calls("GET", operation_id="issues/list-for-repo")
    assert [r.query.get("page") for r in pages] == [None, "2", "3"]
    repos = await inst.repositories()
    assert [r["full_name"] for r in repos] == [REPO]


@pytest.mark.parametrize("form", ["slash", "no-slash", "absolute"])
async def test_relative_and_absolute_urls(fake: FakeGitHub, session: aiohttp.ClientSession,
                                          creds: AppCredentials, form: str) -> None:
    inst = await client(fake, session, creds)
    url = {"slash": f"/repos/{REPO}/issues/2", "no-slash": f"repos/{REPO}/issues/2",
           "absolute": f"{fake.api_url}/repos/{REPO}/issues/2"}[form]
    assert (await inst.get(url))["number"] == 2


async def test_a_url_outside_the_api_is_refused_without_a_request(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    inst = await client(fake, session, creds)
    with pytest.raises(GitHubError):
        await inst.get("https://api.github.com.evil.example/repos/acme/events/issues/1")
    assert fake.requests == []


@pytest.mark.parametrize("repo", ["acme", "acme/events/extra", "../x", "acme/..", "a b/c"])
async def test_names_that_would_break_the_url_are_refused(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials,
        repo: str) -> None:
    inst = await client(fake, session, creds)
    with pytest.raises(ValueError):
        await inst.issue(repo, 1)


async def test_permission_and_team_cached(fake: FakeGitHub, session: aiohttp.ClientSession,
                                          creds: AppCredentials) -> None:
    clock = FakeClock()
    fake.set_permission(REPO, "lead", "maintain")
    fake.add_team_member("acme", "leads", "lead")
    inst = await client(fake, session, creds, fast(permission_cache_seconds=300),
                        clock=clock, sleep=clock.sleep)
    assert await inst.permission(REPO, "lead") == "write"
    assert await inst.permission(REPO, "LEAD") == "write"
    assert await inst.permission(REPO, "stranger") == "none"
    assert await inst.is_team_member("acme", "leads", "lead") is True
    assert await inst.is_team_member("acme", "leads", "stranger") is False
    assert await inst.is_team_member("acme", "leads", "lead") is True
    assert len(fake.calls("GET", "/permission")) == 2
    assert len(fake.calls("GET", "/memberships/")) == 2
    clock.now += 301
    assert await inst.permission(REPO, "lead") == "write"
    assert len(fake.calls("GET", "/permission")) == 3


async def test_file_text(fake: FakeGitHub, session: aiohttp.ClientSession,
                         creds: AppCredentials) -> None:
    fake.set_file(REPO, ".github/event-bot.yml", "notice_days: 14\nnamé: ü\n")
    inst = await client(fake, session, creds)
    assert await inst.file_text(REPO, ".github/event-bot.yml") == "notice_days: 14\nnamé: ü\n"
    assert await inst.file_text(REPO, ".github/event-bot.yml") == "notice_days: 14\nnamé: ü\n"
    assert await inst.file_text(REPO, ".github/missing.yml") is None
    statuses = [r.status for r in fake.calls("GET", "/contents/")]
    assert statuses == [200, 304, 404]


async def test_writes_reach_github(fake: FakeGitHub, session: aiohttp.ClientSession,
                                   creds: AppCredentials) -> None:
    fake.set_workflows("acme/ops", ["scale.yaml"])
    fake.add_repo("acme/ops", INSTALLATION)
    inst = await client(fake, session, creds)
    await inst.update_issue(REPO, 1, labels=["event-request", "type: exam"], assignees=["alice"])
    comment = await inst.create_comment(REPO, 1, "status")
    await inst.edit_comment(REPO, comment["id"], "status, edited")
    await inst.add_reaction(REPO, comment["id"])
    await inst.dispatch_workflow("acme/ops", "scale.yaml", "main", {"replicas": "3"})
    second = await inst.create_comment(REPO, 1, "reply")
    await inst.delete_comment(REPO, second["id"])
    await inst.delete_comment(REPO, second["id"])  # already gone: fine
    assert fake.labels(REPO, 1) == ["event-request", "type: exam"]
    assert fake.assignees(REPO, 1) == ["alice"]
    assert [c["body"] for c in fake.comments(REPO, 1)] == ["status, edited"]
    assert fake.comments(REPO, 1)[0]["user"]["login"] == f"{fake.app_slug}[bot]"
    assert [(d.workflow_id, d.inputs) for d in fake.dispatches] == [("scale.yaml",
                                                                      {"replicas": "3"})]


async def test_token_client(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    fake.personal_tokens.add("personal-token-for-tests")
    tc = TokenClient(session, "personal-token-for-tests", fake.api_url, FAST)
    assert len(await tc.open_issues(REPO, "event-request")) == 3
    assert "personal-token-for-tests" not in repr(tc)
    assert fake.calls(operation_id=TOKEN_OPERATION) == []


async def test_installations_deliveries_and_redelivery(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials) -> None:
    now = time.time()
    for n, age in enumerate([7200, 1800, 60]):
        fake.add_delivery(f"guid-{n}", "issues", "opened", {"installation": {"id": INSTALLATION}},
                          status_code=202 if n else 500, delivered_at=now - age)
    app = make_app(fake, session, creds)
    assert [i["id"] for i in await app.installations()] == [INSTALLATION]
    assert await app.repo_installation_id(REPO) == INSTALLATION
    assert await app.repo_installation_id("acme/nothing") is None
    recent = await app.recent_deliveries(datetime.now(UTC) - timedelta(hours=1))
    assert [d["guid"] for d in recent] == ["guid-2", "guid-1"]
    await app.redeliver(recent[0]["id"])
    await fake.drain()
    assert [r.guid for r in fake.redeliveries] == ["guid-2"]


# --- dry run ---------------------------------------------------------------------------------


async def test_dry_run_reads_through_and_records_writes(
        fake: FakeGitHub, session: aiohttp.ClientSession, creds: AppCredentials,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.github")
    dry = DryRunClient(await client(fake, session, creds))
    assert (await dry.issue(REPO, 1))["title"] == "Exam 0"
    await dry.update_issue(REPO, 1, labels=["type: exam"])
    made = await dry.create_comment(REPO, 1, "status")
    await dry.edit_comment(REPO, 5, "status 2")
    await dry.delete_comment(REPO, 5)
    await dry.dispatch_workflow("acme/ops", "scale.yaml", "main", {"replicas": "2"})
    assert made["id"] < 0
    assert [(w.method, w.path) for w in dry.writes] == [
        ("PATCH", f"/repos/{REPO}/issues/1"),
        ("POST", f"/repos/{REPO}/issues/1/comments"),
        ("PATCH", f"/repos/{REPO}/issues/comments/5"),
        ("DELETE", f"/repos/{REPO}/issues/comments/5"),
        ("POST", "/repos/acme/ops/actions/workflows/scale.yaml/dispatches"),
    ]
    assert dry.writes[0] == RecordedWrite("PATCH", f"/repos/{REPO}/issues/1",
                                          {"labels": ["type: exam"]})
    assert [r for r in fake.requests if r.is_write] == []
    assert fake.labels(REPO, 1) == ["event-request"] and fake.comments(REPO, 1) == []
    assert f'would PATCH /repos/{REPO}/issues/1 {{"labels": ["type: exam"]}}' in caplog.text


async def test_dry_run_without_github() -> None:
    dry = DryRunClient()
    assert await dry.issue(REPO, 1) == {}
    assert await dry.issue_comments(REPO, 1) == []
    assert await dry.open_issues(REPO, "event-request") == []
    assert await dry.permission(REPO, "someone") == "none"
    assert await dry.file_text(REPO, "x.yml") is None
    await dry.add_reaction(REPO, 3)
    assert [w.method for w in dry.writes] == ["POST"]


# --- secrets never logged ----------------------------------------------------------------


@pytest.fixture
def sent_credentials() -> Iterator[tuple[aiohttp.TraceConfig, list[str]]]:
    """A trace that collects every Authorization value the client sends."""
    seen: list[str] = []
    trace = aiohttp.TraceConfig()

    async def on_start(_: Any, __: SimpleNamespace, params: Any) -> None:
        value = params.headers.get("authorization")
        if value:
            seen.append(value.split(" ", 1)[1])

    trace.on_request_start.append(on_start)
    yield trace, seen


async def test_secrets_absent_from_logs_errors_and_reprs(
        fake: FakeGitHub, creds: AppCredentials, app_key: str,
        caplog: pytest.LogCaptureFixture,
        sent_credentials: tuple[aiohttp.TraceConfig, list[str]]) -> None:
    trace, seen = sent_credentials
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        app = make_app(fake, session, creds, fast(retries=1))
        inst = await app.installation(INSTALLATION)
        await app.bot_login()
        await inst.issue(REPO, 1)
        fake.expire_tokens()
        await inst.issue(REPO, 2)  # 401, refresh, retry
        fake.faults.error_rate = 1.0
        for call in (inst.issue(REPO, 3), inst.create_comment(REPO, 1, "x")):
            try:
                await call
            except GitHubError as exc:
                errors += [str(exc), repr(exc)]
        fake.faults.error_rate = 0.0
        fake.token_lifetime_seconds = -1
        fake.expire_tokens()
        try:
            await inst.issue(REPO, 1)
        except GitHubError as exc:
            errors += [str(exc), repr(exc)]
        texts = [caplog.text, *errors, repr(app), repr(inst), repr(creds), str(app.stats)]
    assert len(seen) >= 6 and len(errors) == 6
    secrets = set(seen) | {line for line in app_key.splitlines() if "-----" not in line}
    for text in texts:
        for secret in secrets:
            assert secret not in text
