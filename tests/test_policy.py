"""``python -m bot policy``: the support offering rendered from config."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.config import DueOffset, PrewarmConfig, parse_config, parse_offset
from bot.core.policy import phase, render_policy, when_text
from bot.service.loading import load_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = load_config(ROOT / "config.yaml")


def section(markdown: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ")[0]
    start = markdown.index(heading + "\n")
    rest = markdown[start + len(heading) + 1:]
    stop = re.search(rf"^#{{1,{len(level)}}} ", rest, re.MULTILINE)
    return rest[: stop.start()] if stop else rest


def test_tiers_prices_and_approval_come_from_config() -> None:
    page = render_policy(SHIPPED)
    tiers = section(page, "## Support tiers")
    rows = [line for line in tiers.splitlines() if line.startswith("| **")]
    assert rows == [
        "| **standard** | free | none needed | Best-effort support in working hours. |",
        "| **enhanced** | $500 | a team lead approves it | An engineer on call for the whole "
        "event. |",
        "| **premium** | $1,500 | a team lead approves it | Exam-grade support with two "
        "engineers. |",
    ]
    assert "- 10-minute response" in section(page, "### premium")
    assert "- 30-minute response" in section(page, "### enhanced")
    assert "goes ahead on `standard`" in page


def test_notice_engineers_and_exam_guarantees() -> None:
    page = render_policy(SHIPPED)
    assert "at least **21 days** before" in section(page, "## Notice")
    engineers = section(page, "## Engineers")
    assert "7-day shifts, 4 engineers" in engineers
    assert "- exam: 2 engineers" in engineers and "- demo: 1 engineer\n" in engineers
    exams = section(page, "## Exams")
    assert "Switch user pods to guaranteed QoS" in exams
    assert "12 hours before the start" in exams
    assert "Confirm the event details" not in exams  # not exam-only


def test_every_checklist_item_is_in_exactly_one_phase() -> None:
    page = render_policy(SHIPPED)
    phases = {name: section(page, f"### {name}")
              for name in ("Before the event", "During the event", "After the event")}
    for item in SHIPPED.checklist:
        holders = [name for name, text in phases.items() if item.text in text]
        assert len(holders) == 1, (item.id, holders)
    assert "Scale down the placeholders" in phases["After the event"]
    assert "On-call engineer watches" in phases["During the event"]
    assert "21 days before the start" in phases["Before the event"]
    assert "(exams only)" in phases["Before the event"]
    for question in SHIPPED.debrief_questions:
        assert f"- {question}" in page


def test_prewarming_follows_config() -> None:
    manual = render_policy(SHIPPED)
    assert "An engineer pre-warms" in section(manual, "## Pre-warming")
    auto = replace(SHIPPED, prewarm=PrewarmConfig(repository="org/infra", lead_time_hours=3,
                                                  scale_down_after_hours=0.5))
    text = section(render_policy(auto), "## Pre-warming")
    assert "automatically 3 hours before the start" in text
    assert "0.5 hours after the end" in text


def test_policy_url_and_table_safety() -> None:
    config = parse_config({"tiers": {"pro": {"price_usd": 99.5, "description": "a | b"}},
                           "policy_url": "https://docs.example.org/policy"})
    page = render_policy(config)
    assert "| **pro** | $99.50 | none needed | a \\| b |" in page
    assert page.rstrip().endswith("_This page is published at https://docs.example.org/policy._")
    assert "published at" not in render_policy(parse_config({}))


@pytest.mark.parametrize(
    ("due", "phase_name", "words"),
    [("-21d", "before", "21 days before the start"),
     ("-1d", "before", "1 day before the start"),
     ("-12h", "before", "12 hours before the start"),
     ("start+0h", "during", "at the start"),
     ("start+2h", "during", "2 hours after the start"),
     ("end-1h", "during", "1 hour before the end"),
     ("+1d", "after", "1 day after the end"),
     ("+7d", "after", "7 days after the end")],
)
def test_phases_and_wording(due: str, phase_name: str, words: str) -> None:
    offset: DueOffset = parse_offset(due)
    item = parse_config({"checklist": [{"id": "x", "text": "X", "due": due}]}).checklist[0]
    assert phase(item) == phase_name
    assert when_text(offset) == words


def test_the_command_prints_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "--config", str(ROOT / "config.yaml")]) == 0
    out = capsys.readouterr().out
    assert out == render_policy(SHIPPED)
    assert out.startswith("# Event support policy\n")


def test_the_command_reports_a_broken_config(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("notice_days: soon\n")
    assert main(["policy", "--config", str(bad)]) == 1
    assert "notice_days" in capsys.readouterr().err
