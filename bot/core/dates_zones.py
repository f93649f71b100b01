"""Time zones and abbreviations as champions write them, and how times are shown.

Pure: no I/O beyond zoneinfo reading the tz database. Part of ``bot.core.dates``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, available_timezones

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
# The generic US names: the zone itself, so daylight time is as the date has it.
US_ZONES: Mapping[str, str] = MappingProxyType({
    "ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
    "PT": "America/Los_Angeles", "EASTERN": "America/New_York", "CENTRAL": "America/Chicago",
    "MOUNTAIN": "America/Denver", "PACIFIC": "America/Los_Angeles",
})
_UTC_NAMES = frozenset({"utc", "z", "zulu", "etc/utc", "etc/uct", "uct", "etc/zulu", "universal",
                        "etc/universal", "gmt", "etc/gmt", "gmt0", "etc/gmt0", "greenwich",
                        "etc/greenwich", "gmt+0", "gmt-0", "etc/gmt+0", "etc/gmt-0"})
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EXTRA_WEEKDAYS = {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}

_TRANSLATE = {**dict.fromkeys(range(0x2010, 0x2016), "-"), 0x2212: "-",
              **dict.fromkeys((0xA0, 0x2007, 0x2009, 0x202F), " "),
              0x201C: '"', 0x201D: '"', 0x2018: "'", 0x2019: "'", ord("@"): " at "}
_FIELD_OFFSET_RE = re.compile(r"(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.I)
_CONFIG_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})")

_NAMED_OFFSET_RE = re.compile(
    r"(?<![A-Za-z/])(?:UTC|GMT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?![\d:])", re.I)
_BARE_OFFSET_RE = re.compile(r"([+-])(\d{2})(:?)(\d{2})(?![\d:])")
_TIME_BEFORE_RE = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_AMPM_BEFORE_RE = re.compile(r"(?<![A-Za-z])[ap]\.?m\.?\s*$", re.I)
_ZULU_RE = re.compile(r"(?<=\d)Z(?![A-Za-z])")
_IANA_RE = re.compile(r"(?<![\w/])[A-Za-z][\w+-]*(?:/[A-Za-z][\w+-]*)+")


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


def _quote(text: str) -> str:
    """What was written, safe to show: one short line of inline code (nothing in it renders)."""
    return quote(str(text)[:300], 60)


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
    if upper in US_ZONES:
        return _iana_zone(US_ZONES[upper], source)
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
    zone = _abbreviation_zone(re.sub(r"(?i) time$", "", written), abbreviations, source)
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


def _mask(text: str, start: int, end: int, replacement: str = " ") -> str:
    return text[:start] + replacement + text[end:]


def _take_zones(raw: str, text: str, iso_t: bool, zones: list[Zone]) -> str:
    """Take written offsets and IANA names out of ``text`` into ``zones``."""
    while m := _NAMED_OFFSET_RE.search(text):
        minutes = _offset_minutes(m[1], m[2], m[3])
        if minutes is None:
            raise DateError(f"{_quote(raw)}: {_quote(m[0])} is not a UTC offset; offsets run from "
                            "UTC-12:00 to UTC+14:00")
        zones.append(_offset_zone(minutes, "written"))
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
        zones.append(_offset_zone(minutes, "written"))
        text = _mask(text, m.start(), m.end())
    while m := _ZULU_RE.search(text):
        zones.append(_utc_zone("written"))
        text = _mask(text, m.start(), m.end())
    while m := _IANA_RE.search(text):
        if re.fullmatch(r"Etc/GMT[+-]\d+", m[0], re.I):
            raise _reversed_sign(raw, m[0])
        zone = _iana_zone(m[0], "written")
        if zone is None:
            raise DateError(f"{_quote(raw)}: {_quote(m[0])} is not a time zone I know; write "
                            "an IANA name like America/Chicago")
        zones.append(zone)
        text = _mask(text, m.start(), m.end())
    return text


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
