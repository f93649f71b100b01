"""Which deliveries are handed back at shutdown, and which attempt of each is asked for."""

from __future__ import annotations

from typing import Any

from bot.service.handback import commands_among, log_ids
from bot.service.server import Delivery


def delivery(guid: str, event: str, action: str) -> Delivery:
    return Delivery(id=guid, event=event, payload={"action": action})


def test_only_new_comments_are_handed_back_once_each() -> None:
    cut_off = [delivery("a", "issue_comment", "created"),
               delivery("b", "issues", "opened"),  # reconciliation redoes issues
               delivery("c", "issue_comment", "edited"),  # edits never run commands
               delivery("a", "issue_comment", "created"),  # cut off and kept for a retry
               delivery("d", "installation", "created")]
    assert [d.id for d in commands_among(cut_off)] == ["a"]


def entry(i: Any, guid: Any, at: str) -> dict[str, Any]:
    return {"id": i, "guid": guid, "delivered_at": at}


def test_the_newest_attempt_of_each_wanted_guid() -> None:
    recent = [entry(3, "a", "2026-11-23T10:00:05Z"), entry(1, "a", "2026-11-23T10:00:01Z"),
              entry(2, "b", "2026-11-23T10:00:02Z"), entry(9, "z", "2026-11-23T10:00:09Z"),
              entry("7", "b", "2026-11-23T10:00:07Z"), entry(True, "b", "2026-11-23T10:00:08Z"),
              "junk", entry(4, None, "2026-11-23T10:00:04Z"), entry(5, "c", "not a time")]
    assert log_ids(recent, ["a", "b", "c", "missing"]) == {"a": 3, "b": 2, "c": 5}


def test_a_reopening_is_handed_back_too() -> None:
    cut_off = [delivery("r", "issues", "reopened"), delivery("e", "issues", "edited")]
    assert [d.id for d in commands_among(cut_off)] == ["r"]
