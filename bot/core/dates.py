"""Dates and times as champions write them -> aware datetimes, or a DateError saying why.

The public face of four modules, one per concern: ``dates_zones`` (time zones and
abbreviations, and showing times), ``dates_places`` (places in brackets and converter
links), ``dates_one`` (one date and time) and ``dates_ranges`` (a start and an end
together, daily hours and sessions).
"""

from __future__ import annotations

from .dates_one import When, parse_when
from .dates_ranges import (
    DailyHours,
    Session,
    parse_daily_hours,
    parse_window,
    sessions,
    split_days,
    split_field,
    split_range,
)
from .dates_zones import (
    EXAMPLE,
    KNOWN_ABBREVIATIONS,
    MAX_LENGTH,
    NO_ABBREVIATIONS,
    DateError,
    Zone,
    format_local,
    format_utc,
    resolve_zone_field,
)

__all__ = [
    "DailyHours", "Session", "parse_daily_hours", "sessions", "split_days", "split_field",
    "EXAMPLE", "KNOWN_ABBREVIATIONS", "MAX_LENGTH", "NO_ABBREVIATIONS", "DateError", "When",
    "Zone", "format_local", "format_utc", "parse_when", "parse_window", "resolve_zone_field",
    "split_range",
]
