"""Start-up for the long-running commands: serve, clock, tick (environment, credentials)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping

import aiohttp
from aiohttp import web

from .app import EventBot, Settings, create_app
from .config import Config, ConfigError
from .forms import FormTemplate
from .github import AppCredentials, GitHubApp, credentials_from_env
from .logs import setup_logging
from .metrics import Metrics
from .scheduler import Scheduler

log = logging.getLogger("bot.serve")
DEFAULT_API_URL = "https://api.github.com"


def _load(args: argparse.Namespace) -> tuple[Config, FormTemplate] | None:
    from .__main__ import config_path, load_all

    try:
        return load_all(config_path(getattr(args, "config", None)))
    except ConfigError as e:
        for line in e.problems:
            print(f"error: {line}", file=sys.stderr)
        return None


def api_url(env: Mapping[str, str]) -> str:
    return (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")


def missing_credentials(env: Mapping[str, str]) -> list[str]:
    missing = []
    if not env.get("GITHUB_APP_ID"):
        missing.append("GITHUB_APP_ID")
    if not env.get("GITHUB_PRIVATE_KEY") and not env.get("GITHUB_PRIVATE_KEY_PATH"):
        missing.append("GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH)")
    if not env.get("GITHUB_WEBHOOK_SECRET"):
        missing.append("GITHUB_WEBHOOK_SECRET")
    return missing


def _credentials(env: Mapping[str, str]) -> AppCredentials | None:
    try:
        return credentials_from_env(env)
    except (OSError, ValueError) as e:
        print(f"error: cannot read the App's private key: {e}", file=sys.stderr)
        return None


def github_factory(creds: AppCredentials | None, config: Config, env: Mapping[str, str]
                   ) -> Callable[[aiohttp.ClientSession], GitHubApp | None]:
    url = api_url(env)

    def build(session: aiohttp.ClientSession) -> GitHubApp | None:
        if creds is None:
            return None
        return GitHubApp(session, creds, url, config.github)

    return build


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
            return 2
    creds = None if args.dry_run else _credentials(env)
    if not args.dry_run and creds is None:
        return 2
    port = args.port or int(env.get("PORT") or 8080)
    settings = Settings(
        config=config, form=form, webhook_secret=env.get("GITHUB_WEBHOOK_SECRET") or None,
        dry_run=args.dry_run, scheduler=not args.no_scheduler,
        dashboard_token=env.get("DASHBOARD_TOKEN") or None,
    )
    app = create_app(settings, github_factory(creds, config, env))
    log.info("serving on 0.0.0.0:%d%s", port, " (dry run: nothing is written to GitHub)"
             if args.dry_run else "")
    web.run_app(app, host="0.0.0.0", port=port, print=None,
                shutdown_timeout=config.server.shutdown_grace_seconds)
    return 0


async def _run_scheduler(config: Config, form: FormTemplate, creds: AppCredentials,
                         env: Mapping[str, str], *, once: bool) -> int:
    """``tick`` (once): reconcile, sweep deliveries, do what is due; ``clock``: loop."""
    async with aiohttp.ClientSession() as session:
        github = GitHubApp(session, creds, api_url(env), config.github)
        bot = EventBot(Settings(config, form, env.get("GITHUB_WEBHOOK_SECRET")), github,
                       Metrics())
        scheduler = Scheduler(bot)
        if once:
            return await scheduler.run_once()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                # A platform restarting the clock sends SIGTERM: stop between passes.
                loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            await scheduler.run()
        except asyncio.CancelledError:
            log.info("clock stopped")
        return 0


def _scheduler_setup(args: argparse.Namespace, env: Mapping[str, str]
                     ) -> tuple[Config, FormTemplate, AppCredentials] | int:
    setup_logging(env.get("LOG_LEVEL", "INFO"), env.get("LOG_FORMAT", "text"))
    loaded = _load(args)
    if loaded is None:
        return 1
    missing = missing_credentials(env)
    if missing:
        print(f"error: cannot run the scheduler without {', '.join(missing)}", file=sys.stderr)
        return 2
    creds = _credentials(env)
    if creds is None:
        return 2
    return (*loaded, creds)


def tick(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    setup = _scheduler_setup(args, env)
    if isinstance(setup, int):
        return setup
    count = asyncio.run(_run_scheduler(*setup, env, once=True))
    log.info("tick: %d open request(s) brought up to date", count)
    return 0


def clock(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    setup = _scheduler_setup(args, env)
    if isinstance(setup, int):
        return setup
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run_scheduler(*setup, env, once=False))
    return 0
