"""The running bot: routes deliveries to the one sync path (wired up in ``bot.wiring``)."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from cachetools import TTLCache
from gidgethub import routing, sansio

from ..core.config import Config
from ..core.forms import FormTemplate
from ..core.model import IssueSnapshot, RepoRef, Trust, issue_from_json
from ..core.plan import triage
from ..core.request import is_event_request
from ..core.sealing import DEVELOPMENT_KEYS, StateKeys, state_keys
from ..github.client import DryRunClient, GitHubApp, GitHubClient, GitHubError
from ..github.labels_sync import LabelSyncResult, sync_app_labels
from . import commanding, installations
from .apply import IssueClient, StateEdit, SyncResult, read_status, sync_request
from .handback import hand_back
from .index import RequestIndex, entry_from
from .issues import router as issue_router
from .logs import delivery_context, issue_context
from .metrics import Metrics
from .repo_config import RepoConfigs
from .scheduler import Agenda, note_sync
from .server import Delivery
from .trust import trust_for

log = logging.getLogger("bot.app")

# One router per concern, composed once (the shape of python/bedevere's __main__).
ROUTER = routing.Router(issue_router, commanding.router, installations.router)
RUN_AGAIN = frozenset({"issue_comment"})  # deliveries kept and run again when they fail
MAX_COMMAND_ATTEMPTS = 5  # a command delivery that fails this often is given up, loudly
MAX_UNFINISHED = 10_000
RECONCILE_INSTALLATIONS_AT_ONCE = 4


def routable(delivery: Delivery) -> sansio.Event:
    """The delivery as gidgethub's router reads it (an ``action`` that is not text: none)."""
    payload = delivery.payload
    if "action" in payload and not isinstance(payload["action"], str):
        payload = {k: v for k, v in payload.items() if k != "action"}
    return sansio.Event(payload, event=delivery.event, delivery_id=delivery.id)


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
    state_keys: StateKeys | None = None  # BOT_STATE_KEY; None: derived from webhook_secret

    @property
    def keys(self) -> StateKeys:
        """The hidden state's keys (``bot.core.sealing``): a fixed development key with neither."""
        return self.state_keys or state_keys(None, self.webhook_secret) or DEVELOPMENT_KEYS


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
        # Command deliveries whose handling failed, with their attempts so far: a sync
        # cannot redo a command, so reconciliation runs these again (MAX_COMMAND_ATTEMPTS).
        self.unfinished: dict[str, tuple[Delivery, int]] = {}
        self.index = RequestIndex()
        # When this process last synced each issue: a listing older than that is stale.
        self._synced: TTLCache[tuple[str, int], float] = TTLCache(maxsize=100_000, ttl=86_400)
        self.repo_configs = RepoConfigs(settings.config)  # .github/event-bot.yml per repo
        self.agenda = Agenda()  # when each request next needs the scheduler
        self._issue_locks: weakref.WeakValueDictionary[tuple[str, int], asyncio.Lock] = (
            weakref.WeakValueDictionary())

    def issue_lock(self, repo: str, number: int) -> asyncio.Lock:
        """One sync of an issue at a time, whatever started it (webhook, tick, reconciliation)."""
        key = (repo.lower(), number)
        lock = self._issue_locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._issue_locks[key] = lock
        return lock

    @property
    def pending(self) -> int:
        """Work that failed and waits for reconciliation: requests, and commands to run."""
        return len(self.failures) + len(self.unfinished)

    @property
    def config(self) -> Config:
        return self.settings.config

    @property
    def form(self) -> FormTemplate:
        return self.settings.form

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run

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

    async def config_for(self, client: object, repo: str) -> Config:
        """The config for ``repo``: its ``.github/event-bot.yml`` over the deployment's."""
        return (await self.repo_configs.load(client, repo)).config

    async def sync_labels(self, installation_id: int | None = None,
                          repos: list[str] | None = None) -> list[LabelSyncResult]:
        """Create or update the bot's labels (one installation, or all of them)."""
        if self.github is None or self.settings.dry_run:
            return []
        return await sync_app_labels(self.github, self.config_for, installation_id, repos)

    async def sync(self, repo: RepoRef, number: int, issue_json: Any = None,
                   edit: StateEdit | None = None, listed_at: float | None = None,
                   edited: Trust | None = None) -> SyncResult:
        """One request brought up to date. ``listed_at``: ``issue_json`` comes from a list
        read from GitHub at that moment (``time.monotonic``), not from a webhook payload;
        it is planned from as it is unless this process synced the issue since.
        ``edited``: the body edit being synced and who made it (vouched for if a writer)."""
        client = await self.client_for(repo.installation_id)
        key = (repo.full_name.lower(), number)
        with issue_context(repo.full_name, number):
            # A broken override falls back to the deployment's config, said once on the issue.
            loaded = await self.repo_configs.load(client, repo.full_name)
            edit = self.repo_configs.hook(repo.full_name, loaded, edit)
            try:
                async with self.issue_lock(repo.full_name, number):
                    current = listed_at is not None and self._synced.get(key, -1.0) < listed_at
                    result = await sync_request(
                        client, repo, number, loaded.config, self.settings.form, self.clock(),
                        bot_login=await self.bot_login(), issue_json=issue_json, edit=edit,
                        issue_is_current=current,
                        read_comments=not self.settings.dry_run,
                        hub_bookings=self.index.hub_bookings, state_keys=self.settings.keys,
                        trust=lambda issue: trust_for(client, issue, loaded.config, edited),
                    )
                    self._synced[key] = time.monotonic()
            except Exception as e:
                if isinstance(e, GitHubError) and e.status in (404, 410):
                    # The issue is gone (deleted, transferred, never was): nothing to retry.
                    self.failures.pop(key, None)
                    self.agenda.set(repo, number, None)
                    self.metrics.pending_work.set(self.pending)
                    raise
                self.failures[key] = type(e).__name__
                self.metrics.pending_work.set(self.pending)
                self.agenda.failed(repo, number, self.clock(),
                                   timedelta(seconds=self.config.scheduler.reconcile_seconds))
                raise
            self.failures.pop(key, None)
            self.metrics.pending_work.set(self.pending)
            self.remember(result)
            return result

    def remember(self, result: SyncResult) -> None:
        """Keep the index (dashboard, calendar, scheduler) in step with what was planned."""
        issue = result.issue
        if issue is None:
            return
        note_sync(self.agenda, self.metrics, result)
        if result.triage is None or issue.state != "open":
            self.index.drop(issue.repo.full_name, issue.number)
            return
        ticked = result.status.ticked if result.status is not None else frozenset()
        entry = entry_from(issue, result.triage, ticked)
        if entry is not None:
            self.index.put(entry)

    def forget_config(self, repo: str | None) -> None:
        self.repo_configs.forget(repo)

    async def handle(self, delivery: Delivery) -> None:
        """Route by event and action; a command that fails is kept, since only running it
        again can redo it (a sync redoes everything else)."""
        try:
            await ROUTER.dispatch(routable(delivery), self)
        except Exception as e:
            if delivery.event not in RUN_AGAIN:
                raise
            _, attempts = self.unfinished.pop(delivery.id, (delivery, 0))
            gone = isinstance(e, GitHubError) and e.status in (404, 410)  # nothing to redo
            if (not gone and attempts + 1 < MAX_COMMAND_ATTEMPTS
                    and len(self.unfinished) < MAX_UNFINISHED):
                self.unfinished[delivery.id] = (delivery, attempts + 1)
            else:
                log.error("giving up on the commands of delivery %s after %d attempt(s)",
                          delivery.id, attempts + 1)
            self.metrics.pending_work.set(self.pending)
            raise
        if self.unfinished.pop(delivery.id, None) is not None:
            self.metrics.pending_work.set(self.pending)

    async def hand_back(self, cut_off: Sequence[Delivery]) -> list[str]:
        """At shutdown: commands cut off, and failed ones kept for a retry, go back to GitHub."""
        commands = [*cut_off, *(d for d, _ in self.unfinished.values())]
        if not commands:
            return []
        if self.github is None or self.settings.dry_run:
            return []
        return await hand_back(self.github, commands,
                               self.config.server.hand_back_seconds)

    async def retry_unfinished(self) -> int:
        """Run the failed command deliveries again; returns how many went through."""
        done = 0
        for delivery, _ in list(self.unfinished.values()):
            with delivery_context(delivery.id, delivery.issue_key):
                try:
                    await self.handle(delivery)
                except Exception:
                    log.exception("running the commands of %s again failed", delivery.id)
                    continue
            done += 1
        return done

    async def reconcile_installation(self, installation_id: int) -> int:
        """Sync every open event request of one installation; returns how many were synced."""
        if self.github is None or self.settings.dry_run:
            return 0
        client = await self.github.installation(installation_id)
        count = 0
        listed = []
        for repo in await _repositories(client, installation_id):
            listed.append((repo, time.monotonic(), await client.open_issues(repo.full_name,
                                                                            None)))
        # Book every listed request on its hub before any is synced, so a dispatch made in
        # this pass (a scale-down that fell due while the bot was down) sees them all.
        for repo, _, issues in listed:
            await self._book(client, repo, issues)
        for repo, listed_at, issues in listed:
            full = repo.full_name
            for issue in issues:
                if not isinstance(issue, dict) or "pull_request" in issue:
                    continue
                try:
                    result = await self.sync(repo, issue["number"], issue_json=issue,
                                             listed_at=listed_at)
                except Exception:
                    self.metrics.reconcile.labels(result="error").inc()
                    log.exception("reconciling %s#%s failed", full, issue.get("number"))
                    continue
                if result.triage is not None:
                    count += 1
                    self.metrics.reconcile.labels(
                        result="changed" if result.writes else "unchanged").inc()
        return count

    async def _book(self, client: GitHubClient, repo: RepoRef, issues: list[Any]) -> None:
        """Index the listed requests this process has not seen yet, as their bodies read
        (their status comments come with their syncs), so hub bookings are complete."""
        config = await self.config_for(client, repo.full_name)
        if not config.prewarm.enabled:
            return  # bookings only shape pre-warming
        for issue in self._event_requests(issues, repo, config):
            if self.index.get(repo.full_name, issue.number) is not None:
                continue
            # Only a confirmed request books nodes: its author's word, else its status comment.
            issue = replace(issue, trust=await trust_for(client, issue, config))
            status = (None if issue.trust.author else
                      (await read_status(client, issue, await self.bot_login(),
                                         self.settings.keys))[0])
            entry = entry_from(issue, triage(issue, status, config, self.settings.form,
                                             self.clock()), frozenset())
            if entry is not None:
                self.index.put(entry)

    def _event_requests(self, listed: list[Any], repo: RepoRef, config: Config
                        ) -> Iterator[IssueSnapshot]:
        """The event requests among an issue listing (pull requests and junk skipped)."""
        for data in listed:
            if not isinstance(data, dict) or "pull_request" in data:
                continue
            try:
                issue = issue_from_json(data, repo)
            except ValueError:
                continue
            if is_event_request(issue, self.settings.form, config):
                yield issue

    async def refresh_index(self) -> int:
        """Read every open request of every installation into the index, writing nothing.

        A web process whose scheduler runs elsewhere (``--no-scheduler`` beside a ``clock``
        process) sees only the webhooks it took; this keeps its dashboard and calendar
        showing what the other processes did. The lists and comments are ETag-cached, so
        a pass over unchanged requests costs nothing against the rate limit. Returns how
        many requests are indexed.
        """
        if self.github is None or self.settings.dry_run:
            return 0
        seen: set[tuple[str, int]] = set()
        complete = True
        for inst in await self.github.installations():
            if not isinstance(inst, dict) or not isinstance(inst.get("id"), int):
                continue
            try:
                seen |= await self._refresh_installation(inst["id"])
            except Exception:
                complete = False  # keep what the index has for it rather than drop it
                log.exception("refreshing the index of installation %s failed", inst["id"])
        if complete:
            for entry in self.index:
                if entry.key not in seen:
                    self.index.drop(entry.repo, entry.number)  # closed, or gone
        return len(seen)

    async def _refresh_installation(self, installation_id: int) -> set[tuple[str, int]]:
        assert self.github is not None  # refresh_index checked
        client = await self.github.installation(installation_id)
        seen: set[tuple[str, int]] = set()
        for repo in await _repositories(client, installation_id):
            config = await self.config_for(client, repo.full_name)
            listed = await client.open_issues(repo.full_name, None)
            for issue in self._event_requests(listed, repo, config):
                status, _ = await read_status(client, issue, await self.bot_login(),
                                              self.settings.keys)
                triaged = triage(issue, status, config, self.settings.form, self.clock())
                ticked = status.ticked if status is not None else frozenset()
                entry = entry_from(issue, triaged, ticked)
                if entry is not None:
                    self.index.put(entry)
                    seen.add(entry.key)
        return seen

    async def reconcile_all(self) -> int:
        if self.github is None or self.settings.dry_run:
            return 0
        # Commands first: the syncs below then see the state they left.
        await self.retry_unfinished()
        ids = [inst["id"] for inst in await self.github.installations()
               if isinstance(inst, dict) and isinstance(inst.get("id"), int)]
        # Each installation is its own identity with its own limits, and its calls stay
        # serial: a few installations at once, so start-up does not take their sum.
        gate = asyncio.Semaphore(RECONCILE_INSTALLATIONS_AT_ONCE)

        async def one(installation_id: int) -> int:
            async with gate:
                return await self.reconcile_installation(installation_id)

        counts = await asyncio.gather(*(one(i) for i in ids), return_exceptions=True)
        for count in counts:
            if isinstance(count, BaseException):
                raise count  # the others were reconciled; the caller logs and retries
        return sum(c for c in counts if isinstance(c, int))


async def _repositories(client: GitHubClient, installation_id: int) -> list[RepoRef]:
    """The repositories an installation may see (skipping anything unreadable)."""
    found = []
    for repo_json in await client.repositories():
        full = repo_json.get("full_name") if isinstance(repo_json, dict) else None
        if isinstance(full, str) and full.count("/") == 1:
            owner, name = full.split("/")
            found.append(RepoRef(owner, name, installation_id))
    return found
