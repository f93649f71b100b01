"""The composition root: the aiohttp app with the service, its queue, scheduler and the views.

It lives above the service and the views (the layers contract: ``bot.cli`` over
``bot.wiring`` over ``bot.views``) because it is the one place that needs both: the
service must not import the dashboard it is mounted beside, and the views read the
service only through its index. ``serve`` builds the app from the environment here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

import aiohttp
from aiohttp import web

from .github.client import GitHubApp
from .service.admission import queue_for
from .service.app import EventBot, Settings, utc_now
from .service.logs import setup_logging
from .service.metrics import Metrics
from .service.scheduler import Scheduler
from .service.serve import (
    EXIT_RUNTIME,
    EXIT_SETTINGS,
    _credentials,
    _load,
    bind,
    github_factory,
    listen_port,
    missing_credentials,
    server_keys,
)
from .service.server import webhook_route
from .service.workqueue import WorkQueue
from .views.dashboard import add_views

log = logging.getLogger("bot.app")


async def _healthz(request: web.Request) -> web.Response:
    bot: EventBot = request.app["bot"]
    queue: WorkQueue = request.app["queue"]
    return web.json_response({
        "status": "ok" if queue.accepting else "shutting-down",
        "queue_depth": queue.depth,
        "in_flight": queue.in_flight,
        "processed": queue.processed,
        "failed_deliveries": queue.failed,
        "pending_reconciliation": bot.pending,
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
        metrics.track_github(lambda: github.stats if github is not None else None)
        queue = queue_for(bot, metrics, os.environ.get("REDIS_URL"))
        app["queue"] = queue
        app["webhook"] = webhook_route(queue, settings.webhook_secret, metrics)
        queue.start()
        if github is not None and not settings.dry_run:
            app["labels_task"] = asyncio.create_task(bot.sync_labels(), name="labels")
            if settings.scheduler:
                # Reconciles at once, then ticks; a background task, so /healthz answers.
                scheduler = Scheduler(bot)
                app["scheduler"] = scheduler
                app["reconcile_task"] = asyncio.create_task(scheduler.run(), name="scheduler")
            else:
                # Without the scheduler (a `clock` process runs it), still catch up once,
                # then keep the dashboard and calendar current without writing.
                app["reconcile_task"] = asyncio.create_task(_reconcile_on_start(bot))
                app["index_task"] = asyncio.create_task(_keep_index_fresh(bot),
                                                        name="index")

    async def on_shutdown(app: web.Application) -> None:
        queue: WorkQueue = app["queue"]
        queue.accepting = False  # from now on /webhook answers 503
        # The scheduler's passes are all redone on the next start: the grace goes to
        # the deliveries GitHub will not send again.
        for name in ("reconcile_task", "labels_task", "index_task"):
            task = app.get(name)
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        finished = await queue.drain(settings.config.server.shutdown_grace_seconds)
        cut_off = queue.pending_deliveries  # read before the workers are stopped
        await queue.stop()
        if not finished:
            # Issues are brought up to date by the next start's reconciliation; commands
            # are handed back to GitHub, to be delivered again.
            log.warning("shutting down with %d deliveries unfinished (%s); reconciliation on "
                        "the next start picks up their issues", len(cut_off),
                        ", ".join(sorted(d.id for d in cut_off)[:50]))
        bot: EventBot = app["bot"]
        await bot.hand_back(cut_off)

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
    add_views(app, settings.dashboard_token)  # GET / and GET /events.ics
    return app




async def _reconcile_on_start(bot: EventBot) -> None:
    try:
        count = await bot.reconcile_all()
        log.info("start-up reconciliation synced %d open request(s)", count)
    except Exception:
        log.exception("start-up reconciliation failed; the scheduler retries it")


async def _keep_index_fresh(bot: EventBot) -> None:
    """A web process without the scheduler: after its start-up reconciliation, refresh
    the index every ``scheduler.reconcile_seconds`` (reading only; the ``clock`` process
    does the work)."""
    while True:
        await asyncio.sleep(bot.config.scheduler.reconcile_seconds)
        try:
            count = await bot.refresh_index()
            log.info("index refreshed: %d open request(s)", count)
        except Exception:
            log.exception("refreshing the index failed; tried again next interval")


def serve(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    setup_logging(env.get("LOG_LEVEL", "INFO"), env.get("LOG_FORMAT", "text"))
    loaded = _load(args)
    if loaded is None:
        return 1
    config, form = loaded
    if not args.dry_run:
        missing = missing_credentials(env)
        if missing:
            print(f"error: cannot serve without {', '.join(missing)} (or use --dry-run)",
                  file=sys.stderr)
            return EXIT_SETTINGS
    creds = None if args.dry_run else _credentials(env)
    if not args.dry_run and creds is None:
        return EXIT_SETTINGS
    port = listen_port(args.port, env)
    if port is None:
        return EXIT_SETTINGS
    sock = bind(port)
    if sock is None:
        return EXIT_RUNTIME
    port = sock.getsockname()[1]
    keys = server_keys(env)
    settings = Settings(
        config=config, form=form, webhook_secret=env.get("GITHUB_WEBHOOK_SECRET") or None,
        dry_run=args.dry_run, scheduler=not args.no_scheduler,
        dashboard_token=env.get("DASHBOARD_TOKEN") or None, state_keys=keys,
    )
    app = create_app(settings, github_factory(creds, config, env))
    log.info("serving on 0.0.0.0:%d%s", port, " (dry run: nothing is written to GitHub)"
             if args.dry_run else "")
    with contextlib.closing(sock):
        web.run_app(app, sock=sock, print=None,
                    shutdown_timeout=config.server.shutdown_grace_seconds)
    return 0
