# Over 400 lines: one lexer pass and the cross-checks on it, each beside what it checks.
"""One date and time as written -> an aware datetime, or a DateError saying why.

Pure: no clock of its own (a year-less date is "the next such date" after the time the
caller passes in) and no I/O beyond zoneinfo reading the tz database. dateutil's parser
reads the words and builds the values, but only after this module has
- taken out every zone itself (dateutil reads ``GMT+3`` the POSIX way, as UTC-3, and
  shrugs at unknown names),
- checked every remaining word against a short vocabulary, so nothing that changes the
  meaning is silently skipped,
- settled the day/month order of numeric dates (``03/04/2026``) itself, and
- cross-checked what dateutil found against what was written.
Every failure is a ``DateError`` whose text quotes what was written: never a silent guess.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

from .dates_places import PLACE_RE, is_place, place_note, place_zones, read_links
from .dates_zones import (
    _EXTRA_WEEKDAYS,
    _MONTHS,
    _TRANSLATE,
    _WEEKDAYS,
    EXAMPLE,
    MAX_LENGTH,
    NO_ABBREVIATIONS,
    DateError,
    Zone,
    _abbreviation_zone,
    _day_words,
    _iana_zone,
    _localize,
    _mask,
    _note,
    _quote,
    _take_zones,
    _zone_words,
)

_FILLERS = frozenset({"at", "on", "of"})  # dateutil skips these, and they change nothing
_DROPPED = frozenset({"the", "local", "time", "hrs"})  # "9am local time": the zone we use anyway
_INFO = dateutil_parser.parserinfo()
# Two defaults that differ in every field: a field dateutil fills from the default was not
# written. Leap years, so a year-less 29 February still parses.
_DEFAULT_A = datetime(2000, 1, 1, 0, 0)
_DEFAULT_B = datetime(2004, 2, 2, 1, 0)

_NOON_RE = re.compile(r"(?<![\w:])(?:12\s*)?(noon|midday|midnight)\b", re.I)
_TIME_RE = re.compile(
    r"""(?<![\w:.])(?:
        \d{1,2}(?::\d{2}(?::\d{2})?)?\s*[ap]\.?\s?m\b\.?        # 9am, 9:30 p.m.
      | \d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?![\d:])       # 09:00, 14:30:15
      | \d{1,2}h(?:\d{2})?\b                                   # 14h30, 9h
    )""", re.X | re.I)
_NUMERIC_DATE_RE = re.compile(
    r"(?<![\w:./+-])(\d{1,4})([-/.])(\d{1,2})(?:\2(\d{1,4}))?(?![\w:]|[-/.]\d)")
_TOKEN_RE = re.compile(r"\d+(?:st|nd|rd|th)?(?![A-Za-z\d])|[A-Za-z]+|\d+[A-Za-z]+|\S")
_COMPACT_TIME_RE = re.compile(r"(?<![\w:.])(\d{1,2})(\d{2})(?=\s*[ap]\.?\s?m\b)", re.I)
_RANGE_WORDS_RE = re.compile(r"\s(?:to|until|till|til|through|thru)\s", re.I)
# Stand-ins for the time and the numeric date while the words are checked: control
# characters, which _normalize has already refused in the text itself.
_TIME_MARK, _DATE_MARK = "\x01", "\x02"


@dataclass(frozen=True)
class When:
    at: datetime  # aware, in ``zone.tz``
    zone: Zone  # the zone the text was read in (a written zone wins over the field)
    note: str = ""  # a caveat worth showing the champion, e.g. "EST" written in July

    @property
    def utc(self) -> datetime:
        return self.at.astimezone(UTC)


# --- reading one date and time ----------------------------------------------------------

@dataclass(frozen=True)
class _Reading:
    body: str  # what dateutil reads: no zones, no weekday, numeric dates spelled out
    month: int | None  # as the lexer saw it (None: from a month word, checked by dateutil)
    day: int | None
    year: int | None
    words: str  # how this reading is said in an error ("4 March 2026")


@dataclass
class _Scan:
    """What the lexer found in the text, before any value is built."""

    zones: list[Zone] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # abbreviation-like words, settled later
    weekday: int | None = None
    has_time: bool = False
    midnight: bool = False
    has_month_word: bool = False
    day: int | None = None
    year: int | None = None
    readings: list[_Reading] = field(default_factory=list)
    place: str = ""  # a place written in brackets ("Spain"), if any
    place_zones: tuple[str, ...] = ()  # the zones it may be in


def _unreadable(text: str) -> DateError:
    return DateError(f"{_quote(text)} is not a date and time I can read; "
                     f"write it like {EXAMPLE}")


def _normalize(text: str, limit: int = MAX_LENGTH) -> str:
    if not isinstance(text, str):
        raise DateError(f"no date and time given; write it like {EXAMPLE}")
    text = read_links(text)
    if len(text) > limit:
        raise DateError(f"{_quote(text)} is too long to be a date and time; "
                        f"write it like {EXAMPLE}")
    cleaned = " ".join(unicodedata.normalize("NFKC", text).translate(_TRANSLATE).split())
    if not cleaned:
        raise DateError(f"no date and time given; write it like {EXAMPLE}")
    if len(cleaned) > limit or not cleaned.isascii() or not cleaned.isprintable():
        raise _unreadable(text)
    return cleaned


def _times(raw: str, scan: _Scan, limit: int = MAX_LENGTH,
           abbreviations: Mapping[str, str] = NO_ABBREVIATIONS
           ) -> tuple[str, list[re.Match[str]]]:
    """The text with its zones taken out into ``scan``, and the times of day written in it."""
    text = _normalize(raw, limit)
    iso_t = re.search(r"(?<=\d)[Tt](?=\d)", text) is not None
    text = re.sub(r"(?<=\d)[Tt](?=\d)", " ", text)
    text = _take_zones(raw, text, iso_t, scan.zones)

    def place(m: re.Match[str]) -> str:
        if not is_place(m[1], abbreviations):
            return m[0]
        if scan.place:  # two places: neither settles anything
            scan.place_zones = ()
        else:
            scan.place, scan.place_zones = " ".join(m[1].split()), place_zones(m[1])
        return " "

    text = PLACE_RE.sub(place, text)
    text = _COMPACT_TIME_RE.sub(r"\1:\2", text)  # "930am"
    text = re.sub(r"\d{1,2}\.\d{2}(?=\s*[ap]\.?\s?m\b)", lambda m: m[0].replace(".", ":"),
                  text, flags=re.I)  # "9.30am", as written in Britain

    def noon(m: re.Match[str]) -> str:
        scan.midnight = scan.midnight or m[1].lower() == "midnight"
        return " 00:00 " if m[1].lower() == "midnight" else " 12:00 "

    text = _NOON_RE.sub(noon, text)
    return text, list(_TIME_RE.finditer(text))


def _scan(raw: str, abbreviations: Mapping[str, str]) -> _Scan:
    """Find the zones, the weekday, the time and the date's parts, checking every word."""
    scan = _Scan()
    text, times = _times(raw, scan, abbreviations=abbreviations)
    if len(times) > 1:
        raise DateError(f"{_quote(raw)} holds more than one time; give one date and time here "
                        "(the start and the end each have a field of their own)")
    scan.has_time = bool(times)
    checked = text
    if times:
        checked = _mask(text, times[0].start(), times[0].end(), f" {_TIME_MARK} ")

    groups = list(_NUMERIC_DATE_RE.finditer(checked))
    if len(groups) > 1:
        raise _unreadable(raw)
    group = groups[0] if groups else None
    if group:
        checked = _mask(checked, group.start(), group.end(), f" {_DATE_MARK} ")

    body_parts: list[str] = []  # the text dateutil will read; the numeric date still marked
    for token in _TOKEN_RE.finditer(checked):
        t = token[0]
        word = t.lower()
        if t in (_TIME_MARK, _DATE_MARK):
            body_parts.append(times[0][0] if t == _TIME_MARK else _DATE_MARK)
        elif t[0].isdigit():
            _take_number(raw, t, scan)
            body_parts.append(t)
        elif t.isalpha() and _INFO.month(word) is not None:
            if scan.has_month_word:
                raise _unreadable(raw)
            scan.has_month_word = True
            body_parts.append(t)
        elif t.isalpha() and (_INFO.weekday(word) is not None or word in _EXTRA_WEEKDAYS):
            if scan.weekday is not None:
                raise _unreadable(raw)
            wd = _INFO.weekday(word)
            scan.weekday = wd if wd is not None else _EXTRA_WEEKDAYS[word]
        elif word in _FILLERS or t in (",", ".", "-", "/"):
            body_parts.append(t)
        elif word in _DROPPED or t in ("(", ")"):
            continue
        elif t.isalpha() and (zone := _abbreviation_zone(t, abbreviations, "written")):
            scan.zones.append(zone)
        elif t.isalpha() and len(t) <= 6:
            scan.unknown.append(t)  # may be the field zone's own name: settled once we know when
        else:
            raise _unreadable(raw)
    body = " ".join(body_parts)
    if group and (scan.has_month_word or scan.day is not None or scan.year is not None):
        raise _unreadable(raw)
    scan.readings = _readings(raw, body, group, scan)
    return scan


def _take_number(raw: str, token: str, scan: _Scan) -> None:
    m = re.fullmatch(r"(\d+)(st|nd|rd|th)?", token, re.I)
    if m is None:
        raise _unreadable(raw)
    digits = m[1]
    if len(digits) == 4 and digits == token and scan.year is None:
        scan.year = int(digits)
    elif len(digits) <= 2 and scan.day is None and 1 <= int(digits) <= 31:
        scan.day = int(digits)
    elif len(digits) == 2 and scan.day is not None and scan.year is None and scan.has_month_word:
        raise DateError(f"{_quote(raw)}: write the year in full, like 2026")
    else:
        raise _unreadable(raw)


def _readings(raw: str, body: str, group: re.Match[str] | None, scan: _Scan) -> list[_Reading]:
    """One reading per way the date can be read; two only for a numeric date like 03/04."""
    if group is None:
        return [_Reading(body, None, scan.day, scan.year, "")]
    a, b, c = group[1], group[3], group[4]
    if len(a) == 4:  # year first (2026-03-04, 2026/03/04) is always year, month, day
        if c is None or len(c) > 2:
            raise _unreadable(raw)
        pairs: list[tuple[int, int]] = [(int(b), int(c))]
        year: int | None = int(a)
    elif len(a) > 2 or (c is not None and len(c) != 4):
        if c is not None and len(c) <= 2:
            raise DateError(f"{_quote(raw)}: write the year in full, like 2026")
        raise _unreadable(raw)
    else:
        year = int(c) if c is not None else None
        x, y = int(a), int(b)
        pairs = [(x, y)] + ([(y, x)] if x != y else [])  # month/day, then day/month
        pairs = [(m, d) for m, d in pairs if 1 <= m <= 12 and 1 <= d <= 31]
        if not pairs:
            raise _unreadable(raw)
    out = []
    for month, day in pairs:
        spelled = f"{_MONTHS[month - 1][:3]} {day} {year if year is not None else ''}"
        words = f"{day} {_MONTHS[month - 1]}" + (f" {year}" if year is not None else "")
        out.append(_Reading(body.replace(_DATE_MARK, spelled), month, day, year, words))
    return out


@lru_cache(maxsize=4096)
def _dateutil_parse(body: str, default: datetime) -> datetime:
    # Pure and slow (a tenth of a millisecond), and every sync reads a request's dates again.
    parsed: datetime = dateutil_parser.parse(body, default=default)
    return parsed


def _dateutil_fields(raw: str, reading: _Reading, scan: _Scan
                     ) -> tuple[date | None, tuple[int, int, int, int] | None, bool]:
    """(date or None, (h, m, s, us) or None, year written) — dateutil's reading, cross-checked."""
    body = reading.body.strip(" ,-/")
    if not body:
        raise _unreadable(raw)
    try:
        a = _dateutil_parse(body, _DEFAULT_A)
        b = _dateutil_parse(body, _DEFAULT_B)
    except (ValueError, OverflowError):
        month = reading.month
        if month is None and scan.has_month_word:
            month = next((i for w in body.split() if (i := _INFO.month(w.lower())) is not None),
                         None)
        if month and reading.day and reading.day > calendar.monthrange(
                reading.year or 2000, month)[1]:
            raise DateError(f"{_quote(raw)}: there is no {reading.day} {_MONTHS[month - 1]}"
                            + (f" {reading.year}" if reading.year else "")) from None
        raise _unreadable(raw) from None
    year_given, month_given = a.year == b.year, a.month == b.month
    day_given, hour_given = a.day == b.day, a.hour == b.hour
    if day_given != (reading.day is not None):
        raise _unreadable(raw)
    written_date = reading.month is not None or scan.has_month_word
    if (hour_given != scan.has_time or month_given != written_date
            or (day_given and a.day != reading.day)
            or year_given != (reading.year is not None)
            or (year_given and a.year != reading.year)):
        raise _unreadable(raw)  # dateutil read something the lexer did not: not a guess we take
    if month_given and not day_given:
        raise DateError(f"{_quote(raw)} has no day of the month; write it like {EXAMPLE}")
    clock = (a.hour, a.minute, a.second, a.microsecond) if hour_given else None
    if not month_given:
        return None, clock, False
    return date(a.year, a.month, a.day), clock, year_given


def _next_such_date(on: date, ref: date) -> date | None:
    """The first date with ``on``'s month and day that is on or after ``ref``."""
    for year in range(ref.year, ref.year + 9):  # 29 February can be eight years away
        if on.day <= calendar.monthrange(year, on.month)[1] and (
                candidate := date(year, on.month, on.day)) >= ref:
            return candidate
    return None


def _preferred(zones: list[Zone]) -> Zone:
    """Of several zones written, the one that says most: an IANA name, then an abbreviation."""
    for zone in zones:
        if isinstance(zone.tz, ZoneInfo):
            return zone
    for zone in zones:
        if zone.abbreviation:
            return zone
    return zones[0]


def parse_when(text: str, *, field_zone: Zone, opened_at: datetime,
               abbreviations: Mapping[str, str] = NO_ABBREVIATIONS,
               after: datetime | None = None,
               date_only: time | Literal["whole day", "end of day"] | None = None) -> When:
    """One date and time as written -> When; anything unclear is a DateError quoting ``text``.

    ``opened_at`` (when the issue was opened) anchors a year-less date: the next such date on
    or after that day. For an end, ``after`` is the start: a year-less date is the next such
    date on or after the start's day, and a time alone falls on the start's local date (the
    next day when that would be before the start).

    A date with no time is at ``date_only`` on that day (the start of the daily hours), at
    its start for "whole day" or the midnight that ends it for "end of day"; with None it
    is a DateError.
    """
    if opened_at.tzinfo is None or (after is not None and after.tzinfo is None):
        raise ValueError("opened_at and after must be aware datetimes")
    scan = _scan(text, abbreviations)
    place_zone = (_iana_zone(scan.place_zones[0], "written")
                  if len(scan.place_zones) == 1 and not scan.zones else None)
    zone = _preferred(scan.zones) if scan.zones else (place_zone or field_zone)
    ref = after if after is not None else opened_at
    ref_day = ref.astimezone(zone.tz).date()
    if not scan.has_time and not any(r.month or r.day or r.year for r in scan.readings) \
            and not scan.has_month_word:
        raise _unreadable(text)

    candidates: list[tuple[datetime, str]] = []
    untimed = False
    for reading in scan.readings:
        day, clock, year_given = _dateutil_fields(text, reading, scan)
        if clock is None and day is not None and date_only is not None:
            at_time = date_only if isinstance(date_only, time) else time(0)
            clock = (at_time.hour, at_time.minute, 0, 0)
            untimed = True
        if clock is None:
            raise DateError(f"{_quote(text)} has a date but no time; give a time too, "
                            f"like {EXAMPLE}")
        if day is None:
            if scan.weekday is not None:
                raise DateError(f"{_quote(text)}: which {_WEEKDAYS[scan.weekday]}? "
                                f"give the date too, like {EXAMPLE}")
            if after is None:
                raise DateError(f"{_quote(text)} has a time but no date; give the date too, "
                                f"like {EXAMPLE}")
            naive = datetime.combine(after.astimezone(zone.tz).date(), datetime.min.time())
            naive = naive.replace(hour=clock[0], minute=clock[1], second=clock[2],
                                  microsecond=clock[3])
            if naive.replace(tzinfo=zone.tz) < after:
                naive += timedelta(days=1)
            candidates.append((naive, ""))
            continue
        if scan.midnight:
            raise DateError(f"{_quote(text)}: midnight on a date reads two ways (the start or "
                            "the end of that day); write 00:00 or 23:59 instead")
        if not year_given:
            resolved = _next_such_date(day, ref_day)
            if resolved is None:
                raise _unreadable(text)
            day = resolved
        if not 1970 <= day.year <= 2200:
            raise DateError(f"{_quote(text)}: {day.year} is not a year I can plan for")
        naive = datetime(day.year, day.month, day.day, *clock)
        if untimed and date_only == "end of day":
            naive += timedelta(days=1)  # the whole day: it ends at the next midnight
        candidates.append((naive, reading.words))

    if len(candidates) > 1:
        later = [c for c in candidates if c[0].date() >= ref_day]
        if len(later) != 1:
            shown = " or ".join(words for _, words in candidates)
            raise DateError(f"{_quote(text)} reads two ways ({shown}); write the month as a "
                            f"word, like 1 Dec 2026 09:00, or write {EXAMPLE}")
        candidates = later
    naive = candidates[0][0]
    if scan.weekday is not None and naive.weekday() != scan.weekday:
        raise DateError(f"{_quote(text)}: {_day_words(naive.date())} is a "
                        f"{_WEEKDAYS[naive.weekday()]}, not a {_WEEKDAYS[scan.weekday]}")

    at = _localize(text, naive, zone)
    for other in scan.zones:
        if other is not zone and _localize(text, naive, other) != at:
            raise DateError(f"{_quote(text)} names two zones that disagree "
                            f"({_zone_words(zone)} and {_zone_words(other)}); give one")
    _settle_unknown(text, scan, zone, at)
    notes = [_note(zone, at), place_note(scan.place, scan.place_zones, bool(scan.zones), zone, at,
                                        place_zone is not None)]
    if untimed and date_only == "whole day":
        notes.append(f"{_quote(text)} has no time, so it is read as the whole day.")
    return When(at=at, zone=zone, note=" ".join(n for n in notes if n))


def _settle_unknown(text: str, scan: _Scan, zone: Zone, at: datetime) -> None:
    """An unknown abbreviation passes only when it is the set zone's own name at that time."""
    if not scan.unknown:
        return
    own = at.tzname() or ""
    names = {own.upper()}
    if re.fullmatch(r"[A-Z]{1,3}[SD]T", own):
        names.add(own[:-2] + "T")  # "ET" for EST/EDT, "CT", "PT"
    # a fixed offset has no name of its own to match, and the config default was not chosen
    # by the champion, so neither can vouch for the word
    settles = zone.source != "default" and isinstance(zone.tz, ZoneInfo)
    for word in scan.unknown:
        if settles and word.upper() in names:
            continue
        if not word.isupper() or len(word) < 2:
            raise _unreadable(text)
        if settles:
            raise DateError(f"{_quote(text)}: {word} is not what {zone.label} is called on "
                            f"{_day_words(at.date())} (it is {own} then); leave the "
                            "abbreviation out, or write the UTC offset you mean")
        raise DateError(f"{_quote(text)}: I don't know the time zone {word} (abbreviations like "
                        "it mean different things in different places); write a UTC offset "
                        "like +05:30 instead, or set the time zone field to the zone's IANA name "
                        "(such as Asia/Kolkata)")


