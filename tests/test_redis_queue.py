"""Scale-out on Redis: several queues (processes) on one real redis-server act as one."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest

if not os.environ.get("CI"):  # in CI (`.ci/run` installs the extra) a missing one fails
    pytest.importorskip("redis", reason="the '.[redis]' extra is not installed")

from redis.asyncio import Redis  # noqa: E402

from bot.core.config import GitHubClientConfig
from bot.service.metrics import Metrics
from bot.service.redis_queue import RedisIssueLocks, RedisWorkQueue, RedisWritePace, connect
from bot.service.server import Delivery
from bot.service.workqueue import Arrival

from .botapp import running_bot
from .fakegithub import FakeGitHub
from .payloads import issues_payload
from .redisserver import redis_server, redis_server_or_skip
from .test_faults import OPENED, REPO, faulty_config, form_body, seed, status_comments
from .test_workqueue import Recorder, arrival


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server(redis_server_or_skip()) as url:
        yield url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


def process(redis_url: str, runner: Recorder, arrivals: dict[str, Arrival], *,
            workers: int = 4, lease: float = 30.0, reclaim: float = 5.0) -> RedisWorkQueue:
    """One process's queue: its own connection, the shared Redis."""

    def door(delivery: Delivery) -> Arrival | None:
        return arrivals.get(delivery.id)

    return RedisWorkQueue(connect(redis_url), door, runner, Metrics(), max_waiting=1000,
                          workers=workers, lease_seconds=lease, reclaim_every_seconds=reclaim,
                          retry_base_seconds=0.01)


async def until(condition: object, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


async def test_two_processes_share_the_dedupe_the_keys_and_the_lanes(
        redis: Redis, redis_url: str) -> None:
    runner, arrivals = Recorder(hold=0.02), {}
    one, two = (process(redis_url, runner, arrivals) for _ in range(2))
    answers = []
    for n in range(1, 7):
        for i in range(3):
            a = arrival(1, n, f"d{n}-{i}")
            arrivals[a.delivery.id] = a
            answers.append(await (one if i % 2 else two).offer(a.delivery))
    quiet = arrival(2, 1, "quiet")
    arrivals["quiet"] = quiet
    answers.append(await one.offer(quiet.delivery))
    assert await two.offer(quiet.delivery) == "duplicate"  # the other process saw it
    assert answers == ["queued"] * 19
    one.start()
    two.start()
    await until(lambda: len(runner.runs) == 7)
    for q in (one, two):
        await q.drain(5)
        await q.stop()
    assert runner.overlaps == [] and max(runner.lanes_at_once) == 1
    busy = [w for w in runner.runs if w.key.installation == 1]
    assert [w.key.number for w in busy] == [1, 2, 3, 4, 5, 6]  # arrival order, one at a time
    assert all(len(w.ids) == 3 for w in busy)  # each issue's deliveries ran as one
    assert [w.key.installation for w in runner.runs].index(2) <= 1  # its turn came at once


async def test_work_of_a_killed_process_is_taken_over(redis: Redis, redis_url: str) -> None:
    hung, arrivals = Recorder(hold=3600), {}
    killed = process(redis_url, hung, arrivals, lease=0.3, reclaim=0.1)
    a = arrival(1, 7, "cmd", command=True)
    arrivals["cmd"] = a
    await killed.offer(a.delivery)
    killed.start()
    await until(lambda: killed.in_flight == 1)
    for task in killed._tasks:  # as SIGKILL would: no goodbye, the lease just stops
        task.cancel()
    await asyncio.gather(*killed._tasks, return_exceptions=True)
    survivor_runs = Recorder()
    survivor = process(redis_url, survivor_runs, arrivals, lease=0.3, reclaim=0.1)
    survivor.start()
    await until(lambda: len(survivor_runs.runs) == 1)
    await survivor.drain(5)
    await survivor.stop()
    await killed.redis.aclose()
    assert [c.id for c in survivor_runs.runs[0].commands] == ["cmd"]


async def test_a_process_stopping_gives_its_work_back_at_once(redis: Redis,
                                                            redis_url: str) -> None:
    hung, arrivals = Recorder(hold=3600), {}
    leaving = process(redis_url, hung, arrivals)
    a = arrival(1, 8, "x")
    arrivals["x"] = a
    await leaving.offer(a.delivery)
    leaving.start()
    await until(lambda: leaving.in_flight == 1)
    await leaving.drain(0.05)
    await leaving.stop()
    staying_runs = Recorder()
    staying = process(redis_url, staying_runs, arrivals)  # lease 30 s: not a reclaim
    staying.start()
    await until(lambda: len(staying_runs.runs) == 1, timeout=3)
    await staying.drain(5)
    await staying.stop()


async def test_one_installations_writes_are_paced_as_one_across_processes(
        redis: Redis) -> None:
    config = GitHubClientConfig(write_interval_seconds=0.1, write_burst=2)
    paces = [RedisWritePace(redis, "installation:1", config) for _ in range(2)]
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def writes(pace: RedisWritePace) -> None:
        for _ in range(5):
            await pace.take(content=True)
            times.append(loop.time())

    began = loop.time()
    await asyncio.gather(*(writes(p) for p in paces))
    # Two at once (the burst), then one every 0.1 s: 10 writes take 0.8 s, not 0.4.
    assert loop.time() - began >= 0.75
    times.sort()
    gaps = [b - a for a, b in zip(times[2:], times[3:], strict=False)]
    assert min(gaps) >= 0.09, gaps
    other = RedisWritePace(redis, "installation:2", config)
    began = loop.time()
    await other.take(content=True)
    assert loop.time() - began < 0.05  # another installation's bucket is its own


async def test_the_content_budget_is_shared(redis: Redis) -> None:
    config = GitHubClientConfig(write_interval_seconds=0.0, write_burst=1,
                                content_per_minute=3, content_per_hour=500)
    paces = [RedisWritePace(redis, "installation:3", config) for _ in range(2)]
    for i in range(3):
        assert await paces[i % 2].take(content=True) == 0
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        raise asyncio.CancelledError  # enough: it was told to wait

    pace = RedisWritePace(redis, "installation:3", config, sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await pace.take(content=True)
    assert slept and 55 <= slept[0] <= 60


async def test_the_issue_lock_holds_across_processes(redis: Redis) -> None:
    locks = [RedisIssueLocks(redis, lambda r, n: asyncio.Lock()) for _ in range(2)]
    inside, overlaps = [0], [0]

    async def sync(lock: RedisIssueLocks) -> None:
        async with lock("Org/Repo", 1):
            inside[0] += 1
            overlaps[0] = max(overlaps[0], inside[0])
            await asyncio.sleep(0.02)
            inside[0] -= 1

    await asyncio.gather(*(sync(locks[i % 2]) for i in range(6)))
    assert overlaps[0] == 1


async def test_two_bots_on_one_redis_post_one_status_comment_per_request(
        fake_github: FakeGitHub, app_key: str, redis: Redis, redis_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed(fake_github)
    monkeypatch.setenv("REDIS_URL", redis_url)
    config = faulty_config()
    numbers = [fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                     body=form_body()) for _ in range(6)]
    async with running_bot(fake_github, app_key, config=config) as one, \
            running_bot(fake_github, app_key, config=config) as two:
        for n in numbers:
            payload = issues_payload(fake_github, REPO, n, "opened")
            # GitHub may deliver one delivery twice, to either process.
            assert (await one.deliver("issues", payload, delivery_id=f"o{n}")).status == 202
            assert (await two.deliver("issues", payload, delivery_id=f"o{n}")).status == 202
            edit = issues_payload(fake_github, REPO, n, "edited")
            assert (await two.deliver("issues", edit)).status == 202
        await until(lambda: all(len(status_comments(fake_github, REPO, n)) == 1
                                for n in numbers), timeout=20)
        await one.settle()
        await two.settle()
    for n in numbers:
        assert len(status_comments(fake_github, REPO, n)) == 1, n


@pytest.mark.parametrize(("ci", "outcome"), [("", "skipped"), ("true", "failed")])
def test_a_missing_redis_server_fails_in_ci_and_is_skipped_elsewhere(
        monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("CI", ci)
    if not ci:
        monkeypatch.delenv("CI")
    expected = pytest.skip.Exception if outcome == "skipped" else pytest.fail.Exception
    with pytest.raises(expected):
        redis_server_or_skip()
