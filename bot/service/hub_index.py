"""The hub index (``prewarm.hub_index``): the operator's ``cluster.yaml`` files, read
through the contents API with the App's installation token and kept between refreshes.

Public API::

    HubIndexCache.current(client_for, config, now) -> HubIndex | None
        ``client_for(repository)``: a client with the App's installation token there
        the index, read again when older than ``refresh_minutes`` or after ``stale``;
        None while it has never been read (planning waits, it never guesses)
    HubIndexCache.stale(repository)   a ``push`` to that repository: read again next time
    HubIndexCache.problem             why the last read failed, for the logs

Every GET goes through the client's ETag cache, so a refresh of an unchanged
repository costs ``304``s. The pure reading of each file is ``bot.core.hub_index``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import urllib.parse
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..core.config import Config, HubIndexConfig
from ..core.hub_index import (
    MAX_FILE_BYTES,
    ClusterFile,
    HubIndex,
    build_index,
    glob_parts,
    read_cluster_file,
)
from ..github.errors import GitHubError

log = logging.getLogger("bot.hub_index")

MAX_FILES = 1000  # far more than any operator's clusters; a bound on one refresh's reads
MAX_LISTED = 2000  # entries of one directory looked at
RETRY_AFTER_FAILURE = timedelta(minutes=5)


class ContentsClient(Protocol):
    async def get(self, url: str, params: Any = None) -> Any: ...


def _contents_url(repo: str, path: str) -> str:
    owner, _, name = repo.partition("/")
    quoted = "/".join(urllib.parse.quote(p, safe="") for p in path.split("/") if p)
    return (f"/repos/{urllib.parse.quote(owner, safe='')}/{urllib.parse.quote(name, safe='')}"
            f"/contents/{quoted}")


async def _file_text(client: ContentsClient, repo: str, path: str) -> str | None:
    """A file's text (None: not there, a directory, or too big for the contents API)."""
    try:
        data = await client.get(_contents_url(repo, path))
    except GitHubError as exc:
        if exc.status == 404:
            return None
        raise
    if not isinstance(data, dict) or data.get("encoding") != "base64":
        return None
    content = data.get("content")
    if not isinstance(content, str) or len(content) > 2 * MAX_FILE_BYTES:
        return None
    try:
        return base64.b64decode(content).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return None


async def _entries(client: ContentsClient, repo: str, path: str) -> list[tuple[str, str]]:
    """(name, type) of a directory's entries; none when it is not a directory."""
    try:
        data = await client.get(_contents_url(repo, path))
    except GitHubError as exc:
        if exc.status == 404:
            return []
        raise
    if not isinstance(data, list):
        return []
    out = []
    for entry in data[:MAX_LISTED]:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(
                entry.get("type"), str):
            out.append((entry["name"], entry["type"]))
    return out


async def _paths(client: ContentsClient, repo: str, pattern: str) -> list[str]:
    """The files the glob names: each ``*`` part read as a directory listing."""
    parts = glob_parts(pattern)
    found = [""]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt: list[str] = []
        for base in found:
            if part != "*":
                nxt.append(f"{base}/{part}" if base else part)
                continue
            wanted = "file" if last else "dir"
            for name, kind in await _entries(client, repo, base):
                if kind == wanted and name not in (".", ".."):
                    nxt.append(f"{base}/{name}" if base else name)
        found = nxt[:MAX_FILES]
    return found


async def read_index(client: ContentsClient, cfg: HubIndexConfig) -> tuple[HubIndex,
                                                                           list[str]]:
    """The index, and one line per file that could not be read (for the logs)."""
    files: list[ClusterFile] = []
    problems: list[str] = []
    for path in await _paths(client, cfg.repository, cfg.path):
        text = await _file_text(client, cfg.repository, path)
        if text is None:
            continue  # a glob part that named nothing there
        read = read_cluster_file(path, text)
        if read.problem:
            problems.append(f"{cfg.repository}/{path}: {read.problem}")
        files.append(read)
    if not files:  # no repository there, no access, or the wrong path: not an empty list
        raise LookupError(f"no file matches {cfg.path} in {cfg.repository}")
    return build_index(files), problems


class HubIndexCache:
    def __init__(self) -> None:
        self._index: HubIndex | None = None
        self._read_for: HubIndexConfig | None = None
        self._read_at: datetime | None = None
        self._stale = False
        self._failed_at: datetime | None = None
        self._lock = asyncio.Lock()
        self.problem: str | None = None

    def stale(self, repository: str) -> None:
        """A push to ``repository``: the index is read again when next needed."""
        if self._read_for is not None and (
                self._read_for.repository.lower() == repository.lower()):
            self._stale = True

    def _fresh(self, cfg: HubIndexConfig, now: datetime) -> bool:
        return (self._index is not None and self._read_for == cfg and not self._stale
                and self._read_at is not None
                and now < self._read_at + timedelta(minutes=cfg.refresh_minutes))

    async def current(self, client_for: Callable[[str], Awaitable[ContentsClient]],
                      config: Config, now: datetime) -> HubIndex | None:
        cfg = config.prewarm.hub_index
        if cfg is None or not config.prewarm.enabled:
            return None
        if self._fresh(cfg, now):
            return self._index
        if self._failed_at is not None and now < self._failed_at + RETRY_AFTER_FAILURE:
            return self._index if self._read_for == cfg else None  # not on every sync
        async with self._lock:
            if self._fresh(cfg, now):
                return self._index
            try:
                index, problems = await read_index(await client_for(cfg.repository), cfg)
            except Exception as exc:  # kept from before; planning waits if never read
                self.problem = f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"[:200]
                log.warning("the hub index %s could not be read: %s", cfg.repository,
                            self.problem)
                self._failed_at = now
                return self._index if self._read_for == cfg else None
            for line in problems[:20]:
                log.warning("hub index: %s", line)
            self._index, self._read_for, self._read_at = index, cfg, now
            self._stale, self.problem, self._failed_at = False, None, None
            log.info("hub index %s: %d hubs", cfg.repository, len(index))
            return index
