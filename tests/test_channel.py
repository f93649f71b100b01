"""Module tests for ``bot.github.channel``: one identity's pipe to GitHub.

The retry policy is driven through the channel's own seam (``Channel.attempts`` sends
whatever ``send`` does, so a scripted ``send`` plays GitHub's answers); URLs, the
primary-limit gate and the ETag round trip go to the fake GitHub server.
"""

from __future__ import annotations

import asyncio
import http
import random
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import pytest
from gidgethub import HTTPException

from bot.core.config import GitHubClientConfig
from bot.github.auth import TokenAuth
from bot.github.channel import Channel, ClientOptions, page_items
from bot.github.errors import GitHubError
from tests.fakegithub import FakeGitHub

TOKEN = "channel-test-token"
WALL = 1_700_000_000.0
CONFIG = GitHubClientConfig(
    timeout_seconds=2.0, retries=2, backoff_base_seconds=1.0, backoff_max_seconds=3.0,
    write_interval_seconds=0.0, secondary_limit_fallback_seconds=7.0,
    content_per_minute=80, content_per_hour=500, permission_cache_seconds=300.0,
)


class FakeClock:
    """Monotonic time that moves only when the channel sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept.append(seconds)
            self.now += seconds
        await asyncio.sleep(0)


@dataclass
class RefreshingAuth:
    """An identity whose token can be fetched again, as an installation's can."""

    refreshable: bool = True
    invalidated: int = 0

    async def credentials(self) -> dict[str, str]:
        return {"oauth_token": f"{TOKEN}-{self.invalidated}"}

    def invalidate(self, used: Mapping[str, str]) -> None:
        self.invalidated += 1


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def make_channel(session: aiohttp.ClientSession, api_url: str = "https://api.github.test",
                 config: GitHubClientConfig = CONFIG, auth: Any = None,
                 seed: int = 7) -> tuple[Channel, FakeClock]:
    clock = FakeClock()
    options = ClientOptions(clock=clock, sleep=clock.sleep, wall_clock=lambda: WALL,
                            rng=random.Random(seed))
    channel = Channel(session=session, api_url=api_url, config=config,
                      auth=auth if auth is not None else TokenAuth(TOKEN), options=options,
                      label="test")
    return channel, clock


# --- what is retried, how often, and how long it waits ------------------------------


def answer(status: int, message: str = "", **headers: str) -> HTTPException:
    return HTTPException(http.HTTPStatus(status), message or http.HTTPStatus(status).phrase,
                         headers={k.replace("_", "-"): v for k, v in headers.items()})


def refused_connection() -> aiohttp.ClientConnectorError:
    return aiohttp.ClientConnectorError(None, OSError(111, "Connection refused"))  # type: ignore[arg-type]


OK = {"ok": True}


@dataclass(frozen=True)
class Case:
    script: tuple[Any, ...]  # what each send does in turn: an answer, or an error raised
    idempotent: bool = True
    status: int | None = None  # the GitHubError's, or None when the call succeeds
    ambiguous: bool = False
    retries: Mapping[str, int] = field(default_factory=dict)
    backoffs: int = 0  # jittered waits slept between sends
    gate_waits: int = 0  # windows closed on the identity
    sends: int | None = None  # None: every step of the script


CASES = {
    "an answer at once": Case((OK,)),
    "5xx retried, then an answer": Case((answer(502), answer(503), OK),
                                        retries={"5xx": 2}, backoffs=2),
    "5xx until the bound": Case((answer(502),) * 3, status=502, retries={"5xx": 2},
                                backoffs=2),
    "5xx on a write that is not safe to repeat": Case((answer(502), OK), idempotent=False,
                                                      status=502, ambiguous=True, sends=1),
    "a timeout retried": Case((TimeoutError(), OK), retries={"timeout": 1}, backoffs=1),
    "a timeout on a write that is not safe to repeat": Case(
        (TimeoutError(), OK), idempotent=False, status=0, ambiguous=True, sends=1),
    "a dropped connection retried": Case(
        (aiohttp.ServerDisconnectedError(), OK),
        retries={"connection error (ServerDisconnectedError)": 1}, backoffs=1),
    "a refused connection never reached GitHub: retried even for a write": Case(
        (refused_connection(), OK), idempotent=False,
        retries={"connection error (ClientConnectorError)": 1}, backoffs=1),
    "an unreadable answer retried": Case((ValueError("bad JSON"), OK),
                                         retries={"unreadable answer": 1}, backoffs=1),
    "faults of every kind share one bound": Case(
        (answer(502), TimeoutError(), answer(500)), status=500,
        retries={"5xx": 1, "timeout": 1}, backoffs=2),
    "a refusal is not retried": Case((answer(404), OK), status=404, sends=1),
    "a 422 is not retried": Case((answer(422, "Validation Failed"), OK), status=422, sends=1),
    "a 401 with a plain token is not retried": Case((answer(401), OK), status=401, sends=1),
    "a secondary limit: the gate holds the retry": Case(
        (answer(403, "secondary rate limit", retry_after="3"), OK),
        retries={"rate_limit": 1}, gate_waits=1),
    "limited again right after a window: a backoff beyond it": Case(
        (answer(429, retry_after="1"), answer(429, retry_after="1"), OK),
        retries={"rate_limit": 2}, backoffs=1, gate_waits=2),
    "rate limits are bounded on their own": Case(
        (answer(429),) * 3, status=429, retries={"rate_limit": 2}, backoffs=1, gate_waits=3),
    "a rate limit on a write is retried: GitHub did nothing": Case(
        (answer(403, "API rate limit exceeded"), OK), idempotent=False,
        retries={"rate_limit": 1}, gate_waits=1),
    "rate limits do not spend the bound on faults": Case(
        (answer(429), answer(502), answer(429), answer(502), OK),
        retries={"rate_limit": 2, "5xx": 2}, backoffs=3, gate_waits=2),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_retry_policy(session: aiohttp.ClientSession, case: Case) -> None:
    channel, clock = make_channel(session)
    sent: list[dict[str, str]] = []

    async def send(creds: dict[str, str]) -> Any:
        sent.append(creds)
        step = case.script[len(sent) - 1]
        if isinstance(step, BaseException):
            raise step
        return step

    call = channel.attempts("GET", channel.resolve("/x"), send, idempotent=case.idempotent)
    if case.status is None:
        assert await call == OK
    else:
        with pytest.raises(GitHubError) as caught:
            await call
        assert caught.value.status == case.status
        assert caught.value.ambiguous is case.ambiguous
    given_up = case.status is not None and (case.ambiguous or bool(case.retries))
    assert channel.stats.failures == int(given_up)  # refusals are answers, not failures
    assert len(sent) == (len(case.script) if case.sends is None else case.sends)
    assert channel.stats.retries == Counter(case.retries)
    assert len(clock.slept) == case.backoffs
    assert channel.stats.rate_limit_waits == case.gate_waits


@pytest.mark.parametrize(
    ("script", "status", "sends", "refreshes"),
    [((answer(401), OK), None, 2, 1),  # a dead token: fetched again once
     ((answer(401), answer(401), OK), 401, 2, 1),  # ...and only once
     ((answer(401), answer(502), OK), None, 3, 1)],  # the refresh spends no fault retry
)
async def test_a_401_fetches_the_token_again_once(
        session: aiohttp.ClientSession, script: tuple[Any, ...], status: int | None,
        sends: int, refreshes: int) -> None:
    auth = RefreshingAuth()
    channel, clock = make_channel(session, auth=auth)
    sent: list[dict[str, str]] = []

    async def send(creds: dict[str, str]) -> Any:
        sent.append(creds)
        step = script[len(sent) - 1]
        if isinstance(step, BaseException):
            raise step
        return step

    if status is None:
        assert await channel.attempts("GET", channel.resolve("/x"), send,
                                      idempotent=True) == OK
    else:
        with pytest.raises(GitHubError) as caught:
            await channel.attempts("GET", channel.resolve("/x"), send, idempotent=True)
        assert caught.value.status == status
    assert len(sent) == sends
    assert auth.invalidated == refreshes
    assert sent[1] != sent[0]  # the retry went with the new token
    assert channel.stats.retries["token"] == refreshes
    assert not clock.slept or channel.stats.retries["5xx"]  # no wait for a new token


async def test_the_window_is_the_one_github_asked_for(session: aiohttp.ClientSession) -> None:
    channel, clock = make_channel(session)
    script = [answer(403, "secondary rate limit", retry_after="3"), OK]

    async def send(_: dict[str, str]) -> Any:
        step = script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    await channel.attempts("GET", channel.resolve("/x"), send, idempotent=True)
    assert channel.gate.remaining() == pytest.approx(3.0)
    assert channel.stats.rate_limit_wait_seconds == pytest.approx(3.0)
    script[:] = [answer(403, "You have exceeded a secondary rate limit"), OK]
    clock.now += 3.0  # the window has passed
    assert channel.gate.remaining() == 0.0
    await channel.attempts("GET", channel.resolve("/x"), send, idempotent=True)
    assert channel.gate.remaining() == pytest.approx(7.0)  # no retry-after: the fallback


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 8, 60])
def test_backoff_is_full_jitter_under_a_doubling_cap(attempt: int) -> None:
    cap = min(CONFIG.backoff_max_seconds, CONFIG.backoff_base_seconds * 2 ** (attempt - 1))
    draws = []
    for seed in range(200):
        channel, _ = make_channel(None, seed=seed)  # type: ignore[arg-type]
        draws.append(channel.backoff(attempt))
    assert all(0.0 <= d < cap for d in draws)
    assert max(draws) > 0.9 * cap and min(draws) < 0.1 * cap  # spread over the whole range
    again, _ = make_channel(None, seed=0)  # type: ignore[arg-type]
    assert again.backoff(attempt) == draws[0]  # the injected randomness decides


# --- URLs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params", "resolved"),
    [("/repos/o/r/issues", None, "https://api.github.test/repos/o/r/issues"),
     ("repos/o/r", None, "https://api.github.test/repos/o/r"),
     ("https://api.github.test/repos/o/r?page=2", None,
      "https://api.github.test/repos/o/r?page=2"),
     ("/search", {"q": "a b&c", "page": None, "per_page": 5},
      "https://api.github.test/search?q=a%20b%26c&per_page=5"),
     ("/x?a=1", {"b": 2}, "https://api.github.test/x?a=1&b=2"),
     ("/x", {"gone": None}, "https://api.github.test/x")],
)
def test_resolve(url: str, params: dict[str, Any] | None, resolved: str) -> None:
    channel, _ = make_channel(None)  # type: ignore[arg-type]
    assert channel.resolve(url, params) == resolved


@pytest.mark.parametrize("url", ["https://evil.example/repos/o/r", "http://api.github.test/x",
                                 "https://api.github.test.evil.example/x",
                                 "https://api.github.test:444/x"])
def test_a_token_never_goes_to_another_host(url: str) -> None:
    channel, _ = make_channel(None)  # type: ignore[arg-type]
    with pytest.raises(GitHubError, match="outside GITHUB_API_URL"):
        channel.resolve(url)


@pytest.mark.parametrize(
    ("page", "key", "items"),
    [([1, 2], None, [1, 2]),
     ({"total_count": 2, "repositories": [1, 2]}, None, [1, 2]),
     ({"total_count": 2, "repositories": [1, 2]}, "repositories", [1, 2]),
     ({"a": [1], "b": [2]}, None, []),  # which list? none rather than a guess
     ({"a": [1], "b": [2]}, "b", [2]),
     ({"repositories": "nope"}, "repositories", []),
     ("text", None, []), (None, None, [])],
)
def test_page_items(page: Any, key: str | None, items: list[Any]) -> None:
    assert page_items(page, key) == items


# --- against the fake GitHub -------------------------------------------------------


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.personal_tokens.add(TOKEN)
    fake_github.add_installation(11, "acme")
    fake_github.add_repo("acme/events", 11)
    for n in range(5):
        fake_github.add_issue("acme/events", title=f"Exam {n}", body="body")
    return fake_github


async def test_an_unchanged_read_costs_a_304(fake: FakeGitHub,
                                             session: aiohttp.ClientSession) -> None:
    channel, _ = make_channel(session, fake.api_url)
    first, _ = await channel.request("GET", "/repos/acme/events/issues/1")
    first["title"] = "changed by the caller"
    second, _ = await channel.request("GET", "/repos/acme/events/issues/1")
    assert second["title"] == "Exam 0"  # the cache kept its own copy
    assert [r.status for r in fake.calls("GET", "/issues/1")] == [200, 304]
    assert channel.stats.calls[("GET", "304")] == 1
    assert len(channel.cache) == 1


async def test_every_page_of_a_list(fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    channel, _ = make_channel(session, fake.api_url)
    issues = await channel.get_all("/repos/acme/events/issues", {"per_page": 2})
    assert sorted(i["number"] for i in issues) == [1, 2, 3, 4, 5]
    assert len(fake.calls("GET", "/issues")) == 3  # 2 + 2 + 1


@pytest.mark.parametrize(
    ("status", "remaining", "reset_in", "closed_for"),
    [("200", "0", 30, 30.0),  # spent: closed before GitHub has to refuse us
     ("304", "0", 30, 30.0),
     ("200", "1", 30, 0.0),
     ("200", "0", -5, 0.0),  # the reset has passed
     ("200", None, 30, 0.0),
     ("403", "0", 30, 0.0),  # an error answer is handled where it is retried
     ("timeout", "0", 30, 0.0)],
)
def test_a_spent_primary_limit_closes_the_gate(
        status: str, remaining: str | None, reset_in: int, closed_for: float) -> None:
    channel, _ = make_channel(None)  # type: ignore[arg-type]
    headers = {"x-ratelimit-reset": str(int(WALL) + reset_in)}
    if remaining is not None:
        headers["x-ratelimit-remaining"] = remaining
    channel.observe("GET", status, headers)
    assert channel.gate.remaining() == pytest.approx(closed_for)
    assert channel.stats.calls[("GET", status)] == 1


async def test_a_write_refused_for_a_spent_limit_waits_for_the_gate(
        fake: FakeGitHub, session: aiohttp.ClientSession) -> None:
    channel, clock = make_channel(session, fake.api_url,
                                  replace(CONFIG, secondary_limit_fallback_seconds=0.0))
    fake.faults.secondary_limit_rate = 1.0
    fake.faults.retry_after_seconds = 0.0  # the fake's window closes at once

    def off(method: str, status: str) -> None:
        fake.faults.secondary_limit_rate = 0.0

    channel._on_call = off
    body, _ = await channel.request("PATCH", "/repos/acme/events/issues/2", {"title": "new"})
    assert body["title"] == "new"
    assert [r.status for r in fake.calls("PATCH")] == [403, 200]
    assert channel.stats.retries["rate_limit"] == 1
