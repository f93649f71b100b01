"""The on-call rotation: which engineers cover an event.

Shift ``k`` covers the local days ``[start + k*shift_days, start + (k+1)*shift_days)``
in ``oncall.timezone``, each beginning at local midnight, so a change to or
from daylight saving time never moves a boundary. ``k`` counts with floor
division, so events before ``oncall.start`` fall in negative shifts.

For an event, the walk starts at engineer ``k mod n`` (``k`` the shift holding
the event's start), wraps around the list, skips anyone away on any local day
the event touches, and takes the first ``wanted`` engineers (fewer when fewer
are free). An ``away`` range is whole days in ``oncall.timezone``, both ends
included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from bot.core.config import Engineer, OnCall


@dataclass(frozen=True)
class OnCallPick:
    engineers: tuple[str, ...]  # logins, in rotation order
    wanted: int
    shift: int
    skipped_away: tuple[str, ...]  # passed over on the walk because they are away

    @property
    def short(self) -> bool:
        """Fewer engineers are free than the event wants."""
        return len(self.engineers) < self.wanted


def _require_aware(moment: datetime, what: str) -> None:
    # A naive time would be read in the machine's zone: a silent, wrong guess.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must carry a time zone, not {moment.isoformat()}")


def _local_date(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def shift_index(moment: datetime, oncall: OnCall) -> int:
    """The shift holding ``moment``: negative before ``oncall.start``."""
    _require_aware(moment, "the time")
    days = (_local_date(moment, ZoneInfo(oncall.timezone)) - oncall.start).days
    return days // oncall.shift_days


def is_away(engineer: Engineer, start: datetime, end: datetime, tz: tzinfo) -> bool:
    """Whether any of the engineer's away days (in ``tz``) falls within ``[start, end]``."""
    _require_aware(start, "the start")
    _require_aware(end, "the end")
    first, last = _local_date(start, tz), _local_date(end, tz)
    return any(away.start <= last and away.end >= first for away in engineer.away)


def on_call_for(start: datetime, end: datetime, wanted: int, oncall: OnCall) -> OnCallPick:
    """The first ``wanted`` free engineers of the rotation from the shift holding ``start``."""
    _require_aware(start, "the start")
    _require_aware(end, "the end")
    if end < start:
        raise ValueError(f"the end ({end.isoformat()}) is before the start ({start.isoformat()})")
    if wanted < 0:
        raise ValueError(f"wanted must be zero or more, not {wanted}")
    shift = shift_index(start, oncall)
    tz = ZoneInfo(oncall.timezone)
    roster = oncall.engineers
    picked: list[str] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for step in range(len(roster)):
        if len(picked) >= wanted:
            break
        engineer = roster[(shift + step) % len(roster)]
        # A login listed twice must not fill two of an exam's seats.
        key = engineer.login.lower()
        if key in seen:
            continue
        seen.add(key)
        if is_away(engineer, start, end, tz):
            skipped.append(engineer.login)
        else:
            picked.append(engineer.login)
    return OnCallPick(engineers=tuple(picked), wanted=wanted, shift=shift,
                      skipped_away=tuple(skipped))
