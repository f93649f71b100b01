"""Checklist items for an event, with absolute due times.

A due offset counts from the event's start or end. Hours are exact elapsed
hours. Days are calendar days in the event's zone: the wall-clock time is
kept across a daylight-saving change, so an item due 7 days before a 09:00
event is due at 09:00 local time that day, whatever the offset in between.

A wall time that does not exist on the due day (skipped by a spring-forward
change) is read with the offset from before the change, which lands it just
after the gap (02:30 becomes 03:30), as RFC 5545 does; a wall time that occurs
twice (fall-back) is its first occurrence, the earlier deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from bot.core.config import ChecklistItemConfig, DueOffset


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    text: str
    due: datetime  # aware, UTC
    after_event: bool
    owner: str = "engineers"  # who does it: "engineers" or "community" (the representative)


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must carry a time zone, not {moment.isoformat()}")


def due_time(offset: DueOffset, start: datetime, end: datetime, tz: tzinfo) -> datetime:
    """When an item with this offset falls due, in UTC."""
    _require_aware(start, "the start")
    _require_aware(end, "the end")
    if offset.anchor == "start":
        anchor = start
    elif offset.anchor == "end":
        anchor = end
    else:
        raise ValueError(f"due offset anchor must be start or end, not {offset.anchor!r}")
    if offset.unit == "h":
        return anchor.astimezone(UTC) + timedelta(hours=offset.amount)
    if offset.unit != "d":
        raise ValueError(f"due offset unit must be d or h, not {offset.unit!r}")
    if offset.amount == 0:
        # The anchor itself, even when it is the second of two equal wall times.
        return anchor.astimezone(UTC)
    local = anchor.astimezone(tz)
    wall = local.replace(tzinfo=None) + timedelta(days=offset.amount)
    # fold=0: the first of a repeated wall time, and just after a skipped one.
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def checklist_for(event_type: str, start: datetime, end: datetime, tz: tzinfo,
                  items: Sequence[ChecklistItemConfig], tier: str | None = None
                  ) -> tuple[ChecklistItem, ...]:
    """The items for this event type, and those for its tier (the one in effect),
    earliest due first (config order among equals)."""
    chosen = [
        ChecklistItem(id=item.id, text=item.text, due=due_time(item.due, start, end, tz),
                      after_event=item.after_event, owner=item.owner)
        for item in items
        if event_type in item.types or (tier is not None and tier in item.tiers)
    ]
    return tuple(sorted(chosen, key=lambda item: item.due))
