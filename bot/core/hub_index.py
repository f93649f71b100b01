"""The hubs an operator's own repository lists (``prewarm.hub_index``), pure.

Public API::

    read_cluster_file(path, text) -> ClusterFile   (its hubs, or the problem with it)
    build_index(files) -> HubIndex                 (host -> HubEntry; first listing wins)
    glob_parts(pattern) -> tuple[str, ...]         (the path, split; ``*`` a whole part)
    glob_match(pattern, path) -> bool

Each ``cluster.yaml`` names the cluster (``name``), optionally its cloud
(``provider``), and its hubs (``hubs: [{name, domain}]``). A request's hub is
found by its host among the domains; nothing is guessed from the host name. The
shell reads the files (``bot/service/hub_index.py``) and passes the index in as
data, like the hub bookings.

Every file is a stranger's text: at most ``MAX_FILE_BYTES``, no YAML anchors or
aliases (refused before anything is built from them), and every name and domain
must be what cluster and hub names are made of before it is listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import yaml

MAX_FILE_BYTES = 256 * 1024
MAX_HUBS_PER_FILE = 500
_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")


@dataclass(frozen=True)
class HubEntry:
    """Where a listed hub lives: the names the pre-warm workflow is given."""

    cluster: str
    hub: str
    provider: str | None = None


HubIndex = Mapping[str, HubEntry]  # hub host (lower case) -> where it lives
EMPTY: HubIndex = MappingProxyType({})


@dataclass(frozen=True)
class ClusterFile:
    path: str
    hubs: tuple[tuple[str, HubEntry], ...] = ()  # (domain, entry)
    problem: str | None = None  # why the file (or part of it) was not read


def glob_parts(pattern: str) -> tuple[str, ...]:
    return tuple(part for part in pattern.strip("/").split("/") if part)


def glob_match(pattern: str, path: str) -> bool:
    """``*`` stands for one whole path part (``config/clusters/*/cluster.yaml``)."""
    want, have = glob_parts(pattern), glob_parts(path)
    return len(want) == len(have) and all(w in ("*", h) for w, h in zip(want, have,
                                                                         strict=True))


def _unsafe(text: str) -> str | None:
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_FILE_BYTES:
        return f"is {size} bytes; at most {MAX_FILE_BYTES} are read"
    # Tokens only: linear in the text, whereas building an alias bomb is not.
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
            return "uses YAML anchors or aliases, which are not accepted here"
    return None


def _name(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    name = value.strip().lower()
    return name if _NAME_RE.match(name) and ".." not in name else None


def read_cluster_file(path: str, text: str) -> ClusterFile:
    """The hubs one ``cluster.yaml`` lists; a hub with a bad name or domain is left out
    (and said), the others still count."""
    try:
        unsafe = _unsafe(text)
        data = None if unsafe else yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        return ClusterFile(path, problem=f"is not valid YAML{where}")
    if unsafe:
        return ClusterFile(path, problem=unsafe)
    if not isinstance(data, dict):
        return ClusterFile(path, problem="is not a mapping with `name` and `hubs`")
    cluster = _name(data.get("name"))
    if cluster is None:
        return ClusterFile(path, problem="has no usable `name` (the cluster)")
    provider = _name(data.get("provider"))
    raw_hubs = data.get("hubs")
    if not isinstance(raw_hubs, list):
        return ClusterFile(path, problem="has no `hubs` list")
    hubs: list[tuple[str, HubEntry]] = []
    skipped = 0
    for raw in raw_hubs[:MAX_HUBS_PER_FILE]:
        hub = _name(raw.get("name")) if isinstance(raw, dict) else None
        domain = _name(raw.get("domain")) if isinstance(raw, dict) else None
        if hub is None or domain is None:
            skipped += 1
            continue
        hubs.append((domain, HubEntry(cluster=cluster, hub=hub, provider=provider)))
    problem = (f"has {skipped} hub(s) without a usable `name` and `domain`" if skipped
               else None)
    return ClusterFile(path, hubs=tuple(hubs), problem=problem)


def build_index(files: Iterable[ClusterFile]) -> HubIndex:
    """Host -> entry over every file (in path order; a domain listed twice keeps the first)."""
    out: dict[str, HubEntry] = {}
    for f in sorted(files, key=lambda f: f.path):
        for domain, entry in f.hubs:
            out.setdefault(domain, entry)
    return MappingProxyType(out)
