"""Dates and times as champions write them -> aware datetimes, or a DateError saying why.

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
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, available_timezones

from dateutil import parser as dateutil_parser

from .text import quote

MAX_LENGTH = 200  # a start box never needs more; longer text is refused before any work
EXAMPLE = "2026-12-01 09:00"
NO_ABBREVIATIONS: Mapping[str, str] = MappingProxyType({})

# Known abbreviations, each a fixed offset all year (EST is UTC-05:00 even in July), in minutes.
KNOWN_ABBREVIATIONS: Mapping[str, int] = MappingProxyType({
    "UTC": 0, "GMT": 0, "Z": 0,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360,
    "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480, "HST": -600,
    "WET": 0, "WEST": 60, "CET": 60, "CEST": 120, "EET": 120, "EEST": 180,
})
# Where each is local time, to warn when e.g. "EST" is written for a date New York is on EDT.
_REGIONS: Mapping[str, tuple[str, str]] = MappingProxyType({
    **dict.fromkeys(("EST", "EDT"), ("America/New_York", "US Eastern time")),
    **dict.fromkeys(("CST", "CDT"), ("America/Chicago", "US Central time")),
    **dict.fromkeys(("MST", "MDT"), ("America/Denver", "US Mountain time")),
    **dict.fromkeys(("PST", "PDT"), ("America/Los_Angeles", "US Pacific time")),
    **dict.fromkeys(("AKST", "AKDT"), ("America/Anchorage", "Alaska time")),
    **dict.fromkeys(("WET", "WEST"), ("Europe/Lisbon", "Western European time")),
    **dict.fromkeys(("CET", "CEST"), ("Europe/Paris", "Central European time")),
    **dict.fromkeys(("EET", "EEST"), ("Europe/Athens", "Eastern European time")),
})
_UTC_NAMES = frozenset({"utc", "z", "zulu", "etc/utc", "etc/uct", "uct", "etc/zulu", "universal",
                        "etc/universal", "gmt", "etc/gmt", "gmt0", "etc/gmt0", "greenwich",
                        "etc/greenwich", "gmt+0", "gmt-0", "etc/gmt+0", "etc/gmt-0"})
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EXTRA_WEEKDAYS = {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
_FILLERS = frozenset({"at", "on", "of"})  # dateutil skips these, and they change nothing
_DROPPED = frozenset({"the", "local", "time", "hrs"})  # "9am local time": the zone we use anyway
_INFO = dateutil_parser.parserinfo()
# Two defaults that differ in every field: a field dateutil fills from the default was not
# written. Leap years, so a year-less 29 February still parses.
_DEFAULT_A = datetime(2000, 1, 1, 0, 0)
_DEFAULT_B = datetime(2004, 2, 2, 1, 0)

_TRANSLATE = {**dict.fromkeys(range(0x2010, 0x2016), "-"), 0x2212: "-",
              **dict.fromkeys((0xA0, 0x2007, 0x2009, 0x202F), " "),
              0x201C: '"', 0x201D: '"', 0x2018: "'", 0x2019: "'", ord("@"): " at "}
_NAMED_OFFSET_RE = re.compile(
    r"(?<![A-Za-z/])(?:UTC|GMT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?![\d:])", re.I)
_BARE_OFFSET_RE = re.compile(r"([+-])(\d{2})(:?)(\d{2})(?![\d:])")
_TIME_BEFORE_RE = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_AMPM_BEFORE_RE = re.compile(r"(?<![A-Za-z])[ap]\.?m\.?\s*$", re.I)
_ZULU_RE = re.compile(r"(?<=\d)Z(?![A-Za-z])")
_IANA_RE = re.compile(r"(?<![\w/])[A-Za-z][\w+-]*(?:/[A-Za-z][\w+-]*)+")
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
_RANGE_WORDS_RE = re.compile(r"\s(?:to|until|till|til|through|thru)\s", re.I)
_FIELD_OFFSET_RE = re.compile(r"(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.I)
_CONFIG_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})")
_QUOTED_RE = re.compile(r'"([^"]*)"(?:\s*(?:to|-|;|,|\u2013|\u2014)?\s*"([^"]*)")?', re.I)
# Stand-ins for the time and the numeric date while the words are checked: control
# characters, which _normalize has already refused in the text itself.
_TIME_MARK, _DATE_MARK = "\x01", "\x02"


class DateError(ValueError):
    """What was written cannot be read as one date and time; ``str(e)`` is for the champion.

    ``field`` names the form field at fault ("start" or "end") when the caller knows it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Zone:
    """The zone an event is read in."""

    tz: tzinfo
    label: str  # IANA name ("America/Chicago"), offset text ("+05:30"), or "UTC"
    source: str  # "written" | "field" | "default"
    abbreviation: str = ""  # the abbreviation it was named by ("EST"), if any


@dataclass(frozen=True)
class When:
    at: datetime  # aware, in ``zone.tz``
    zone: Zone  # the zone the text was read in (a written zone wins over the field)
    note: str = ""  # a caveat worth showing the champion, e.g. "EST" written in July

    @property
    def utc(self) -> datetime:
        return self.at.astimezone(UTC)


# --- zones --------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _zone_names() -> Mapping[str, str]:
    """Lower-cased IANA name -> its spelling; ``Etc/GMT+5`` (which means UTC-5) left out."""
    return MappingProxyType({name.lower(): name for name in available_timezones()
                             if not re.fullmatch(r"Etc/GMT[+-]\d+", name)})


@lru_cache(maxsize=1)
def _cities() -> Mapping[str, tuple[str, ...]]:
    """``chicago`` -> ("America/Chicago",): lets the field say just the city."""
    found: dict[str, list[str]] = {}
    for name in _zone_names().values():
        if "/" in name and name.split("/")[0] in {"Africa", "America", "Antarctica", "Asia",
                                                  "Atlantic", "Australia", "Europe",
                                                  "Indian", "Pacific"}:
            found.setdefault(name.rsplit("/", 1)[1].lower(), []).append(name)
    return MappingProxyType({k: tuple(sorted(v)) for k, v in found.items()})


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _utc_zone(source: str) -> Zone:
    return Zone(UTC, "UTC", source)


def _offset_zone(minutes: int, source: str, abbreviation: str = "") -> Zone:
    if minutes == 0 and abbreviation in ("", "UTC", "Z"):
        return _utc_zone(source)
    name = abbreviation or f"UTC{_offset_text(minutes)}"
    label = "UTC" if minutes == 0 else _offset_text(minutes)
    return Zone(timezone(timedelta(minutes=minutes), name), label, source, abbreviation)


def _offset_minutes(sign: str, hours: str, minutes: str | None) -> int | None:
    """Minutes east of UTC, or None when it is no real offset (UTC-14:00 .. UTC+14:00)."""
    h, m = int(hours), int(minutes or 0)
    total = h * 60 + m
    if m >= 60 or total > 14 * 60:
        return None
    return -total if sign == "-" else total


def _iana_zone(name: str, source: str) -> Zone | None:
    key = name.strip().lower().replace(" ", "_")
    if key in _UTC_NAMES:
        return _utc_zone(source)
    spelled = _zone_names().get(key)
    return Zone(ZoneInfo(spelled), spelled, source) if spelled else None


def _abbreviation_zone(token: str, abbreviations: Mapping[str, str], source: str) -> Zone | None:
    """A known abbreviation: from config first (it may redefine CST), then the built-in list."""
    upper = token.upper()
    for abbr, value in abbreviations.items():
        if abbr.upper() != upper:
            continue
        m = _CONFIG_OFFSET_RE.fullmatch(value.strip())
        if m:
            minutes = _offset_minutes(m[1], m[2], m[3])
            if minutes is not None:
                return _offset_zone(minutes, source, upper)
        zone = _iana_zone(value, source)
        if zone is not None:
            return Zone(zone.tz, zone.label, source, upper)
        # config.py checks these values; one that slipped through is ignored, not guessed at
    if upper in KNOWN_ABBREVIATIONS:
        return _offset_zone(KNOWN_ABBREVIATIONS[upper], source, "" if upper == "Z" else upper)
    return None


def resolve_zone_field(text: str | None, default_zone: str,
                       abbreviations: Mapping[str, str] = NO_ABBREVIATIONS) -> Zone:
    """The form's timezone field -> a Zone; empty -> the config default (source "default").

    Accepts IANA names (any case, spaces for underscores), a city alone when only one zone
    has it (``Chicago``), UTC offsets (``UTC+2``, ``+05:30``, ``GMT-5``) and abbreviations.
    """
    if text is None or not text.strip():
        try:
            return _read_zone(default_zone, abbreviations, "default")
        except DateError:
            raise DateError(f"the configured default time zone {_quote(default_zone)} is "
                            "unknown") from None
    return _read_zone(text, abbreviations, "field")


def _read_zone(text: str, abbreviations: Mapping[str, str], source: str) -> Zone:
    written = _clean_zone_text(text)
    if re.fullmatch(r"Etc/GMT[+-]\d+", written, re.I):
        raise _reversed_sign(text, written)
    zone = _abbreviation_zone(written, abbreviations, source)
    if zone is None:
        m = _FIELD_OFFSET_RE.fullmatch(written)
        if m:
            minutes = _offset_minutes(m[1], m[2], m[3])
            if minutes is None:
                raise DateError(f"{_quote(text)} is not a UTC offset; offsets run from "
                                "UTC-12:00 to UTC+14:00")
            zone = _offset_zone(minutes, source)
    if zone is None:
        zone = _iana_zone(written, source)
    if zone is None:
        names = _cities().get(written.lower().replace(" ", "_"), ())
        if len(names) == 1:
            zone = _iana_zone(names[0], source)
        elif names:
            raise DateError(f"{_quote(text)} could be any of {', '.join(names)}; write one")
    if zone is None:
        raise DateError(f"{_quote(text)} is not a time zone I know; write an IANA name like "
                        "America/Chicago or Europe/Berlin, or a UTC offset like UTC-06:00")
    return zone


def _reversed_sign(text: str, name: str) -> DateError:
    flipped = name[7:].translate(str.maketrans("+-", "-+"))
    return DateError(f"{_quote(text)}: {name} means UTC{flipped} (these names reverse the "
                     f"sign); write UTC{flipped} if that is what you meant")


def _clean_zone_text(text: str) -> str:
    if len(text) > MAX_LENGTH:
        raise DateError(f"{_quote(text)} is too long to be a time zone")
    cleaned = " ".join(unicodedata.normalize("NFKC", text).translate(_TRANSLATE).split())
    cleaned = cleaned.strip("()[] ")
    if not cleaned.isascii() or not cleaned.isprintable():
        raise DateError(f"{_quote(text)} is not a time zone I know; write an IANA name like "
                        "America/Chicago")
    return cleaned


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


def _quote(text: str) -> str:
    """What was written, safe to show: one short line of inline code (nothing in it renders)."""
    return quote(str(text)[:300], 60)


def _unreadable(text: str) -> DateError:
    return DateError(f"{_quote(text)} is not a date and time I can read; "
                     f"write it like {EXAMPLE}")


def _normalize(text: str, limit: int = MAX_LENGTH) -> str:
    if not isinstance(text, str):
        raise DateError(f"no date and time given; write it like {EXAMPLE}")
    if len(text) > limit:
        raise DateError(f"{_quote(text)} is too long to be a date and time; "
                        f"write it like {EXAMPLE}")
    cleaned = " ".join(unicodedata.normalize("NFKC", text).translate(_TRANSLATE).split())
    if not cleaned:
        raise DateError(f"no date and time given; write it like {EXAMPLE}")
    if len(cleaned) > limit or not cleaned.isascii() or not cleaned.isprintable():
        raise _unreadable(text)
    return cleaned


def _mask(text: str, start: int, end: int, replacement: str = " ") -> str:
    return text[:start] + replacement + text[end:]


def _take_zones(raw: str, text: str, iso_t: bool, scan: _Scan) -> str:
    """Take written offsets and IANA names out of ``text`` into ``scan.zones``."""
    while m := _NAMED_OFFSET_RE.search(text):
        minutes = _offset_minutes(m[1], m[2], m[3])
        if minutes is None:
            raise DateError(f"{_quote(raw)}: {_quote(m[0])} is not a UTC offset; offsets run from "
                            "UTC-12:00 to UTC+14:00")
        scan.zones.append(_offset_zone(minutes, "written"))
        text = _mask(text, m.start(), m.end())
    pos = 0
    while m := _BARE_OFFSET_RE.search(text, pos):
        before = text[:m.start()]
        glued_to_time = _TIME_BEFORE_RE.search(before)
        standalone = not before or before[-1] in " (" or _AMPM_BEFORE_RE.search(before)
        if not (glued_to_time or standalone):
            pos = m.end()  # part of a date such as 12-01-2026
            continue
        has_seconds = glued_to_time is not None and glued_to_time[1] is not None
        if glued_to_time and m[1] == "-" and m[3] and not (iso_t or has_seconds):
            # "09:00-11:00": an offset, or a range? Either reading is a guess.
            raise DateError(f"{_quote(raw)} could be a time range or a time with a UTC offset; "
                            f"write a range as 09:00 to 11:00 and an offset as UTC{m[0]}")
        minutes = _offset_minutes(m[1], m[2], m[4])
        if minutes is None:
            raise DateError(f"{_quote(raw)}: {_quote(m[0])} is not a UTC offset; offsets run from "
                            "UTC-12:00 to UTC+14:00")
        scan.zones.append(_offset_zone(minutes, "written"))
        text = _mask(text, m.start(), m.end())
    while m := _ZULU_RE.search(text):
        scan.zones.append(_utc_zone("written"))
        text = _mask(text, m.start(), m.end())
    while m := _IANA_RE.search(text):
        if re.fullmatch(r"Etc/GMT[+-]\d+", m[0], re.I):
            raise _reversed_sign(raw, m[0])
        zone = _iana_zone(m[0], "written")
        if zone is None:
            raise DateError(f"{_quote(raw)}: {_quote(m[0])} is not a time zone I know; write "
                            "an IANA name like America/Chicago")
        scan.zones.append(zone)
        text = _mask(text, m.start(), m.end())
    return text


def _times(raw: str, scan: _Scan, limit: int = MAX_LENGTH
           ) -> tuple[str, list[re.Match[str]]]:
    """The text with its zones taken out into ``scan``, and the times of day written in it."""
    text = _normalize(raw, limit)
    iso_t = re.search(r"(?<=\d)[Tt](?=\d)", text) is not None
    text = re.sub(r"(?<=\d)[Tt](?=\d)", " ", text)
    text = _take_zones(raw, text, iso_t, scan)
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
    text, times = _times(raw, scan)
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


def _localize(raw: str, naive: datetime, zone: Zone) -> datetime:
    """``naive`` in ``zone``, refusing wall times that a DST change skips or repeats."""
    first = naive.replace(tzinfo=zone.tz, fold=0)
    second = naive.replace(tzinfo=zone.tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    back = first.astimezone(UTC).astimezone(zone.tz).replace(tzinfo=None)
    shown = f"{naive:%H:%M} on {_day_words(naive.date())}"
    if back != naive:
        raise DateError(f"{_quote(raw)}: {shown} does not exist in {zone.label} (the clocks "
                        "skip that hour); give a time outside it")
    one, two = (_offset_text(int(x.utcoffset().total_seconds()) // 60)  # type: ignore[union-attr]
                for x in (first, second))
    raise DateError(f"{_quote(raw)}: {shown} happens twice in {zone.label} (the clocks go "
                    f"back); write it with its offset: {naive:%H:%M} UTC{one} for the first, "
                    f"{naive:%H:%M} UTC{two} for the second")


def _zone_words(zone: Zone) -> str:
    return f"{zone.abbreviation} (UTC{zone.label})" if zone.abbreviation else zone.label


def _day_words(d: date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


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
               after: datetime | None = None) -> When:
    """One date and time as written -> When; anything unclear is a DateError quoting ``text``.

    ``opened_at`` (when the issue was opened) anchors a year-less date: the next such date on
    or after that day. For an end, ``after`` is the start: a year-less date is the next such
    date on or after the start's day, and a time alone falls on the start's local date (the
    next day when that would be before the start).
    """
    if opened_at.tzinfo is None or (after is not None and after.tzinfo is None):
        raise ValueError("opened_at and after must be aware datetimes")
    scan = _scan(text, abbreviations)
    zone = _preferred(scan.zones) if scan.zones else field_zone
    ref = after if after is not None else opened_at
    ref_day = ref.astimezone(zone.tz).date()
    if not scan.has_time and not any(r.month or r.day or r.year for r in scan.readings) \
            and not scan.has_month_word:
        raise _unreadable(text)

    candidates: list[tuple[datetime, str]] = []
    for reading in scan.readings:
        day, clock, year_given = _dateutil_fields(text, reading, scan)
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
    return When(at=at, zone=zone, note=_note(zone, at))


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


def _note(zone: Zone, at: datetime) -> str:
    """Say so when a fixed abbreviation is not what its region keeps on that date."""
    region = _REGIONS.get(zone.abbreviation)
    fixed = KNOWN_ABBREVIATIONS.get(zone.abbreviation)
    # only the built-in meaning: config may have made "CST" China Standard Time
    if region is None or fixed is None or at.utcoffset() != timedelta(minutes=fixed):
        return ""
    local = at.astimezone(ZoneInfo(region[0]))
    actual = local.tzname() or ""
    if actual == zone.abbreviation or actual not in _REGIONS:
        return ""
    offset = _offset_text(int(local.utcoffset().total_seconds()) // 60)  # type: ignore[union-attr]
    return (f"{zone.abbreviation} is UTC{_offset_text(fixed)} all year; on {_day_words(at.date())} "
            f"{region[1]} is {actual} (UTC{offset}). If you meant local time there, write "
            f"{actual} or set the timezone to {region[0]}.")


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


# --- showing times --------------------------------------------------------------------------

def _clock(dt: datetime) -> str:
    return f"{dt:%H:%M:%S}" if dt.second or dt.microsecond else f"{dt:%H:%M}"


def format_local(dt: datetime, zone: Zone) -> str:
    """``Tue 1 Dec 2026 09:00 CST`` (English names whatever the locale)."""
    if dt.tzinfo is None:
        raise ValueError("format_local needs an aware datetime")
    local = dt.astimezone(zone.tz)
    name = local.tzname() or ""
    if not name.isalpha():  # zones without a letter abbreviation: "-03" -> "UTC-03:00"
        offset = int(local.utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
        name = "UTC" if offset == 0 else f"UTC{_offset_text(offset)}"
    return (f"{_WEEKDAYS[local.weekday()][:3]} {local.day} {_MONTHS[local.month - 1][:3]} "
            f"{local.year} {_clock(local)} {name}")


def format_utc(dt: datetime) -> str:
    """``2026-12-01 15:00 UTC``."""
    if dt.tzinfo is None:
        raise ValueError("format_utc needs an aware datetime")
    utc = dt.astimezone(UTC)
    return f"{utc:%Y-%m-%d} {_clock(utc)} UTC"


@dataclass(frozen=True)
class Session:
    """One stretch of an event's active time (aware, UTC): a day's hours, or the whole."""

    start: datetime
    end: datetime
