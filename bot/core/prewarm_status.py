"""What the status comment says about pre-warming (pure): where the hub lives, whether the
request is pre-warmed by itself or only on request, and how each workflow run went."""

from __future__ import annotations

from collections.abc import Mapping

from . import text
from .config import Config, NodeType
from .hub_index import HubEntry
from .prewarm import PrewarmTarget, Refusal, target_for
from .request import EventRequest
from .runs import LOST, QUEUED, SUCCESS
from .status import DispatchRecord

ON_REQUEST = ("on request only: pre-warming is not part of this request's tier or type; "
              "a writer or team lead comments `/prewarm [NODES]` to have it")


def automatic(request: EventRequest, tier: str | None, config: Config) -> bool:
    """Pre-warmed by itself (``prewarm.for_tiers`` / ``for_event_types``; absent: every
    request), or only when a writer or team lead asks."""
    cfg = config.prewarm
    if cfg.for_event_types is not None and request.event_type not in cfg.for_event_types:
        return False
    tiers = {t.lower() for t in cfg.for_tiers} if cfg.for_tiers is not None else None
    return tiers is None or (tier or "").lower() in tiers


def hub_line(request: EventRequest, config: Config, index: Mapping[str, HubEntry] | None,
             tier: str | None) -> str:
    """One cell: the cluster and hub the workflow gets, or why this hub is never dispatched."""
    target = target_for(request.hub_host, config.prewarm, index)
    if isinstance(target, Refusal):
        if target.transient:
            where = "⏳ " + target.reason
        else:
            where = f"⚠️ never pre-warmed: {target.reason}"
    else:
        where = _target(target, index, request.hub_host)
    if not automatic(request, tier, config):
        return f"{where}; {ON_REQUEST}"
    return where


def _target(target: PrewarmTarget, index: Mapping[str, HubEntry] | None,
            host: str | None) -> str:
    entry = index.get((host or "").strip().lower()) if index is not None else None
    cloud = f" on {text.code(entry.provider)}" if entry is not None and entry.provider else ""
    return f"cluster {text.code(target.cluster)}{cloud}, hub {text.code(target.hub)}"


def node_types_for(host: str | None, config: Config,
                   index: Mapping[str, HubEntry] | None) -> tuple[NodeType, ...] | None:
    """The hub's own node types: its cluster's (``sizing.node_types_by_cluster``), else its
    cloud's (``node_types_by_provider``, the provider beside the hub in the index)."""
    sizing = config.sizing
    if not host or not (sizing.node_types_by_cluster or sizing.node_types_by_provider):
        return None
    target = target_for(host, config.prewarm, index)
    entry = index.get(host.strip().lower()) if index is not None else None
    cluster = target.cluster if isinstance(target, PrewarmTarget) else None
    return (sizing.node_types_by_cluster.get(cluster or "")
            or sizing.node_types_by_provider.get(entry.provider if entry and entry.provider
                                                 else "") or None)


def run_text(record: DispatchRecord) -> str:
    """The workflow run a dispatch started: its link and outcome ("" when not followed)."""
    if not record.ok or not record.run:
        return ""
    if record.run_id is None:
        return " — ❌ its run was not found" if record.run == LOST else \
            " — ⏳ its run not found yet"
    url = record.run_url
    link = f"[run {record.run_id}]({url})" if url.startswith("https://") else \
        f"run {record.run_id}"
    if record.run == QUEUED:
        return f" — {link} ⏳ running"
    if record.run == SUCCESS:
        return f" — {link} ✅ succeeded"
    return f" — {link} ❌ {text.inline(record.run, 30)}"
