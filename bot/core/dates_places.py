"""What champions write beside a date to say where it is: a place in brackets
(``09:30 CET (Spain)``) and a time converter's link that carries the zone and time.

Pure: the places come from the tz database's own tables. Part of ``bot.core.dates``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

from .dates_zones import (
    _EXTRA_WEEKDAYS,
    Zone,
    _abbreviation_zone,
    _cities,
    _day_words,
    _quote,
    _zone_names,
    _zone_words,
)

# A place in brackets after the time: letters and a little punctuation, nothing nested.
PLACE_RE = re.compile(r"\(([A-Za-z][A-Za-z .,'-]{0,60})\)")
# A time converter's link that carries the zone, the day and the time: nothing else is read.
_LINK_RE = re.compile(
    r"<?(?:https?://)?(?:www\.)?arewemeetingyet\.com/([A-Za-z_]+(?:/[A-Za-z_+-]+){0,2})"
    r"/(\d{4}-\d{2}-\d{2})/(\d{1,2}:\d{2})(?:/[^\s>]*)?>?", re.I)
MAX_LINK_TEXT = 1000  # a converter link may carry a long title; it is read before the cap
_INFO = dateutil_parser.parserinfo()
_COUNTRY_ALIASES = MappingProxyType({"usa": "US", "u.s.a.": "US", "u.s.": "US", "uk": "GB"})


@lru_cache(maxsize=1)
def _countries() -> Mapping[str, tuple[str, ...]]:
    """``spain`` -> its zones, from the tz database's own country tables."""
    try:
        folder = resources.files("tzdata.zoneinfo")
        names = folder.joinpath("iso3166.tab").read_text("utf-8")
        zones = folder.joinpath("zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, OSError):  # no tzdata package: places settle by city only
        return MappingProxyType({})
    by_code: dict[str, list[str]] = {}
    for line in zones.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and not line.startswith("#") and parts[2] in _zone_names().values():
            by_code.setdefault(parts[0], []).append(parts[2])
    found = {alias: tuple(by_code.get(code, ())) for alias, code in _COUNTRY_ALIASES.items()}
    for line in names.splitlines():
        code, _, name = line.partition("\t")
        if not line.startswith("#") and name and code in by_code:
            found[name.strip().lower()] = tuple(by_code[code])
    return MappingProxyType(found)


def place_zones(place: str) -> tuple[str, ...]:
    """The zones a place written in brackets may be in: a city's own, or a country's; the
    first part that is one (``New Orleans, USA``: the USA's). Nothing known: ()."""
    for part in place.split(","):
        key = " ".join(part.split()).lower()
        city = _cities().get(key.replace(" ", "_"), ())
        if city:
            return city
        country = _countries().get(key, ())
        if country:
            return country
    return ()



def read_links(text: str) -> str:
    """Each converter link as the date, time and zone it carries (long text is left as is:
    the length check refuses it)."""
    if len(text) > MAX_LINK_TEXT:
        return text
    return _LINK_RE.sub(lambda m: f" {m[2]} {m[3]} {m[1]} ", text)


def is_place(words: str, abbreviations: Mapping[str, str]) -> bool:
    """Whether bracketed words name a place rather than a zone, a month or a weekday."""
    parts = re.findall(r"[A-Za-z]+", words)
    if any(_INFO.month(w.lower()) is not None or _INFO.weekday(w.lower()) is not None
           or w.lower() in _EXTRA_WEEKDAYS for w in parts):
        return False
    if place_zones(words):
        return True
    # "(IST)" is an abbreviation to settle or refuse as before, not a place to pass over
    return not (len(parts) == 1 and (parts[0].isupper() or _abbreviation_zone(
        parts[0], abbreviations, "written") is not None))


def place_note(place: str, zones_of_place: tuple[str, ...], written: bool, zone: Zone,
               at: datetime, settled: bool) -> str:
    """A place in brackets confirms the zone quietly; otherwise it is said, never an error."""
    if not place or settled or (written and not zones_of_place):
        return ""  # settled by it, or a place I don't know beside a zone written: nothing to say
    offsets = {at.astimezone(ZoneInfo(name)).utcoffset() for name in zones_of_place}
    if at.utcoffset() in offsets:
        return ""
    if not written and not zones_of_place:
        return (f"I don't know where {_quote(place)} is, so the time was read in "
                f"{_zone_words(zone)}; write the time zone to be sure.")
    if not written:
        return (f"{_quote(place)} has more than one time zone, so the time was read in "
                f"{_zone_words(zone)}; write the time zone to be sure.")
    return (f"{_quote(place)} is not on {_zone_words(zone)} on "
            f"{_day_words(at.date())}; the time was read in {_zone_words(zone)}, as written.")


