"""config.yaml -> typed, validated dataclasses, with one clear line per problem.

Every key has a default, so a config holding only the keys CONTRACT.md names
is valid. ``parse_config`` never raises anything but ``ConfigError``.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_FORM_PATH = PACKAGE_ROOT / "issue_templates" / "event-request.yml"
EVENT_TYPES = ("exam", "workshop", "demo", "other")
# The bot's own field ids; config ``form_fields`` says which form element holds each.
BOT_FIELD_IDS = ("hub_url", "event_name", "event_type", "start", "end", "timezone", "attendees",
                 "memory_per_user", "tier", "community_rep", "details", "daily_hours", "notice")
REQUIRED_BOT_FIELDS = ("hub_url", "start", "end", "attendees")
# Matched whole on stripped, length-capped text: no two quantifiers over the same characters.
_OFFSET_RE = re.compile(r"([+-]?)\s*(\d+)\s*([dh])")
_MEMORY_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(gib|gb|g|mib|mb|m)?", re.IGNORECASE)
_MAX_SIZE_TEXT = 40


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class AwayRange:
    start: date
    end: date  # inclusive


@dataclass(frozen=True)
class Engineer:
    login: str
    away: tuple[AwayRange, ...] = ()


@dataclass(frozen=True)
class OnCall:
    start: date = date(2026, 1, 7)
    timezone: str = "UTC"
    shift_days: int = 7
    engineers: tuple[Engineer, ...] = ()


@dataclass(frozen=True)
class EventTypeConfig:
    name: str
    engineers: int = 1
    keywords: tuple[str, ...] = ()
    arrival_minutes: float = 30.0  # how long attendees take to arrive (sizing's arrival rate)


@dataclass(frozen=True)
class Tier:
    name: str
    price_usd: float = 0.0
    requires_approval: bool = False
    price_per_hour_usd: float | None = None  # per hour of the event's active time
    description: str = ""
    includes: tuple[str, ...] = ()
    engineers: int = 0  # on call at least this many (0: as the event type says)


@dataclass(frozen=True)
class DueOffset:
    """A due time relative to the event: ``-21d`` before the start, ``+1d`` after the end."""

    anchor: str  # "start" or "end"
    amount: int
    unit: str  # "d" (calendar days in the event's zone) or "h"

    @property
    def text(self) -> str:
        sign = "-" if self.amount < 0 else "+"
        return f"{self.anchor}{sign}{abs(self.amount)}{self.unit}"


@dataclass(frozen=True)
class ChecklistItemConfig:
    id: str
    text: str
    due: DueOffset
    types: tuple[str, ...] = EVENT_TYPES
    after_event: bool = False  # part of the follow-up: ticking these closes the issue
    tiers: tuple[str, ...] = ()  # also on requests at these tiers, whatever their type
    owner: str = "engineers"  # who is reminded: "engineers" or "community" (the rep)


@dataclass(frozen=True)
class NodeType:
    name: str
    memory_gib: float  # allocatable to users
    cpu: float  # allocatable to users


@dataclass(frozen=True)
class SizingConfig:
    node_types: tuple[NodeType, ...]
    default_memory_per_user_gib: float = 2.0
    cpu_per_user: float = 0.0  # 0: memory alone decides
    min_users_per_node: int = 4
    max_users_per_node: int = 100
    max_waiting_share: float = 0.3
    node_startup_minutes: float = 10.0  # a new node's start-up (placeholders cover arrivals)
    node_types_by_cluster: Mapping[str, tuple[NodeType, ...]] = field(default_factory=dict)
    node_types_by_provider: Mapping[str, tuple[NodeType, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Labels:
    event_request: str = "event-request"
    type_prefix: str = "type: "
    tier_prefix: str = "tier: "
    tier_pending: str = "tier: pending"
    needs_info: str = "needs-info"
    short_notice: str = "short-notice"
    cancelled: str = "cancelled"
    done: str = "event: done"

    def type_label(self, event_type: str) -> str:
        return f"{self.type_prefix}{event_type}"

    def tier_label(self, tier: str) -> str:
        return f"{self.tier_prefix}{tier}"


@dataclass(frozen=True)
class HubIndexConfig:
    repository: str  # OWNER/NAME listing the hubs, read with the App's installation token
    path: str = "config/clusters/*/cluster.yaml"
    refresh_minutes: int = 60


@dataclass(frozen=True)
class PrewarmConfig:
    repository: str = ""  # OWNER/NAME holding the workflow; empty: pre-warming off
    workflow: str = "scale-placeholders.yaml"
    ref: str = "main"
    lead_time_hours: float = 2.0
    scale_down_after_hours: float = 0.5
    max_nodes: int = 50
    hub_pattern: str = ""  # matches nothing: only the hubs the operator lists are pre-warmed
    clusters: Mapping[str, str] = field(default_factory=dict)  # hub host -> cluster
    inputs: Mapping[str, str] = field(
        default_factory=lambda: {"cluster": "{cluster}", "hub": "{hub}", "replicas": "{replicas}"}
    )
    hub_index: HubIndexConfig | None = None  # set: the hubs listed there, by domain
    for_tiers: tuple[str, ...] | None = None  # None: every request is pre-warmed by itself
    for_event_types: tuple[str, ...] | None = None
    keep_warm_between_sessions_hours: float = 4.0

    @property
    def enabled(self) -> bool:
        return bool(self.repository)


def _above_zero() -> dict[str, Any]:
    """Field metadata: a value of 0 or less would stop the bot (a zero timeout, a busy loop)."""
    return {"above_zero": True}


def _at_least_one() -> dict[str, Any]:
    """Field metadata: 0 would hang (no worker, no request in flight) or mean unbounded."""
    return {"minimum": 1}


@dataclass(frozen=True)
class SchedulerConfig:
    tick_seconds: float = field(default=60.0, metadata=_above_zero())
    reconcile_seconds: float = field(default=900.0, metadata=_above_zero())
    redeliver_seconds: float = field(default=600.0, metadata=_above_zero())
    summary_before_hours: float = 24.0
    close_when_after_items_ticked: bool = True


@dataclass(frozen=True)
class GitHubClientConfig:
    timeout_seconds: float = field(default=10.0, metadata=_above_zero())
    retries: int = 4
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    write_interval_seconds: float = 1.0
    # Writes that may go back to back after a quiet spell: a lone request's two writes
    # (labels and assignees, then the status comment) need not wait the interval; a burst
    # is paced at one write per interval. 1 spaces every write. One more than a request
    # needs: at one request every two seconds (GitHub's average exactly) a request that
    # ran late is absorbed instead of delaying every one after it.
    write_burst: int = field(default=3, metadata=_at_least_one())
    secondary_limit_fallback_seconds: float = 60.0
    content_per_minute: int = 80
    content_per_hour: int = 500
    permission_cache_seconds: float = 300.0
    token_refresh_margin_seconds: float = 60.0
    # requests per installation at once: GitHub asks for no concurrency
    max_in_flight: int = field(default=1, metadata=_at_least_one())
    longest_wait_seconds: float = 900.0  # a rate-limit window longer than this fails fast


@dataclass(frozen=True)
class ServerConfig:
    # Issues waiting (deliveries about one issue wait as one): the bound behind a 503.
    queue_size: int = field(default=50_000, metadata=_at_least_one())
    # Coroutines, not threads: a worker waits out its installation's write pacing (1 s a
    # write), so fewer workers than installations in a burst leaves some waiting for none.
    workers: int = field(default=32, metadata=_at_least_one())
    shutdown_grace_seconds: float = 25.0
    # After the grace: time to hand cut-off commands back to GitHub (a platform's
    # SIGTERM-to-SIGKILL is about 30 s, so grace plus this stays under it).
    hand_back_seconds: float = field(default=4.0, metadata=_above_zero())


@dataclass(frozen=True)
class Config:
    notice_days: int = 21
    default_timezone: str = "UTC"
    team_leads: tuple[str, ...] = ()
    team_lead_team: str = ""  # ORG/TEAM-SLUG whose members are leads too
    oncall: OnCall = OnCall()
    event_types: Mapping[str, EventTypeConfig] = field(default_factory=dict)
    tiers: Mapping[str, Tier] = field(default_factory=dict)
    default_tier: str = ""
    checklist: tuple[ChecklistItemConfig, ...] = ()
    labels: Labels = Labels()
    sizing: SizingConfig = SizingConfig(node_types=())
    timezone_abbreviations: Mapping[str, str] = field(default_factory=dict)
    max_attendees: int = 5000
    form_path: Path = DEFAULT_FORM_PATH
    policy_url: str = ""
    debrief_questions: tuple[str, ...] = ()
    prewarm: PrewarmConfig = PrewarmConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    github: GitHubClientConfig = GitHubClientConfig()
    server: ServerConfig = ServerConfig()
    form_fields: Mapping[str, str] = field(default_factory=dict)  # bot id -> form element id
    request_labels: tuple[str, ...] = ("event-request",)  # the first is the one the bot sets

    def engineers_for(self, event_type: str, tier: str | None = None) -> int:
        """Engineers on call: the event type's number, or the tier's if it promises more."""
        cfg = self.event_types.get(event_type)
        wanted = cfg.engineers if cfg else 1
        promised = self.tiers.get(tier or "")
        return max(wanted, promised.engineers if promised is not None else 0)

    def tier_named(self, name: str) -> Tier | None:
        for tier in self.tiers.values():
            if tier.name.lower() == name.strip().lower():
                return tier
        return None

    @property
    def free_tier(self) -> str:
        """The tier a declined request goes on at: the default, else the cheapest."""
        if self.default_tier:
            return self.default_tier
        if not self.tiers:
            return ""
        return min(self.tiers.values(), key=lambda t: t.price_usd).name


# --- defaults a hosting team would really use ------------------------------

DEFAULT_EVENT_TYPES: dict[str, dict[str, Any]] = {
    "exam": {
        "engineers": 2, "arrival_minutes": 5,  # everyone in the first minutes
        "keywords": ["exam", "midterm", "mid-term", "final", "quiz", "test", "assessment"],
    },
    "workshop": {
        "engineers": 1, "arrival_minutes": 30,
        "keywords": ["workshop", "tutorial", "training", "bootcamp", "course", "hackathon",
                     "class"],
    },
    "demo": {
        "engineers": 1, "arrival_minutes": 15,
        "keywords": ["demo", "demonstration", "showcase", "presentation", "talk", "webinar"],
    },
    "other": {"engineers": 1, "arrival_minutes": 30, "keywords": []},
}

OWNERS = ("engineers", "community")  # who a checklist item's reminder goes to

DEFAULT_TIERS: dict[str, dict[str, Any]] = {
    "standard": {"price_usd": 0, "requires_approval": False},
}

DEFAULT_CHECKLIST: list[dict[str, Any]] = [
    {"id": "confirm-details", "due": "-21d",
     "text": "Confirm the event details with the community representative"},
    {"id": "cloud-quotas", "due": "-14d",
     "text": "Check cloud quotas (CPU, memory, IPs) cover the peak node count"},
    {"id": "image-update", "due": "-14d",
     "text": "Update the user image with the packages the event needs"},
    {"id": "image-freeze", "due": "-7d",
     "text": "Freeze the user image: no changes until after the event"},
    {"id": "node-pool", "due": "-7d",
     "text": "Set the node pool and resource sizing (node type, users per node)"},
    {"id": "access-test", "due": "-3d", "types": ["exam"], "tiers": ["premium"],
     "text": "Engineers on call test their access to the hub and the cluster"},
    {"id": "login-test", "due": "-2d", "owner": "community",
     "text": "Community representative runs a login test with a few users"},
    {"id": "guaranteed-qos", "due": "-12h", "types": ["exam"], "tiers": ["premium"],
     "text": "Switch user pods to guaranteed QoS (not earlier than 12 h before)"},
    {"id": "prewarm", "due": "-2h",
     "text": "Pre-warm the cluster (placeholder pods for the peak)"},
    {"id": "oncall-watch", "due": "start+0h",
     "text": "On-call engineer watches the hub during the event"},
    {"id": "scale-down", "due": "+1d", "after_event": True,
     "text": "Scale down the placeholders and unfreeze the image"},
    {"id": "debrief", "due": "+7d", "after_event": True,
     "text": "Debrief with the community: what went well, what to change"},
]

DEFAULT_NODE_TYPES: list[dict[str, Any]] = [
    {"name": "n2-highmem-4", "memory": "26 GiB", "cpu": 3.5},
    {"name": "n2-highmem-16", "memory": "110 GiB", "cpu": 15.5},
    {"name": "n2-highmem-32", "memory": "220 GiB", "cpu": 31.5},
]

DEFAULT_DEBRIEF = (
    "Did the hub hold up at the peak? Any slow starts or errors users saw?",
    "Was the image ready in time, with everything the event needed?",
    "What should we do differently next time?",
)


# --- parsing ---------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"{where}: {message}")


def parse_offset(text: str) -> DueOffset:
    """``-21d`` / ``-12h`` (before the start), ``+1d`` (after the end), ``start+0h``, ``end-1h``."""
    raw = str(text).strip()
    anchor = ""
    for name in ("start", "end"):
        if raw.lower().startswith(name):
            anchor, raw = name, raw[len(name):]
            break
    raw = raw.strip()
    m = _OFFSET_RE.fullmatch(raw) if len(raw) <= _MAX_SIZE_TEXT else None
    if not m:
        raise ValueError(f"due offset {text!r} is not like -21d, -12h, +1d or start+0h")
    sign, num, unit = m.groups()
    amount = -int(num) if sign == "-" else int(num)
    if not anchor:
        anchor = "start" if sign == "-" else "end"
    return DueOffset(anchor=anchor, amount=amount, unit=unit)


def parse_memory_gib(text: Any) -> float:
    """``4 GB``, ``4G``, ``4096 MiB``, ``4`` -> GiB (GB and GiB are read alike: people mean GiB)."""
    if isinstance(text, bool):
        raise ValueError(f"memory {text!r} is not a size")
    if isinstance(text, int | float):
        value = float(text)
    else:
        written = str(text).strip()
        m = _MEMORY_RE.fullmatch(written) if len(written) <= _MAX_SIZE_TEXT else None
        if not m:
            raise ValueError(f"memory {text!r} is not a size like 4 GB")
        value = float(m.group(1))
        if (m.group(2) or "g").lower().startswith("m"):
            value /= 1024
    if value <= 0:
        raise ValueError(f"memory {text!r} must be more than zero")
    return value


def _as_date(value: Any, where: str, problems: _Problems) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.add(where, f"{value!r} is not a date like 2026-01-07")
        return None


def _check_zone(name: str, where: str, problems: _Problems) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(where, f"{name!r} is not an IANA time zone like America/Chicago")
        return "UTC"
    return name


def _mapping(value: Any, where: str, problems: _Problems) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add(where, f"must be a mapping, not {type(value).__name__}")
        return {}
    return value


def _list(value: Any, where: str, problems: _Problems) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(where, f"must be a list, not {type(value).__name__}")
        return []
    return value


def _number(value: Any, where: str, problems: _Problems, default: float,
            minimum: float = 0, above_zero: bool = False) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(where, f"{value!r} is not a number")
        return default
    if not math.isfinite(value):
        problems.add(where, f"{value!r} is not a finite number")
        return default
    if value < minimum:
        problems.add(where, f"{value!r} must be at least {minimum:g}")
        return default
    if above_zero and value <= 0:
        problems.add(where, f"{value!r} must be more than 0")
        return default
    return float(value)


def _int(value: Any, where: str, problems: _Problems, default: int, minimum: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(where, f"{value!r} is not a whole number")
        return default
    if value < minimum:
        problems.add(where, f"{value!r} must be at least {minimum}")
        return default
    return value


def _bool(value: Any, where: str, problems: _Problems, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        problems.add(where, f"{value!r} is not true or false")
        return default
    return value


def _str(value: Any, where: str, problems: _Problems, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        problems.add(where, f"{value!r} is not text")
        return default
    return str(value)


def _logins(value: Any, where: str, problems: _Problems) -> tuple[str, ...]:
    out = []
    for i, v in enumerate(_list(value, where, problems)):
        if not isinstance(v, str) or not v.strip():
            problems.add(f"{where}[{i}]", f"{v!r} is not a GitHub login")
            continue
        out.append(v.strip().lstrip("@"))
    return tuple(out)


def _parse_oncall(raw: Any, p: _Problems) -> OnCall:
    m = _mapping(raw, "oncall", p)
    start = _as_date(m.get("start", "2026-01-07"), "oncall.start", p) or date(2026, 1, 7)
    tz = _check_zone(_str(m.get("timezone"), "oncall.timezone", p, "UTC"), "oncall.timezone", p)
    shift_days = _int(m.get("shift_days"), "oncall.shift_days", p, 7, minimum=1)
    engineers = []
    for i, e in enumerate(_list(m.get("engineers"), "oncall.engineers", p)):
        where = f"oncall.engineers[{i}]"
        if isinstance(e, str) and e.strip():
            engineers.append(Engineer(login=e.strip().lstrip("@")))
            continue
        em = _mapping(e, where, p)
        login = em.get("login")
        if not isinstance(login, str) or not login.strip():
            p.add(where, "needs a login")
            continue
        away = []
        for j, a in enumerate(_list(em.get("away"), f"{where}.away", p)):
            am = _mapping(a, f"{where}.away[{j}]", p)
            f = _as_date(am.get("from"), f"{where}.away[{j}].from", p)
            t = _as_date(am.get("to", am.get("from")), f"{where}.away[{j}].to", p)
            if f and t:
                if t < f:
                    p.add(f"{where}.away[{j}]", f"ends ({t}) before it starts ({f})")
                else:
                    away.append(AwayRange(f, t))
        engineers.append(Engineer(login=login.strip().lstrip("@"), away=tuple(away)))
    if "engineers" in m and not engineers:
        p.add("oncall.engineers", "no engineers: the bot assigns every request from this "
              "rotation")
    return OnCall(start=start, timezone=tz, shift_days=shift_days, engineers=tuple(engineers))


def _parse_event_types(raw: Any, p: _Problems) -> dict[str, EventTypeConfig]:
    m = _mapping(raw, "event_types", p)
    out: dict[str, EventTypeConfig] = {}
    for name in EVENT_TYPES:
        base = DEFAULT_EVENT_TYPES[name]
        given = _mapping(m.get(name), f"event_types.{name}", p)
        engineers = _int(given.get("engineers"), f"event_types.{name}.engineers", p,
                         int(base["engineers"]), minimum=1)
        kw_raw = given.get("keywords", base["keywords"])
        keywords = tuple(
            str(k).strip().lower() for k in _list(kw_raw, f"event_types.{name}.keywords", p)
            if str(k).strip()
        )
        arrival = _number(given.get("arrival_minutes"), f"event_types.{name}.arrival_minutes",
                          p, float(base["arrival_minutes"]), above_zero=True)
        out[name] = EventTypeConfig(name=name, engineers=engineers, keywords=keywords,
                                    arrival_minutes=arrival)
    for name in m:
        if name not in EVENT_TYPES:
            p.add(f"event_types.{name}", f"unknown event type; use one of {', '.join(EVENT_TYPES)}")
    return out


def _parse_tiers(raw: Any, p: _Problems) -> dict[str, Tier]:
    m = _mapping(raw if raw is not None else DEFAULT_TIERS, "tiers", p)
    out: dict[str, Tier] = {}
    for name, t in m.items():
        where = f"tiers.{name}"
        if not isinstance(name, str) or not name.strip():
            p.add("tiers", f"{name!r} is not a tier name")
            continue
        tm = _mapping(t, where, p)
        includes = tuple(str(x) for x in _list(tm.get("includes"), f"{where}.includes", p))
        out[name] = Tier(
            name=name,
            price_usd=_number(tm.get("price_usd"), f"{where}.price_usd", p, 0.0),
            price_per_hour_usd=_number(tm["price_per_hour_usd"], f"{where}.price_per_hour_usd",
                                       p, 0.0) if tm.get("price_per_hour_usd") is not None
            else None,
            requires_approval=_bool(tm.get("requires_approval"), f"{where}.requires_approval",
                                    p, False),
            description=_str(tm.get("description"), f"{where}.description", p, ""),
            includes=includes,
            engineers=_int(tm.get("engineers"), f"{where}.engineers", p, 0),
        )
    if not out:
        p.add("tiers", "at least one tier is needed")
    return out


def _parse_checklist(raw: Any, tiers: Mapping[str, Tier], p: _Problems
                     ) -> tuple[ChecklistItemConfig, ...]:
    items = _list(raw if raw is not None else DEFAULT_CHECKLIST, "checklist", p)
    out: list[ChecklistItemConfig] = []
    seen: set[str] = set()
    for i, it in enumerate(items):
        where = f"checklist[{i}]"
        im = _mapping(it, where, p)
        item_id = im.get("id")
        if not isinstance(item_id, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", item_id):
            p.add(where, f"id {item_id!r} must be lower-case letters, digits, - or _")
            continue
        if item_id in seen:
            p.add(where, f"id {item_id!r} appears twice")
            continue
        seen.add(item_id)
        text = im.get("text")
        if not isinstance(text, str) or not text.strip():
            p.add(where, "needs a text")
            continue
        try:
            due = parse_offset(str(im.get("due", "-1d")))
        except ValueError as e:
            p.add(f"{where}.due", str(e))
            continue
        types = tuple(str(t) for t in _list(im.get("types", list(EVENT_TYPES)),
                                             f"{where}.types", p))
        for t in types:
            if t not in EVENT_TYPES:
                p.add(f"{where}.types", f"unknown event type {t!r}")
        item_tiers = tuple(str(t) for t in _list(im.get("tiers", []), f"{where}.tiers", p))
        if raw is None:  # the shipped checklist names tiers this deployment may not have
            item_tiers = tuple(t for t in item_tiers if t in tiers)
        for t in item_tiers:
            if t not in tiers:
                p.add(f"{where}.tiers", f"unknown tier {t!r}; the tiers are "
                      f"{', '.join(tiers) or 'none'}")
        after = _bool(im.get("after_event"), f"{where}.after_event", p, due.anchor == "end"
                      and due.amount > 0)
        owner = _str(im.get("owner"), f"{where}.owner", p, "engineers")
        if owner not in OWNERS:
            p.add(f"{where}.owner", f"{owner!r} is not one of {', '.join(OWNERS)}")
            owner = "engineers"
        out.append(ChecklistItemConfig(id=item_id, text=text.strip(), due=due, types=types,
                                       after_event=after, tiers=item_tiers, owner=owner))
    return tuple(out)


def _parse_node_types(raw: Any, at: str, p: _Problems) -> list[NodeType]:
    nts = []
    for i, nt in enumerate(_list(raw, at, p)):
        where = f"{at}[{i}]"
        ntm = _mapping(nt, where, p)
        name = ntm.get("name")
        if not isinstance(name, str) or not name:
            p.add(where, "needs a name")
            continue
        try:
            mem = parse_memory_gib(ntm.get("memory"))
        except ValueError as e:
            p.add(f"{where}.memory", str(e))
            continue
        cpu = _number(ntm.get("cpu"), f"{where}.cpu", p, 1.0)
        nts.append(NodeType(name=name, memory_gib=mem, cpu=cpu))
    return nts


def _node_types_by(raw: Any, at: str, p: _Problems) -> dict[str, tuple[NodeType, ...]]:
    """``sizing.node_types_by_cluster`` / ``_by_provider``: a name -> its own node types."""
    out = {}
    for key, value in _mapping(raw, at, p).items():
        found = _parse_node_types(value, f"{at}.{key}", p)
        if not found:
            p.add(f"{at}.{key}", "at least one node type is needed")
        out[str(key).strip().lower()] = tuple(found)
    return out


def _parse_sizing(raw: Any, p: _Problems) -> SizingConfig:
    m = _mapping(raw, "sizing", p)
    nts = _parse_node_types(m.get("node_types", DEFAULT_NODE_TYPES), "sizing.node_types", p)
    if not nts:
        p.add("sizing.node_types", "at least one node type is needed")
    try:
        default_mem = parse_memory_gib(m.get("default_memory_per_user", "2 GB"))
    except ValueError as e:
        p.add("sizing.default_memory_per_user", str(e))
        default_mem = 2.0
    min_u = _int(m.get("min_users_per_node"), "sizing.min_users_per_node", p, 4, minimum=1)
    max_u = _int(m.get("max_users_per_node"), "sizing.max_users_per_node", p, 100, minimum=1)
    if max_u < min_u:
        p.add("sizing", "max_users_per_node is below min_users_per_node")
    share = _number(m.get("max_waiting_share"), "sizing.max_waiting_share", p, 0.3)
    if share > 1:
        p.add("sizing.max_waiting_share", "must be between 0 and 1")
        share = 0.3
    return SizingConfig(
        node_types=tuple(nts),
        default_memory_per_user_gib=default_mem,
        cpu_per_user=_number(m.get("cpu_per_user"), "sizing.cpu_per_user", p, 0.0),
        min_users_per_node=min_u,
        max_users_per_node=max_u,
        max_waiting_share=share,
        node_startup_minutes=_number(m.get("node_startup_minutes"),
                                     "sizing.node_startup_minutes", p, 10.0),
        node_types_by_cluster=_node_types_by(m.get("node_types_by_cluster"),
                                             "sizing.node_types_by_cluster", p),
        node_types_by_provider=_node_types_by(m.get("node_types_by_provider"),
                                              "sizing.node_types_by_provider", p),
    )


def _parse_labels(raw: Any, p: _Problems) -> Labels:
    m = _mapping(raw, "labels", p)
    base = Labels()
    kwargs = {}
    for key in base.__dataclass_fields__:
        if key in m:
            kwargs[key] = _str(m[key], f"labels.{key}", p, getattr(base, key))
    for key in m:
        if key not in base.__dataclass_fields__:
            p.add(f"labels.{key}", "unknown label key")
    return Labels(**kwargs)


def _names(raw: Any, where: str, p: _Problems) -> tuple[str, ...] | None:
    """A list of names, or None when absent (``prewarm.for_tiers``: every request)."""
    if raw is None:
        return None
    return tuple(str(x).strip() for x in _list(raw, where, p) if str(x).strip())


def _parse_hub_index(raw: Any, p: _Problems) -> HubIndexConfig | None:
    if raw is None:
        return None
    m = _mapping(raw, "prewarm.hub_index", p)
    for key in m:
        if key not in ("repository", "path", "refresh_minutes"):
            p.add(f"prewarm.hub_index.{key}", "unknown key")
    repo = _str(m.get("repository"), "prewarm.hub_index.repository", p, "")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
        p.add("prewarm.hub_index.repository", f"{repo!r} is not OWNER/NAME")
    path = _str(m.get("path"), "prewarm.hub_index.path", p, HubIndexConfig("").path)
    parts = path.strip("/").split("/")
    if not path or any(x in ("", ".", "..") for x in parts) or any(
            "*" in x for x in parts[:-1] if x != "*") or "**" in path:
        p.add("prewarm.hub_index.path", f"{path!r} is not a path of plain names and `*`")
    refresh = _int(m.get("refresh_minutes"), "prewarm.hub_index.refresh_minutes", p, 60,
                   minimum=1)
    return HubIndexConfig(repository=repo, path=path.strip("/"), refresh_minutes=refresh)


def _parse_prewarm(raw: Any, p: _Problems) -> PrewarmConfig:
    m = _mapping(raw, "prewarm", p)
    base = PrewarmConfig()
    repo = _str(m.get("repository"), "prewarm.repository", p, "")
    if repo and not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
        p.add("prewarm.repository", f"{repo!r} is not OWNER/NAME")
    pattern = _str(m.get("hub_pattern"), "prewarm.hub_pattern", p, base.hub_pattern)
    try:
        re.compile(pattern)
    except re.error as e:
        p.add("prewarm.hub_pattern", f"not a regular expression: {e}")
        pattern = base.hub_pattern
    clusters = {str(k): str(v) for k, v in _mapping(m.get("clusters"), "prewarm.clusters",
                                                    p).items()}
    inputs = {str(k): str(v) for k, v in _mapping(m.get("inputs", dict(base.inputs)),
                                                  "prewarm.inputs", p).items()}
    return PrewarmConfig(
        hub_index=_parse_hub_index(m.get("hub_index"), p),
        for_tiers=_names(m.get("for_tiers"), "prewarm.for_tiers", p),
        for_event_types=_names(m.get("for_event_types"), "prewarm.for_event_types", p),
        keep_warm_between_sessions_hours=_number(
            m.get("keep_warm_between_sessions_hours"),
            "prewarm.keep_warm_between_sessions_hours", p,
            base.keep_warm_between_sessions_hours),
        repository=repo,
        workflow=_str(m.get("workflow"), "prewarm.workflow", p, base.workflow),
        ref=_str(m.get("ref"), "prewarm.ref", p, base.ref),
        lead_time_hours=_number(m.get("lead_time_hours"), "prewarm.lead_time_hours", p,
                                base.lead_time_hours),
        scale_down_after_hours=_number(m.get("scale_down_after_hours"),
                                       "prewarm.scale_down_after_hours", p,
                                       base.scale_down_after_hours),
        max_nodes=_int(m.get("max_nodes"), "prewarm.max_nodes", p, base.max_nodes, minimum=1),
        hub_pattern=pattern,
        clusters=clusters,
        inputs=inputs,
    )


def _parse_section(raw: Any, name: str, cls: type[Any], p: _Problems) -> Any:
    """A flat section of numbers/bools whose defaults live on the dataclass."""
    m = _mapping(raw, name, p)
    base = cls()
    kwargs: dict[str, Any] = {}
    for key, value in m.items():
        if key not in base.__dataclass_fields__:
            p.add(f"{name}.{key}", "unknown key")
            continue
        default = getattr(base, key)
        meta = base.__dataclass_fields__[key].metadata
        if isinstance(default, bool):
            kwargs[key] = _bool(value, f"{name}.{key}", p, default)
        elif isinstance(default, int):
            kwargs[key] = _int(value, f"{name}.{key}", p, default,
                               minimum=meta.get("minimum", 0))
        else:
            kwargs[key] = _number(value, f"{name}.{key}", p, default,
                                  above_zero=meta.get("above_zero", False))
    return cls(**kwargs)


def _https_url(value: Any, where: str, problems: _Problems) -> str:
    """An ``https://`` URL or nothing: the status comment and ``/help`` link to it."""
    url = _str(value, where, problems, "").strip()
    if not url:
        return ""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:  # a malformed [IPv6] part
        host = None
    if not (url.isprintable() and " " not in url and host
            and parts.scheme.lower() == "https"):
        problems.add(where, f"{url[:100]!r} is not an https:// URL")
        return ""
    return url


KNOWN_KEYS = {
    "notice_days", "default_timezone", "team_leads", "team_lead_team", "oncall", "event_types",
    "tiers", "default_tier", "checklist", "labels", "sizing", "timezone_abbreviations",
    "max_attendees", "form", "policy_url", "debrief_questions", "prewarm", "scheduler", "github",
    "server", "form_fields", "request_labels",
}


def _parse_form_fields(raw: Any, p: _Problems) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in _mapping(raw, "form_fields", p).items():
        if key not in BOT_FIELD_IDS:
            p.add(f"form_fields.{key}", f"not one of the bot's fields ({', '.join(BOT_FIELD_IDS)})")
        elif not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            p.add(f"form_fields.{key}", f"{value!r} is not a form element id")
        else:
            out[key] = value
    taken: dict[str, str] = {}
    for key, value in out.items():
        if value in taken:
            p.add(f"form_fields.{key}", f"element {value!r} is already {taken[value]!r}'s")
        taken[value] = key
    return out


def _parse_request_labels(raw: Any, labels: Labels, p: _Problems) -> tuple[str, ...]:
    if raw is None:
        return (labels.event_request,)
    names = tuple(str(x).strip() for x in _list(raw, "request_labels", p) if str(x).strip())
    if isinstance(raw, list) and not names:
        p.add("request_labels", "needs at least one label")
    return names or (labels.event_request,)


def parse_config(raw: Any, base_dir: Path | None = None) -> Config:
    """Validate a parsed YAML document; raise ``ConfigError`` listing every problem."""
    p = _Problems()
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError([f"config: must be a mapping of keys, not {type(raw).__name__}"])
    for key in raw:
        if key not in KNOWN_KEYS:
            p.add(str(key), "unknown key")
    tiers = _parse_tiers(raw.get("tiers"), p)
    default_tier = _str(raw.get("default_tier"), "default_tier", p, "")
    if default_tier and default_tier not in tiers:
        p.add("default_tier", f"{default_tier!r} is not one of the tiers ({', '.join(tiers)})")
    abbreviations: dict[str, str] = {}
    for k, v in _mapping(raw.get("timezone_abbreviations"), "timezone_abbreviations", p).items():
        abbreviations[str(k).upper()] = _check_zone(str(v), f"timezone_abbreviations.{k}", p) \
            if not re.fullmatch(r"[+-]\d{2}:?\d{2}", str(v)) else str(v)
    form_path = DEFAULT_FORM_PATH
    if raw.get("form"):
        form_path = Path(str(raw["form"]))
        if not form_path.is_absolute():
            form_path = (base_dir or Path.cwd()) / form_path
    questions = raw.get("debrief_questions")
    labels = _parse_labels(raw.get("labels"), p)
    request_labels = _parse_request_labels(raw.get("request_labels"), labels, p)
    if labels.event_request.lower() not in {x.lower() for x in request_labels}:
        labels = replace(labels, event_request=request_labels[0])  # the label the bot keeps
    cfg = Config(
        notice_days=_int(raw.get("notice_days"), "notice_days", p, 21),
        default_timezone=_check_zone(_str(raw.get("default_timezone"), "default_timezone", p,
                                          "UTC"), "default_timezone", p),
        team_leads=_logins(raw.get("team_leads"), "team_leads", p),
        team_lead_team=_str(raw.get("team_lead_team"), "team_lead_team", p, ""),
        oncall=_parse_oncall(raw.get("oncall"), p),
        event_types=_parse_event_types(raw.get("event_types"), p),
        tiers=tiers,
        default_tier=default_tier,
        checklist=_parse_checklist(raw.get("checklist"), tiers, p),
        labels=labels,
        sizing=_parse_sizing(raw.get("sizing"), p),
        timezone_abbreviations=abbreviations,
        max_attendees=_int(raw.get("max_attendees"), "max_attendees", p, 5000, minimum=1),
        form_path=form_path,
        policy_url=_https_url(raw.get("policy_url"), "policy_url", p),
        debrief_questions=tuple(str(q) for q in _list(questions, "debrief_questions", p))
        if questions is not None else DEFAULT_DEBRIEF,
        prewarm=_parse_prewarm(raw.get("prewarm"), p),
        scheduler=_parse_section(raw.get("scheduler"), "scheduler", SchedulerConfig, p),
        github=_parse_section(raw.get("github"), "github", GitHubClientConfig, p),
        server=_parse_section(raw.get("server"), "server", ServerConfig, p),
        form_fields=_parse_form_fields(raw.get("form_fields"), p),
        request_labels=request_labels,
    )
    for name in cfg.prewarm.for_tiers or ():
        if name not in cfg.tiers:
            p.add("prewarm.for_tiers", f"{name!r} is not one of the tiers")
    for name in cfg.prewarm.for_event_types or ():
        if name not in EVENT_TYPES:
            p.add("prewarm.for_event_types", f"{name!r} is not one of {', '.join(EVENT_TYPES)}")
    if p.lines:
        raise ConfigError(p.lines)
    return cfg


def load_config(path: str | Path) -> Config:
    """Read and validate a config file; a missing or unparseable file is a ``ConfigError``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{path}: cannot be read ({e})"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError([f"{where}: not valid YAML ({getattr(e, 'problem', e)})"]) from None
    try:
        return parse_config(raw, base_dir=path.parent)
    except ConfigError as e:
        raise ConfigError([f"{path}: {line}" for line in e.problems]) from None


def default_config() -> Config:
    """The config with every default (used by tests and when keys are missing)."""
    return parse_config({})
