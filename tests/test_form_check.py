"""The issue form against CONTRACT.md and the config: ``bot.core.form_check``, ``check-config``."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.core.form_check import CONTRACT_FIELDS, form_problems
from bot.core.forms import form_from_mapping
from bot.service.loading import load_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_FORM = ROOT / "issue_templates" / "event-request.yml"
CONFIG = load_config(ROOT / "config.yaml")
Form = dict[str, Any]


def shipped() -> Form:
    data: Form = yaml.safe_load(SHIPPED_FORM.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def element(form: Form, field_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in form["body"] if e.get("id") == field_id)
    return found


def rename(field_id: str, to: str) -> Callable[[Form], None]:
    def change(form: Form) -> None:
        element(form, field_id)["id"] = to
    return change


def drop(field_id: str) -> Callable[[Form], None]:
    def change(form: Form) -> None:
        form["body"].remove(element(form, field_id))
    return change


def drop_option(field_id: str, word: str) -> Callable[[Form], None]:
    def change(form: Form) -> None:
        options = element(form, field_id)["attributes"]["options"]
        options[:] = [o for o in options if word not in o.lower()]
    return change


def set_required(field_id: str, required: bool) -> Callable[[Form], None]:
    def change(form: Form) -> None:
        element(form, field_id)["validations"] = {"required": required}
    return change


def set_type(field_id: str, kind: str) -> Callable[[Form], None]:
    def change(form: Form) -> None:
        found = element(form, field_id)
        found["type"] = kind
        found["attributes"].pop("options", None)
    return change


def set_labels(labels: Any) -> Callable[[Form], None]:
    def change(form: Form) -> None:
        form["labels"] = labels
    return change


# (the change, words the one problem line must hold: the id at fault, and what is wrong)
CASES: dict[str, tuple[Callable[[Form], None], tuple[str, ...]]] = {
    "hub_url renamed": (rename("hub_url", "hub"), ("`hub_url`", "no element")),
    "attendees dropped": (drop("attendees"), ("`attendees`", "no element", "required")),
    "demo option dropped": (drop_option("event_type", "demo"), ("`event_type`", "'demo'")),
    "start optional": (set_required("start", False), ("`start`", "must be required")),
    "event_name required": (set_required("event_name", True), ("`event_name`", "optional")),
    "details an input": (set_type("details", "input"), ("`details`", "textarea")),
    "labels [bug]": (set_labels(["bug"]), ("`labels`", "bug", "'event-request'")),
    "no labels": (set_labels(None), ("`labels`", "none", "'event-request'")),
    "premium option dropped": (drop_option("tier", "premium"), ("'premium'",)),
}


def test_the_shipped_form_and_config_pass() -> None:
    form = form_from_mapping(shipped())
    assert form_problems(form, CONFIG, "event-request.yml") == []
    assert {f.id for f in CONTRACT_FIELDS} <= {f.id for f in form.fields}


@pytest.mark.parametrize("case", CASES)
def test_each_problem_is_one_line_naming_the_id(case: str) -> None:
    change, words = CASES[case]
    data = shipped()
    change(data)
    problems = form_problems(form_from_mapping(data), CONFIG, "event-request.yml")
    assert len(problems) == 1, problems
    [line] = problems
    assert line.startswith("event-request.yml: ")
    for word in words:
        assert word in line, line


def test_the_label_compares_as_github_does_and_follows_config() -> None:
    data = shipped()
    data["labels"] = "Event-Request, triage"  # the schema's comma-separated string
    assert form_problems(form_from_mapping(data), CONFIG, "f.yml") == []
    config = replace(CONFIG, labels=replace(CONFIG.labels, event_request="event"))
    [line] = form_problems(form_from_mapping(shipped()), config, "f.yml")
    assert "'event'" in line


@pytest.mark.parametrize("case", CASES)
def test_check_config_reports_the_configured_form(
        case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    for name in [k for k in os.environ if k.startswith("GITHUB_")]:
        monkeypatch.delenv(name)  # no App check: the form's problems are the only lines
    change, words = CASES[case]
    data = shipped()
    change(data)
    form_file = tmp_path / "form.yml"
    form_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config_file = tmp_path / "config.yaml"
    config_file.write_text((ROOT / "config.yaml").read_text(encoding="utf-8")
                           + f"\nform: {form_file}\n", encoding="utf-8")
    assert main(["check-config", str(config_file)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("form.yml: "), lines
    assert all(word in lines[0] for word in words), lines


def test_check_config_checks_the_shipped_form_when_the_config_is_broken(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file = tmp_path / "config.yaml"
    config_file.write_text("notice_days: soon\nlabels: {event_request: event}\n")
    assert main(["check-config", str(config_file)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("notice_days" in line for line in lines)
    assert any("`labels`" in line and "'event'" in line for line in lines), lines
