"""The aiohttp app: /webhook, the delivery queue and its workers, /healthz, /metrics.

Acknowledging a webhook costs no GitHub call: checking the size, the
signature, the headers and decoding the JSON is all the work done before the
``202``; the rest happens in workers reading a bounded queue.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from cachetools import TTLCache

from .logs import delivery_context
from .metrics import Metrics

log = logging.getLogger("bot.server")

MAX_BODY_BYTES = 25 * 1024 * 1024
HANDLED_EVENTS = frozenset({"issues", "issue_comment", "installation",
                            "installation_repositories", "push"})


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    payload: dict[str, Any]
    received: float = field(default_factory=time.monotonic)

    @property
    def action(self) -> str:
        action = self.payload.get("action")
        return action if isinstance(action, str) else ""

    @property
    def issue_key(self) -> tuple[str, int] | None:
        repo = self.payload.get("repository")
        issue = self.payload.get("issue")
        if isinstance(repo, dict) and isinstance(issue, dict):
            name, number = repo.get("full_name"), issue.get("number")
            if isinstance(name, str) and isinstance(number, int):
                return (name.lower(), number)
        return None


DeliveryHandler = Callable[[Delivery], Awaitable[None]]


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256`` compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


class DeliveryQueue:
    """A bounded queue of deliveries, de-duplicated by ``X-GitHub-Delivery``.

    A delivery is marked done only after it was processed without error, so a
    redelivery of a failed one (same id) is processed again.
    """

    def __init__(self, handler: DeliveryHandler, metrics: Metrics, *, maxsize: int,
                 workers: int) -> None:
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=maxsize)
        self._handler = handler
        self._metrics = metrics
        self._workers = workers
        self._tasks: list[asyncio.Task[None]] = []
        self._done: TTLCache[str, bool] = TTLCache(maxsize=100_000, ttl=3 * 24 * 3600)
        self._pending: dict[str, Delivery] = {}  # taken and not yet done
        self._issue_locks: weakref.WeakValueDictionary[tuple[str, int], asyncio.Lock] = (
            weakref.WeakValueDictionary())
        self.accepting = True
        self.failed = 0
        self.processed = 0

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def pending_ids(self) -> frozenset[str]:
        """Deliveries taken and not yet done (queued or being processed)."""
        return frozenset(self._pending)

    @property
    def pending_deliveries(self) -> tuple[Delivery, ...]:
        """The deliveries taken and not yet done (to hand back at shutdown)."""
        return tuple(self._pending.values())

    def offer(self, delivery: Delivery) -> str:
        """-> "queued", "duplicate" or "full"."""
        if delivery.id in self._done or delivery.id in self._pending:
            return "duplicate"
        if not self.accepting:
            return "full"
        try:
            self._queue.put_nowait(delivery)
        except asyncio.QueueFull:
            return "full"
        self._pending[delivery.id] = delivery
        self._metrics.queue_depth.set(self._queue.qsize())
        return "queued"

    def start(self) -> None:
        for i in range(self._workers):
            self._tasks.append(asyncio.create_task(self._work(), name=f"worker-{i}"))

    async def _work(self) -> None:
        while True:
            delivery = await self._queue.get()
            self._metrics.queue_depth.set(self._queue.qsize())
            try:
                await self._process(delivery)
            finally:
                self._queue.task_done()

    async def _process(self, delivery: Delivery) -> None:
        key = delivery.issue_key
        lock = None
        if key is not None:
            lock = self._issue_locks.get(key)
            if lock is None:
                lock = asyncio.Lock()
                self._issue_locks[key] = lock
        with delivery_context(delivery.id, key):
            outcome = "ok"
            try:
                if lock is not None:
                    async with lock:
                        await self._handler(delivery)
                else:
                    await self._handler(delivery)
                self._done[delivery.id] = True
                self.processed += 1
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            except Exception:  # one bad delivery must never stop the worker
                outcome = "error"
                self.failed += 1
                log.exception("delivery %s (%s) failed; reconciliation will retry it",
                              delivery.id, delivery.event)
            finally:
                self._pending.pop(delivery.id, None)
                self._metrics.deliveries.labels(event=delivery.event, outcome=outcome).inc()
                self._metrics.delivery_seconds.observe(time.monotonic() - delivery.received)

    async def drain(self, timeout: float) -> bool:
        """Stop taking deliveries and wait for those queued; True if all finished."""
        self.accepting = False
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
            return True
        except TimeoutError:
            return False

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def webhook_route(queue: DeliveryQueue, secret: str | None, metrics: Metrics
                  ) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def webhook(request: web.Request) -> web.Response:
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            metrics.rejected.labels(reason="too_large").inc()
            return _problem(413, "payload larger than 25 MiB")
        body = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            body.extend(chunk)
            if len(body) > MAX_BODY_BYTES:
                metrics.rejected.labels(reason="too_large").inc()
                return _problem(413, "payload larger than 25 MiB")
        raw = bytes(body)
        signature = request.headers.get("X-Hub-Signature-256")
        if secret is not None and not signature_ok(secret, raw, signature):
            metrics.rejected.labels(reason="signature").inc()
            return _problem(401, "bad or missing X-Hub-Signature-256")
        event = request.headers.get("X-GitHub-Event", "").strip()
        delivery_id = request.headers.get("X-GitHub-Delivery", "").strip()
        if not event or not delivery_id or len(event) > 100 or len(delivery_id) > 200:
            metrics.rejected.labels(reason="headers").inc()
            return _problem(400, "missing X-GitHub-Event or X-GitHub-Delivery")
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            metrics.rejected.labels(reason="json").inc()
            return _problem(400, "body is not JSON")
        except RecursionError:  # the parser follows only so many levels: no payload has them
            metrics.rejected.labels(reason="json").inc()
            return _problem(400, "body is JSON nested too deeply")
        if not isinstance(payload, dict):
            metrics.rejected.labels(reason="json").inc()
            return _problem(400, "body is not a JSON object")
        if event not in HANDLED_EVENTS:
            metrics.deliveries.labels(event=event[:40], outcome="ignored").inc()
            return web.json_response({"status": "ignored"}, status=202)
        outcome = queue.offer(Delivery(delivery_id, event, payload))
        if outcome == "full":
            metrics.rejected.labels(reason="queue_full").inc()
            return _problem(503, "queue full or shutting down; GitHub will show the failure "
                                 "and the bot asks for it again")
        return web.json_response({"status": outcome}, status=202)

    return webhook
