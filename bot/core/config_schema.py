"""``config.yaml`` as pydantic models: every key, its type, default and constraint.

These validate the YAML (``config.parse_config`` builds the frozen dataclasses from them) and
give the JSON Schema editors complete and check ``config.yaml`` with (``config_jsonschema``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from .config_types import (
    OWNER_NAME,
    AboveZero,
    AtLeastOne,
    Flag,
    HttpsUrl,
    IsoDate,
    Login,
    Matching,
    Memory,
    NotEmpty,
    Number,
    Offset,
    OneOf,
    Regex,
    Text,
    Whole,
    Zone,
    ZoneOrOffset,
    parse_offset,
)
from .config_values import (
    BOT_FIELD_IDS,
    DEFAULT_CHECKLIST,
    DEFAULT_DEBRIEF,
    DEFAULT_EVENT_TYPES,
    DEFAULT_NODE_TYPES,
    DEFAULT_TIERS,
    EVENT_TYPES,
    OWNERS,
    GitHubClientConfig,
    HubIndexConfig,
    Labels,
    PrewarmConfig,
    SchedulerConfig,
    ServerConfig,
)

# Keys a repository's .github/event-bot.yml may set; the rest belong to the deployment.
REPOSITORY_KEYS = frozenset({
    "notice_days", "default_timezone", "oncall", "event_types", "checklist", "labels",
    "sizing", "timezone_abbreviations", "max_attendees", "policy_url", "debrief_questions",
    "form_fields", "request_labels",  # where this repository's form keeps the bot's fields
})
# Keys that decide approvals, billing or the infrastructure: ignored (and named) when a
# repository sets them, rather than refusing the rest of its file.
DEPLOYMENT_ONLY_KEYS = ("team_leads", "team_lead_team", "tiers", "default_tier", "prewarm")


def _shipped(factory: Callable[[], Any], shown: Any) -> Any:
    """A default built when needed, shown in the schema as the YAML it comes from."""
    return Field(default_factory=factory, json_schema_extra={"default": shown})


class Section(BaseModel):
    """A mapping of the config; a key given as ``null`` means its default (as if absent)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _absent_when_null(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None}
        return data


class ClosedSection(Section):
    """A section whose every key is known: another key is named as a problem."""

    model_config = ConfigDict(extra="forbid")


class Away(Section):
    start: IsoDate = Field(alias="from")
    end: IsoDate | None = Field(default=None, alias="to")  # inclusive; absent: one day

    @model_validator(mode="after")
    def _in_order(self) -> Away:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"ends ({self.end}) before it starts ({self.start})")
        return self


class EngineerEntry(Section):
    login: Login
    away: list[Away] = []

    @model_validator(mode="before")
    @classmethod
    def _a_login_alone(cls, data: Any) -> Any:
        return {"login": data} if isinstance(data, str) else data

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"anyOf": [{"type": "string", "description": "a GitHub login"},
                          handler(schema)]}


class OnCallSection(Section):
    start: IsoDate = date(2026, 1, 7)
    timezone: Zone = "UTC"
    shift_days: AtLeastOne = 7
    engineers: Annotated[list[EngineerEntry], NotEmpty(
        "no engineers: the bot assigns every request from this rotation")] = []


class EventTypeSection(Section):
    engineers: AtLeastOne = 1
    keywords: list[Text] = []
    arrival_minutes: AboveZero = 30.0  # how long attendees take to arrive


class EventTypesSection(Section):
    exam: EventTypeSection = EventTypeSection.model_validate(DEFAULT_EVENT_TYPES["exam"])
    workshop: EventTypeSection = EventTypeSection.model_validate(DEFAULT_EVENT_TYPES["workshop"])
    demo: EventTypeSection = EventTypeSection.model_validate(DEFAULT_EVENT_TYPES["demo"])
    other: EventTypeSection = EventTypeSection.model_validate(DEFAULT_EVENT_TYPES["other"])
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _over_the_defaults(cls, data: Any) -> Any:
        """A type's keys given override its own defaults (an exam's keywords stay an exam's)."""
        if not isinstance(data, Mapping):
            return data
        for name in data:
            if name not in EVENT_TYPES:
                raise ValueError(f"unknown event type {name!r}; use one of "
                                 f"{', '.join(EVENT_TYPES)}")
        return {name: {**DEFAULT_EVENT_TYPES[name],
                       **{k: v for k, v in given.items() if v is not None}}
                if isinstance(given, Mapping) else given
                for name, given in data.items() if given is not None}


class TierSection(Section):
    price_usd: Number = 0.0
    price_per_hour_usd: Number | None = None  # per hour of the event's active time
    requires_approval: Flag = False
    description: Text = ""
    includes: list[Text] = []
    engineers: Whole = 0  # on call at least this many (0: as the event type says)




class ChecklistItemSection(Section):
    id: Annotated[Text, Matching(r"[a-z0-9][a-z0-9_-]*",
                                 "{0!r} must be lower-case letters, digits, - or _")]
    text: Annotated[Text, NotEmpty("needs a text")]
    due: Offset = Field(default_factory=lambda: parse_offset("-1d"),
                        json_schema_extra={"default": "-1d"})
    types: list[Annotated[Text, OneOf(EVENT_TYPES, "event type")]] = list(EVENT_TYPES)
    after_event: Flag | None = None  # absent: true for an item due after the end
    tiers: list[Text] = []  # also on requests at these tiers, whatever their type
    owner: Annotated[Text, OneOf(OWNERS)] = "engineers"


def _ids_once(items: list[ChecklistItemSection]) -> list[ChecklistItemSection]:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"id {item.id!r} appears twice")
        seen.add(item.id)
    return items


class NodeTypeSection(Section):
    name: Annotated[Text, NotEmpty("needs a name")]
    memory: Memory  # allocatable to users
    cpu: Number = 1.0  # allocatable to users


NodeTypes = Annotated[list[NodeTypeSection], NotEmpty("at least one node type is needed")]


class SizingSection(Section):
    node_types: NodeTypes = _shipped(
        lambda: [NodeTypeSection.model_validate(n) for n in DEFAULT_NODE_TYPES],
        DEFAULT_NODE_TYPES)
    default_memory_per_user: Memory = 2.0
    cpu_per_user: Number = 0.0  # 0: memory alone decides
    min_users_per_node: AtLeastOne = 4
    max_users_per_node: AtLeastOne = 100
    max_waiting_share: Annotated[Number, Field(le=1)] = 0.3
    node_startup_minutes: Number = 10.0  # a new node's start-up (placeholders cover arrivals)
    node_types_by_cluster: dict[Text, NodeTypes] = {}
    node_types_by_provider: dict[Text, NodeTypes] = {}

    @model_validator(mode="after")
    def _users_in_order(self) -> SizingSection:
        if self.max_users_per_node < self.min_users_per_node:
            raise ValueError("max_users_per_node is below min_users_per_node")
        return self


_LABELS = Labels()


class LabelsSection(ClosedSection):
    event_request: Text = _LABELS.event_request
    type_prefix: Text = _LABELS.type_prefix
    tier_prefix: Text = _LABELS.tier_prefix
    tier_pending: Text = _LABELS.tier_pending
    needs_info: Text = _LABELS.needs_info
    short_notice: Text = _LABELS.short_notice
    cancelled: Text = _LABELS.cancelled
    done: Text = _LABELS.done


def _index_path(path: str) -> str:
    parts = path.strip("/").split("/")
    if not path or any(x in ("", ".", "..") for x in parts) or any(
            "*" in x for x in parts[:-1] if x != "*") or "**" in path:
        raise ValueError(f"{path!r} is not a path of plain names and `*`")
    return path.strip("/")


class HubIndexSection(ClosedSection):
    repository: Annotated[Text, Matching(OWNER_NAME, "{0!r} is not OWNER/NAME")]
    path: Annotated[Text, AfterValidator(_index_path)] = HubIndexConfig("").path
    refresh_minutes: AtLeastOne = HubIndexConfig("").refresh_minutes


_PREWARM = PrewarmConfig()


class PrewarmSection(Section):
    repository: Annotated[Text, Matching(f"({OWNER_NAME})?", "{0!r} is not OWNER/NAME")] = ""
    workflow: Text = _PREWARM.workflow
    ref: Text = _PREWARM.ref
    lead_time_hours: Number = _PREWARM.lead_time_hours
    scale_down_after_hours: Number = _PREWARM.scale_down_after_hours
    max_nodes: AtLeastOne = _PREWARM.max_nodes
    hub_pattern: Regex = ""  # matches nothing: only the hubs the operator lists
    clusters: dict[Text, Text] = {}  # hub host -> cluster
    inputs: dict[Text, Text] = dict(_PREWARM.inputs)
    hub_index: HubIndexSection | None = None
    for_tiers: list[Text] | None = None  # absent: every request is pre-warmed by itself
    for_event_types: list[Annotated[Text, OneOf(EVENT_TYPES)]] | None = None
    keep_warm_between_sessions_hours: Number = _PREWARM.keep_warm_between_sessions_hours


_SCHEDULER, _GITHUB, _SERVER = SchedulerConfig(), GitHubClientConfig(), ServerConfig()


class SchedulerSection(ClosedSection):
    tick_seconds: AboveZero = _SCHEDULER.tick_seconds
    reconcile_seconds: AboveZero = _SCHEDULER.reconcile_seconds
    redeliver_seconds: AboveZero = _SCHEDULER.redeliver_seconds
    summary_before_hours: Number = _SCHEDULER.summary_before_hours
    close_when_after_items_ticked: Flag = _SCHEDULER.close_when_after_items_ticked


class GitHubSection(ClosedSection):
    timeout_seconds: AboveZero = _GITHUB.timeout_seconds
    retries: Whole = _GITHUB.retries
    backoff_base_seconds: Number = _GITHUB.backoff_base_seconds
    backoff_max_seconds: Number = _GITHUB.backoff_max_seconds
    write_interval_seconds: Number = _GITHUB.write_interval_seconds
    write_burst: AtLeastOne = _GITHUB.write_burst
    secondary_limit_fallback_seconds: Number = _GITHUB.secondary_limit_fallback_seconds
    content_per_minute: Whole = _GITHUB.content_per_minute
    content_per_hour: Whole = _GITHUB.content_per_hour
    permission_cache_seconds: Number = _GITHUB.permission_cache_seconds
    token_refresh_margin_seconds: Number = _GITHUB.token_refresh_margin_seconds
    max_in_flight: AtLeastOne = _GITHUB.max_in_flight
    longest_wait_seconds: Number = _GITHUB.longest_wait_seconds


class ServerSection(ClosedSection):
    queue_size: AtLeastOne = _SERVER.queue_size
    workers: AtLeastOne = _SERVER.workers
    shutdown_grace_seconds: Number = _SERVER.shutdown_grace_seconds
    hand_back_seconds: AboveZero = _SERVER.hand_back_seconds


TierName = Annotated[Text, NotEmpty("a tier needs a name")]
FormElementId = Annotated[Text, Matching(r"[A-Za-z0-9_-]+", "{0!r} is not a form element id")]


def _one_element_each(fields: dict[str, str]) -> dict[str, str]:
    taken: dict[str, str] = {}
    for key, value in fields.items():
        if value in taken:
            raise ValueError(f"{key}: element {value!r} is already {taken[value]!r}'s")
        taken[value] = key
    return fields


def _labels_given(names: list[str]) -> list[str]:
    kept = [n.strip() for n in names if n.strip()]
    if not kept:
        raise ValueError("needs at least one label")
    return kept


class ConfigFile(ClosedSection):
    """The whole ``config.yaml``: every key has a default."""

    model_config = ConfigDict(title="event-support bot config.yaml")

    notice_days: Whole = 21
    default_timezone: Zone = "UTC"
    team_leads: list[Login] = []  # may /approve-tier and /decline-tier
    team_lead_team: Text = ""  # ORG/TEAM-SLUG whose members are leads too
    oncall: OnCallSection = OnCallSection()
    event_types: EventTypesSection = EventTypesSection()
    tiers: Annotated[dict[TierName, TierSection], NotEmpty("at least one tier is needed")
                     ] = _shipped(lambda: {k: TierSection.model_validate(v)
                                           for k, v in DEFAULT_TIERS.items()}, DEFAULT_TIERS)
    default_tier: Text = ""  # empty: the cheapest
    checklist: Annotated[list[ChecklistItemSection], AfterValidator(_ids_once)] = _shipped(
        lambda: [ChecklistItemSection.model_validate(i) for i in DEFAULT_CHECKLIST],
        DEFAULT_CHECKLIST)
    labels: LabelsSection = LabelsSection()
    sizing: SizingSection = SizingSection()
    timezone_abbreviations: dict[Text, ZoneOrOffset] = {}
    max_attendees: AtLeastOne = 5000
    form: Text = ""  # the issue form's path (relative: to this file); empty: the shipped one
    policy_url: HttpsUrl = ""
    debrief_questions: list[Text] = list(DEFAULT_DEBRIEF)
    prewarm: PrewarmSection = PrewarmSection()
    scheduler: SchedulerSection = SchedulerSection()
    github: GitHubSection = GitHubSection()
    server: ServerSection = ServerSection()
    form_fields: Annotated[  # bot field id -> the form's element id
        dict[Annotated[Text, OneOf(BOT_FIELD_IDS)], FormElementId],
        AfterValidator(_one_element_each)] = {}
    request_labels: Annotated[list[Text], AfterValidator(_labels_given)] = Field(
        default_factory=list, json_schema_extra={"default": ["event-request"]})
