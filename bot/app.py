"""The running bot: routes deliveries to the one sync path, and wires the aiohttp app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import aiohttp
from aiohttp import web

from .apply import IssueClient, PlanHook, SyncResult, sync_request
from .config import Config
from .forms import FormTemplate
from .github import DryRunClient, GitHubApp
from .index import RequestIndex, entry_from
from .logs import issue_context
from .metrics import Metrics
from .model import RepoRef
from .server import Delivery, DeliveryQueue, webhook_route

log = logging.getLogger("bot.app")

TRIAGE_ACTIONS = frozenset({"opened", "edited", "reopened", "closed"})


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Settings:
    config: Config
    form: FormTemplate
    webhook_secret: str | None
    dry_run: bool = False
    scheduler: bool = True
    dashboard_token: str | None = None


def repo_from_payload(payload: dict[str, Any]) -> RepoRef | None:
    repo = payload.get("repository")
    inst = payload.get("installation")
    if not isinstance(repo, dict):
        return None
    full = repo.get("full_name")
    if not isinstance(full, str) or full.count("/") != 1:
        return None
    owner, name = full.split("/")
    inst_id = inst.get("id") if isinstance(inst, dict) else None
    return RepoRef(owner, name, inst_id if isinstance(inst_id, int) else 0)


class EventBot:
    """Holds what the server caches (clients, the bot's login) and handles deliveries."""

    def __init__(self, settings: Settings, github: GitHubApp | None, metrics: Metrics,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.settings = settings
        self.github = github
        self.metrics = metrics
        self.clock = clock
        self._bot_login: str | None = None
        self.dry_run_client = DryRunClient()
        self.failures: dict[tuple[str, int], str] = {}  # issue -> last error, until it syncs
        self.index = RequestIndex()

    @property
    def config(self) -> Config:
        return self.settings.config

    async def bot_login(self) -> str | None:
        if self.github is None:
            return None
        if self._bot_login is None:
            self._bot_login = await self.github.bot_login()
        return self._bot_login

    async def client_for(self, installation_id: int) -> IssueClient:
        if self.github is None or self.settings.dry_run:
            return self.dry_run_client
        return await self.github.installation(installation_id)

    async def sync(self, repo: RepoRef, number: int, issue_json: Any = None,
                   hook: PlanHook | None = None) -> SyncResult:
        client = await self.client_for(repo.installation_id)
        key = (repo.full_name.lower(), number)
        with issue_context(repo.full_name, number):
            try:
                result = await sync_request(
                    client, repo, number, self.config, self.settings.form, self.clock(),
                    bot_login=await self.bot_login(), issue_json=issue_json, hook=hook,
                    read_comments=not self.settings.dry_run,
                )
            except Exception as e:
                self.failures[key] = type(e).__name__
                self.metrics.pending_work.set(len(self.failures))
                raise
            self.failures.pop(key, None)
            self.metrics.pending_work.set(len(self.failures))
            self._remember(result)
            return result

    def _remember(self, result: SyncResult) -> None:
        """Keep the index (dashboard, calendar, scheduler) in step with what was planned."""
        issue = result.issue
        if issue is None:
            return
        if result.triage is None or issue.state != "open":
            self.index.drop(issue.repo.full_name, issue.number)
            return
        ticked = result.status.ticked if result.status is not None else frozenset()
        entry = entry_from(issue, result.triage, ticked)
        if entry is not None:
            self.index.put(entry)

    async def handle(self, delivery: Delivery) -> None:
        payload = delivery.payload
        if delivery.event == "issues":
            await self._on_issue(delivery.action, payload)
        elif delivery.event in ("installation", "installation_repositories"):
            await self._on_installation(delivery.action, payload)

    async def _on_issue(self, action: str, payload: dict[str, Any]) -> None:
        repo = repo_from_payload(payload)
        issue = payload.get("issue")
        if repo is None or not isinstance(issue, dict) or not isinstance(issue.get("number"),
                                                                         int):
            log.warning("issues delivery without a usable repository or issue; dropped")
            return
        if action == "labeled":
            label = payload.get("label")
            name = label.get("name") if isinstance(label, dict) else None
            if not isinstance(name, str) or (
                    name.lower() != self.config.labels.event_request.lower()):
                return
        elif action not in TRIAGE_ACTIONS:
            return
        await self.sync(repo, issue["number"], issue_json=issue)

    async def _on_installation(self, action: str, payload: dict[str, Any]) -> None:
        inst = payload.get("installation")
        if not isinstance(inst, dict) or not isinstance(inst.get("id"), int):
            return
        if action in ("created", "added", "new_permissions_accepted", "unsuspend"):
            await self.reconcile_installation(inst["id"])

    async def reconcile_installation(self, installation_id: int) -> int:
        """Sync every open event request of one installation; returns how many were synced."""
        if self.github is None or self.settings.dry_run:
            return 0
        client = await self.github.installation(installation_id)
        count = 0
        for repo_json in await client.repositories():
            full = repo_json.get("full_name") if isinstance(repo_json, dict) else None
            if not isinstance(full, str) or "/" not in full:
                continue
            owner, name = full.split("/", 1)
            repo = RepoRef(owner, name, installation_id)
            for issue in await client.open_issues(full, None):
                if not isinstance(issue, dict) or "pull_request" in issue:
                    continue
                try:
                    result = await self.sync(repo, issue["number"], issue_json=issue)
                except Exception:
                    self.metrics.reconcile.labels(result="error").inc()
                    log.exception("reconciling %s#%s failed", full, issue.get("number"))
                    continue
                if result.triage is not None:
                    count += 1
                    self.metrics.reconcile.labels(
                        result="changed" if result.writes else "unchanged").inc()
        return count

    async def reconcile_all(self) -> int:
        if self.github is None or self.settings.dry_run:
            return 0
        total = 0
        for inst in await self.github.installations():
            if isinstance(inst, dict) and isinstance(inst.get("id"), int):
                total += await self.reconcile_installation(inst["id"])
        return total


async def _healthz(request: web.Request) -> web.Response:
    bot: EventBot = request.app["bot"]
    queue: DeliveryQueue = request.app["queue"]
    return web.json_response({
        "status": "ok" if queue.accepting else "shutting-down",
        "queue_depth": queue.depth,
        "in_flight": queue.in_flight,
        "processed": queue.processed,
        "failed_deliveries": queue.failed,
        "pending_reconciliation": len(bot.failures),
        "dry_run": bot.settings.dry_run,
    })


async def _metrics(request: web.Request) -> web.Response:
    bot: EventBot = request.app["bot"]
    return web.Response(body=bot.metrics.render(),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def create_app(settings: Settings, github_factory: Callable[[aiohttp.ClientSession],
                                                            GitHubApp | None] | None = None,
               clock: Callable[[], datetime] = utc_now) -> web.Application:
    """The aiohttp application; ``github_factory`` builds the App client on start-up."""
    app = web.Application(client_max_size=26 * 1024 * 1024)
    metrics = Metrics()
    app["metrics"] = metrics

    async def on_startup(app: web.Application) -> None:
        session = aiohttp.ClientSession()
        app["session"] = session
        github = github_factory(session) if github_factory else None
        bot = EventBot(settings, github, metrics, clock)
        app["bot"] = bot
        queue = DeliveryQueue(bot.handle, metrics, maxsize=settings.config.server.queue_size,
                              workers=settings.config.server.workers)
        app["queue"] = queue
        app["webhook"] = webhook_route(queue, settings.webhook_secret, metrics)
        queue.start()
        if github is not None and not settings.dry_run:
            app["reconcile_task"] = asyncio.create_task(_reconcile_on_start(bot))

    async def on_shutdown(app: web.Application) -> None:
        queue: DeliveryQueue = app["queue"]
        finished = await queue.drain(settings.config.server.shutdown_grace_seconds)
        if not finished:
            log.warning("shutting down with %d deliveries unfinished; reconciliation on the "
                        "next start picks them up", queue.depth + queue.in_flight)
        await queue.stop()
        task = app.get("reconcile_task")
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def on_cleanup(app: web.Application) -> None:
        await app["session"].close()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)

    async def webhook(request: web.Request) -> web.Response:
        handler: Callable[[web.Request], Awaitable[web.Response]] = request.app["webhook"]
        return await handler(request)

    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
    return app


async def _reconcile_on_start(bot: EventBot) -> None:
    try:
        count = await bot.reconcile_all()
        log.info("start-up reconciliation synced %d open request(s)", count)
    except Exception:
        log.exception("start-up reconciliation failed; the scheduler retries it")
