"""Ranges: a start and an end in one text (``/reschedule``, ``June 8-10 2027``), a start and
end pair read together, and the daily active hours that make an event a series of sessions.

Pure. Part of ``bot.core.dates``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from .dates_one import (
    _FILLERS,
    _INFO,
    _RANGE_WORDS_RE,
    When,
    _dateutil_fields,
    _preferred,
    _Scan,
    _scan,
    _times,
    parse_when,
)
from .dates_zones import (
    _TRANSLATE,
    MAX_LENGTH,
    NO_ABBREVIATIONS,
    DateError,
    Zone,
    _iana_zone,
    _quote,
)

_QUOTED_RE = re.compile(r'"([^"]*)"(?:\s*(?:to|-|;|,|\u2013|\u2014)?\s*"([^"]*)")?', re.I)


def parse_window(start_text: str, end_text: str, *, field_zone: Zone, opened_at: datetime,
                 abbreviations: Mapping[str, str] = NO_ABBREVIATIONS) -> tuple[When, When]:
    """Start and end; an end without a zone is read in the start's written zone, if any.

    Raises DateError with ``.field`` "start" or "end". An end before the start is the
    caller's to report.
    """
    try:
        start = parse_when(start_text, field_zone=field_zone, opened_at=opened_at,
                           abbreviations=abbreviations)
    except DateError as e:
        raise DateError(e.message, field="start") from None
    end_zone = start.zone if start.zone.source == "written" else field_zone
    try:
        end = parse_when(end_text, field_zone=end_zone, opened_at=opened_at,
                         abbreviations=abbreviations, after=start.at)
    except DateError as e:
        raise DateError(e.message, field="end") from None
    return start, end


_RANGE_EXAMPLE = "2026-12-01 09:00 to 2026-12-02 11:00"


def _time_count(text: str) -> int | None:
    """How many times of day ``text`` holds; None when it cannot tell (parse_when says why)."""
    try:
        return len(_times(text, _Scan(), 2 * MAX_LENGTH + 10)[1])
    except DateError:
        return None


def _one_moment(text: str, abbreviations: Mapping[str, str], *, dated: bool
                ) -> bool | DateError:
    """Whether ``text`` reads as one time, on a date written in full (a date is needed when
    ``dated``; any date part written must make a whole date either way), or why not."""
    try:
        if len(_times(text, _Scan())[1]) != 1:
            return False
        scan = _scan(text, abbreviations)
        for reading in scan.readings:
            day, clock, _ = _dateutil_fields(text, reading, scan)
            date_parts = (reading.month is not None or reading.day is not None
                          or reading.year is not None or scan.has_month_word
                          or scan.weekday is not None)
            if clock is None or (day is None and (dated or date_parts)):
                return False
    except DateError as e:
        return e
    return True


def _no_date_parts(text: str, abbreviations: Mapping[str, str]) -> bool:
    """Whether ``text`` holds only zones and filler words: no date, time or weekday."""
    try:
        scan = _scan(text, abbreviations)
    except DateError:
        return False
    return not (scan.has_time or scan.has_month_word or scan.weekday is not None
                or scan.day is not None or scan.year is not None
                or any(r.month is not None for r in scan.readings)
                or any(set(r.body.split()) - _FILLERS - {",", ".", "/"}
                       for r in scan.readings))


def _split_on_space(text: str, words: list[str], abbreviations: Mapping[str, str]
                    ) -> tuple[str, str]:
    """``2026-12-01 09:00 2026-12-01 11:00`` or ``2026-12-01 09:00 11:00``: the one place
    where the words split into a dated start and an end, each with one time."""
    halves = [(_one_moment(" ".join(words[:i]), abbreviations, dated=True),
               _one_moment(" ".join(words[i:]), abbreviations, dated=False))
              for i in range(1, len(words))]
    cuts = [i for i, (start, end) in enumerate(halves, 1) if start is True and end is True]
    if not cuts:  # the first half that reads as one when its other half would not: say why
        for start, end in halves:
            if start is True and isinstance(end, DateError):
                raise end
            if end is True and isinstance(start, DateError):
                raise start
    # Zones between the two ("09:00 UTC 11:00") belong to the time before them, as written.
    if len(cuts) > 1 and _no_date_parts(" ".join(words[cuts[0]:cuts[-1]]), abbreviations):
        cuts = cuts[-1:]
    if len(cuts) > 1:
        raise DateError(f"{_quote(text)} splits into a start and an end more than one way; "
                        f"put \"to\" between them, like {_RANGE_EXAMPLE}")
    if not cuts:
        raise DateError(f"{_quote(text)} does not read as one start and one end; give the "
                        "start, then optionally the end, like 2026-12-01 09:00 11:00 or "
                        f"{_RANGE_EXAMPLE}")
    return " ".join(words[:cuts[0]]), " ".join(words[cuts[0]:])


def split_range(text: str, abbreviations: Mapping[str, str] = NO_ABBREVIATIONS
                ) -> tuple[str, str | None]:
    """``/reschedule START [END]``: split on ``to``, `` - ``, en dash, ``;`` or two quotes,
    or, with none of them, between two times (``2026-12-01 09:00 11:00``).

    No separator and at most one time: (text, None), for parse_when to read. Several of
    one separator, or times that do not split into one start and one end: DateError.
    """
    if not isinstance(text, str) or len(text) > 2 * MAX_LENGTH + 10:
        raise DateError(f"{_quote(str(text))} is too long to be a start and an end")
    cleaned = text.strip().replace("\u201c", '"').replace("\u201d", '"')
    if cleaned.startswith('"'):
        m = _QUOTED_RE.fullmatch(cleaned)
        if not m or not m[1].strip() or (m[2] is not None and not m[2].strip()):
            raise DateError(f"{_quote(text)}: put each of the start and the end in quotes, "
                            'like "Dec 1 9am" "Dec 1 11am"')
        return m[1].strip(), (m[2].strip() if m[2] is not None else None)
    for pattern in (r";", r"\s*[\u2013\u2014]\s*", r"\s--?\s", _RANGE_WORDS_RE.pattern,
                    r"(?<=[ap]m)-(?=\d)|(?<=\d)-(?=\d{1,2}(?::\d{2})?\s*[ap]\.?m\b)"):
        parts = re.split(pattern, f" {cleaned} ", flags=re.I)  # spaces: " to 11am" splits
        if len(parts) == 1:
            continue
        if (len(parts) > 2 or not parts[0].strip() or not parts[1].strip()
                or any((_time_count(p) or 0) > 1 for p in parts)):
            raise DateError(f"{_quote(text)} does not read as one start and one end; write "
                            "it like 2026-12-01 09:00 to 2026-12-01 11:00")
        return parts[0].strip(), parts[1].strip()
    count = _time_count(cleaned)
    if count is None or count < 2:
        return cleaned, None
    return _split_on_space(text, cleaned.split(), abbreviations)




# --- ranges in one field, daily hours, sessions ---------------------------------------------

_ORDINAL = r"(?:st|nd|rd|th)?"
# "June 8-10 2027", "June 8 - July 2, 2027": a month word, two days, then what both share.
_MONTH_DAYS_RE = re.compile(
    rf"([A-Za-z]{{3,9}}\.?) (\d{{1,2}}){_ORDINAL} ?- ?(?:([A-Za-z]{{3,9}}\.?) )?(\d{{1,2}})"
    rf"{_ORDINAL}(?![\d:])(,? .*)?", re.I)
# "8-10 June 2027"
_DAYS_MONTH_RE = re.compile(
    rf"(\d{{1,2}}){_ORDINAL} ?- ?(\d{{1,2}}){_ORDINAL} ([A-Za-z]{{3,9}}\.?)(?![\w])(,? .*)?", re.I)
# "09:00-13:00" in the daily hours, where a range is the only reading
_CLOCK_RANGE_RE = re.compile(r"(\d{1,2}:\d{2}) ?- ?(\d{1,2}:\d{2})(?![\d:])( .*)?")
MAX_SESSIONS = 62  # requests span at most 31 days; this bounds the work on any input
_DAILY_EXAMPLE = "9am - 1pm America/Los_Angeles"


@dataclass(frozen=True)
class DailyHours:
    """The hours of each day participants are active, as local times in ``zone``."""

    start: time
    end: time
    zone: Zone


@dataclass(frozen=True)
class Session:
    """One stretch of the event's active time (aware, UTC)."""

    start: datetime
    end: datetime


def _month_word(word: str) -> bool:
    return _INFO.month(word.rstrip(".").lower()) is not None


def _clean(text: str) -> str:
    if len(text) > MAX_LENGTH:
        raise DateError(f"{_quote(text)} is too long to be a date and time")
    return " ".join(unicodedata.normalize("NFKC", text).translate(_TRANSLATE).split())


def split_field(text: str, abbreviations: Mapping[str, str] = NO_ABBREVIATIONS
                ) -> tuple[str, str | None]:
    """A form's date box that may hold a range (``June 8-10 2027``, ``10am EDT to 2pm EDT``):
    (start, end), or (text, None) for one date, which parse_when then reads or refuses."""
    days = split_days(text)
    if days is not None:
        return days
    try:
        return split_range(text, abbreviations)
    except DateError:
        return text, None  # not a range after all: parse_when says what is wrong with it


def split_days(text: str) -> tuple[str, str] | None:
    """``June 8-10 2027`` -> (``June 8 2027``, ``June 10 2027``); None for anything else,
    and for a day range with a time (at that time each day, or from it on the first?)."""
    cleaned = _clean(text)
    m = _MONTH_DAYS_RE.fullmatch(cleaned)
    if m and _month_word(m[1]) and (m[3] is None or _month_word(m[3])):
        rest = m[5] or ""
        return None if _time_count(rest) else (f"{m[1]} {m[2]}{rest}",
                                                f"{m[3] or m[1]} {m[4]}{rest}")
    m = _DAYS_MONTH_RE.fullmatch(cleaned)
    if m and _month_word(m[3]):
        rest = m[4] or ""
        return None if _time_count(rest) else (f"{m[1]} {m[3]}{rest}", f"{m[2]} {m[3]}{rest}")
    return None


def _clock_and_zones(raw: str, half: str, abbreviations: Mapping[str, str]
                     ) -> tuple[time, list[Zone]]:
    """A time of day with no date, and the zones written beside it."""
    scan = _scan(half, abbreviations)
    reading = scan.readings[0]
    if not scan.has_time:
        raise DateError(f"{_quote(raw)} is not a start and an end time; write it like "
                        f"{_DAILY_EXAMPLE}")
    if (scan.has_month_word or scan.weekday is not None or scan.day is not None
            or scan.year is not None or reading.month is not None):
        raise DateError(f"{_quote(raw)}: give the hours of each day without a date, like "
                        f"{_DAILY_EXAMPLE}")
    _, clock, _ = _dateutil_fields(half, reading, scan)
    if clock is None:
        raise DateError(f"{_quote(raw)} is not a start and an end time; write it like "
                        f"{_DAILY_EXAMPLE}")
    if scan.unknown:
        raise DateError(f"{_quote(raw)}: I don't know the time zone {scan.unknown[0]}; write an "
                        "IANA name like America/Los_Angeles, or a UTC offset like UTC-07:00")
    zones = list(scan.zones)
    if not zones and len(scan.place_zones) == 1:
        zones.append(_iana_zone(scan.place_zones[0], "written") or Zone(UTC, "UTC", "written"))
    return time(clock[0], clock[1], clock[2]), zones


def parse_daily_hours(text: str, *, field_zone: Zone,
                      abbreviations: Mapping[str, str] = NO_ABBREVIATIONS) -> DailyHours:
    """``9am – 1pm US/Pacific``, ``10am EDT to 2pm EDT``, ``09:00-13:00 CET``: the local
    start and end of each day's active hours; a zone written in either half is both's."""
    cleaned = _clean(text)
    m = _CLOCK_RANGE_RE.fullmatch(cleaned)
    if m:
        first, second = m[1], f"{m[2]}{m[3] or ''}"
    else:
        try:
            first, maybe = split_range(cleaned, abbreviations)
        except DateError:
            maybe = None
        if maybe is None:
            raise DateError(f"{_quote(text)} is not a start and an end time; write it like "
                            f"{_DAILY_EXAMPLE}")
        second = maybe
    start, zones = _clock_and_zones(text, first, abbreviations)
    end, more = _clock_and_zones(text, second, abbreviations)
    written = zones + more
    zone = _preferred(written) if written else field_zone
    if any(z.tz != zone.tz for z in written):
        raise DateError(f"{_quote(text)} names two time zones; give one, like "
                        f"{_DAILY_EXAMPLE}")
    if end <= start:
        raise DateError(f"{_quote(text)}: the hours must end after they start, on the same "
                        f"day; write them like {_DAILY_EXAMPLE}")
    return DailyHours(start, end, zone)


def sessions(start: datetime, end: datetime, daily: DailyHours | None
             ) -> tuple[Session, ...]:
    """The event's active time: one session, or each day's hours clipped to start..end."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("sessions need aware datetimes")
    if daily is None:
        return (Session(start.astimezone(UTC), end.astimezone(UTC)),)
    tz = daily.zone.tz
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    found: list[Session] = []
    while day <= last and len(found) < MAX_SESSIONS:
        opens = max(datetime.combine(day, daily.start, tzinfo=tz), start)
        closes = min(datetime.combine(day, daily.end, tzinfo=tz), end)
        if opens < closes:
            found.append(Session(opens.astimezone(UTC), closes.astimezone(UTC)))
        day += timedelta(days=1)
    return tuple(found)
