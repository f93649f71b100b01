"""Start-up for the long-running commands: clock and tick, and what ``serve`` checks first
(environment, credentials, the port); ``serve`` itself is in ``bot.wiring``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import aiohttp

from ..core.config import Config
from ..core.forms import FormTemplate
from ..core.sealing import DEVELOPMENT_KEYS, StateKeys, keys_from_env
from ..github.client import (
    DEFAULT_API_URL,
    AppCredentials,
    GitHubApp,
    api_url,
    credentials_from_env,
)
from ..github.errors import GitHubError, redact
from .app import EventBot, Settings
from .loading import load_or_say
from .logs import setup_logging
from .metrics import Metrics
from .scheduler import Scheduler

log = logging.getLogger("bot.serve")
DEFAULT_PORT = 8080
EXIT_RUNTIME = 1  # the command could not do its work (GitHub unreachable, port taken)
EXIT_SETTINGS = 2  # a setting is missing or unusable (CONTRACT.md: missing credentials)
_APP_ID = re.compile(r"[0-9]+")


def _load(args: argparse.Namespace) -> tuple[Config, FormTemplate] | None:
    return load_or_say(getattr(args, "config", None))


def missing_credentials(env: Mapping[str, str]) -> list[str]:
    missing = []
    # Blank counts as missing: credentials_from_env strips what it reads.
    if not env.get("GITHUB_APP_ID", "").strip():
        missing.append("GITHUB_APP_ID")
    if not (env.get("GITHUB_PRIVATE_KEY", "").strip()
            or env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()):
        missing.append("GITHUB_PRIVATE_KEY (or GITHUB_PRIVATE_KEY_PATH)")
    if not env.get("GITHUB_WEBHOOK_SECRET"):
        missing.append("GITHUB_WEBHOOK_SECRET")
    return missing


def _credentials(env: Mapping[str, str]) -> AppCredentials | None:
    """The App's id, parsed key and API URL, checked now, or None after one ``error:`` line."""
    app_id = env.get("GITHUB_APP_ID", "").strip()
    # A mistyped id would pass here and fail every call later as a 401.
    if not _APP_ID.fullmatch(app_id) or int(app_id) == 0:
        print("error: GITHUB_APP_ID must be the App's id, a whole positive number "
              "(shown on the App's settings page)", file=sys.stderr)
        return None
    url = api_url(env)
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        usable = False
    if not usable:
        print(f"error: GITHUB_API_URL {redact(url)!r} is not an http(s) URL like "
              f"{DEFAULT_API_URL}", file=sys.stderr)
        return None
    try:
        creds = credentials_from_env(env)
    except (OSError, ValueError) as e:
        print(f"error: cannot read the App's private key: {e}", file=sys.stderr)
        return None
    if creds is None:  # missing_credentials ran first; kept for the type checker
        print("error: GITHUB_APP_ID and GITHUB_PRIVATE_KEY are needed", file=sys.stderr)
    return creds


def listen_port(arg: int | None, env: Mapping[str, str]) -> int | None:
    """``--port``, else ``PORT``, else 8080; None after one ``error:`` line when unusable."""
    if arg is not None:
        port, source = arg, f"--port {arg}"
    else:
        text = (env.get("PORT") or "").strip() or str(DEFAULT_PORT)
        source = f"PORT={text!r}"
        port = int(text) if re.fullmatch(r"[0-9]{1,5}", text) else -1
    if not 0 <= port <= 65535:
        print(f"error: {source} is not a port number (0 to 65535)", file=sys.stderr)
        return None
    return port


def bind(port: int) -> socket.socket | None:
    """The listening socket on 0.0.0.0, bound before anything starts (no scheduler yet)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp would
        sock.bind(("0.0.0.0", port))
    except OSError as e:
        sock.close()
        log.debug("bind to 0.0.0.0:%d failed", port, exc_info=True)
        print(f"error: cannot listen on 0.0.0.0:{port}: {e.strerror or e}", file=sys.stderr)
        return None
    return sock


def server_keys(env: Mapping[str, str]) -> StateKeys:
    """The keys ``serve`` signs with: a fixed development key, said loudly, with neither."""
    keys = keys_from_env(env)
    if keys is None:
        log.warning("neither BOT_STATE_KEY nor GITHUB_WEBHOOK_SECRET is set: the hidden "
                    "state is signed with a fixed development key anyone can forge")
        return DEVELOPMENT_KEYS
    return keys


def github_factory(creds: AppCredentials | None, config: Config, env: Mapping[str, str]
                   ) -> Callable[[aiohttp.ClientSession], GitHubApp | None]:
    url = api_url(env)

    def build(session: aiohttp.ClientSession) -> GitHubApp | None:
        if creds is None:
            return None
        return GitHubApp(session, creds, url, config.github)

    return build


async def _run_scheduler(config: Config, form: FormTemplate, creds: AppCredentials,
                         env: Mapping[str, str], *, once: bool) -> int:
    """``tick`` (once): reconcile, sweep deliveries, do what is due; ``clock``: loop."""
    async with aiohttp.ClientSession() as session:
        github = GitHubApp(session, creds, api_url(env), config.github)
        bot = EventBot(Settings(config, form, env.get("GITHUB_WEBHOOK_SECRET"),
                                state_keys=keys_from_env(env)), github, Metrics())
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
        return EXIT_SETTINGS
    creds = _credentials(env)
    if creds is None:
        return EXIT_SETTINGS
    return (*loaded, creds)


def tick(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    setup = _scheduler_setup(args, env)
    if isinstance(setup, int):
        return setup
    try:
        count = asyncio.run(_run_scheduler(*setup, env, once=True))
    except GitHubError as e:
        # One line for the operator; the traceback only for whoever asks LOG_LEVEL=DEBUG.
        log.debug("tick failed", exc_info=True)
        print(f"error: tick failed talking to GitHub at {redact(api_url(env))}: {e}",
              file=sys.stderr)
        return EXIT_RUNTIME
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
