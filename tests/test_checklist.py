"""Checklist due times: calendar days keep the local wall time, hours are elapsed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.checklist import ChecklistItem, checklist_for, due_time
from bot.core.config import ChecklistItemConfig, DueOffset, parse_offset
from bot.service.loading import load_config

CONFIG_YAML = Path(__file__).resolve().parent.parent / "config.yaml"
CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
MINUS_FIVE = timezone(timedelta(hours=-5))


def _local(text: str, tz: tzinfo, fold: int = 0) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz, fold=fold)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "start", "end", "tz", "expected"),
    [
        # Plain UTC.
        ("-21d", _utc("2026-06-22 09:00"), _utc("2026-06-22 12:00"), UTC, "2026-06-01 09:00"),
        ("+1d", _utc("2026-06-22 09:00"), _utc("2026-06-22 12:00"), UTC, "2026-06-23 12:00"),
        ("end-1h", _utc("2026-06-22 09:00"), _utc("2026-06-22 12:00"), UTC, "2026-06-22 11:00"),
        ("start+0h", _utc("2026-06-22 09:00"), _utc("2026-06-22 12:00"), UTC,
         "2026-06-22 09:00"),
        ("end+2h", _utc("2026-06-22 23:00"), _utc("2026-06-22 23:30"), UTC, "2026-06-23 01:30"),
        # Chicago, spring forward on 2026-03-08 (CST -6 -> CDT -5).
        # 09:00 CDT a week after the change; 7 days earlier is 09:00 CST.
        ("-7d", _local("2026-03-09 09:00", CHICAGO), _local("2026-03-09 11:00", CHICAGO),
         CHICAGO, "2026-03-02 15:00"),
        # Days keep the wall clock, hours do not.
        ("-1d", _local("2026-03-08 12:00", CHICAGO), _local("2026-03-08 14:00", CHICAGO),
         CHICAGO, "2026-03-07 18:00"),
        ("-24h", _local("2026-03-08 12:00", CHICAGO), _local("2026-03-08 14:00", CHICAGO),
         CHICAGO, "2026-03-07 17:00"),
        ("-12h", _local("2026-03-08 12:00", CHICAGO), _local("2026-03-08 14:00", CHICAGO),
         CHICAGO, "2026-03-08 05:00"),
        # 02:30 does not exist on 2026-03-08: it becomes 03:30 CDT (just after the gap).
        ("-1d", _local("2026-03-09 02:30", CHICAGO), _local("2026-03-09 04:00", CHICAGO),
         CHICAGO, "2026-03-08 08:30"),
        ("-7d", _local("2026-03-15 02:30", CHICAGO), _local("2026-03-15 04:00", CHICAGO),
         CHICAGO, "2026-03-08 08:30"),
        # Chicago, fall back on 2026-11-01 (CDT -5 -> CST -6).
        ("-7d", _local("2026-11-02 09:00", CHICAGO), _local("2026-11-02 11:00", CHICAGO),
         CHICAGO, "2026-10-26 14:00"),
        ("+1d", _local("2026-10-31 15:00", CHICAGO), _local("2026-10-31 17:00", CHICAGO),
         CHICAGO, "2026-11-01 23:00"),
        ("+24h", _local("2026-10-31 15:00", CHICAGO), _local("2026-10-31 17:00", CHICAGO),
         CHICAGO, "2026-11-01 22:00"),
        # 01:30 happens twice on 2026-11-01: the first (CDT), the earlier deadline.
        ("-1d", _local("2026-11-02 01:30", CHICAGO), _local("2026-11-02 03:00", CHICAGO),
         CHICAGO, "2026-11-01 06:30"),
        # The anchor itself is the second 01:30 (CST): +0d leaves it alone.
        ("start+0d", _local("2026-11-01 01:30", CHICAGO, fold=1),
         _local("2026-11-01 03:00", CHICAGO), CHICAGO, "2026-11-01 07:30"),
        ("start+0h", _local("2026-11-01 01:30", CHICAGO, fold=1),
         _local("2026-11-01 03:00", CHICAGO), CHICAGO, "2026-11-01 07:30"),
        # Hours across the repeated hour are elapsed time: 1 h after 01:30 CDT is 01:30 CST.
        ("start+1h", _local("2026-11-01 01:30", CHICAGO), _local("2026-11-01 03:00", CHICAGO),
         CHICAGO, "2026-11-01 07:30"),
        # Berlin, spring forward on 2026-03-29 (CET +1 -> CEST +2).
        ("-7d", _local("2026-04-01 10:00", BERLIN), _local("2026-04-01 12:00", BERLIN),
         BERLIN, "2026-03-25 09:00"),
        ("-168h", _local("2026-04-01 10:00", BERLIN), _local("2026-04-01 12:00", BERLIN),
         BERLIN, "2026-03-25 08:00"),
        ("-1d", _local("2026-03-30 02:30", BERLIN), _local("2026-03-30 04:00", BERLIN),
         BERLIN, "2026-03-29 01:30"),
        # Berlin, fall back on 2026-10-25 (CEST +2 -> CET +1).
        ("-2d", _local("2026-10-26 10:00", BERLIN), _local("2026-10-26 12:00", BERLIN),
         BERLIN, "2026-10-24 08:00"),
        ("-48h", _local("2026-10-26 10:00", BERLIN), _local("2026-10-26 12:00", BERLIN),
         BERLIN, "2026-10-24 09:00"),
        ("-1d", _local("2026-10-26 02:30", BERLIN), _local("2026-10-26 04:00", BERLIN),
         BERLIN, "2026-10-25 00:30"),
        # The event's zone decides, not the zone the times were given in.
        ("-7d", _utc("2026-03-09 14:00"), _utc("2026-03-09 16:00"), CHICAGO, "2026-03-02 15:00"),
        ("-7d", _utc("2026-03-09 14:00"), _utc("2026-03-09 16:00"), UTC, "2026-03-02 14:00"),
        # A fixed offset has no daylight saving: days are 24 h.
        ("-7d", _local("2026-03-09 09:00", MINUS_FIVE), _local("2026-03-09 11:00", MINUS_FIVE),
         MINUS_FIVE, "2026-03-02 14:00"),
        # Days across a year end.
        ("+7d", _utc("2026-12-28 09:00"), _utc("2026-12-28 17:00"), BERLIN, "2027-01-04 17:00"),
    ],
)
def test_due_time(offset: str, start: datetime, end: datetime, tz: tzinfo,
                  expected: str) -> None:
    due = due_time(parse_offset(offset), start, end, tz)
    assert due == _utc(expected)
    assert due.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime(2026, 6, 22, 9), _utc("2026-06-22 12:00"), "time zone"),
        (_utc("2026-06-22 09:00"), datetime(2026, 6, 22, 12), "time zone"),
    ],
)
def test_due_time_refuses_naive(start: datetime, end: datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        due_time(parse_offset("-1d"), start, end, UTC)


@pytest.mark.parametrize(
    "offset",
    [DueOffset(anchor="middle", amount=1, unit="d"), DueOffset(anchor="start", amount=1,
                                                                unit="w")],
)
def test_due_time_refuses_bad_offset(offset: DueOffset) -> None:
    with pytest.raises(ValueError):
        due_time(offset, _utc("2026-06-22 09:00"), _utc("2026-06-22 12:00"), UTC)


EXAM_ORDER = (
    "confirm-details", "cloud-quotas", "image-update", "image-freeze", "node-pool",
    "access-test", "login-test", "guaranteed-qos", "prewarm", "oncall-watch", "scale-down",
    "debrief",
)


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("exam", EXAM_ORDER),
        ("workshop", tuple(i for i in EXAM_ORDER if i not in ("access-test", "guaranteed-qos"))),
        ("demo", tuple(i for i in EXAM_ORDER if i not in ("access-test", "guaranteed-qos"))),
        ("other", tuple(i for i in EXAM_ORDER if i not in ("access-test", "guaranteed-qos"))),
        ("party", ()),
    ],
)
def test_shipped_checklist(event_type: str, expected: tuple[str, ...]) -> None:
    items = load_config(CONFIG_YAML).checklist
    start, end = _local("2026-03-09 09:00", CHICAGO), _local("2026-03-09 12:00", CHICAGO)
    got = checklist_for(event_type, start, end, CHICAGO, items)
    assert tuple(i.id for i in got) == expected
    assert [i.due for i in got] == sorted(i.due for i in got)
    assert all(i.due.utcoffset() == timedelta(0) for i in got)


def test_shipped_exam_due_times() -> None:
    items = load_config(CONFIG_YAML).checklist
    start, end = _local("2026-03-09 09:00", CHICAGO), _local("2026-03-09 12:00", CHICAGO)
    got = {i.id: i for i in checklist_for("exam", start, end, CHICAGO, items)}
    # Before the change: 09:00 CST is 15:00 UTC; after it, 09:00 CDT is 14:00 UTC.
    assert got["confirm-details"].due == _utc("2026-02-16 15:00")
    assert got["image-freeze"].due == _utc("2026-03-02 15:00")
    assert got["login-test"].due == _utc("2026-03-07 15:00")
    assert got["guaranteed-qos"].due == _utc("2026-03-09 02:00")
    assert got["prewarm"].due == _utc("2026-03-09 12:00")
    assert got["oncall-watch"].due == _utc("2026-03-09 14:00")
    assert got["scale-down"].due == _utc("2026-03-10 17:00")
    assert got["debrief"].due == _utc("2026-03-16 17:00")
    assert [i for i in got if got[i].after_event] == ["scale-down", "debrief"]


def _item(item_id: str, due: str, types: tuple[str, ...] = ("exam", "workshop"),
          after: bool = False) -> ChecklistItemConfig:
    return ChecklistItemConfig(id=item_id, text=f"do {item_id}", due=parse_offset(due),
                               types=types, after_event=after)


@pytest.mark.parametrize(
    ("items", "event_type", "expected"),
    [
        # Sorted by due time, whatever the config order.
        ((_item("late", "+1d"), _item("early", "-7d"), _item("mid", "-1h")), "exam",
         ("early", "mid", "late")),
        # Equal due times keep config order (stable).
        ((_item("b", "-7d"), _item("a", "-7d"), _item("c", "-168h")), "exam", ("b", "a", "c")),
        # Anchors mix: in an 8 h event, end-1h falls after start+1h.
        ((_item("after-end", "end-1h"), _item("before-start", "start+1h")), "exam",
         ("before-start", "after-end")),
        # Only the types listed.
        ((_item("exam-only", "-1d", ("exam",)), _item("both", "-2d")), "workshop", ("both",)),
        ((), "exam", ()),
    ],
)
def test_checklist_for(items: tuple[ChecklistItemConfig, ...], event_type: str,
                       expected: tuple[str, ...]) -> None:
    start, end = _utc("2026-06-22 09:00"), _utc("2026-06-22 17:00")
    got = checklist_for(event_type, start, end, BERLIN, items)
    assert tuple(i.id for i in got) == expected


def test_item_fields_carried() -> None:
    start, end = _utc("2026-06-22 09:00"), _utc("2026-06-22 17:00")
    got = checklist_for("exam", start, end, UTC, (_item("wrap-up", "+1d", after=True),))
    assert got == (ChecklistItem(id="wrap-up", text="do wrap-up", due=_utc("2026-06-23 17:00"),
                                 after_event=True),)
