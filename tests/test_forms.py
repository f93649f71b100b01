"""The shipped issue form, its example renderings, and the parser of rendered bodies."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.forms import (
    FormError,
    form_from_mapping,
    has_required_headings,
    load_form,
    parse_form_body,
    render_form_body,
    split_selection,
)
from bot.service.loading import load_config

ROOT = Path(__file__).resolve().parent.parent
FORM_PATH = ROOT / "issue_templates" / "event-request.yml"
CHOOSER_PATH = ROOT / "issue_templates" / "config.yml"
EXAMPLES = ROOT / "examples"
FORM = load_form(FORM_PATH)
CONFIG = load_config(ROOT / "config.yaml")


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("check-jsonschema")
    command = [exe] if exe else [sys.executable, "-m", "check_jsonschema"]
    return subprocess.run(
        [*command, "--builtin-schema", schema, str(path)],
        capture_output=True, text=True, timeout=120, check=False,
    )


# --- the shipped templates ---------------------------------------------------


@pytest.mark.parametrize(("schema", "path"), [
    ("vendor.github-issue-forms", FORM_PATH),
    ("vendor.github-issue-config", CHOOSER_PATH),
])
def test_templates_validate_against_schemastore(schema: str, path: Path) -> None:
    result = check_jsonschema(schema, path)
    assert result.returncode == 0, result.stdout + result.stderr


# The table in CONTRACT.md's "The event-request form".
@pytest.mark.parametrize(("field_id", "kind", "required"), [
    ("hub_url", "input", True),
    ("event_name", "input", False),
    ("event_type", "dropdown", True),
    ("start", "input", True),
    ("end", "input", True),
    ("timezone", "input", False),
    ("attendees", "input", True),
    ("memory_per_user", "input", False),
    ("tier", "dropdown", True),
    ("community_rep", "input", False),
    ("details", "textarea", False),
    ("daily_hours", "textarea", False),
])
def test_form_has_contract_fields(field_id: str, kind: str, required: bool) -> None:
    f = FORM.field(field_id)
    assert f is not None
    assert (f.kind, f.required) == (kind, required)
    assert f.label and not f.multiple


def test_form_fields_are_exactly_the_contract_ones() -> None:
    assert [f.id for f in FORM.fields] == [
        "hub_url", "event_name", "event_type", "start", "end", "timezone",
        "daily_hours",  # optional, beside the contract's table: the hours of each day
        "attendees", "memory_per_user", "tier", "community_rep", "details",
    ]
    assert FORM.required_ids == ("hub_url", "event_type", "start", "end", "attendees", "tier")
    assert FORM.labels == ("event-request",)
    assert FORM.name and FORM.title.strip()


def test_every_field_helps_the_champion() -> None:
    raw = yaml.safe_load(FORM_PATH.read_text(encoding="utf-8"))
    for element in raw["body"]:
        if element["type"] in ("input", "textarea"):
            assert element["attributes"].get("description"), element["id"]
            assert element["attributes"].get("placeholder"), element["id"]


@pytest.mark.parametrize("event_type", ["exam", "workshop", "demo", "other"])
def test_one_event_type_option_per_type(event_type: str) -> None:
    f = FORM.field("event_type")
    assert f is not None
    holding = [o for o in f.options if event_type in o.lower()]
    assert len(holding) == 1, f.options
    assert len(f.options) == 4


def test_tier_options_start_with_the_config_tiers() -> None:
    f = FORM.field("tier")
    assert f is not None
    assert [o.split()[0] for o in f.options] == list(CONFIG.tiers)
    for option in f.options:
        tier = CONFIG.tiers[option.split()[0]]
        price = "free" if tier.price_usd == 0 else f"${tier.price_usd:.0f}"
        assert price in option


def test_intro_explains_notice_and_links_the_policy() -> None:
    raw = yaml.safe_load(FORM_PATH.read_text(encoding="utf-8"))
    intro = raw["body"][0]
    assert intro["type"] == "markdown"
    assert f"{CONFIG.notice_days} days" in intro["attributes"]["value"]
    assert CONFIG.policy_url in intro["attributes"]["value"]


def test_chooser_links_the_policy() -> None:
    raw = yaml.safe_load(CHOOSER_PATH.read_text(encoding="utf-8"))
    assert isinstance(raw["blank_issues_enabled"], bool)
    assert [link["url"] for link in raw["contact_links"]] == [CONFIG.policy_url]


# --- the examples: real renderings of the shipped form -----------------------

EXAM = "Exam or graded assessment"
WORKSHOP = "Workshop, tutorial or class"
DEMO = "Demo or presentation"
OTHER = "Other (tell us more in the details below)"


@pytest.mark.parametrize(("name", "expected"), [
    ("exam", {"event_type": EXAM, "timezone": "America/Chicago", "attendees": "180",
              "start": "2027-03-09 13:00", "community_rep": "@prof-okafor"}),
    ("workshop", {"event_type": WORKSHOP, "start": "Feb 18, 2027 9am", "memory_per_user": "8 GB"}),
    ("demo", {"event_type": DEMO, "timezone": None, "memory_per_user": None,
              "start": "2027-01-28T15:00-08:00"}),
    ("other-midterm", {"event_type": OTHER, "event_name": "CHEM 110 online midterm"}),
    ("invalid", {"start": None, "attendees": "about 30?", "hub_url": "not a url!!",
                 "tier": "gold", "details": None, "community_rep": None}),
    ("short-notice", {"start": "2026-12-03 10:00", "timezone": "Australia/Sydney"}),
])
def test_examples_parse(name: str, expected: dict[str, str | None]) -> None:
    parsed = parse_form_body((EXAMPLES / f"{name}.md").read_text(encoding="utf-8"), FORM)
    assert parsed.present == frozenset(f.id for f in FORM.fields)
    assert has_required_headings((EXAMPLES / f"{name}.md").read_text(encoding="utf-8"), FORM)
    for field_id, value in expected.items():
        assert parsed.get(field_id) == value, field_id


@pytest.mark.parametrize(("name", "tier"), [
    ("exam", "enhanced"), ("workshop", "standard"), ("demo", "premium"),
    ("other-midterm", "standard"), ("short-notice", "enhanced"),
])
def test_examples_ask_for_a_tier_option(name: str, tier: str) -> None:
    parsed = parse_form_body((EXAMPLES / f"{name}.md").read_text(encoding="utf-8"), FORM)
    f = FORM.field("tier")
    assert f is not None
    assert parsed.get("tier") in f.options
    assert (parsed.get("tier") or "").startswith(tier)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.md")), ids=lambda p: p.name)
def test_examples_are_exact_renderings_of_the_form(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    parsed = parse_form_body(text, FORM)
    assert render_form_body(FORM, parsed.values) == text


def test_exam_details_keep_a_pasted_heading() -> None:
    parsed = parse_form_body((EXAMPLES / "exam.md").read_text(encoding="utf-8"), FORM)
    details = parsed.get("details") or ""
    assert details.startswith("All 180 students")
    assert "\n\n### Extra time\n\nRegular time ends at 15:30." in details


def test_issue_opened_payload_carries_the_exam() -> None:
    payload = json.loads((EXAMPLES / "issue-opened.json").read_text(encoding="utf-8"))
    assert payload["action"] == "opened"
    assert set(payload) >= {"action", "issue", "repository", "sender", "installation"}
    issue = payload["issue"]
    assert issue["body"] == (EXAMPLES / "exam.md").read_text(encoding="utf-8")
    assert [label["name"] for label in issue["labels"]] == ["event-request"]
    assert issue["created_at"] == "2026-11-23T15:04:05Z"
    assert issue["user"]["login"] == payload["sender"]["login"]
    assert isinstance(payload["installation"]["id"], int)
    assert payload["repository"]["full_name"] == "example-hubs/event-requests"


# --- parsing renderings ------------------------------------------------------

# A relabelled form with every element kind: the parser must follow the labels.
CUSTOM_MAPPING: dict[str, Any] = {
    "name": "Custom",
    "labels": "event-request, triage",
    "body": [
        {"type": "markdown", "attributes": {"value": "Not rendered."}},
        {"type": "input", "id": "hub_url", "attributes": {"label": "Where is your hub?"},
         "validations": {"required": True}},
        {"type": "dropdown", "id": "event_type",
         "attributes": {"label": "Kind", "options": ["Exam", "Workshop", "None"]}},
        {"type": "dropdown", "id": "days", "attributes": {
            "label": "Days", "multiple": True,
            "options": ["Monday", "Tuesday, morning", "Tuesday", "Friday"]}},
        {"type": "dropdown", "id": "tier", "attributes": {"label": "Tier", "options": ["a", "b"]}},
        {"type": "checkboxes", "id": "agree", "attributes": {"label": "Agreements", "options": [
            {"label": "I read the policy", "required": True},
            {"label": "I will test logins"},
        ]}},
        {"type": "textarea", "id": "logs", "attributes": {"label": "Logs", "render": "shell"}},
        {"type": "textarea", "attributes": {"label": "Notes"}},
    ],
}
CUSTOM = form_from_mapping(CUSTOM_MAPPING)


def body(*sections: tuple[str, str]) -> str:
    return "\n\n".join(f"### {label}\n\n{value}" for label, value in sections)


@pytest.mark.parametrize(("text", "field_id", "expected"), [
    # Plain answers, found by the relabelled headings.
    (body(("Where is your hub?", "hub.example.org")), "hub_url", "hub.example.org"),
    (body(("where is your HUB?  ", "hub.example.org")), "hub_url", "hub.example.org"),
    ("  ### Where   is your hub?\n\nhub.example.org", "hub_url", "hub.example.org"),
    ("### Where is your hub? ###\n\nhub.example.org", "hub_url", "hub.example.org"),
    # CRLF, lone CR and trailing spaces.
    ("### Where is your hub?\r\n\r\nhub.example.org   \r\n\r\n### Kind\r\n\r\nExam",
     "hub_url", "hub.example.org"),
    ("### Notes\r\n\r\nline one  \r\n\r\nline two\r\n", "label:Notes", "line one\n\nline two"),
    ("### Notes\r\rline one\rline two", "label:Notes", "line one\nline two"),
    # No answer.
    (body(("Where is your hub?", "_No response_")), "hub_url", None),
    (body(("Where is your hub?", "")), "hub_url", None),
    ("### Where is your hub?", "hub_url", None),
    (body(("Tier", "None")), "tier", None),
    (body(("Tier", "_No response_")), "tier", None),
    # "None" stays an answer where it is an option, or where the field is not a dropdown.
    (body(("Kind", "None")), "event_type", "None"),
    (body(("Where is your hub?", "None")), "hub_url", "None"),
    # A textarea with render: the fence is GitHub's, not the answer.
    (body(("Logs", "```shell\n$ jupyterhub\n### Kind\nerror: boom\n```")), "logs",
     "$ jupyterhub\n### Kind\nerror: boom"),
    (body(("Logs", "```shell\r\n  indented\r\n\r\n```")), "logs", "  indented"),
    (body(("Logs", "```shell\n\n```")), "logs", None),
    (body(("Logs", "_No response_")), "logs", None),
    (body(("Logs", "not fenced")), "logs", "not fenced"),
    # Without render, a fence typed by a person is part of the answer.
    (body(("Notes", "```\ncode\n```")), "label:Notes", "```\ncode\n```"),
    # Inner blank lines and indentation are kept; surrounding blank lines are not.
    ("### Notes\n\n\n\n  - a\n\n    - b\n\n\n", "label:Notes", "  - a\n\n    - b"),
    # Emoji, RTL and lone surrogates pass through.
    (body(("Notes", "🎓 امتحان \u202e \ud800")), "label:Notes", "🎓 امتحان \u202e \ud800"),
])
def test_parse_values(text: str, field_id: str, expected: str | None) -> None:
    assert parse_form_body(text, CUSTOM).get(field_id) == expected


@pytest.mark.parametrize(("text", "field_id", "expected"), [
    # A pasted heading that is no label stays in the answer above it.
    (body(("Where is your hub?", "h.org"), ("Notes", "a\n\n### Schedule\n\nb")), "label:Notes",
     "a\n\n### Schedule\n\nb"),
    # A second heading of a field already seen is text of the answer it sits in.
    (body(("Where is your hub?", "h.org"), ("Notes", "see below"), ("Where is your hub?", "x")),
     "label:Notes", "see below\n\n### Where is your hub?\n\nx"),
    (body(("Where is your hub?", "h.org"), ("Notes", "see below"), ("Where is your hub?", "x")),
     "hub_url", "h.org"),
    # A heading in a fenced code block is code.
    (body(("Notes", "~~~md\n### Where is your hub?\n~~~"), ("Kind", "Exam")), "hub_url", None),
    (body(("Notes", "````\n```\n### Kind\n```\n````"), ("Kind", "Exam")), "event_type", "Exam"),
    # Other heading levels, and "###" glued to text, are not field headings.
    (body(("Notes", "#### Kind\n\n##Kind\n###Kind")), "event_type", None),
    ("    ### Kind\n\nExam", "event_type", None),
    # A fence that never closes is text: it must not swallow the answers after it.
    (body(("Notes", "```python\nprint(1)"), ("Kind", "Exam")), "event_type", "Exam"),
    # An input's answer is one line, so a fence there is stray text even when one closes later.
    (body(("Where is your hub?", "```"), ("Kind", "Exam"), ("Notes", "```")), "event_type",
     "Exam"),
    # Text before the first heading belongs to no field.
    ("Hello team!\n\n### Kind\n\nWorkshop", "event_type", "Workshop"),
    # Sections may be missing, or come in another order.
    (body(("Tier", "b"), ("Where is your hub?", "h.org")), "hub_url", "h.org"),
    (body(("Tier", "b"), ("Where is your hub?", "h.org")), "tier", "b"),
])
def test_parse_headings(text: str, field_id: str, expected: str | None) -> None:
    assert parse_form_body(text, CUSTOM).get(field_id) == expected


@pytest.mark.parametrize(("text", "present"), [
    ("", set()),
    ("no form here", set()),
    (body(("Kind", "Exam"), ("Notes", "### Kind")), {"event_type", "label:Notes"}),
    # The first heading of a field starts it, even one typed into the answer above.
    (body(("Notes", "### Kind")), {"event_type", "label:Notes"}),
    (body(("Kind", "Exam"), ("Unknown", "x"), ("Tier", "_No response_")), {"event_type", "tier"}),
])
def test_present(text: str, present: set[str]) -> None:
    assert parse_form_body(text, CUSTOM).present == frozenset(present)


@pytest.mark.parametrize(("answer", "ticked"), [
    ("- [X] I read the policy\n- [ ] I will test logins", ("I read the policy",)),
    ("- [x] I read the policy\r\n- [x] I will test logins",
     ("I read the policy", "I will test logins")),
    ("- [ ] I read the policy\n- [ ] I will test logins", ()),
    ("* [x] i read the POLICY  ", ("I read the policy",)),
    ("- [x] Something edited in", ("Something edited in",)),
    ("- [x]\n- [y] I read the policy\n[x] I will test logins", ()),
    ("_No response_", ()),
])
def test_checkboxes(answer: str, ticked: tuple[str, ...]) -> None:
    parsed = parse_form_body(body(("Agreements", answer), ("Logs", "x")), CUSTOM)
    assert parsed.checked["agree"] == ticked
    assert parsed.selected("agree") == ticked


@pytest.mark.parametrize(("answer", "selected"), [
    ("Monday", ("Monday",)),
    ("Monday, Friday", ("Monday", "Friday")),
    ("Tuesday, morning, Friday", ("Tuesday, morning", "Friday")),
    ("Tuesday, Tuesday, morning", ("Tuesday", "Tuesday, morning")),
    ("Monday, Sunday", ("Monday", "Sunday")),
    ("_No response_", ()),
    ("None", ()),
])
def test_multi_select(answer: str, selected: tuple[str, ...]) -> None:
    parsed = parse_form_body(body(("Days", answer)), CUSTOM)
    assert parsed.selected("days") == selected


@pytest.mark.parametrize(("field_id", "selected"), [
    ("event_type", ("Exam",)),
    ("hub_url", ("a, b",)),
    ("tier", ()),
    ("nope", ()),
])
def test_selected_on_single_fields(field_id: str, selected: tuple[str, ...]) -> None:
    parsed = parse_form_body(body(("Kind", "Exam"), ("Where is your hub?", "a, b")), CUSTOM)
    assert parsed.selected(field_id) == selected


@pytest.mark.parametrize(("value", "options", "expected"), [
    ("", ("a",), ()),
    ("a, b, c", (), ("a", "b", "c")),
    ("x, y, z", ("x, y", "x"), ("x, y", "z")),
    ("x, y", ("x, y, z",), ("x", "y")),
    ("a,b", ("a", "b"), ("a,b",)),
    ("a, , b", ("a", "b"), ("a", "b")),
])
def test_split_selection(value: str, options: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert split_selection(value, options) == expected


def test_relabelled_form_reads_its_own_labels_only() -> None:
    relabelled = dict(yaml.safe_load(FORM_PATH.read_text(encoding="utf-8")))
    relabelled["body"] = [
        {**e, "attributes": {**e["attributes"], "label": f"Q: {e['attributes']['label']}"}}
        if e["type"] != "markdown" else e
        for e in relabelled["body"]
    ]
    form = form_from_mapping(relabelled)
    exam = (EXAMPLES / "exam.md").read_text(encoding="utf-8")
    assert parse_form_body(exam, form).present == frozenset()
    assert not has_required_headings(exam, form)
    rendered = render_form_body(form, parse_form_body(exam, FORM).values)
    assert parse_form_body(rendered, form).values == parse_form_body(exam, FORM).values


@pytest.mark.parametrize(("text", "expected"), [
    ((EXAMPLES / "exam.md").read_text(encoding="utf-8"), True),
    ((EXAMPLES / "exam.md").read_text(encoding="utf-8").replace("\n", "\r\n"), True),
    ((EXAMPLES / "exam.md").read_text(encoding="utf-8").replace("### Support tier", "Tier:"),
     False),
    ("Please help with our exam on March 3", False),
    ("", False),
    (None, False),
])
def test_has_required_headings(text: str | None, expected: bool) -> None:
    assert has_required_headings(text, FORM) is expected


def test_has_required_headings_without_required_fields_needs_every_heading() -> None:
    form = form_from_mapping({"body": [
        {"type": "input", "id": "a", "attributes": {"label": "A"}},
        {"type": "input", "id": "b", "attributes": {"label": "B"}},
    ]})
    assert not has_required_headings(body(("A", "1")), form)
    assert has_required_headings(body(("A", "1"), ("B", "_No response_")), form)


# --- loading templates -------------------------------------------------------


def test_custom_template_shape() -> None:
    assert CUSTOM.labels == ("event-request", "triage")
    assert CUSTOM.required_ids == ("hub_url", "agree")
    days = CUSTOM.field("days")
    assert days is not None and days.multiple and days.options[1] == "Tuesday, morning"
    logs = CUSTOM.field("logs")
    assert logs is not None and logs.render == "shell"
    assert CUSTOM.field("label:Notes") is not None
    assert CUSTOM.field("missing") is None


def element(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": "input", "id": "x", "attributes": {"label": "X"}}
    base.update(changes)
    return base


@pytest.mark.parametrize(("data", "message"), [
    (None, "must be a mapping"),
    ({"body": []}, "non-empty list"),
    ({"body": "text"}, "non-empty list"),
    ({"body": [{"type": "markdown", "attributes": {"value": "hi"}}]}, "no fields"),
    ({"body": ["input"]}, "body[0]: must be a mapping"),
    ({"body": [element(type="slider")]}, "type 'slider'"),
    ({"body": [element(attributes={})]}, "needs a label"),
    ({"body": [element(attributes={"label": "  "})]}, "needs a label"),
    ({"body": [element(attributes=None)]}, "needs attributes"),
    ({"body": [element(id="has space")]}, "letters, digits"),
    ({"body": [element(), element(attributes={"label": "Y"})]}, "id 'x' is used twice"),
    ({"body": [element(), element(id="y", attributes={"label": " x "})]}, "label 'x' is used"),
    ({"body": [element(type="dropdown")]}, "body[0] (x): needs a non-empty list of options"),
    ({"body": [element(type="dropdown", attributes={"label": "X", "options": ["a", True]})]},
     "option 2 (True) must be text"),
    ({"body": [element(type="checkboxes", attributes={"label": "X", "options": ["a"]})]},
     "a mapping with a label"),
    ({"body": [element(validations={"required": "yes"})]}, "true or false"),
    ({"body": [element(type="textarea", attributes={"label": "X", "render": 3})]}, "render"),
])
def test_form_errors(data: Any, message: str) -> None:
    with pytest.raises(FormError) as info:
        form_from_mapping(data)
    assert message in str(info.value)


@pytest.mark.parametrize(("content", "message"), [
    (None, "file not found"),
    ("body: [", "not valid YAML"),
    ("name: x\n", "body: must be"),
])
def test_load_form_errors(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "form.yml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(FormError) as info:
        load_form(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


# --- hostile bodies ----------------------------------------------------------

PIECES = [
    "### ", "###", "\n", "\r\n", "\r", "\n\n", "```", "```shell", "~~~", "````", "    ",
    "- [x] ", "- [X] ", "- [ ] ", "_No response_", "None", ", ", "\ud800", "\udfff",
    "🎓", "\u202e", "שלום", "\x00", "\u2028",
    *(f.label for f in CUSTOM.fields), *(f.label for f in FORM.fields),
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=20)), max_size=60
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile_text)
def test_hostile_bodies_never_raise(text: str) -> None:
    for form in (FORM, CUSTOM):
        parsed = parse_form_body(text, form)
        assert parsed.present <= frozenset(f.id for f in form.fields)
        for f in form.fields:
            value = parsed.get(f.id)
            assert value is None or (value == value.strip("\n") and "\r" not in value)
            parsed.selected(f.id)
        has_required_headings(text, form)


# Single-line answers a person could type into an input (no heading or fence of their own).
line_answers = st.text(
    st.characters(exclude_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029#`~"),
    min_size=1, max_size=40,
).map(str.strip).filter(lambda s: s not in ("", "_No response_", "None"))


@settings(max_examples=200, deadline=None)
@given(answers=st.fixed_dictionaries({
    f.id: st.one_of(st.none(), line_answers) for f in FORM.fields
}))
def test_rendered_answers_parse_back(answers: dict[str, str | None]) -> None:
    parsed = parse_form_body(render_form_body(FORM, answers), FORM)
    assert dict(parsed.values) == answers
    assert parsed.present == frozenset(answers)


@pytest.mark.parametrize("shape", [
    "many lines", "many headings", "unclosed fences", "alternating fences", "one long line",
    "nested fence sizes",
])
def test_large_bodies_parse_quickly(shape: str) -> None:
    n = 100_000
    text = {
        "many lines": body(("Notes", "\r\n".join("line 🎓 \ud800" for _ in range(n)))),
        "many headings": "\n".join(f"### {FORM.fields[i % 11].label}\nx" for i in range(n)),
        "unclosed fences": body(("Anything else we should know", "```x\n" * n)),
        "alternating fences": body(("Anything else we should know", "```\n### Hub URL\n" * n)),
        "one long line": "### Hub URL\n\n" + "a, " * (10 * n),
        "nested fence sizes": body(("Anything else we should know",
                                    "\n".join("`" * (3 + i % 50) for i in range(n)))),
    }[shape]
    started = time.perf_counter()
    parsed = parse_form_body(text, FORM)
    parsed.selected("hub_url")
    assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize("body", [None, ["a", "list"], {"a": "mapping"}, 42])
def test_a_body_that_is_not_text_has_no_answers(body: Any) -> None:
    """A payload's body can be anything: it reads as an empty form, never an error."""
    parsed = parse_form_body(body, FORM)
    assert parsed.present == frozenset() and dict(parsed.values) == {}
