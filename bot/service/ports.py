"""What the handlers (commands, dispatching, the scheduler) may ask of the running bot.

They receive a ``Bot`` and never import the app that implements it (``bot.service.app``),
so the app can import them without a circle. The app holds the caches (clients, the
bot's login, the repositories' configs, the index); a handler asks through these few
methods only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from ..core.config import Config
from ..core.forms import FormTemplate
from ..core.model import RepoRef, Trust
from ..github.client import GitHubApp
from .apply import IssueClient, StateEdit, SyncResult
from .metrics import Metrics


class DueList(Protocol):
    """The requests whose next due time has come (the scheduler's agenda)."""

    def due(self, now: datetime) -> list[tuple[RepoRef, int]]: ...


class Bot(Protocol):
    """The running bot as the handlers see it."""

    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def config(self) -> Config: ...
    @property
    def form(self) -> FormTemplate: ...
    @property
    def dry_run(self) -> bool: ...
    @property
    def github(self) -> GitHubApp | None: ...
    @property
    def agenda(self) -> DueList: ...

    async def client_for(self, installation_id: int) -> IssueClient: ...
    async def config_for(self, client: object, repo: str) -> Config: ...
    async def bot_login(self) -> str | None: ...
    async def sync(self, repo: RepoRef, number: int, issue_json: Any = None,
                   edit: StateEdit | None = None, listed_at: float | None = None,
                   edited: Trust | None = None) -> SyncResult: ...
    async def reconcile_all(self) -> int: ...
    async def reconcile_installation(self, installation_id: int) -> int: ...
    async def sync_labels(self, installation_id: int | None = None,
                          repos: list[str] | None = None) -> object: ...
    def forget_config(self, repo: str | None) -> None: ...
