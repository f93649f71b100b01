"""Pre-warming, pure: the workflow's inputs for a request, checked against config.

Public API::

    target_for(hub_host, prewarm_config, index=None) -> PrewarmTarget | Refusal
    prewarm_dispatch(request, sizing, config, nodes=None, index=None)
        -> WorkflowDispatch | Refusal
        nodes None: the sizing's ``prewarm_nodes``; 0: a scale-down
    scale_down_dispatch(state, request, config) -> WorkflowDispatch | Refusal
    with_records(status, records) -> StatusComment  (for planning again after dispatching)

Sending the dispatches, and ``/prewarm`` at once, live in the shell
(``bot/service/dispatching.py``).

Nothing a person wrote reaches the workflow unchecked: the hub host must be a key of
``prewarm.clusters`` or match ``prewarm.hub_pattern`` (empty by default) or, with
``prewarm.hub_index``, be a domain that repository lists (``bot.core.hub_index``), every value taken
from the request is lower-case letters, digits, ``-`` and ``.`` only, and the
node count lies between 0 and ``prewarm.max_nodes``. Anything else is a
``Refusal`` whose reason is shown on the issue; it is never passed on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from . import text
from .config import Config, PrewarmConfig
from .hub_index import HubEntry
from .model import WorkflowDispatch
from .request import EventRequest
from .sizing import Sizing
from .status import DispatchRecord, StatusComment, StatusState

PREWARM = "prewarm"
SCALE_DOWN = "scale-down"
# A value taken from the request: what cluster and hub names are made of, nothing that a
# workflow could read as an option, a path or a shell word.
_SAFE_VALUE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,98}[a-z0-9])?$")
_MAX_INPUT_CHARS = 200


@dataclass(frozen=True)
class Refusal:
    """Why the bot will not dispatch; said on the issue as it is."""

    reason: str
    transient: bool = False  # may pass by itself (the hub index not read yet): not said


@dataclass(frozen=True)
class PrewarmTarget:
    cluster: str
    hub: str


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def safe_value(value: str) -> bool:
    return bool(_SAFE_VALUE_RE.match(value)) and ".." not in value


def _from_index(host: str, cfg: PrewarmConfig, index: Mapping[str, HubEntry] | None
                ) -> PrewarmTarget | Refusal:
    """``prewarm.hub_index`` set: the hubs it lists (and ``clusters``), nothing guessed."""
    where = text.code(cfg.hub_index.repository if cfg.hub_index else "")
    mapped = cfg.clusters.get(host)
    if mapped is not None:
        return PrewarmTarget(cluster=mapped, hub=host.split(".", 1)[0])
    if index is None:
        return Refusal(f"the list of hubs in {where} has not been read yet", transient=True)
    entry = index.get(host)
    if entry is None:
        return Refusal(f"the hub {text.code(host)} is not listed in {where} "
                       "(no `cluster.yaml` there has a hub with this domain)")
    return PrewarmTarget(cluster=entry.cluster, hub=entry.hub)


def target_for(hub_host: str | None, cfg: PrewarmConfig,
               index: Mapping[str, HubEntry] | None = None) -> PrewarmTarget | Refusal:
    """The cluster and hub names for a hub host: from ``clusters``, else the pattern's groups.

    Only a hub the deployment lists: a key of ``clusters`` or a match of ``hub_pattern``
    (empty by default: it matches nothing); with ``hub_index`` set, a domain in ``index``
    (what the shell read from that repository) or a key of ``clusters``."""
    if not hub_host:
        return Refusal("the request has no readable hub address")
    host = hub_host.strip().lower()
    if cfg.hub_index is not None:
        found = _from_index(host, cfg, index)
        if isinstance(found, Refusal):
            return found
        for what, value in (("cluster", found.cluster), ("hub", found.hub)):
            if not safe_value(value):
                return Refusal(f"the {what} name {text.code(value)} may only hold "
                               "lower-case letters, digits, `-` and `.`")
        return found
    try:
        match = re.fullmatch(cfg.hub_pattern, host) if cfg.hub_pattern else None
    except re.error:
        match = None
    groups = match.groupdict() if match else {}
    mapped = cfg.clusters.get(host)
    if match is None and mapped is None:
        return Refusal(f"the hub {text.code(host)} is not one this deployment lists: it "
                       "does not match `prewarm.hub_pattern` and is not a key of "
                       "`prewarm.clusters`")
    hub = groups.get("hub") or host.split(".", 1)[0]
    cluster = mapped or groups.get("cluster") or (
        cfg.clusters.get(hub) if hub else None)
    if not cluster:
        return Refusal(f"no cluster is configured for the hub {text.code(host)}")
    for what, value in (("cluster", cluster), ("hub", hub)):
        if not safe_value(value):
            return Refusal(f"the {what} name {text.code(value)} may only hold lower-case "
                           "letters, digits, `-` and `.`")
    return PrewarmTarget(cluster=cluster, hub=hub)


def render_inputs(templates: Mapping[str, str], target: PrewarmTarget, replicas: int
                  ) -> dict[str, str] | Refusal:
    """Fill ``{cluster}``, ``{hub}`` and ``{replicas}`` in the configured input templates."""
    out: dict[str, str] = {}
    for key, template in templates.items():
        # str.replace, not str.format: a brace in a template is text, never an error.
        value = (template.replace("{cluster}", target.cluster).replace("{hub}", target.hub)
                 .replace("{replicas}", str(replicas)))
        if len(value) > _MAX_INPUT_CHARS or any(not ch.isprintable() for ch in value):
            return Refusal(f"the workflow input {text.code(key)} would not be a short line "
                           "of text")
        out[key] = value
    return out


def check_nodes(nodes: int, cfg: PrewarmConfig) -> Refusal | None:
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 0:
        return Refusal(f"{text.quote(str(nodes))} is not a number of nodes")
    if nodes > cfg.max_nodes:
        return Refusal(f"{nodes} nodes is more than the bot may pre-warm "
                       f"(at most {cfg.max_nodes}); ask an engineer to scale by hand")
    return None


def _dispatch(kind: str, inputs: dict[str, str], cfg: PrewarmConfig) -> WorkflowDispatch:
    return WorkflowDispatch(kind=kind, repository=cfg.repository, workflow=cfg.workflow,
                            ref=cfg.ref, inputs=inputs)


def prewarm_dispatch(request: EventRequest | None, sizing: Sizing | None, config: Config,
                     nodes: int | None = None, index: Mapping[str, HubEntry] | None = None
                     ) -> WorkflowDispatch | Refusal:
    """The dispatch that readies ``nodes`` (default: the sizing's) for this request's hub."""
    cfg = config.prewarm
    if not cfg.enabled:
        return Refusal("pre-warming is not configured for this bot (`prewarm.repository`)")
    if nodes is None:
        if sizing is None:
            return Refusal("the request cannot be sized yet, so the bot does not know how "
                           "many nodes to pre-warm")
        nodes = sizing.prewarm_nodes
    refused = check_nodes(nodes, cfg)
    if refused is not None:
        return refused
    target = target_for(request.hub_host if request else None, cfg, index)
    if isinstance(target, Refusal):
        return target
    inputs = render_inputs(cfg.inputs, target, nodes)
    if isinstance(inputs, Refusal):
        return inputs
    host = request.hub_host.strip().lower() if request and request.hub_host else None
    dispatch = replace(_dispatch(PREWARM if nodes > 0 else SCALE_DOWN, inputs, cfg), hub=host)
    if request is not None and request.start is not None and nodes > 0:
        return replace(dispatch, for_start=iso(request.start))
    return dispatch


def last_ok(state: StatusState) -> DispatchRecord | None:
    for record in reversed(state.dispatches):
        if record.ok:
            return record
    return None


def last_ok_prewarm(state: StatusState) -> DispatchRecord | None:
    """The last successful pre-warm, if nothing has scaled its nodes down since."""
    record = last_ok(state)
    return record if record is not None and record.kind == PREWARM else None


def done_items(state: StatusState, request: EventRequest | None, config: Config
               ) -> frozenset[str]:
    """Checklist items the bot did itself, so nobody is reminded of them: the ``prewarm``
    item once a pre-warm succeeded in this start's lead time. (The scale-down item stays
    with people: it also unfreezes the image, which the bot does not do.)"""
    if not config.prewarm.enabled or request is None or request.start is None:
        return frozenset()
    window = request.start - timedelta(hours=config.prewarm.lead_time_hours)
    done = False
    for record in state.dispatches:
        at = parse_time(record.at)
        if not record.ok or at is None:
            continue
        if record.kind == PREWARM and at >= window and record.run in ("", "success"):
            # Ticked once its run succeeded (records from before runs were followed: "").
            done = True
        elif record.kind == SCALE_DOWN and at < request.start:
            done = False  # given back before the event (closed, cancelled, moved): undone
    return frozenset({PREWARM}) if done else frozenset()


def in_progress(state: StatusState, request: EventRequest | None, config: Config
                ) -> frozenset[str]:
    """Checklist items the bot is doing now: the ``prewarm`` item while the run of its
    pre-warm (in this start's lead time) goes on. Nobody is reminded of it meanwhile."""
    if not config.prewarm.enabled or request is None or request.start is None:
        return frozenset()
    window = request.start - timedelta(hours=config.prewarm.lead_time_hours)
    for record in reversed(state.dispatches):
        at = parse_time(record.at)
        if record.ok and record.kind == PREWARM and at is not None and at >= window:
            return frozenset({PREWARM}) if record.run == "queued" else frozenset()
    return frozenset()


def scale_down_dispatch(state: StatusState, request: EventRequest | None, config: Config,
                        keep: int = 0, index: Mapping[str, HubEntry] | None = None
                        ) -> WorkflowDispatch | Refusal:
    """Zero replicas (or ``keep``, what the other confirmed requests on the hub still need)
    for the hub that was pre-warmed (not the hub as edited since). Its cluster and inputs
    are derived from the config again now, never read back from the state: a hub the
    config no longer lists is refused."""
    cfg = config.prewarm
    if not cfg.enabled:
        return Refusal("pre-warming is not configured for this bot (`prewarm.repository`)")
    record = last_ok_prewarm(state)
    host = record.hub if record is not None and record.hub else (
        request.hub_host if request else None)
    target = target_for(host, cfg, index)
    if isinstance(target, Refusal):
        return target
    inputs = render_inputs(cfg.inputs, target, max(0, keep))
    if isinstance(inputs, Refusal):
        return inputs
    return replace(_dispatch(SCALE_DOWN, inputs, cfg), hub=host.strip().lower() if host else None)


def with_records(status: StatusComment | None, records: Sequence[DispatchRecord]
                 ) -> StatusComment:
    """The status comment as it will be once ``records`` are in its state (for re-planning)."""
    if status is None:
        status = StatusComment(id=0, body="", state=StatusState(), ticked=frozenset())
    state = replace(status.state, dispatches=(*status.state.dispatches, *records))
    return replace(status, state=state)
