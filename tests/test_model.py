"""Reading GitHub's JSON into the model: times and shapes the payloads may carry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.model import RepoRef, issue_from_json, parse_github_time


@pytest.mark.parametrize("value, expected", [
    ("2026-11-23T09:00:00Z", datetime(2026, 11, 23, 9, tzinfo=UTC)),
    ("2026-11-23T10:00:00+01:00", datetime(2026, 11, 23, 9, tzinfo=UTC)),
    ("2026-11-23T09:00:00", datetime(2026, 11, 23, 9, tzinfo=UTC)),  # no offset: UTC
    ("yesterday", None), ("", None), (None, None), (1732352400, None),
])
def test_github_times_are_always_aware(value: object, expected: datetime | None) -> None:
    got = parse_github_time(value)
    assert got == expected
    assert got is None or got.tzinfo is not None


def test_an_issue_opened_at_a_time_without_an_offset_can_be_planned() -> None:
    from bot.core.forms import load_form
    from bot.core.plan import plan
    from bot.service.loading import load_config
    from tests.requests_seed import exam_body

    config = load_config("config.yaml")
    form = load_form(config.form_path)
    issue = issue_from_json({"number": 3, "title": "Exam", "body": exam_body(),
                             "labels": [{"name": "event-request"}], "state": "open",
                             "user": {"login": "champ"}, "created_at": "2026-11-23T09:00:00"},
                            RepoRef("o", "r", 1))
    triage, _ = plan(issue, None, config, form, datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert triage.request is not None and triage.request.start is not None
