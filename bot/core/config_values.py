"""The config's values: frozen dataclasses the bot runs with, and the shipped defaults.

``config_schema`` validates ``config.yaml`` into these; every other module reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_FORM_PATH = PACKAGE_ROOT / "issue_templates" / "event-request.yml"
EVENT_TYPES = ("exam", "workshop", "demo", "other")
OWNERS = ("engineers", "community")  # who a checklist item's reminder goes to
# The bot's own field ids; config ``form_fields`` says which form element holds each.
BOT_FIELD_IDS = ("hub_url", "event_name", "event_type", "start", "end", "timezone", "attendees",
                 "memory_per_user", "tier", "community_rep", "details", "daily_hours", "notice")
REQUIRED_BOT_FIELDS = ("hub_url", "start", "end", "attendees")


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


@dataclass(frozen=True)
class SchedulerConfig:
    tick_seconds: float = 60.0
    reconcile_seconds: float = 900.0
    redeliver_seconds: float = 600.0
    summary_before_hours: float = 24.0
    close_when_after_items_ticked: bool = True


@dataclass(frozen=True)
class GitHubClientConfig:
    timeout_seconds: float = 10.0
    retries: int = 4
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    write_interval_seconds: float = 1.0
    # Writes that may go back to back after a quiet spell: a lone request's two writes
    # (labels and assignees, then the status comment) need not wait the interval; a burst
    # is paced at one write per interval. 1 spaces every write. One more than a request
    # needs: at one request every two seconds (GitHub's average exactly) a request that
    # ran late is absorbed instead of delaying every one after it.
    write_burst: int = 3
    secondary_limit_fallback_seconds: float = 60.0
    content_per_minute: int = 80
    content_per_hour: int = 500
    permission_cache_seconds: float = 300.0
    token_refresh_margin_seconds: float = 60.0
    # requests per installation at once: GitHub asks for no concurrency
    max_in_flight: int = 1
    longest_wait_seconds: float = 900.0  # a rate-limit window longer than this fails fast


@dataclass(frozen=True)
class ServerConfig:
    # Issues waiting (deliveries about one issue wait as one): the bound behind a 503.
    queue_size: int = 50_000
    # Coroutines, not threads: a worker waits out its installation's write pacing (1 s a
    # write), so fewer workers than installations in a burst leaves some waiting for none.
    workers: int = 32
    shutdown_grace_seconds: float = 25.0
    # After the grace: time to hand cut-off commands back to GitHub (a platform's
    # SIGTERM-to-SIGKILL is about 30 s, so grace plus this stays under it).
    hand_back_seconds: float = 4.0


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
    # The YAML mapping this config was read from: a repository's file is merged over it.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

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


