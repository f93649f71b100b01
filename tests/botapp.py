"""Start the real bot app on loopback against the shared fake GitHub (one helper for all tests)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.core.config import Config
from bot.core.forms import FormTemplate, load_form
from bot.core.sealing import DEVELOPMENT_KEYS, StateKeys, state_keys
from bot.github.client import AppCredentials, GitHubApp
from bot.service.app import EventBot, Settings
from bot.service.loading import load_config
from bot.service.workqueue import WorkQueue
from bot.wiring import create_app

from .payloads import sign

SECRET = "test-secret"
STATE_KEYS = state_keys(None, SECRET) or DEVELOPMENT_KEYS  # as the bot derives them


@dataclass
class Clock:
    """A clock tests move by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 10, 0,
                                                          tzinfo=timezone.utc))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RunningBot:
    app: web.Application
    server: TestServer
    session: aiohttp.ClientSession
    secret: str | None

    @property
    def url(self) -> str:
        return str(self.server.make_url("/"))

    @property
    def bot(self) -> EventBot:
        bot: EventBot = self.app["bot"]
        return bot

    @property
    def queue(self) -> WorkQueue:
        queue: WorkQueue = self.app["queue"]
        return queue

    async def deliver(self, event: str, payload: Any, delivery_id: str | None = None,
                      secret: str | None = None) -> aiohttp.ClientResponse:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/test",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        }
        key = secret if secret is not None else self.secret
        if key is not None:
            headers["X-Hub-Signature-256"] = sign(body, key)
        async with self.session.post(self.server.make_url("/webhook"), data=body,
                                     headers=headers) as resp:
            await resp.read()
            return resp

    async def settle(self, timeout: float = 20.0) -> None:
        """Wait until every queued delivery has been processed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.queue.depth or self.queue.in_flight:
            if loop.time() > deadline:
                raise TimeoutError("the bot did not finish its deliveries")
            await asyncio.sleep(0.01)


def fast_config(**overrides: Any) -> Config:
    from dataclasses import replace
    from pathlib import Path

    config = load_config(Path(__file__).resolve().parent.parent / "config.yaml")
    fast = replace(config.github, backoff_base_seconds=0.01, backoff_max_seconds=0.05,
                   write_interval_seconds=0.0, secondary_limit_fallback_seconds=0.2,
                   timeout_seconds=2.0)
    return replace(config, github=fast, **overrides)


@asynccontextmanager
async def running_bot(fake: Any, app_key: str, *, config: Config | None = None,
                      form: FormTemplate | None = None,
                      clock: Callable[[], datetime] | None = None,
                      dry_run: bool = False, secret: str | None = SECRET,
                      scheduler: bool = False, dashboard_token: str | None = None,
                      github: bool = True, state_keys: StateKeys | None = None
                      ) -> AsyncIterator[RunningBot]:
    config = config or fast_config()
    form = form or load_form(config.form_path)
    settings = Settings(config=config, form=form, webhook_secret=secret, dry_run=dry_run,
                        scheduler=scheduler, dashboard_token=dashboard_token,
                        state_keys=state_keys)
    creds = AppCredentials(app_id=str(fake.app_id), private_key=app_key)

    def factory(session: aiohttp.ClientSession) -> GitHubApp | None:
        if not github:
            return None
        return GitHubApp(session, creds, fake.api_url, config.github)

    bot_clock = clock or Clock()
    app = create_app(settings, factory, clock=bot_clock)
    if hasattr(fake, "run_clock"):  # workflow runs start when the bot dispatches them
        fake.run_clock = lambda: bot_clock().timestamp()
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    # Start-up work (label sync, reconciliation) finishes before the test acts.
    for name in ("labels_task", "reconcile_task"):
        task = app.get(name)
        if task is not None and not (name == "reconcile_task" and scheduler):
            await task
    session = aiohttp.ClientSession()
    try:
        yield RunningBot(app, server, session, secret)
    finally:
        await session.close()
        await server.close()
