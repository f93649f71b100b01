"""config.yaml validation: every value that would stop, hang or mislead the bot is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.config import ConfigError, parse_config
from bot.service.loading import load_config

ROOT = Path(__file__).resolve().parent.parent


def shipped() -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def problems_with(section: str, key: str, value: Any) -> list[str]:
    raw = shipped()
    raw.setdefault(section, {})[key] = value
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, ROOT)
    return caught.value.problems


def test_the_shipped_config_is_valid() -> None:
    config = load_config(ROOT / "config.yaml")
    assert config.github.write_burst >= 1
    assert config.server.workers >= 1


@pytest.mark.parametrize("section, key, value, says", [
    # 0 here would hang: no worker, no request in flight, an unbounded queue.
    ("server", "workers", 0, "must be at least 1"),
    ("server", "queue_size", 0, "must be at least 1"),
    ("github", "max_in_flight", 0, "must be at least 1"),
    ("github", "write_burst", 0, "must be at least 1"),
    # 0 here would be no timeout at all, or a loop that never sleeps.
    ("github", "timeout_seconds", 0, "must be more than 0"),
    ("scheduler", "tick_seconds", 0, "must be more than 0"),
    ("scheduler", "reconcile_seconds", -5, "-5 must be more than 0"),
    ("scheduler", "redeliver_seconds", float("nan"), "not a finite number"),
    ("github", "backoff_max_seconds", float("inf"), "not a finite number"),
    ("github", "retries", -1, "must be at least 0"),
    ("github", "retries", 2.5, "not a whole number"),
    ("github", "write_interval_seconds", "fast", "not a number"),
    ("github", "write_burst", True, "not a whole number"),
    ("github", "no_such_key", 1, "unknown key"),
])
def test_a_bad_value_is_named_with_its_key(section: str, key: str, value: Any,
                                           says: str) -> None:
    problems = problems_with(section, key, value)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{section}.{key}") and says in problems[0], problems


@pytest.mark.parametrize("section, key, value", [
    ("server", "workers", 1),
    ("github", "write_burst", 1),
    ("github", "write_interval_seconds", 0),  # no spacing is allowed (tests, GHES)
    ("github", "retries", 0),
    ("scheduler", "tick_seconds", 0.01),
])
def test_edge_values_that_work_are_accepted(section: str, key: str, value: Any) -> None:
    raw = shipped()
    raw.setdefault(section, {})[key] = value
    config = parse_config(raw, ROOT)
    assert getattr(getattr(config, section), key) == value


def test_a_tier_may_promise_more_engineers_than_the_event_type() -> None:
    config = load_config(ROOT / "config.yaml")
    assert config.engineers_for("demo") == 1
    assert config.engineers_for("demo", "premium") == 2
    assert config.engineers_for("exam", "enhanced") == 2  # the type's number when larger
    assert config.engineers_for("demo", "no-such-tier") == 1


def test_checklist_items_for_a_tier_are_checked_against_the_tiers() -> None:
    raw = shipped()
    raw["checklist"] = [{"id": "qos", "text": "QoS", "due": "-12h", "types": [],
                         "tiers": ["platinum"]}]
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, ROOT)
    assert caught.value.problems == [
        "checklist[0].tiers: unknown tier 'platinum'; the tiers are standard, enhanced, premium"]
    # The shipped checklist names `premium`; a deployment without it just drops the tag.
    lean = parse_config({"tiers": {"free": {}}})
    qos = next(i for i in lean.checklist if i.id == "guaranteed-qos")
    assert qos.tiers == () and qos.types == ("exam",)


def test_an_empty_rotation_is_named() -> None:
    assert problems_with("oncall", "engineers", []) == [
        "oncall.engineers: no engineers: the bot assigns every request from this rotation"]


def test_a_checklist_item_owner_is_checked() -> None:
    raw = shipped()
    raw["checklist"] = [{"id": "x", "text": "X", "due": "-1d", "owner": "champion"}]
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, ROOT)
    assert caught.value.problems == [
        "checklist[0].owner: 'champion' is not one of engineers, community"]
    login = next(i for i in load_config(ROOT / "config.yaml").checklist
                 if i.id == "login-test")
    assert login.owner == "community"
