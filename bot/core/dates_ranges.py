"""A start and an end in one text (``/reschedule``), and a start and end pair read together.

Pure. Part of ``bot.core.dates``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from .dates_one import (
    _FILLERS,
    _RANGE_WORDS_RE,
    When,
    _dateutil_fields,
    _Scan,
    _scan,
    _times,
    parse_when,
)
from .dates_zones import MAX_LENGTH, NO_ABBREVIATIONS, DateError, Zone, _quote

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


