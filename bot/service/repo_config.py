"""Per-repository config: ``.github/event-bot.yml`` over the deployment's ``config.yaml``.

A repository may carry its own rotation, team leads, checklist, notice period
and so on. The file is read from the default branch through the contents
API (ETag-cached, so an unchanged file costs nothing against the rate limit),
merged over the YAML the deployment's config was read from (mappings key by key,
lists and values replaced whole) and validated once, like ``config.yaml`` itself.

Some keys stay the deployment's. Who approves tiers (``team_leads``,
``team_lead_team``), the tiers and their prices (what is billed), the default
tier and pre-warming (which repository's workflow the App dispatches): a
writer of the repository must not grant themselves any of these, so such keys
are ignored, logged and named once in a note. The issue form (a path on the
server) and the server's own settings refuse the file. So does a file over
64 KiB or one with YAML anchors or aliases (found by scanning its tokens
before anything is built from them, so an alias bomb costs nothing).

A file that cannot be used changes nothing: the bot goes on with the
deployment's config and says so once, in a comment on the request it was
handling, naming the problem (the probot convention). "Once" is kept twice
over: per process, by the file's content hash, and per issue, in the status
comment's hidden state, so a restart does not repeat it on the same request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Protocol, runtime_checkable

import cachetools
import yaml

from ..core import text
from ..core.config import Config, ConfigError, parse_config
from ..core.config_schema import DEPLOYMENT_ONLY_KEYS, REPOSITORY_KEYS
from ..core.model import Desired, IssueSnapshot
from ..core.plan import Edit
from ..core.status import StatusComment, read_status, state_block
from ..core.triage import Triage
from .apply import StateEdit

log = logging.getLogger("bot.repo_config")

OVERRIDE_PATH = ".github/event-bot.yml"
NOTE_KEY = "config_note"  # in the status state's extra: the hash of the file already named
MAX_PROBLEMS_SHOWN = 10

REPO_KEYS = REPOSITORY_KEYS
# The Config fields no repository key sets (``form`` is read into ``form_path``).
_DEPLOYMENT_FIELDS = tuple(f.name for f in fields(Config)
                           if f.name not in REPO_KEYS and f.name != "raw")
MAX_OVERRIDE_BYTES = 64 * 1024
_STATE_BLOCK_RE = re.compile(r"<!-- event-support-bot:state [A-Za-z0-9_=-]* -->")


@runtime_checkable
class FileReader(Protocol):
    async def file_text(self, repo: str, path: str, ref: str | None = None) -> str | None: ...


@dataclass(frozen=True)
class RepoConfig:
    """The config one repository's requests are handled with."""

    config: Config
    source: str  # "deployment" or OVERRIDE_PATH
    problem: tuple[str, ...] = ()  # why the override was refused (empty when it was not)
    digest: str | None = None  # sha256 of the override's text, when there is one
    ignored: tuple[str, ...] = ()  # deployment-only keys the override set, ignored

    @property
    def broken(self) -> bool:
        return bool(self.problem)

    @property
    def noteworthy(self) -> tuple[str, ...]:
        """What the repository is told once: why its file was refused, or what was ignored."""
        return self.problem or self.ignored


@dataclass(frozen=True)
class Override:
    """A usable override: the config it makes and the deployment-only keys it ignored."""

    config: Config
    ignored: tuple[str, ...] = ()


def merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge key by key; lists and values replace."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def _yaml_problem(e: yaml.YAMLError) -> ConfigError:
    mark = getattr(e, "problem_mark", None)
    where = f"{OVERRIDE_PATH}:{mark.line + 1}" if mark else OVERRIDE_PATH
    return ConfigError([f"{where}: not valid YAML ({getattr(e, 'problem', None) or e})"])


def _unsafe_yaml(source: str) -> str | None:
    """Why the text must not be loaded at all (too big, anchors or aliases), or None.

    Tokens only: scanning is linear in the text, whereas building what an alias bomb
    describes is not.
    """
    size = len(source.encode("utf-8"))
    if size > MAX_OVERRIDE_BYTES:
        return (f"{OVERRIDE_PATH}: is {size} bytes; at most {MAX_OVERRIDE_BYTES} "
                "(64 KiB) are read")
    for token in yaml.scan(source, Loader=yaml.SafeLoader):
        if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
            kind = "an anchor" if isinstance(token, yaml.AnchorToken) else "an alias"
            return (f"{OVERRIDE_PATH}:{token.start_mark.line + 1}: uses {kind} "
                    "(`&`/`*`); YAML anchors and aliases are not accepted here")
    return None


def read_override(source: str, base: Config) -> Override:
    """The repository's config and what it ignored; ``ConfigError`` (lines prefixed with the
    path) when the file is refused."""
    try:
        unsafe = _unsafe_yaml(source)
        if unsafe is not None:
            raise ConfigError([unsafe])
        raw = yaml.safe_load(source)
    except yaml.YAMLError as e:
        raise _yaml_problem(e) from None
    if raw is None:
        return Override(base)  # an empty file overrides nothing
    if not isinstance(raw, Mapping):
        raise ConfigError([f"{OVERRIDE_PATH}: must be a mapping of config keys, not "
                           f"{type(raw).__name__}"])
    ignored = tuple(f"{OVERRIDE_PATH}: {key}: only the deployment's config.yaml sets this; "
                    "ignored here" for key in raw if str(key) in DEPLOYMENT_ONLY_KEYS)
    refused = [f"{OVERRIDE_PATH}: {key}: cannot be set per repository (only in the "
               "deployment's config.yaml)" for key in raw
               if str(key) not in REPO_KEYS and str(key) not in DEPLOYMENT_ONLY_KEYS]
    if refused:
        raise ConfigError([*refused, *ignored])
    kept = {k: v for k, v in raw.items() if str(k) in REPO_KEYS}
    try:
        config = parse_config(merged(base.raw, kept))
    except ConfigError as e:
        raise ConfigError([*(f"{OVERRIDE_PATH}: {line}" for line in e.problems), *ignored]
                          ) from None
    # What the repository may not set is the deployment's as it runs, whatever the YAML said.
    return Override(replace(config, **{f: getattr(base, f) for f in _DEPLOYMENT_FIELDS}),
                    ignored)


def parse_override(source: str, base: Config) -> Config:
    """The repository's config; ``ConfigError`` (lines prefixed with the path) when unusable."""
    return read_override(source, base).config


def digest_of(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


# --- the one-time note on a broken file ------------------------------------


def note_text(problem: tuple[str, ...], *, refused: bool = True) -> str:
    shown = [f"- {text.code(line, 300)}" for line in problem[:MAX_PROBLEMS_SHOWN]]
    more = len(problem) - MAX_PROBLEMS_SHOWN
    if more > 0:
        shown.append(f"- … and {more} more")
    lead = (f"⚠️ This repository's `{OVERRIDE_PATH}` cannot be used, so this request (and "
            "every other one here) follows the deployment's config until it is fixed:"
            if refused else
            f"⚠️ This repository's `{OVERRIDE_PATH}` sets keys only the deployment's config "
            "may set; they are ignored, and the rest of the file applies:")
    return "\n".join([
        lead,
        "",
        *shown,
        "",
        "<sub>A maintainer can fix the file on the default branch; the bot reads it again "
        "by itself. This note is posted once.</sub>",
    ])


def with_state_extra(body: str, key: str, value: Any) -> str | None:
    """``body`` with ``extra[key] = value`` in its hidden state block (None: no block)."""
    match = _STATE_BLOCK_RE.search(body)
    if match is None:
        return None
    state = read_status(body).state
    new_state = replace(state, extra={**state.extra, key: value})
    return body[:match.start()] + state_block(new_state) + body[match.end():]


def _noted(status: StatusComment | None, triage: Triage, digest: str) -> bool:
    if triage.state.extra.get(NOTE_KEY) == digest:
        return True
    return status is not None and status.state.extra.get(NOTE_KEY) == digest


# --- loading, cached ---------------------------------------------------------


class RepoConfigs:
    """Each repository's config, from its override file or the deployment's."""

    def __init__(self, base: Config, *, ttl_seconds: float = 60.0,
                 absent_ttl_seconds: float = 3600.0,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.base = base
        self._deployment = RepoConfig(base, "deployment")
        # A short TTL saves even the free 304 when one repository is busy; the ETag
        # cache under file_text makes every re-read after it cheap.
        self._loaded: cachetools.TTLCache[str, RepoConfig] | None = cachetools.TTLCache(
            maxsize=1024, ttl=ttl_seconds, timer=timer) if ttl_seconds > 0 else None
        # "No file" is a 404, which carries no ETag and so counts against the rate limit
        # each time: remember it longer (an installation event or a restart reads again).
        self._absent: cachetools.TTLCache[str, bool] | None = cachetools.TTLCache(
            maxsize=4096, ttl=absent_ttl_seconds, timer=timer
        ) if ttl_seconds > 0 and absent_ttl_seconds > 0 else None
        self._parsed: cachetools.LRUCache[str, RepoConfig] = cachetools.LRUCache(maxsize=256)
        self._noted: set[tuple[str, str]] = set()  # (repo, digest) named in a comment
        self._reading: dict[str, asyncio.Lock] = {}  # one read of a repository's file at a time

    def forget(self, repo: str | None = None) -> None:
        """Read the file again next time (all repositories when ``repo`` is None)."""
        for cache in (self._loaded, self._absent):
            if cache is None:
                continue
            if repo is None:
                cache.clear()
            else:
                cache.pop(repo.lower(), None)

    def from_text(self, source: str | None) -> RepoConfig:
        """The config for an override's text (None: no file)."""
        if source is None:
            return self._deployment
        digest = digest_of(source)
        found = self._parsed.get(digest)
        if found is None:
            try:
                override = read_override(source, self.base)
                found = RepoConfig(override.config, OVERRIDE_PATH, digest=digest,
                                   ignored=override.ignored)
            except ConfigError as e:
                found = RepoConfig(self.base, OVERRIDE_PATH, tuple(e.problems), digest)
            self._parsed[digest] = found
        return found

    async def load(self, client: object, repo: str) -> RepoConfig:
        """``repo``'s config; any failure to read the file means the deployment's."""
        key = repo.lower()
        cached = self._loaded.get(key) if self._loaded is not None else None
        if cached is not None:
            return cached
        if self._absent is not None and key in self._absent:
            return self._deployment
        if not isinstance(client, FileReader):
            return self._deployment
        # A burst of deliveries for one repository reads the file once, not once each.
        async with self._reading.setdefault(key, asyncio.Lock()):
            cached = self._loaded.get(key) if self._loaded is not None else None
            if cached is not None:
                return cached
            try:
                source = await client.file_text(repo, OVERRIDE_PATH)
            except Exception as e:  # no contents permission, GitHub down: carry on as deployed
                log.warning("%s: cannot read %s (%s); using the deployment's config", repo,
                            OVERRIDE_PATH, e)
                return self._deployment
            if source is None and self._absent is not None:
                self._absent[key] = True
            loaded = self.from_text(source)
            if loaded.broken:
                log.warning("%s: %s is broken; using the deployment's config: %s", repo,
                            OVERRIDE_PATH, "; ".join(loaded.problem))
            elif loaded.ignored:
                log.warning("%s: %s sets deployment-only keys, ignored: %s", repo,
                            OVERRIDE_PATH, "; ".join(loaded.ignored))
            if self._loaded is not None:
                self._loaded[key] = loaded
            return loaded

    def hook(self, repo: str, loaded: RepoConfig, inner: StateEdit | None
             ) -> StateEdit | None:
        """``inner``, plus the one-time note when ``loaded`` is a broken override (or one
        whose deployment-only keys were ignored)."""
        digest = loaded.digest
        if not loaded.noteworthy or digest is None:
            return inner
        return _Noting(self._noted, (repo.lower(), digest),
                       note_text(loaded.noteworthy, refused=loaded.broken), inner)


class _Noting:
    """Adds the note about a repository's override file to a sync's plan, once."""

    def __init__(self, noted: set[tuple[str, str]], key: tuple[str, str], message: str,
                 inner: StateEdit | None) -> None:
        self.noted, self.key, self.message, self.inner = noted, key, message, inner

    def before(self, issue: IssueSnapshot, status: StatusComment | None) -> Edit | None:
        return self.inner.before(issue, status) if self.inner is not None else None

    def after(self, issue: IssueSnapshot, status: StatusComment | None, triage: Triage,
              desired: Desired) -> Desired:
        if self.inner is not None:
            desired = self.inner.after(issue, status, triage, desired)
        digest = self.key[1]
        if self.key in self.noted or issue.state != "open" or _noted(status, triage, digest):
            return desired
        body = desired.status_body
        if body is None:
            body = status.body if status is not None else triage.comment
        marked = with_state_extra(body, NOTE_KEY, digest) if body else None
        if marked is None:
            return desired  # nowhere to remember it: say nothing rather than repeat
        self.noted.add(self.key)
        return replace(desired, status_body=marked, replies=(*desired.replies, self.message))
