"""The webhook: checking a delivery and offering it to the work queue.

Acknowledging a webhook costs no GitHub call: checking the size, the
signature, the headers and decoding the JSON is all the work done before the
``202``; the rest happens in the work queue's workers (``bot.service.workqueue``).
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from .metrics import Metrics

log = logging.getLogger("bot.server")

MAX_BODY_BYTES = 25 * 1024 * 1024
HANDLED_EVENTS = frozenset({"issues", "issue_comment", "installation",
                            "installation_repositories"})


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


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


class Offers(Protocol):
    def offer(self, delivery: Delivery) -> str | Awaitable[str]: ...


def webhook_route(queue: Offers, secret: str | None, metrics: Metrics
                  ) -> Callable[[web.Request], Awaitable[web.Response]]:
    # Not gidgethub's Event.from_http: it falls back to the SHA-1 signature, answers 415 to a
    # missing content type, and lets a RecursionError past the "nested too deeply" 400.
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
        offered = queue.offer(Delivery(delivery_id, event, payload))
        outcome = await offered if inspect.isawaitable(offered) else offered
        if outcome == "full":
            metrics.rejected.labels(reason="queue_full").inc()
            return _problem(503, "queue full or shutting down; GitHub will show the failure "
                                 "and the bot asks for it again")
        return web.json_response({"status": outcome}, status=202)

    return webhook
