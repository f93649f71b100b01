"""config.yaml -> typed, validated dataclasses, with one clear line per problem.

The YAML is validated by the pydantic models of ``config_schema`` (each problem named with its
path, ``oncall.shift_days: 0 must be at least 1``); the frozen dataclasses of
``config_values`` are what the bot runs with. Every key has a default, so a config holding
only the keys CONTRACT.md names is valid. ``parse_config`` never raises anything but
``ConfigError`` and reads no file: ``service.loading`` reads them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .config_schema import (
    ChecklistItemSection,
    ConfigFile,
    NodeTypeSection,
    OnCallSection,
    PrewarmSection,
    SizingSection,
)
from .config_types import parse_memory_gib, parse_offset, problem_line
from .config_values import (
    BOT_FIELD_IDS,
    DEFAULT_FORM_PATH,
    EVENT_TYPES,
    OWNERS,
    PACKAGE_ROOT,
    REQUIRED_BOT_FIELDS,
    AwayRange,
    ChecklistItemConfig,
    Config,
    DueOffset,
    Engineer,
    EventTypeConfig,
    GitHubClientConfig,
    HubIndexConfig,
    Labels,
    NodeType,
    OnCall,
    PrewarmConfig,
    SchedulerConfig,
    ServerConfig,
    SizingConfig,
    Tier,
)

__all__ = [
    "BOT_FIELD_IDS", "DEFAULT_FORM_PATH", "EVENT_TYPES", "OWNERS", "PACKAGE_ROOT",
    "REQUIRED_BOT_FIELDS", "AwayRange", "ChecklistItemConfig", "Config", "ConfigError",
    "DueOffset", "Engineer", "EventTypeConfig", "GitHubClientConfig", "HubIndexConfig",
    "Labels", "NodeType", "OnCall", "PrewarmConfig", "SchedulerConfig", "ServerConfig",
    "SizingConfig", "Tier", "default_config", "parse_config", "parse_memory_gib",
    "parse_offset",
]


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_config(raw: Any, base_dir: Path | None = None) -> Config:
    """Validate a parsed YAML document; raise ``ConfigError`` listing every problem.

    A relative ``form`` is taken from ``base_dir`` (the config file's folder) when given.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError([f"config: must be a mapping of keys, not {type(raw).__name__}"])
    try:
        model = ConfigFile.model_validate(raw)
    except ValidationError as e:
        raise ConfigError([problem_line(error) for error in e.errors()]) from None
    problems: list[str] = []
    config = _build(model, raw, base_dir, problems)
    if problems:
        raise ConfigError(problems)
    return config


def default_config() -> Config:
    """The config with every default (used by tests and when keys are missing)."""
    return parse_config({})


# --- the validated YAML as the dataclasses the bot runs with ----------------------


def _build(model: ConfigFile, raw: Mapping[str, Any], base_dir: Path | None,
           problems: list[str]) -> Config:
    """The dataclasses, and the checks that span sections (a tier named elsewhere)."""
    given = model.model_fields_set
    tiers = {name: Tier(name=name, price_usd=t.price_usd, price_per_hour_usd=t.price_per_hour_usd,
                        requires_approval=t.requires_approval, description=t.description,
                        includes=tuple(t.includes), engineers=t.engineers)
             for name, t in model.tiers.items()}
    if model.default_tier and model.default_tier not in tiers:
        problems.append(f"default_tier: {model.default_tier!r} is not one of the tiers "
                        f"({', '.join(tiers)})")
    labels = Labels(**model.labels.model_dump())
    request_labels = (tuple(model.request_labels) if "request_labels" in given
                      else (labels.event_request,))
    if labels.event_request.lower() not in {x.lower() for x in request_labels}:
        labels = replace(labels, event_request=request_labels[0])  # the label the bot keeps
    form_path = DEFAULT_FORM_PATH
    if model.form:
        form_path = Path(model.form)
        if not form_path.is_absolute() and base_dir is not None:
            form_path = base_dir / form_path
    return Config(
        notice_days=model.notice_days,
        default_timezone=model.default_timezone,
        team_leads=tuple(model.team_leads),
        team_lead_team=model.team_lead_team,
        oncall=_oncall(model.oncall),
        event_types={name: EventTypeConfig(
            name=name, engineers=t.engineers, arrival_minutes=t.arrival_minutes,
            keywords=tuple(k.strip().lower() for k in t.keywords if k.strip()))
            for name in EVENT_TYPES for t in [getattr(model.event_types, name)]},
        tiers=tiers,
        default_tier=model.default_tier,
        checklist=_checklist(model.checklist, "checklist" in given, tiers, problems),
        labels=labels,
        sizing=_sizing(model.sizing),
        timezone_abbreviations={k.upper(): v for k, v in model.timezone_abbreviations.items()},
        max_attendees=model.max_attendees,
        form_path=form_path,
        policy_url=model.policy_url,
        debrief_questions=tuple(model.debrief_questions),
        prewarm=_prewarm(model.prewarm, tiers, problems),
        scheduler=SchedulerConfig(**model.scheduler.model_dump()),
        github=GitHubClientConfig(**model.github.model_dump()),
        server=ServerConfig(**model.server.model_dump()),
        form_fields=dict(model.form_fields),
        request_labels=request_labels,
        raw=copy.deepcopy(dict(raw)),  # the caller's mapping may change later
    )


def _oncall(section: OnCallSection) -> OnCall:
    return OnCall(
        start=section.start, timezone=section.timezone, shift_days=section.shift_days,
        engineers=tuple(
            Engineer(login=e.login, away=tuple(AwayRange(a.start, a.end or a.start)
                                               for a in e.away))
            for e in section.engineers))


def _checklist(items: list[ChecklistItemSection], given: bool, tiers: Mapping[str, Tier],
               problems: list[str]) -> tuple[ChecklistItemConfig, ...]:
    out = []
    for i, item in enumerate(items):
        item_tiers = tuple(item.tiers)
        if not given:  # the shipped checklist names tiers this deployment may not have
            item_tiers = tuple(t for t in item_tiers if t in tiers)
        for t in item_tiers:
            if t not in tiers:
                problems.append(f"checklist[{i}].tiers: unknown tier {t!r}; the tiers are "
                                f"{', '.join(tiers) or 'none'}")
        after = (item.after_event if item.after_event is not None
                 else item.due.anchor == "end" and item.due.amount > 0)
        out.append(ChecklistItemConfig(id=item.id, text=item.text, due=item.due,
                                       types=tuple(item.types), after_event=after,
                                       tiers=item_tiers, owner=item.owner))
    return tuple(out)


def _node_types(items: list[NodeTypeSection]) -> tuple[NodeType, ...]:
    return tuple(NodeType(name=n.name, memory_gib=n.memory, cpu=n.cpu) for n in items)


def _sizing(section: SizingSection) -> SizingConfig:
    return SizingConfig(
        node_types=_node_types(section.node_types),
        default_memory_per_user_gib=section.default_memory_per_user,
        cpu_per_user=section.cpu_per_user,
        min_users_per_node=section.min_users_per_node,
        max_users_per_node=section.max_users_per_node,
        max_waiting_share=section.max_waiting_share,
        node_startup_minutes=section.node_startup_minutes,
        node_types_by_cluster={k.strip().lower(): _node_types(v)
                               for k, v in section.node_types_by_cluster.items()},
        node_types_by_provider={k.strip().lower(): _node_types(v)
                                for k, v in section.node_types_by_provider.items()},
    )


def _names(names: list[str] | None) -> tuple[str, ...] | None:
    """A list of names, or None when absent (``prewarm.for_tiers``: every request)."""
    return None if names is None else tuple(n.strip() for n in names if n.strip())


def _prewarm(section: PrewarmSection, tiers: Mapping[str, Tier],
             problems: list[str]) -> PrewarmConfig:
    index = section.hub_index
    for_tiers = _names(section.for_tiers)
    for name in for_tiers or ():
        if name not in tiers:
            problems.append(f"prewarm.for_tiers: {name!r} is not one of the tiers")
    return PrewarmConfig(
        repository=section.repository,
        workflow=section.workflow,
        ref=section.ref,
        lead_time_hours=section.lead_time_hours,
        scale_down_after_hours=section.scale_down_after_hours,
        max_nodes=section.max_nodes,
        hub_pattern=section.hub_pattern,
        clusters=dict(section.clusters),
        inputs=dict(section.inputs),
        hub_index=HubIndexConfig(repository=index.repository, path=index.path,
                                 refresh_minutes=index.refresh_minutes) if index else None,
        for_tiers=for_tiers,
        for_event_types=_names(section.for_event_types),
        keep_warm_between_sessions_hours=section.keep_warm_between_sessions_hours,
    )
