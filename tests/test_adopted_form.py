"""A team's own form, unchanged: the bot's fields found through ``form_fields``."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.core.config import ConfigError, parse_config
from bot.core.form_map import bind_fields, yes_no
from bot.core.forms import form_from_mapping, load_form, load_form_yaml, parse_form_body
from bot.core.model import IssueSnapshot, RepoRef
from bot.core.plan import triage
from bot.core.request import is_event_request
from bot.service.loading import load_config

from .botapp import fast_config, running_bot
from .fakegithub import FakeGitHub
from .payloads import issues_payload

ROOT = Path(__file__).resolve().parent.parent
ADOPTED = ROOT / "examples" / "adopted"
CONFIG = load_config(ADOPTED / "config.yaml")
FORM = load_form(CONFIG.form_path)
OPENED = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
REPO = "openscapes/support"


def issue(body: str, labels: tuple[str, ...] = ("event",)) -> IssueSnapshot:
    return IssueSnapshot(repo=RepoRef("openscapes", "support"), number=3, title="Workshop",
                         body=body, author="champion", labels=labels, assignees=(),
                         state="open", created_at=OPENED)


def example(name: str) -> str:
    return (ADOPTED / name).read_text(encoding="utf-8")


def test_yes_and_no_options_are_text_as_github_reads_them() -> None:
    data = load_form_yaml("body:\n- type: dropdown\n  id: ok\n  attributes:\n"
                          "    label: Ready?\n    options: [Yes, No, on, off]\n"
                          "  validations: {required: true}\n")
    form = form_from_mapping(data)
    assert form.fields[0].options == ("Yes", "No", "on", "off")
    assert form.fields[0].required is True  # true/false stay booleans
    assert FORM.field("enough_notice") is not None


def test_a_request_on_the_adopted_form_is_read_in_the_bots_terms() -> None:
    result = triage(issue(example("workshop.md")), None, CONFIG, FORM, OPENED)
    req = result.request
    assert req is not None and req.usable, req and req.errors
    assert req.hub_host == "openscapes.example.cloud"
    assert req.start == datetime(2027, 3, 3, 8, 30, tzinfo=timezone.utc)
    assert req.end == datetime(2027, 3, 5, 12, tzinfo=timezone.utc)
    assert req.attendees == 60
    assert (req.event_type, req.type_source) == ("workshop", "keywords")  # no type element
    assert req.tier == "hourly"  # no tier element: default_tier
    assert "event" in result.labels and "event-request" not in result.labels


@pytest.mark.parametrize(("labels", "body", "expected"), [
    (("event",), "", True),  # request_labels
    (("Event",), "", True),
    (("event-request",), "", False),  # not this deployment's label
    ((), "workshop.md", True),  # every required element's heading
    ((), "### Hub URL\n\nhub.example.org", False),
])
def test_which_issues_it_acts_on(labels: tuple[str, ...], body: str, expected: bool) -> None:
    text = example(body) if body.endswith(".md") else body
    assert is_event_request(issue(text, labels), FORM, CONFIG) is expected


@pytest.mark.parametrize(("ticked", "start", "note"), [
    ("X", "2026-12-01 09:00 PST", "at least 21 days away"),  # says yes, 8 days
    (" ", "2027-03-03 09:30 CET", "less than 21 days away"),  # says no, 100 days
    ("X", "2027-03-03 09:30 CET", None),
    (" ", "2026-12-01 09:00 PST", None),
])
def test_the_notice_checkbox_is_checked_against_the_dates(
        ticked: str, start: str, note: str | None) -> None:
    body = (example("workshop.md").replace("2027-03-03 09:30 CET", start)
            .replace("2027-03-05 13:00 CET", "2027-03-05 13:00 CET")
            .replace("- [X] Yes\n\n### Does", f"- [{ticked}] Yes\n\n### Does", 1))
    req = triage(issue(body), None, CONFIG, FORM, OPENED).request
    assert req is not None
    said = [n for n in req.notes if "The form says" in n]
    assert bool(said) == (note is not None), req.notes
    if note:
        assert note in said[0]


@pytest.mark.parametrize(("answer", "expected"), [
    ("- [X] Yes", True), ("- [x] Yes", True), ("- [ ] Yes", False), ("_No response_", False),
])
def test_a_single_checkbox_reads_as_yes_or_no(answer: str, expected: bool) -> None:
    form = bind_fields(FORM, CONFIG.form_fields)
    parsed = parse_form_body(f"### Is the event at least three weeks away?\n\n{answer}", form)
    assert yes_no(parsed, "notice") is expected


def test_yes_no_checkboxes_read_the_ticked_word() -> None:
    form = bind_fields(FORM, {"notice": "hub_exists"})
    body = "### Does the hub already exist?\n\n- [ ] Yes\n- [X] No"
    assert yes_no(parse_form_body(body, form), "notice") is False


def test_binding_again_starts_from_the_forms_own_ids() -> None:
    once = bind_fields(FORM, {"start": "event_begin"})
    again = bind_fields(once, {"end": "event_finish"})
    assert again.field("start") is None and again.field("event_begin") is not None
    assert again.field("end") is not None and bind_fields(again, {}) == FORM


def _write(tmp_path: Path, change: dict[str, Any]) -> Path:
    raw = yaml.safe_load((ADOPTED / "config.yaml").read_text(encoding="utf-8"))
    raw["form"] = str(ADOPTED.parent / "forms" / "event.yml")
    for key, value in change.items():
        if value is None:
            raw["form_fields"].pop(key)
        else:
            raw["form_fields"][key] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "words"), [
    ({"start": None}, ["`start`", "form_fields.start"]),  # no element holds it
    ({"hub_url": None}, ["`hub_url`"]),
    ({"attendees": "attendee_count"}, ["`attendee_count`", "does not have"]),
])
def test_check_config_checks_the_mapping_against_the_form(
        change: dict[str, Any], words: list[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in [k for k in os.environ if k.startswith("GITHUB_")]:
        monkeypatch.delenv(name)
    assert main(["check-config", str(_write(tmp_path, change))]) == 1
    out = capsys.readouterr().out
    assert all(w in out for w in words), out


def test_the_example_config_checks_clean(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    for name in [k for k in os.environ if k.startswith("GITHUB_")]:
        monkeypatch.delenv(name)
    assert main(["check-config", str(ADOPTED / "config.yaml")]) == 0, capsys.readouterr().out


@pytest.mark.parametrize(("raw", "words"), [
    ({"form_fields": {"begins": "x"}}, "form_fields.begins"),
    ({"form_fields": {"start": "has space"}}, "form_fields.start"),
    ({"form_fields": {"start": "a", "end": "a"}}, "already"),
    ({"request_labels": []}, "request_labels"),
    ({"tiers": {"t": {"price_per_hour_usd": "lots"}}}, "price_per_hour_usd"),
])
def test_mapping_keys_are_validated(raw: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(raw)
    assert any(words in line for line in e.value.problems), e.value.problems


def test_request_labels_set_the_label_the_bot_keeps() -> None:
    config = parse_config({"request_labels": ["event", "support"]})
    assert config.labels.event_request == "event"
    assert config.request_labels == ("event", "support")
    assert parse_config({}).request_labels == ("event-request",)


async def test_a_request_on_the_adopted_form_end_to_end(fake_github: FakeGitHub,
                                                       app_key: str) -> None:
    fake_github.add_installation(7001, "openscapes")
    fake_github.add_repo(REPO, 7001)
    config = fast_config(form_path=CONFIG.form_path, form_fields=CONFIG.form_fields,
                         request_labels=CONFIG.request_labels, tiers=CONFIG.tiers,
                         default_tier=CONFIG.default_tier,
                         labels=replace(CONFIG.labels, event_request="event"))
    async with running_bot(fake_github, app_key, config=config) as bot:
        number = fake_github.add_issue(REPO, labels=["event"], created_at="2026-11-23T09:00:00Z",
                                       body=example("short-notice.md"))
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
    labels = set(fake_github.labels(REPO, number))
    assert {"event", "type: other", "tier: hourly", "short-notice"} <= labels, labels
    assert "needs-info" not in labels and "event-request" not in labels
    [status] = [c["body"] for c in fake_github.comments(REPO, number)
                if "event-support-bot:status" in c["body"]]
    assert "2026-12-01 17:00 UTC" in status
    assert "at least 21 days away" in status  # the champion's "Yes" against the dates
    assert "`Jane Doe`" in status and "@Jane" not in status


def test_a_repository_file_may_carry_its_own_mapping() -> None:
    from bot.service.repo_config import read_override

    base = fast_config()
    source = ("form_fields: {start: event_begin, end: event_finish}\n"
              "request_labels: [event, support]\n")
    override = read_override(source, base)
    assert override.ignored == ()
    assert dict(override.config.form_fields) == {"start": "event_begin", "end": "event_finish"}
    assert override.config.request_labels == ("event", "support")
    assert override.config.labels.event_request == "event"


def test_plan_json_names_the_forms_own_element_in_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    body = tmp_path / "bad.md"
    body.write_text(example("workshop.md").replace("2027-03-03 09:30 CET", "someday soon"),
                    encoding="utf-8")
    assert main(["plan", str(body), "--config", str(ADOPTED / "config.yaml"),
                 "--now", "2026-11-23T09:00:00Z", "--format", "json"]) == 0
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert [e["field"] for e in errors] == ["event_begin"], errors


@pytest.mark.parametrize(("written", "mentioned", "shown"), [
    ("jdoe", "@jdoe", None),  # GitHub says jdoe is a user
    ("okafor", None, "`okafor`"),  # no such account: a name
    ("Jane Doe", None, "`Jane Doe`"),  # a name, never asked about
    ("@jdoe", "@jdoe", None),  # a handle as written
])
async def test_the_representative_is_mentioned_only_as_a_handle_or_a_confirmed_login(
        fake_github: FakeGitHub, app_key: str, written: str, mentioned: str | None,
        shown: str | None) -> None:
    fake_github.add_installation(7001, "openscapes")
    fake_github.add_repo(REPO, 7001)
    fake_github.add_user("jdoe")
    config = fast_config(form_path=CONFIG.form_path, form_fields=CONFIG.form_fields,
                         request_labels=CONFIG.request_labels,
                         labels=replace(CONFIG.labels, event_request="event"))
    body = example("workshop.md").replace("\n@jdoe\n", f"\n{written}\n")
    async with running_bot(fake_github, app_key, config=config) as bot:
        number = fake_github.add_issue(REPO, labels=["event"], created_at="2026-11-23T09:00:00Z",
                                       body=body)
        await bot.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await bot.settle()
    [status] = [c["body"] for c in fake_github.comments(REPO, number)
                if "event-support-bot:status" in c["body"]]
    asked = [r.path for r in fake_github.requests if r.path.endswith("/users/okafor")
             or r.path.endswith("/users/jdoe")]
    assert bool(asked) == (written in ("jdoe", "okafor")), asked
    if mentioned:
        assert f"cc {mentioned}" in status
    else:
        assert "cc @" not in status and shown in status


@pytest.mark.parametrize(("tier", "billed", "price"), [
    ({"price_per_hour_usd": 120}, 360.0, "$120/h"),  # 3 active hours
    ({"price_usd": 500, "price_per_hour_usd": 50}, 650.0, "$500 + $50/h"),
    ({"price_usd": 500}, 500.0, "$500"),
])
def test_report_bills_an_hourly_tier_by_the_events_active_time(
        tier: dict[str, Any], billed: float, price: str) -> None:
    from bot.views.report_format import format_table, report_json
    from bot.views.report_records import record_from
    from bot.views.report_summary import summarize

    config = replace(CONFIG, tiers=parse_config({"tiers": {"hourly": tier}}).tiers)
    body = example("short-notice.md").replace("9:30 - 13:00 CET", "_No response_")
    snapshot = issue(body)
    record = record_from(snapshot, None, triage(snapshot, None, config, FORM, OPENED), config,
                         OPENED)
    assert record is not None and record.active_hours == 3.0
    assert record.billable_usd == billed
    report = summarize(REPO, [record], config, generated=OPENED)
    assert report.billing_total_usd == billed
    assert price in format_table(report)
    [line] = report_json(report)["billing"]["lines"]
    assert line["hours"] == 3.0 and line["amount_usd"] == billed


async def test_report_reads_requests_filed_with_a_mapped_form(
        fake_github: FakeGitHub, app_key: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from .test_report import app_env, run_cli

    fake_github.add_installation(7001, "openscapes")
    fake_github.add_repo(REPO, 7001)
    fake_github.add_issue(REPO, labels=["event"], created_at="2026-11-23T09:00:00Z",
                          body=example("short-notice.md"), title="Spring workshop")
    fake_github.add_issue(REPO, labels=[], created_at="2026-11-23T09:00:00Z",
                          body=example("workshop.md"), title="Summer school")
    fake_github.add_issue(REPO, labels=[], created_at="2026-11-23T09:00:00Z",
                          body="Please fix the docs", title="Docs")
    code = await run_cli(["report", "--repo", REPO, "--format", "json", "--config",
                          str(ADOPTED / "config.yaml")], app_env(fake_github, app_key),
                         monkeypatch)
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert data["requests"] == 2
    assert data["by_type"]["workshop"] == 1
    assert {r["start_utc"] for r in data["records"]} == {"2026-12-01T17:00:00Z",
                                                         "2027-03-03T08:30:00Z"}
    assert data["by_tier"] == {"hourly": 2}
