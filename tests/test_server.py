"""The webhook endpoint in front of the work queue (module tests for ``bot.service.server``):
every answer the contract names, and what reaches the queue's runner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.service.metrics import Metrics
from bot.service.server import MAX_BODY_BYTES, Delivery, webhook_route
from bot.service.workqueue import Arrival, IssueKey, IssueQueue, Work

from .payloads import sign

SECRET = "module-secret"


class Handled:
    """The queue's runner: records the deliveries each pass took, and fails when told."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        self.fail = False

    async def __call__(self, work: Work) -> Work | None:
        self.deliveries.extend(work.ids)
        if self.fail:
            raise RuntimeError("handler failed")
        return None


def each_its_own_issue(delivery: Delivery) -> Arrival:
    """A door that admits everything, each delivery about an issue of its own."""
    number = 1 + sum(delivery.id.encode()) % 10_000
    return Arrival(IssueKey(1, "o/r", number), "o/r", delivery, sync=True)


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[str, IssueQueue, Handled]]:
    handled = Handled()
    metrics = Metrics()
    queue = IssueQueue(each_its_own_issue, handled, metrics, max_waiting=2, workers=1)
    app = web.Application(client_max_size=MAX_BODY_BYTES + 1024 * 1024)
    app.router.add_post("/webhook", webhook_route(queue, SECRET, metrics))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/webhook")), queue, handled
    finally:
        await queue.stop()
        await server.close()


def _headers(body: bytes, event: str | None = "issues", delivery: str | None = "d-1",
             signature: str | None = "") -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if event is not None:
        headers["X-GitHub-Event"] = event
    if delivery is not None:
        headers["X-GitHub-Delivery"] = delivery
    if signature == "":
        headers["X-Hub-Signature-256"] = sign(body, SECRET)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return headers


OK = json.dumps({"action": "opened"}).encode()
NESTED = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(("body", "headers", "status", "says"), [
    (OK, {}, 202, "queued"),
    (OK, {"event": "pull_request"}, 202, "ignored"),
    (OK, {"signature": None}, 401, "X-Hub-Signature-256"),
    (OK, {"signature": "sha256=" + "0" * 64}, 401, "X-Hub-Signature-256"),
    (OK, {"event": None}, 400, "X-GitHub-Event"),
    (OK, {"delivery": None}, 400, "X-GitHub-Delivery"),
    (OK, {"delivery": "x" * 201}, 400, "X-GitHub-Delivery"),
    (b"{not json", {}, 400, "not JSON"),
    (b"\xff\xfe", {}, 400, "not JSON"),
    (NESTED, {}, 400, "nested too deeply"),
    (b"[1, 2]", {}, 400, "not a JSON object"),
    (b"x" * (MAX_BODY_BYTES + 1), {}, 413, "25 MiB"),
])
async def test_the_webhook_answers(endpoint: tuple[str, IssueQueue, Handled], body: bytes,
                                   headers: dict[str, Any], status: int, says: str) -> None:
    url, queue, _ = endpoint
    async with aiohttp.ClientSession() as session, session.post(
            url, data=body, headers=_headers(body, **headers)) as resp:
        assert resp.status == status
        answer = await resp.json()
    assert says in json.dumps(answer)
    assert queue.depth == (1 if says == "queued" else 0)


async def test_a_delivery_is_handled_once_and_a_failed_one_again(
        endpoint: tuple[str, IssueQueue, Handled]) -> None:
    url, queue, handled = endpoint
    queue.start()

    async def post(delivery: str) -> str:
        async with aiohttp.ClientSession() as session, session.post(
                url, data=OK, headers=_headers(OK, delivery=delivery)) as resp:
            status: str = (await resp.json())["status"]
            return status

    async def settled() -> None:
        while queue.depth or queue.in_flight:
            await asyncio.sleep(0.01)

    assert await post("a") == "queued"
    await settled()
    assert await post("a") == "duplicate"  # done: GitHub's redelivery is not run twice
    handled.fail = True
    assert await post("b") == "queued"
    await settled()
    assert queue.failed == 1
    handled.fail = False
    assert await post("b") == "queued"  # failed: asked for again, it runs again
    await settled()
    assert handled.deliveries == ["a", "b", "b"]


async def test_a_full_or_closing_queue_answers_503(
        endpoint: tuple[str, IssueQueue, Handled]) -> None:
    url, queue, _ = endpoint  # not started: nothing is taken off the queue
    statuses = []
    async with aiohttp.ClientSession() as session:
        for i in range(3):
            async with session.post(url, data=OK, headers=_headers(OK, delivery=f"d{i}")) as r:
                statuses.append(r.status)
    assert statuses == [202, 202, 503]
    queue.accepting = False
    async with aiohttp.ClientSession() as session, session.post(
            url, data=OK, headers=_headers(OK, delivery="late")) as resp:
        assert resp.status == 503
