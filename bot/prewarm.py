"""Pre-warming: the workflow's inputs for a request, checked against config, and dispatching it.

Public API (the ``/prewarm [NODES]`` command uses the last one)::

    target_for(hub_host, prewarm_config) -> PrewarmTarget | Refusal
    prewarm_dispatch(request, sizing, config, nodes=None) -> WorkflowDispatch | Refusal
        nodes None: the sizing's ``prewarm_nodes``; 0: a scale-down
    scale_down_dispatch(state, request, config) -> WorkflowDispatch | Refusal
    async run_dispatches(client, dispatches, now) -> tuple[DispatchRecord, ...]
    async prewarm_now(bot, repo: RepoRef, number: int, nodes: int | None, actor: str)
        -> PrewarmOutcome(ok: bool, message: str)
        Dispatches at once (through the one sync path, so the record lands in the status
        comment's state in the same edit) and returns the reply to post; never raises for
        a refusal or a failed dispatch.

Nothing a person wrote reaches the workflow unchecked: the hub host must match
``prewarm.hub_pattern`` (or be a key of ``prewarm.clusters``), every value taken
from the request is lower-case letters, digits, ``-`` and ``.`` only, and the
node count lies between 0 and ``prewarm.max_nodes``. Anything else is a
``Refusal`` whose reason is shown on the issue; it is never passed on.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from . import text
from .config import Config, PrewarmConfig
from .model import Desired, IssueSnapshot, RepoRef, WorkflowDispatch
from .request import EventRequest
from .sizing import Sizing
from .status import DispatchRecord, StatusComment, StatusState

if TYPE_CHECKING:
    from .app import EventBot
    from .plan import Triage

log = logging.getLogger("bot.prewarm")

PREWARM = "prewarm"
SCALE_DOWN = "scale-down"
# A value taken from the request: what cluster and hub names are made of, nothing that a
# workflow could read as an option, a path or a shell word.
_SAFE_VALUE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,98}[a-z0-9])?$")
_MAX_INPUT_CHARS = 200
_MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class Refusal:
    """Why the bot will not dispatch; said on the issue as it is."""

    reason: str


@dataclass(frozen=True)
class PrewarmTarget:
    cluster: str
    hub: str


@dataclass(frozen=True)
class PrewarmOutcome:
    ok: bool
    message: str  # the reply for the person who asked


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


def target_for(hub_host: str | None, cfg: PrewarmConfig) -> PrewarmTarget | Refusal:
    """The cluster and hub names for a hub host: from ``clusters``, else the pattern's groups."""
    if not hub_host:
        return Refusal("the request has no readable hub address")
    host = hub_host.strip().lower()
    try:
        match = re.fullmatch(cfg.hub_pattern, host)
    except re.error:
        match = None
    groups = match.groupdict() if match else {}
    mapped = cfg.clusters.get(host)
    if match is None and mapped is None:
        return Refusal(f"the hub {text.code(host)} does not match the configured hub pattern "
                       "and is not in the configured list of clusters")
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


def _nodes_ok(nodes: int, cfg: PrewarmConfig) -> Refusal | None:
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
                     nodes: int | None = None) -> WorkflowDispatch | Refusal:
    """The dispatch that readies ``nodes`` (default: the sizing's) for this request's hub."""
    cfg = config.prewarm
    if not cfg.enabled:
        return Refusal("pre-warming is not configured for this bot (`prewarm.repository`)")
    if nodes is None:
        if sizing is None:
            return Refusal("the request cannot be sized yet, so the bot does not know how "
                           "many nodes to pre-warm")
        nodes = sizing.prewarm_nodes
    refused = _nodes_ok(nodes, cfg)
    if refused is not None:
        return refused
    target = target_for(request.hub_host if request else None, cfg)
    if isinstance(target, Refusal):
        return target
    inputs = render_inputs(cfg.inputs, target, nodes)
    if isinstance(inputs, Refusal):
        return inputs
    return _dispatch(PREWARM if nodes > 0 else SCALE_DOWN, inputs, cfg)


def last_ok(state: StatusState) -> DispatchRecord | None:
    for record in reversed(state.dispatches):
        if record.ok:
            return record
    return None


def is_prewarmed(state: StatusState) -> bool:
    """The last successful dispatch readied nodes (and nothing has scaled them down since)."""
    record = last_ok(state)
    return record is not None and record.kind == PREWARM


def scale_down_dispatch(state: StatusState, request: EventRequest | None, config: Config
                        ) -> WorkflowDispatch | Refusal:
    """Zero replicas for the cluster and hub that were pre-warmed (not the hub as edited since)."""
    cfg = config.prewarm
    if not cfg.enabled:
        return Refusal("pre-warming is not configured for this bot (`prewarm.repository`)")
    record = last_ok(state)
    recorded = dict(record.inputs) if record is not None else {}
    current = target_for(request.hub_host if request else None, cfg)
    cluster = next((recorded[k] for k, t in cfg.inputs.items()
                    if t == "{cluster}" and k in recorded), None)
    hub = next((recorded[k] for k, t in cfg.inputs.items() if t == "{hub}" and k in recorded),
               None)
    if cluster is None or hub is None:
        if isinstance(current, Refusal):
            return current
        cluster = cluster or current.cluster
        hub = hub or current.hub
    if not safe_value(cluster) or not safe_value(hub):
        return Refusal("the recorded cluster or hub name is not safe to pass on")
    inputs = render_inputs(cfg.inputs, PrewarmTarget(cluster, hub), 0)
    if isinstance(inputs, Refusal):
        return inputs
    return _dispatch(SCALE_DOWN, inputs, cfg)


class DispatchClient(Protocol):
    async def dispatch_workflow(self, repo: str, workflow: str, ref: str,
                                inputs: Mapping[str, str]) -> None: ...


def _error_text(exc: Exception) -> str:
    # GitHubError messages are redacted already; anything else shows its type only.
    status = getattr(exc, "status", None)
    message = getattr(exc, "message", None)
    if isinstance(status, int) and isinstance(message, str):
        shown = f"GitHub answered {status or 'nothing'}: {message}"
    else:
        shown = type(exc).__name__
    return " ".join(shown.split())[:_MAX_ERROR_CHARS]


async def run_dispatches(client: DispatchClient, dispatches: Sequence[WorkflowDispatch],
                         now: datetime) -> tuple[DispatchRecord, ...]:
    """Dispatch each, in order; every outcome is a record, a failure included (never raised)."""
    records = []
    for d in dispatches:
        try:
            await client.dispatch_workflow(d.repository, d.workflow, d.ref, d.inputs)
        except Exception as exc:  # kept on the issue and retried later, never lost
            log.warning("%s dispatch of %s/%s failed: %s", d.kind, d.repository, d.workflow,
                        _error_text(exc))
            records.append(DispatchRecord(kind=d.kind, at=iso(now), inputs=dict(d.inputs),
                                          ok=False, error=_error_text(exc)))
        else:
            log.info("%s dispatched: %s/%s %s", d.kind, d.repository, d.workflow, d.inputs)
            records.append(DispatchRecord(kind=d.kind, at=iso(now), inputs=dict(d.inputs),
                                          ok=True))
    return tuple(records)


def with_records(status: StatusComment | None, records: Sequence[DispatchRecord]
                 ) -> StatusComment:
    """The status comment as it will be once ``records`` are in its state (for re-planning)."""
    if status is None:
        status = StatusComment(id=0, body="", state=StatusState(), ticked=frozenset())
    state = replace(status.state, dispatches=(*status.state.dispatches, *records))
    return replace(status, state=state)


def _describe(record: DispatchRecord) -> str:
    shown = ", ".join(f"{k}={text.inline(v, 40)}" for k, v in sorted(record.inputs.items()))
    return f"`{shown}`" if shown else "no inputs"


class _ManualDispatch:
    """A plan hook that adds one dispatch to the first plan and reads its record after it ran."""

    def __init__(self, config: Config, nodes: int | None, actor: str) -> None:
        self.config = config
        self.nodes = nodes
        self.actor = actor
        self.dispatch: WorkflowDispatch | None = None
        self.outcome: PrewarmOutcome | None = None

    def __call__(self, issue: IssueSnapshot, status: StatusComment | None, triage: Triage,
                 desired: Desired) -> Desired:
        if self.dispatch is None:
            return self._first(issue, status, triage, desired)
        record = next((r for r in reversed(status.state.dispatches if status else ())
                       if r.kind == self.dispatch.kind
                       and r.inputs == self.dispatch.inputs), None)
        if record is None:
            self.outcome = PrewarmOutcome(False, "The dispatch was not recorded; try again.")
        elif record.ok:
            verb = "Pre-warming" if record.kind == PREWARM else "Scale-down"
            self.outcome = PrewarmOutcome(True, f"{verb} dispatched for "
                                          f"{text.mention(self.actor)} ({_describe(record)}).")
        else:
            self.outcome = PrewarmOutcome(False, "❌ The workflow could not be dispatched: "
                                          f"{text.inline(record.error, 200)}")
        return desired

    def _first(self, issue: IssueSnapshot, status: StatusComment | None, triage: Triage,
               desired: Desired) -> Desired:
        if issue.state != "open" or triage.state.cancelled_by:
            self.outcome = PrewarmOutcome(False, "This request is closed or cancelled; "
                                                 "nothing was pre-warmed.")
            return desired
        planned = (scale_down_dispatch(triage.state, triage.request, self.config)
                   if self.nodes == 0 else
                   prewarm_dispatch(triage.request, triage.sizing, self.config, self.nodes))
        if isinstance(planned, Refusal):
            self.outcome = PrewarmOutcome(False, f"⚠️ Not pre-warmed: {planned.reason}.")
            return desired
        self.dispatch = planned
        # The asked-for dispatch replaces any of the same kind the clock planned just now.
        others = tuple(d for d in desired.dispatches if d.kind != planned.kind)
        return replace(desired, dispatches=(*others, planned))


async def prewarm_now(bot: EventBot, repo: RepoRef, number: int, nodes: int | None,
                      actor: str) -> PrewarmOutcome:
    """``/prewarm [NODES]``: dispatch at once; NODES None means the sizing's, 0 scales down.

    The caller checks who may run it; this checks the inputs, dispatches through the one
    sync path (so the record is in the status comment), and returns the reply to post.
    """
    # The repository's own config (its override file) decides, as it does for the clock.
    config = await bot.config_for(await bot.client_for(repo.installation_id), repo.full_name)
    if nodes is not None:
        refused = _nodes_ok(nodes, config.prewarm)
        if refused is not None:
            return PrewarmOutcome(False, f"⚠️ Not pre-warmed: {refused.reason}.")
    hook = _ManualDispatch(config, nodes, actor)
    result = await bot.sync(repo, number, hook=hook)
    if hook.outcome is not None:
        return hook.outcome
    if result.triage is None:
        return PrewarmOutcome(False, "This issue is not an event request.")
    return PrewarmOutcome(False, "Nothing was dispatched; try again.")
