"""The published JSON Schemas of config.yaml and .github/event-bot.yml: generated from the
models that validate the config, so the committed files and the bot never disagree."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.core.config import ConfigError, parse_config
from bot.core.config_jsonschema import schema_files
from bot.core.config_schema import DEPLOYMENT_ONLY_KEYS, REPOSITORY_KEYS
from bot.service.repo_config import parse_override

from .botapp import fast_config

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"


def as_editor_reads(path: Path) -> Any:
    """The YAML as an editor's YAML 1.2 reader sees it: dates are strings."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("name", sorted(schema_files()))
def test_the_committed_schema_is_what_the_models_generate(name: str) -> None:
    committed = (SCHEMAS / name).read_text(encoding="utf-8")
    assert committed == schema_files()[name], (
        f"schemas/{name} is stale: run `python -m bot schema --write`")


@pytest.mark.parametrize("path", ["config.yaml", "examples/adopted/config.yaml"])
def test_the_shipped_configs_follow_the_schema(path: str) -> None:
    errors = [f"{list(e.path)}: {e.message}"
              for e in validator("config.schema.json").iter_errors(as_editor_reads(ROOT / path))]
    assert errors == []


def test_the_shipped_config_names_its_schema_for_editors() -> None:
    first = (ROOT / "config.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=schemas/config.schema.json"


@pytest.mark.parametrize(("raw", "where"), [
    ({"server": {"workers": 0}}, "server.workers"),
    ({"github": {"timeout_seconds": 0}}, "github.timeout_seconds"),
    ({"github": {"write_burst": True}}, "github.write_burst"),
    ({"github": {"no_such_key": 1}}, "github.no_such_key"),
    ({"no_such_key": 1}, "no_such_key"),
    ({"oncall": {"shift_days": 0}}, "oncall.shift_days"),
    ({"oncall": {"engineers": []}}, "oncall.engineers"),
    ({"event_types": {"quiz": {}}}, "event_types"),
    ({"event_types": {"exam": {"arrival_minutes": 0}}}, "event_types.exam.arrival_minutes"),
    ({"tiers": {}}, "tiers"),
    ({"tiers": {"gold": {"price_per_hour_usd": -1}}}, "tiers.gold.price_per_hour_usd"),
    ({"checklist": [{"id": "Bad Id", "text": "x"}]}, "checklist[0].id"),
    ({"checklist": [{"id": "x", "text": "x", "owner": "champion"}]}, "checklist[0].owner"),
    ({"checklist": [{"id": "x", "text": "x", "types": ["quiz"]}]}, "checklist[0].types[0]"),
    ({"checklist": [{"id": "x", "text": "x", "due": "soon"}]}, "checklist[0].due"),
    ({"sizing": {"max_waiting_share": 2}}, "sizing.max_waiting_share"),
    ({"sizing": {"node_types": [{"name": "n", "memory": "lots"}]}},
     "sizing.node_types[0].memory"),
    ({"sizing": {"node_types_by_cluster": {"c1": []}}}, "sizing.node_types_by_cluster.c1"),
    ({"sizing": {"node_startup_minutes": -1}}, "sizing.node_startup_minutes"),
    ({"labels": {"colour": "red"}}, "labels.colour"),
    ({"policy_url": "http://example.org"}, "policy_url"),
    ({"prewarm": {"repository": "not a repository"}}, "prewarm.repository"),
    ({"prewarm": {"hub_index": {"repository": "org/infra", "refresh_minutes": 0}}},
     "prewarm.hub_index.refresh_minutes"),
    ({"prewarm": {"hub_index": {"path": "x"}}}, "prewarm.hub_index.repository"),
    ({"prewarm": {"for_event_types": ["quiz"]}}, "prewarm.for_event_types[0]"),
    ({"prewarm": {"keep_warm_between_sessions_hours": "long"}},
     "prewarm.keep_warm_between_sessions_hours"),
    ({"form_fields": {"begins": "x"}}, "form_fields.begins"),
    ({"form_fields": {"start": "has space"}}, "form_fields.start"),
])
def test_the_schema_and_the_bot_refuse_the_same_value(raw: dict[str, Any], where: str) -> None:
    """Each refusal is named with its path by the bot, and an editor flags it too."""
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert [line.split(": ")[0] for line in caught.value.problems] == [where]
    assert list(validator("config.schema.json").iter_errors(raw)), raw


def test_the_new_keys_have_their_defaults_and_are_read() -> None:
    config = parse_config({})
    assert (config.form_fields, config.request_labels) == ({}, ("event-request",))
    assert config.prewarm.hub_index is None and config.prewarm.for_tiers is None
    assert config.prewarm.for_event_types is None
    assert config.prewarm.keep_warm_between_sessions_hours == 4.0
    assert config.sizing.node_startup_minutes == 10.0
    assert config.sizing.node_types_by_cluster == {} == config.sizing.node_types_by_provider
    assert {n: t.arrival_minutes for n, t in config.event_types.items()} == {
        "exam": 5, "workshop": 30, "demo": 15, "other": 30}
    assert config.tiers["standard"].price_per_hour_usd is None
    given = parse_config({
        "tiers": {"hourly": {"price_per_hour_usd": 40}},
        "event_types": {"exam": {"arrival_minutes": 3}},
        "prewarm": {"hub_index": {"repository": "org/infra"}, "for_tiers": ["hourly"],
                    "for_event_types": ["exam"], "keep_warm_between_sessions_hours": 1},
        "sizing": {"node_startup_minutes": 4,
                   "node_types_by_provider": {"AWS": [{"name": "r5.xlarge", "memory": "30 GB",
                                                       "cpu": 3.5}]}},
    })
    assert given.tiers["hourly"].price_per_hour_usd == 40
    assert given.event_types["exam"].arrival_minutes == 3
    assert given.event_types["exam"].keywords == parse_config({}).event_types["exam"].keywords
    index = given.prewarm.hub_index
    assert index is not None and (index.repository, index.path, index.refresh_minutes) == (
        "org/infra", "config/clusters/*/cluster.yaml", 60)
    assert given.prewarm.for_tiers == ("hourly",) and given.prewarm.for_event_types == ("exam",)
    assert given.sizing.node_startup_minutes == 4
    [aws] = given.sizing.node_types_by_provider["aws"]
    assert (aws.name, aws.memory_gib, aws.cpu) == ("r5.xlarge", 30.0, 3.5)


def test_the_repository_schema_has_only_the_keys_a_repository_may_set() -> None:
    check = validator("event-bot.schema.json")
    schema = json.loads((SCHEMAS / "event-bot.schema.json").read_text(encoding="utf-8"))
    assert set(schema["properties"]) == REPOSITORY_KEYS
    repo_file = {"notice_days": 30, "oncall": {"engineers": ["zed", {"login": "yan"}]},
                 "form_fields": {"start": "event_begin"}, "request_labels": ["event"]}
    assert list(check.iter_errors(repo_file)) == []
    config = parse_override(yaml.safe_dump(repo_file), fast_config())  # the bot agrees
    assert config.notice_days == 30 and config.request_labels == ("event",)
    for key in [*DEPLOYMENT_ONLY_KEYS, "form", "server"]:
        assert list(check.iter_errors({key: copy.deepcopy(schema.get(key))})), key


def test_the_schema_command_prints_and_writes_the_committed_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["schema", "event-bot.schema.json"]) == 0
    assert capsys.readouterr().out == (SCHEMAS / "event-bot.schema.json").read_text("utf-8")
    assert main(["schema", "--write", "--dir", str(tmp_path / "out")]) == 0
    for name in ("config.schema.json", "event-bot.schema.json"):
        assert (tmp_path / "out" / name).read_text("utf-8") == (SCHEMAS / name).read_text("utf-8")
