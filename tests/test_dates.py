"""bot.dates: what champions type into the Start and End boxes, and what the bot makes of it."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.dates import (
    DateError,
    When,
    Zone,
    format_local,
    format_utc,
    parse_daily_hours,
    parse_when,
    parse_window,
    resolve_zone_field,
    split_field,
    split_range,
)

from .expect import assert_a_sentence_for_the_champion

OPENED = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)  # the issue's created_at, unless a case says
CONFIG_ABBREVIATIONS = {"IST": "Asia/Kolkata", "NPT": "+05:45", "CST": "America/Chicago"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def field(text: str | None, default: str = "UTC") -> Zone:
    return resolve_zone_field(text, default)


def when(text: str, tz_field: str | None = None, opened: datetime = OPENED,
         after: datetime | None = None, default: str = "UTC",
         abbreviations: dict[str, str] | None = None) -> When:
    return parse_when(text, field_zone=field(tz_field, default), opened_at=opened, after=after,
                      abbreviations=abbreviations or {})


# --- the forms people write, and the zone rules ------------------------------------------

@pytest.mark.parametrize(
    ("text", "tz_field", "expected_utc", "label", "source"),
    [
        # zone from nowhere: the config default (UTC here)
        ("2026-12-01 09:00", None, "2026-12-01 09:00", "UTC", "default"),
        ("2026-12-01T09:00", None, "2026-12-01 09:00", "UTC", "default"),
        ("2026-12-01 9:00", None, "2026-12-01 09:00", "UTC", "default"),
        ("2026/12/01 09:00", None, "2026-12-01 09:00", "UTC", "default"),
        ("2026.12.01 09:00", None, "2026-12-01 09:00", "UTC", "default"),
        ("Dec 1, 2026 9am", None, "2026-12-01 09:00", "UTC", "default"),
        ("Dec 1 2026 9 am", None, "2026-12-01 09:00", "UTC", "default"),
        ("Dec. 1, 2026, 9 a.m.", None, "2026-12-01 09:00", "UTC", "default"),
        ("December 1st, 2026 at 9:00am", None, "2026-12-01 09:00", "UTC", "default"),
        ("1st of December 2026 at 9:30 a.m.", None, "2026-12-01 09:30", "UTC", "default"),
        ("the 1st of December 2026 at 9am", None, "2026-12-01 09:00", "UTC", "default"),
        ("Dec 1ST 2026 9AM", None, "2026-12-01 09:00", "UTC", "default"),
        ("1 December 2026 14:30", None, "2026-12-01 14:30", "UTC", "default"),
        ("01-Dec-2026 09:00", None, "2026-12-01 09:00", "UTC", "default"),
        ("9:00 AM, Dec 1 2026", None, "2026-12-01 09:00", "UTC", "default"),
        ("Dec 1 2026 @ 9am", None, "2026-12-01 09:00", "UTC", "default"),
        ("Tuesday, December 1 2026 at 2pm", None, "2026-12-01 14:00", "UTC", "default"),
        ("Tue 1 Dec 2026 14:00", None, "2026-12-01 14:00", "UTC", "default"),
        ("Tues. Dec 1 2026 2 PM", None, "2026-12-01 14:00", "UTC", "default"),
        ("Dec 1 2026 9:00 PM", None, "2026-12-01 21:00", "UTC", "default"),
        ("Dec 1 2026 12pm", None, "2026-12-01 12:00", "UTC", "default"),
        ("Dec 1 2026 12am", None, "2026-12-01 00:00", "UTC", "default"),
        ("Dec 1 2026 noon", None, "2026-12-01 12:00", "UTC", "default"),
        ("Dec 1 2026 12 noon", None, "2026-12-01 12:00", "UTC", "default"),
        ("2026-12-01 14h30", None, "2026-12-01 14:30", "UTC", "default"),
        ("2026-12-01 9.30am", None, "2026-12-01 09:30", "UTC", "default"),
        ("2026-12-01 14:00 hrs", None, "2026-12-01 14:00", "UTC", "default"),
        ("2026-12-01 9:00 local time", None, "2026-12-01 09:00", "UTC", "default"),
        ("2026-12-01 09:00:30", None, "2026-12-01 09:00:30", "UTC", "default"),
        ("13/04/2026 9:00", None, "2026-04-13 09:00", "UTC", "default"),  # 13 is no month
        ("04/13/2026 9:00", None, "2026-04-13 09:00", "UTC", "default"),
        ("31/12/2026 23:00", None, "2026-12-31 23:00", "UTC", "default"),
        ("05/05/2026 10:00", None, "2026-05-05 10:00", "UTC", "default"),  # both readings agree
        ("２０２６-１２-０１ ９:００", None, "2026-12-01 09:00", "UTC", "default"),  # full-width
        ("2026-12-01\u202f9:00\u00a0AM", None, "2026-12-01 09:00", "UTC", "default"),
        # the timezone field's zone
        ("2026-12-01 09:00", "America/Chicago", "2026-12-01 15:00", "America/Chicago", "field"),
        ("2026-07-01 09:00", "America/Chicago", "2026-07-01 14:00", "America/Chicago", "field"),
        ("Dec 1 2026 9am", "Europe/Berlin", "2026-12-01 08:00", "Europe/Berlin", "field"),
        ("Dec 1 2026 9am", "UTC+5:30", "2026-12-01 03:30", "+05:30", "field"),
        ("Dec 1 2026 9am", "EST", "2026-12-01 14:00", "-05:00", "field"),
        # a zone written in the text wins over the field
        ("1 December 2026 14:30 CET", None, "2026-12-01 13:30", "+01:00", "written"),
        ("1 December 2026 14:30 CET", "America/Chicago", "2026-12-01 13:30", "+01:00",
         "written"),
        ("1 Dec 2026, 09:00 (CET)", None, "2026-12-01 08:00", "+01:00", "written"),
        ("2026-12-01T09:00-08:00", "Europe/Berlin", "2026-12-01 17:00", "-08:00", "written"),
        ("2026-12-01T09:00:00+05:30", None, "2026-12-01 03:30", "+05:30", "written"),
        ("2026-12-01 09:00:00-08:00", None, "2026-12-01 17:00", "-08:00", "written"),
        ("2026-12-01 09:00 -08:00", None, "2026-12-01 17:00", "-08:00", "written"),
        ("2026-12-01 09:00 +0100", None, "2026-12-01 08:00", "+01:00", "written"),
        ("2026-12-01T09:00:00.000Z", "America/Chicago", "2026-12-01 09:00", "UTC", "written"),
        ("2026-12-01 09:00Z", None, "2026-12-01 09:00", "UTC", "written"),
        ("2026-12-01 09:00 UTC", "America/Chicago", "2026-12-01 09:00", "UTC", "written"),
        ("DEC 1 2026 9AM utc", None, "2026-12-01 09:00", "UTC", "written"),
        ("2026-12-01 09:00 GMT", "Asia/Tokyo", "2026-12-01 09:00", "UTC", "written"),
        # "UTC+5:30" and "GMT-5" mean what people mean, not the POSIX reversal
        ("2026-12-01 09:00 UTC+5:30", None, "2026-12-01 03:30", "+05:30", "written"),
        ("2026-12-01 09:00 GMT-5", None, "2026-12-01 14:00", "-05:00", "written"),
        ("Dec 1 2026 9 am UTC -5", None, "2026-12-01 14:00", "-05:00", "written"),
        ("Dec 1 2026 9am (UTC-6)", None, "2026-12-01 15:00", "-06:00", "written"),
        ("2026-12-01 09:00 UTC\u22126", None, "2026-12-01 15:00", "-06:00", "written"),
        ("2026-12-01 9:00 America/Chicago", "Europe/Berlin", "2026-12-01 15:00",
         "America/Chicago", "written"),
        ("2026-12-01 9:00 america/new_york", None, "2026-12-01 14:00", "America/New_York",
         "written"),
        ("2026-12-01 9:00 US/Central", None, "2026-12-01 15:00", "US/Central", "written"),
        ("2026-12-01 09:00 CST America/Chicago", None, "2026-12-01 15:00", "America/Chicago",
         "written"),  # two zones that agree: the IANA name is kept
        ("1 Dec 2026 9:00 +01:00 CET", None, "2026-12-01 08:00", "+01:00", "written"),
        # every built-in abbreviation, each a fixed offset
        ("Feb. 16 2026 at 10 AM PST", None, "2026-02-16 18:00", "-08:00", "written"),
        ("2026-07-01 10:00 PDT", None, "2026-07-01 17:00", "-07:00", "written"),
        ("2026-12-01 10:00 EST", None, "2026-12-01 15:00", "-05:00", "written"),
        ("2026-07-01 10:00 EST", None, "2026-07-01 15:00", "-05:00", "written"),  # even in July
        ("2026-07-01 10:00 EDT", None, "2026-07-01 14:00", "-04:00", "written"),
        ("2026-12-01 10:00 CST", None, "2026-12-01 16:00", "-06:00", "written"),
        ("2026-07-01 10:00 CDT", None, "2026-07-01 15:00", "-05:00", "written"),
        ("2026-12-01 10:00 MST", None, "2026-12-01 17:00", "-07:00", "written"),
        ("2026-07-01 10:00 MDT", None, "2026-07-01 16:00", "-06:00", "written"),
        ("2026-12-01 10:00 AKST", None, "2026-12-01 19:00", "-09:00", "written"),
        ("2026-07-01 10:00 AKDT", None, "2026-07-01 18:00", "-08:00", "written"),
        ("2026-12-01 10:00 HST", None, "2026-12-01 20:00", "-10:00", "written"),
        ("2026-12-01 10:00 WET", None, "2026-12-01 10:00", "UTC", "written"),
        ("2026-07-01 10:00 WEST", None, "2026-07-01 09:00", "+01:00", "written"),
        ("2026-07-01 10:00 CEST", None, "2026-07-01 08:00", "+02:00", "written"),
        ("2026-12-01 10:00 EET", None, "2026-12-01 08:00", "+02:00", "written"),
        ("2026-07-01 10:00 EEST", None, "2026-07-01 07:00", "+03:00", "written"),
        ("2026-12-01 10:00 pst", None, "2026-12-01 18:00", "-08:00", "written"),
        # an abbreviation the field settles: it is the field zone's own name at that time
        ("2026-07-01 09:00 BST", "Europe/London", "2026-07-01 08:00", "Europe/London",
         "field"),
        ("2026-07-01 09:00 IST", "Asia/Kolkata", "2026-07-01 03:30", "Asia/Kolkata", "field"),
        ("2026-07-01 09:00 ist", "Asia/Kolkata", "2026-07-01 03:30", "Asia/Kolkata", "field"),
        ("2026-07-01 09:00 IST", "Europe/Dublin", "2026-07-01 08:00", "Europe/Dublin", "field"),
        ("2026-07-01 09:00 CT", "America/Chicago", "2026-07-01 14:00", "America/Chicago",
         "written"),  # the generic name of CST/CDT: the US zone itself
        ("2026-07-01 09:00 ET", "America/New_York", "2026-07-01 13:00", "America/New_York",
         "written"),
        # as a hub operator's champions write them
        ("June 2nd 2027, 1PM ET", None, "2027-06-02 17:00", "America/New_York", "written"),
        ("Jan 2nd 2027, 1PM ET", None, "2027-01-02 18:00", "America/New_York", "written"),
        ("Dec 1 2026 9am ET", "Europe/Paris", "2026-12-01 14:00", "America/New_York",
         "written"),
        ("2027-06-08 9am PT", None, "2027-06-08 16:00", "America/Los_Angeles", "written"),
        ("2027-12-08 9am pt", None, "2027-12-08 17:00", "America/Los_Angeles", "written"),
        ("2027-06-08 9am MT", None, "2027-06-08 15:00", "America/Denver", "written"),
        ("June 8 2027 9am Pacific", None, "2027-06-08 16:00", "America/Los_Angeles",
         "written"),
        ("June 8 2027 9am Eastern Time", None, "2027-06-08 13:00", "America/New_York",
         "written"),
        ("June 8 2027 9am Central", None, "2027-06-08 14:00", "America/Chicago", "written"),
        ("9/14/2027 9 AM Mountain", None, "2027-09-14 15:00", "America/Denver", "written"),
        ("Jan 3 2027 930am US/Central", None, "2027-01-03 15:30", "US/Central", "written"),
        ("Jan 3 2027 1030 pm UTC", None, "2027-01-03 22:30", "UTC", "written"),
        ("Mar 3, 2027, 09:30 CET (Spain)", None, "2027-03-03 08:30", "+01:00", "written"),
        ("Mar 3, 2027, 09:30 (Madrid)", None, "2027-03-03 08:30", "Europe/Madrid", "written"),
        ("Mar 3, 2027, 09:30 (Italy)", None, "2027-03-03 08:30", "Europe/Rome", "written"),
        ("Jun 3 2027 10am PT (Seattle)", None, "2027-06-03 17:00", "America/Los_Angeles",
         "written"),
        ("Jan 3 2027 1pm CST (New Orleans, USA)", None, "2027-01-03 19:00", "-06:00",
         "written"),
        ("https://arewemeetingyet.com/Europe/Madrid/2027-03-03/09:30/My-workshop", None,
         "2027-03-03 08:30", "Europe/Madrid", "written"),
        ("<https://www.arewemeetingyet.com/UTC/2027-03-03/09:30/" + "x" * 300 + ">", None,
         "2027-03-03 09:30", "UTC", "written"),
        ("2026-07-01 09:00 Asia/Kolkata IST", None, "2026-07-01 03:30", "Asia/Kolkata",
         "written"),  # a written IANA name settles it too
    ],
)
def test_reads_what_people_write(text: str, tz_field: str | None, expected_utc: str,
                                 label: str, source: str) -> None:
    result = when(text, tz_field)
    assert result.utc == utc(expected_utc)
    assert result.at.tzinfo is not None
    assert (result.zone.label, result.zone.source) == (label, source)


@pytest.mark.parametrize(
    ("text", "tz_field", "fragment"),
    [
        ("next Tuesday-ish", None, '`next Tuesday-ish` is not a date and time I can read; '
                                   "write it like 2026-12-01 09:00"),
        ("TBD", None, "not a date and time I can read"),
        ("tomorrow 9am", None, "not a date and time I can read"),
        ("Dec 1 2026 9am ish", None, "not a date and time I can read"),
        ("Dec 1 2026 9am?", None, "not a date and time I can read"),
        ("about 9am Dec 1 2026", None, "not a date and time I can read"),
        ("1 décembre 2026 9:00", None, "not a date and time I can read"),
        ("20261201T0900", None, "not a date and time I can read"),
        ("2026-12-01 0900", None, "not a date and time I can read"),
        ("2026-12-01 09", None, "not a date and time I can read"),  # a bare hour
        ("Dec 1 2026 9", None, "not a date and time I can read"),
        ("Dec 1 2026 13:00 pm", None, "not a date and time I can read"),
        ("2026-12-01 24:00", None, "not a date and time I can read"),
        ("Dec 1 2026 9:61", None, "not a date and time I can read"),
        ("Dec Jan 1 2026 9am", None, "not a date and time I can read"),
        ("1/2/3/4 9am", None, "not a date and time I can read"),
        ("2026-12-01 2026-12-02 9am", None, "not a date and time I can read"),
        # no time, no date, no day
        ("Dec 1 2026", None, '`Dec 1 2026` has a date but no time; give a time too'),
        ("2026-12-01", None, "give a time too"),
        ("9am", None, '`9am` has a time but no date; give the date too'),
        ("noon", None, "give the date too"),
        ("Tuesday 9am", None, "which Tuesday? give the date too"),
        ("Dec 2026 9am", None, "has no day of the month"),
        # two-digit years and impossible dates
        ("12/1/26 9am", None, "write the year in full, like 2026"),
        ("Dec 1 26 9am", None, "write the year in full"),
        ("Feb 30 2026 9am", None, "there is no 30 February 2026"),
        ("04/31/2026 9am", None, "there is no 31 April 2026"),
        ("Dec 1 1066 9am", None, "1066 is not a year I can plan for"),
        # a weekday that does not match the date
        ("Wednesday, December 1 2026 at 2pm", None,
         "1 December 2026 is a Tuesday, not a Wednesday"),
        ("Mon, 01 Dec 2026 09:00:00 GMT", None, "is a Tuesday, not a Monday"),
        # midnight on a date could be either end of the day
        ("Dec 1 2026 midnight", None, "midnight on a date reads two ways"),
        # a range in one box, or an offset that could be a range
        ("Dec 1 2026 9am - 11am", None, "holds more than one time"),
        ("December 1, 2026 9:00 AM \u2013 11:00 AM", None, "holds more than one time"),
        ("Dec 1 2026 noon 1pm", None, "holds more than one time"),
        ("Dec 1 2026 9am 11am", None, "the start and the end each have a field of their own"),
        ("2026-12-01 09:00-11:00", None, "could be a time range or a time with a UTC offset"),
        # zones: unknown abbreviations, names, offsets
        ("Dec 1 2026 9am IST", None, "I don't know the time zone IST"),
        ("Dec 1 2026 9am BST", None, "I don't know the time zone BST"),
        ("Dec 1 2026 9am XT", None, "I don't know the time zone XT"),
        ("Dec 1 2026 9am (IST)", None, "I don't know the time zone IST"),
        ("Dec 1 2027 9am (Tuesday)", None, "is a Wednesday, not a Tuesday"),
        ("Dec 1 2027 9am (or 10am)", None, "more than one time"),
        ("Jan 3 2027 975am UTC", None, "is not a date and time I can read"),
        ("April 8, 2027", None, "has a date but no time"),  # unless the caller says the time
        ("https://arewemeetingyet.com/Europe/Nowhere/2027-03-03/09:30/x", None,
         "is not a time zone I know"),
        ("https://arewemeetingyet.com/UTC/2027-03-03/09:30/x 10am", None, "more than one time"),
        ("Dec 1 2026 9am TBD", None, "I don't know the time zone TBD"),
        ("Dec 1 2026 9am IST", None, "or set the time zone field to the zone's IANA name"),
        ("Dec 1 2026 9am IST", "UTC+5:30", "I don't know the time zone IST"),
        ("2026-07-01 09:00 +05:30 IST", None, "I don't know the time zone IST"),
        ("2026-12-01 09:00 BST", "Europe/London", "BST is not what Europe/London is called on "
                                                  "1 December 2026 (it is GMT then)"),
        ("2026-07-01 09:00 IST", "Asia/Tokyo", "IST is not what Asia/Tokyo is called"),
        ("2026-12-01 9:00 Mars/Olympus", None, "`Mars/Olympus` is not a time zone I know"),
        ("2026-12-01 9:00 Etc/GMT+5", None, "Etc/GMT+5 means UTC-5 (these names reverse"),
        ("2026-12-01 09:00 +15:00", None, "`+15:00` is not a UTC offset"),
        ("2026-12-01 09:00 UTC+15", None, "is not a UTC offset"),
        ("2026-07-01 09:00 CST America/Chicago", None,
         "names two zones that disagree (America/Chicago and CST (UTC-06:00))"),
        # clocks changing (America/Chicago, 2026: forward 8 March, back 1 November)
        ("2026-03-08 02:30", "America/Chicago", "02:30 on 8 March 2026 does not exist in "
                                                "America/Chicago"),
        ("2026-11-01 01:30", "America/Chicago", "01:30 on 1 November 2026 happens twice in "
                                                "America/Chicago"),
        ("2026-11-01 01:30", "America/Chicago", "01:30 UTC-05:00 for the first, 01:30 UTC-06:00 "
                                                "for the second"),
        ("2026-03-29 02:30", "Europe/Berlin", "does not exist in Europe/Berlin"),
    ],
)
def test_refuses_to_guess(text: str, tz_field: str | None, fragment: str) -> None:
    with pytest.raises(DateError) as caught:
        when(text, tz_field)
    assert fragment in str(caught.value)
    assert caught.value.field is None  # parse_when does not know the form field


def test_error_quotes_what_was_written() -> None:
    with pytest.raises(DateError) as caught:
        when("sometime in the spring")
    assert str(caught.value).startswith('`sometime in the spring`')


def test_dst_offset_written_resolves_the_repeated_hour() -> None:
    # what the error message suggests is read back without a question
    first = when("2026-11-01 01:30 UTC-05:00", "America/Chicago")
    second = when("2026-11-01 01:30 UTC-06:00", "America/Chicago")
    assert second.utc - first.utc == timedelta(hours=1)
    assert when("2026-11-01T01:30-05:00", "America/Chicago").utc == first.utc
    assert when("2026-11-01 01:30 -06:00", "America/Chicago").utc == second.utc


@pytest.mark.parametrize(
    ("text", "expected_utc"),
    [
        ("2026-03-07 09:00", "2026-03-07 15:00"),  # CST, before clocks go forward
        ("2026-03-08 01:59", "2026-03-08 07:59"),
        ("2026-03-08 03:00", "2026-03-08 08:00"),  # CDT from here
        ("2026-03-09 09:00", "2026-03-09 14:00"),
        ("2026-10-31 09:00", "2026-10-31 14:00"),  # CDT, before clocks go back
        ("2026-11-01 00:59", "2026-11-01 05:59"),
        ("2026-11-01 02:00", "2026-11-01 08:00"),  # CST again
        ("2026-11-02 09:00", "2026-11-02 15:00"),
    ],
)
def test_dst_in_chicago(text: str, expected_utc: str) -> None:
    assert when(text, "America/Chicago").utc == utc(expected_utc)


# --- years left out, and dates that read two ways ----------------------------------------

@pytest.mark.parametrize(
    ("text", "opened", "expected_utc"),
    [
        ("Feb. 16 at 10 AM PST", "2026-01-10 12:00", "2026-02-16 18:00"),
        ("Feb 16 10:00", "2026-03-01 12:00", "2027-02-16 10:00"),  # already past: next year
        ("Jan 5 9am", "2026-12-20 12:00", "2027-01-05 09:00"),  # across the new year
        ("Dec 31 23:00", "2026-12-20 12:00", "2026-12-31 23:00"),
        ("1 Jan 00:30", "2026-12-31 23:00", "2027-01-01 00:30"),
        ("Dec 20 9am", "2026-12-20 12:00", "2026-12-20 09:00"),  # same day counts as after
        ("Feb 29 9am", "2026-01-10 12:00", "2028-02-29 09:00"),  # the next leap year
        ("Tuesday, December 1 at 2pm", "2026-06-01 12:00", "2026-12-01 14:00"),
        ("13/04 9:00", "2026-06-01 12:00", "2027-04-13 09:00"),  # numeric, one reading
    ],
)
def test_year_left_out_is_the_next_such_date(text: str, opened: str, expected_utc: str) -> None:
    assert when(text, opened=utc(opened)).utc == utc(expected_utc)


def test_year_left_out_uses_the_events_local_date() -> None:
    # Opened 31 Dec 20:00 UTC is already 1 Jan in Tokyo: "Jan 1" there is this coming day.
    opened = utc("2026-12-31 20:00")
    assert when("Jan 1 18:00", "Asia/Tokyo", opened=opened).at.year == 2027
    assert when("Dec 31 18:00", "Asia/Tokyo", opened=opened).at.year == 2027


@pytest.mark.parametrize(
    ("text", "opened", "expected_utc"),
    [
        # only one reading lies on or after the day the issue was opened
        ("12/01/2026 9:00", "2026-03-01 12:00", "2026-12-01 09:00"),  # 12 Jan is past
        ("01/12/2026 9:00", "2026-03-01 12:00", "2026-12-01 09:00"),  # 1 Jan is past
        ("03/04/2026 9:00", "2026-03-20 12:00", "2026-04-03 09:00"),
        ("04/03/2026 9:00", "2026-03-20 12:00", "2026-04-03 09:00"),
        ("1.12.2026 14h30", "2026-02-01 12:00", "2026-12-01 14:30"),
    ],
)
def test_two_way_date_settled_by_when_the_issue_was_opened(text: str, opened: str,
                                                           expected_utc: str) -> None:
    assert when(text, opened=utc(opened)).utc == utc(expected_utc)


@pytest.mark.parametrize(
    ("text", "opened", "fragment"),
    [
        ("12/01/2026 9:00", "2026-01-05 12:00", "(1 December 2026 or 12 January 2026)"),
        ("03/04/2026 9:00", "2026-01-10 12:00", "(4 March 2026 or 3 April 2026)"),
        ("03/04/2026 9:00", "2026-06-01 12:00", "reads two ways"),  # both past: still unclear
        ("03/04 9:00", "2026-01-10 12:00", "(4 March or 3 April)"),  # no year: both ahead
        ("03-04-2026 9:00", "2026-01-10 12:00", "reads two ways"),
        ("03.04.2026 9:00", "2026-01-10 12:00", "reads two ways"),
    ],
)
def test_two_way_date_refused(text: str, opened: str, fragment: str) -> None:
    with pytest.raises(DateError) as caught:
        when(text, opened=utc(opened))
    assert fragment in str(caught.value)
    assert "write the month as a word" in str(caught.value)


def test_iso_date_is_never_two_way() -> None:
    assert when("2026-03-04 9:00", opened=utc("2026-01-10 12:00")).at.month == 3
    assert when("2026-04-03 9:00", opened=utc("2026-01-10 12:00")).at.month == 4


# --- config abbreviations, and the note for fixed abbreviations ---------------------------

@pytest.mark.parametrize(
    ("text", "expected_utc", "label"),
    [
        ("2026-12-01 09:00 IST", "2026-12-01 03:30", "Asia/Kolkata"),
        ("2026-12-01 09:00 NPT", "2026-12-01 03:15", "+05:45"),
        ("2026-07-01 09:00 CST", "2026-07-01 14:00", "America/Chicago"),  # config redefines it
        ("2026-12-01 09:00 PST", "2026-12-01 17:00", "-08:00"),  # built-ins still there
    ],
)
def test_config_abbreviations(text: str, expected_utc: str, label: str) -> None:
    result = when(text, abbreviations=CONFIG_ABBREVIATIONS)
    assert result.utc == utc(expected_utc)
    assert result.zone.label == label
    assert result.note == ""


@pytest.mark.parametrize(
    ("text", "tz_field", "note"),
    [
        ("2026-07-01 09:00 EST", None, "EST is UTC-05:00 all year; on 1 July 2026 US Eastern "
                                       "time is EDT (UTC-04:00)"),
        ("2026-07-01 09:00", "CST", "CST is UTC-06:00 all year; on 1 July 2026 US Central time "
                                    "is CDT (UTC-05:00)"),
        ("2026-01-15 09:00 CEST", None, "CEST is UTC+02:00 all year; on 15 January 2026 "
                                        "Central European time is CET (UTC+01:00)"),
        ("2026-12-01 09:00 EST", None, ""),
        ("2026-07-01 09:00 EDT", None, ""),
        ("2026-07-01 09:00 HST", None, ""),  # Hawaii keeps no summer time
        ("2026-07-01 09:00", "America/New_York", ""),
    ],
)
def test_note_when_a_fixed_abbreviation_is_off_season(text: str, tz_field: str | None,
                                                      note: str) -> None:
    result = when(text, tz_field)
    assert result.note.startswith(note) if note else result.note == ""


# --- start and end together -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("start", "end", "tz_field", "opened", "expected_start", "expected_end"),
    [
        ("Dec 1 2026 9am", "11am", None, "2026-11-01 12:00", "2026-12-01 09:00",
         "2026-12-01 11:00"),
        ("Dec 1 2026 9am", "11:00", None, "2026-11-01 12:00", "2026-12-01 09:00",
         "2026-12-01 11:00"),
        ("Dec 1 2026 9am", "5 pm", None, "2026-11-01 12:00", "2026-12-01 09:00",
         "2026-12-01 17:00"),
        ("Dec 1 2026 9pm", "1am", None, "2026-11-01 12:00", "2026-12-01 21:00",
         "2026-12-02 01:00"),  # a time before the start is the next day
        ("Dec 1 2026 9am", "midnight", None, "2026-11-01 12:00", "2026-12-01 09:00",
         "2026-12-02 00:00"),
        ("Dec 1 2026 9am", "noon", None, "2026-11-01 12:00", "2026-12-01 09:00",
         "2026-12-01 12:00"),
        ("Dec 1 2026 9pm", "9pm", None, "2026-11-01 12:00", "2026-12-01 21:00",
         "2026-12-01 21:00"),  # equal is not before; the caller reports a zero-length event
        ("Dec 1 2026 9am", "Dec 1 2026 8am", None, "2026-11-01 12:00", "2026-12-01 09:00",
         "2026-12-01 08:00"),  # end before start: the caller's to report, not ours
        ("2026-12-01 09:00", "2026-12-01 11:00", "America/Chicago", "2026-11-01 12:00",
         "2026-12-01 15:00", "2026-12-01 17:00"),
        ("2026-12-01 23:00", "01:00", "America/Chicago", "2026-11-01 12:00",
         "2026-12-02 05:00", "2026-12-02 07:00"),  # next local day in Chicago
        ("Dec 30 9am", "Jan 2 5pm", None, "2026-11-20 12:00", "2026-12-30 09:00",
         "2027-01-02 17:00"),  # the end's year-less date is on/after the start
        ("Dec 30 2026 9am", "Jan 2 5pm", None, "2026-11-20 12:00", "2026-12-30 09:00",
         "2027-01-02 17:00"),
        ("Dec 1 2026 9am", "Dec 1 5pm", None, "2026-11-01 12:00", "2026-12-01 09:00",
         "2026-12-01 17:00"),
        ("Dec 1 2026 9am", "12/02/2026 5pm", None, "2026-11-01 12:00", "2026-12-01 09:00",
         "2026-12-02 17:00"),  # 12 Feb lies before the start: only 2 Dec remains
        ("Dec 1 2026 9am", "02/12/2026 5pm", None, "2026-11-01 12:00", "2026-12-01 09:00",
         "2026-12-02 17:00"),
        # an end without a zone is read in the start's written zone
        ("Feb. 16 2026 at 10 AM PST", "noon", "Europe/Berlin", "2026-01-10 12:00",
         "2026-02-16 18:00", "2026-02-16 20:00"),
        ("Dec 1 2026 9am PST", "noon EST", None, "2026-11-01 12:00", "2026-12-01 17:00",
         "2026-12-01 17:00"),
        ("2026-03-08 01:00", "3:00", "America/Chicago", "2026-01-10 12:00",
         "2026-03-08 07:00", "2026-03-08 08:00"),  # one hour long: clocks went forward
    ],
)
def test_window(start: str, end: str, tz_field: str | None, opened: str, expected_start: str,
                expected_end: str) -> None:
    begin, finish = parse_window(start, end, field_zone=field(tz_field), opened_at=utc(opened))
    assert (begin.utc, finish.utc) == (utc(expected_start), utc(expected_end))


@pytest.mark.parametrize(
    ("start", "end", "tz_field", "at_fault", "fragment"),
    [
        ("next week", "11am", None, "start", '`next week` is not a date and time'),
        ("9am", "11am", None, "start", "has a time but no date"),
        ("Dec 1 2026 9am", "banana", None, "end", '`banana` is not a date and time'),
        ("Dec 1 2026 9am", "Dec 1 2026", None, "end", "give a time too"),
        ("Dec 1 2026 9am", "Friday 5pm", None, "end", "which Friday?"),
        ("Dec 1 2026 9am", "03/04/2027 5pm", None, "end", "reads two ways"),
        ("2026-03-08 01:00", "2:30", "America/Chicago", "end", "does not exist"),
        ("2026-11-01 00:30", "1:30", "America/Chicago", "end", "happens twice"),
    ],
)
def test_window_errors_name_the_field(start: str, end: str, tz_field: str | None, at_fault: str,
                                      fragment: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_window(start, end, field_zone=field(tz_field), opened_at=utc("2026-11-01 12:00"))
    assert caught.value.field == at_fault
    assert fragment in str(caught.value)


def test_time_only_end_with_explicit_after() -> None:
    start = utc("2026-12-01 22:00")
    assert when("06:00", after=start).utc == utc("2026-12-02 06:00")
    assert when("23:00", after=start).utc == utc("2026-12-01 23:00")


# --- the timezone field ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "label", "source", "offset_in_december"),
    [
        (None, "UTC", "default", "+00:00"),
        ("", "UTC", "default", "+00:00"),
        ("   ", "UTC", "default", "+00:00"),
        ("America/Chicago", "America/Chicago", "field", "-06:00"),
        ("america/chicago", "America/Chicago", "field", "-06:00"),
        (" America/New York ", "America/New_York", "field", "-05:00"),
        ("US/Central", "US/Central", "field", "-06:00"),
        ("Chicago", "America/Chicago", "field", "-06:00"),  # a city only one zone has
        ("new york", "America/New_York", "field", "-05:00"),
        ("Kolkata", "Asia/Kolkata", "field", "+05:30"),
        ("UTC", "UTC", "field", "+00:00"),
        ("Etc/UTC", "UTC", "field", "+00:00"),
        ("Z", "UTC", "field", "+00:00"),
        ("GMT", "UTC", "field", "+00:00"),
        ("UTC+2", "+02:00", "field", "+02:00"),
        ("UTC +02:00", "+02:00", "field", "+02:00"),
        ("GMT-5", "-05:00", "field", "-05:00"),
        ("+05:30", "+05:30", "field", "+05:30"),
        ("-0800", "-08:00", "field", "-08:00"),
        ("UTC\u22125", "-05:00", "field", "-05:00"),  # a real minus sign
        ("(UTC+1)", "+01:00", "field", "+01:00"),
        ("EST", "-05:00", "field", "-05:00"),
        ("cet", "+01:00", "field", "+01:00"),
    ],
)
def test_zone_field(text: str | None, label: str, source: str, offset_in_december: str) -> None:
    zone = resolve_zone_field(text, "UTC")
    assert (zone.label, zone.source) == (label, source)
    offset = datetime(2026, 12, 1, 12, tzinfo=zone.tz).isoformat()[-6:]
    assert offset == offset_in_december


def test_zone_field_default_from_config() -> None:
    zone = resolve_zone_field(None, "Europe/Amsterdam")
    assert (zone.label, zone.source) == ("Europe/Amsterdam", "default")
    assert resolve_zone_field("", "+05:30").label == "+05:30"
    with pytest.raises(DateError, match="configured default time zone"):
        resolve_zone_field(None, "Nowhere/Special")
    assert when("2026-12-01 09:00", None, default="Europe/Amsterdam").utc == \
        utc("2026-12-01 08:00")


@pytest.mark.parametrize(
    ("text", "abbreviations", "label"),
    [
        ("IST", {"IST": "Asia/Kolkata"}, "Asia/Kolkata"),
        ("ist", {"IST": "+05:30"}, "+05:30"),
        ("NPT", {"NPT": "+0545"}, "+05:45"),
        ("CST", {"CST": "Asia/Shanghai"}, "Asia/Shanghai"),
    ],
)
def test_zone_field_config_abbreviations(text: str, abbreviations: dict[str, str],
                                         label: str) -> None:
    assert resolve_zone_field(text, "UTC", abbreviations).label == label


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("IST", '`IST` is not a time zone I know'),
        ("Central Europe", "is not a time zone I know; write an IANA name like America/Chicago"),
        ("Pacific Standard", "is not a time zone I know"),
        ("(UTC-06:00) Central Time (US & Canada)", "is not a time zone I know"),
        ("Mars/Olympus", "is not a time zone I know"),
        ("UTC+15", "is not a UTC offset"),
        ("Etc/GMT+5", "means UTC-5 (these names reverse the sign)"),
        ("Buenos Aires", "could be any of America/Argentina/Buenos_Aires, "
                         "America/Buenos_Aires"),
        ("Asia/Kolkata\x00", "is not a time zone I know"),
        ("x" * 100_000, "is too long to be a time zone"),
    ],
)
def test_zone_field_refused(text: str, fragment: str) -> None:
    with pytest.raises(DateError) as caught:
        resolve_zone_field(text, "UTC")
    assert fragment in str(caught.value)


# --- /reschedule START [END] -------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 09:00 to 2026-12-01 11:00", ("2026-12-01 09:00", "2026-12-01 11:00")),
        ("Dec 1 9am - 11am", ("Dec 1 9am", "11am")),
        ("Dec 1 9am \u2013 Dec 1 11am", ("Dec 1 9am", "Dec 1 11am")),
        ("Dec 1 9am\u2014Dec 1 11am", ("Dec 1 9am", "Dec 1 11am")),
        ("Dec 1 9am -- 11am", ("Dec 1 9am", "11am")),
        ("A; B", ("A", "B")),
        ('"Dec 1 9am" "Dec 1 11am"', ("Dec 1 9am", "Dec 1 11am")),
        ('"Dec 1 9am" to "Dec 1 11am"', ("Dec 1 9am", "Dec 1 11am")),
        ("\u201cDec 1 9am\u201d \u201cDec 1 11am\u201d", ("Dec 1 9am", "Dec 1 11am")),
        ('"Dec 1 9am"', ("Dec 1 9am", None)),
        ("Dec 1 9am-11am", ("Dec 1 9am", "11am")),
        ("Dec 1 9:00am-11:00am", ("Dec 1 9:00am", "11:00am")),
        ("October 1 9am until October 2 5pm", ("October 1 9am", "October 2 5pm")),
        ("Dec 1 9am TO 5pm", ("Dec 1 9am", "5pm")),
        ("2026-12-01 09:00", ("2026-12-01 09:00", None)),
        ("  2026-12-01T09:00-08:00  ", ("2026-12-01T09:00-08:00", None)),  # an offset, no range
        ("2026-12-01 09:00-11:00", ("2026-12-01 09:00-11:00", None)),  # parse_when says why
        ("Dec 1 2026 at 9am", ("Dec 1 2026 at 9am", None)),
        ("October 1 2026 9am", ("October 1 2026 9am", None)),  # "to" inside a word is no split
        # no separator: the one place two times split into a dated start and an end
        ("2027-03-23 13:00 2027-03-23 16:00", ("2027-03-23 13:00", "2027-03-23 16:00")),
        ("2027-03-23 13:00 16:00", ("2027-03-23 13:00", "16:00")),
        (" 2027-03-23\t13:00  16:00 ", ("2027-03-23 13:00", "16:00")),
        ("13:00 2027-03-23 16:00 2027-03-24", ("13:00 2027-03-23", "16:00 2027-03-24")),
        ("Dec 1 9am Dec 2 5pm", ("Dec 1 9am", "Dec 2 5pm")),
        ("Tue Dec 1 2026 9am Wed Dec 2 2026 5pm", ("Tue Dec 1 2026 9am", "Wed Dec 2 2026 5pm")),
        ("Dec 1 2026 noon 1pm", ("Dec 1 2026 noon", "1pm")),
        ("Dec 1 9am 2026 11am", ("Dec 1 9am 2026", "11am")),  # "2026 11am" has no whole date
        ("2026-12-01T09:00-08:00 2026-12-01T11:00-08:00",
         ("2026-12-01T09:00-08:00", "2026-12-01T11:00-08:00")),
        # a zone between the two goes with the time before it, as it is written
        ("2027-03-23 13:00 UTC 16:00", ("2027-03-23 13:00 UTC", "16:00")),
        ("2027-03-23 13:00 UTC 2027-03-23 16:00 UTC", ("2027-03-23 13:00 UTC",
                                                       "2027-03-23 16:00 UTC")),
        ("2027-03-23 13:00 UTC + 5:30 16:00", ("2027-03-23 13:00 UTC + 5:30", "16:00")),
        ("2027-03-23 13:00 America/Chicago 16:00", ("2027-03-23 13:00 America/Chicago",
                                                    "16:00")),
        ("2027-03-23 13:00 IST 16:00 IST", ("2027-03-23 13:00 IST", "16:00 IST")),
    ],
)
def test_split_range(text: str, expected: tuple[str, str | None]) -> None:
    assert split_range(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Dec 1 9am to 10am to 11am", " to 11am", "9am to ", "A; B; C", '"unclosed',
     '"a" "b" "c"', '"" "Dec 1"', "x" * 100_000, "Dec 1 9am 10am to 11am",
     "Dec 1 9am 10am 11am", "9am 11am", "1 Dec 9am 2027 2 Dec 11am"],
)
def test_split_range_refused(text: str) -> None:
    with pytest.raises(DateError):
        split_range(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Dec 1 2026 9am 10am 11am",
         '`Dec 1 2026 9am 10am 11am` does not read as one start and one end; give the start, '
         "then optionally the end, like 2026-12-01 09:00 11:00 or 2026-12-01 09:00 to "
         "2026-12-02 11:00"),
        ("9am 11am", '`9am 11am` does not read as one start and one end; give the start, '),
        ("Dec 1 9am 10am to 11am",
         '`Dec 1 9am 10am to 11am` does not read as one start and one end; write it like '),
        # a year between the two times could belong to either
        ("1 Dec 9am 2027 2 Dec 11am",
         '`1 Dec 9am 2027 2 Dec 11am` splits into a start and an end more than one way; put '
         '"to" between them, like 2026-12-01 09:00 to 2026-12-02 11:00'),
        # the half that cannot be read, when the other half can
        ("Feb 30 2027 9am 11am", '`Feb 30 2027 9am`: there is no 30 February 2027'),
        ("2027-03-23 13:00 Feb 30 16:00", '`Feb 30 16:00`: there is no 30 February'),
        ("someday 9am 11am", '`someday 9am` is not a date and time I can read'),
    ],
)
def test_split_range_says_why_in_the_terms_of_a_start_and_an_end(text: str,
                                                                 message: str) -> None:
    with pytest.raises(DateError) as caught:
        split_range(text)
    assert str(caught.value).startswith(message)
    assert "field" not in str(caught.value)


def test_split_range_knows_the_configured_abbreviations() -> None:
    # Seven letters: not abbreviation-like unless the config names it.
    with pytest.raises(DateError):
        split_range("2027-03-23 13:00 CAMPUST 16:00")
    assert split_range("2027-03-23 13:00 CAMPUST 16:00", {"CAMPUST": "America/Chicago"}) == (
        "2027-03-23 13:00 CAMPUST", "16:00")


def test_split_then_parse() -> None:
    start, end = split_range("Dec 1 2026 9am - 11am")
    assert end is not None
    begin, finish = parse_window(start, end, field_zone=field("America/Chicago"),
                                 opened_at=OPENED)
    assert (begin.utc, finish.utc) == (utc("2026-12-01 15:00"), utc("2026-12-01 17:00"))


# --- showing times --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("instant", "tz_field", "expected"),
    [
        ("2026-12-01 15:00", "America/Chicago", "Tue 1 Dec 2026 09:00 CST"),
        ("2026-07-01 14:00", "America/Chicago", "Wed 1 Jul 2026 09:00 CDT"),
        ("2026-12-01 09:00", None, "Tue 1 Dec 2026 09:00 UTC"),
        ("2026-12-01 03:30", "+05:30", "Tue 1 Dec 2026 09:00 UTC+05:30"),
        ("2026-12-01 14:00", "EST", "Tue 1 Dec 2026 09:00 EST"),
        ("2026-12-01 12:00", "America/Sao_Paulo", "Tue 1 Dec 2026 09:00 UTC-03:00"),
        ("2026-12-01 09:00:30", None, "Tue 1 Dec 2026 09:00:30 UTC"),
        ("2026-12-31 23:30", "Asia/Tokyo", "Fri 1 Jan 2027 08:30 JST"),
    ],
)
def test_format_local(instant: str, tz_field: str | None, expected: str) -> None:
    assert format_local(utc(instant), field(tz_field)) == expected


def test_format_utc() -> None:
    chicago = datetime(2026, 12, 1, 9, 0, tzinfo=field("America/Chicago").tz)
    assert format_utc(chicago) == "2026-12-01 15:00 UTC"
    assert format_utc(utc("2026-12-01 09:00:05")) == "2026-12-01 09:00:05 UTC"
    with pytest.raises(ValueError):
        format_utc(datetime(2026, 12, 1, 9))


def test_written_zone_shown_as_written() -> None:
    result = when("Feb. 16 2026 at 10 AM PST")
    assert format_local(result.at, result.zone) == "Mon 16 Feb 2026 10:00 PST"
    assert format_utc(result.at) == "2026-02-16 18:00 UTC"


# --- hostile input --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "", "   ", "\n\t", "x" * 100_000, "1" * 100_000, "9" * 199, "Dec 1 2026 9am " * 20,
        "\x00\x01\x02", "Dec 1 2026\x00 9am", "Dec 1 2026 9am \u202e", "\u202eDec 1 2026 9am",
        "😀", "Dec 1 2026 9am 🎉", "١٢/١٢/٢٠٢٦ ٩:٠٠", "שעה 9:00", "<script>alert(1)</script>",
        "`Dec 1 2026 9am`", "**Dec 1 2026 9am**", "@org/team Dec 1 2026 9am", "Dec " * 50,
        "9999-12-31 23:59", "0001-01-01 00:00", "Dec 1 99999 9am", "ﷺ" * 30,
        "2026-12-01 09:00 +99:99", "2026-12-01 09:00 UTC+999", "12:00:00.1234567",
        # the new forms, at their length limits
        "Dec 1 2026 9am (" + "a" * 70 + ")", "Dec 1 2026 9am " + "(a, " * 45, "9" * 197 + "am",
        "https://arewemeetingyet.com/" + "a/" * 490, "arewemeetingyet.com/UTC/2026-12-01/9:00/"
        + "x" * 1000, "June 8-" + "1" * 190, "June " + "8-" * 95, "ET " * 60, "(Spain) " * 25,
    ],
)
def test_hostile_input_is_a_date_error(text: str) -> None:
    begun = time.monotonic()
    with pytest.raises(DateError) as caught:
        when(text)
    assert time.monotonic() - begun < 1.0
    message = str(caught.value)
    assert len(message) < 400
    assert message.isprintable()


@pytest.mark.parametrize(
    "text",
    ["", "x" * 100_000, "9am-" * 50, "9am - " + "1" * 190 + "pm", "June " + "8-" * 95,
     "9am-1pm (" + "a" * 70 + ")", "9:00-" * 40, "Dec 1 2026 9am to Dec 2 2026 1pm"],
)
def test_hostile_daily_hours_and_ranges_are_bounded(text: str) -> None:
    begun = time.monotonic()
    with contextlib.suppress(DateError):
        split_field(text)
    with pytest.raises(DateError):
        parse_daily_hours(text, field_zone=field(None))
    assert time.monotonic() - begun < 1.0


def test_non_string_input_is_a_date_error() -> None:
    with pytest.raises(DateError):
        when(None)  # type: ignore[arg-type]


_PIECES = st.sampled_from(
    list("0123456789:/-.+ ,()apmAPMTZtz@;'\"") + [
        "Dec", "december", "PST", "IST", "UTC", "GMT", "America/Chicago", "Etc/GMT+5", "noon",
        "midnight", "Tue", "1st", "of", "the", "h", "hrs", "\u2013", "\u2212", "\u202e",
        "\u00a0", "\x00", "😀", "２", "2026", "12", "31", "9am", "to",
    ])
_AFTER = st.one_of(st.none(), st.datetimes(min_value=datetime(1990, 1, 1),
                                           max_value=datetime(2100, 1, 1),
                                           timezones=st.just(UTC)))


@settings(max_examples=800, deadline=None)
@given(st.lists(_PIECES, max_size=16).map("".join), _AFTER)
def test_parse_when_raises_only_date_error_on_date_like_text(text: str,
                                                             after: datetime | None) -> None:
    try:
        result = when(text, "America/Chicago", after=after,
                      abbreviations=CONFIG_ABBREVIATIONS)
    except DateError as e:
        assert_a_sentence_for_the_champion(e)
    else:
        assert result.at.tzinfo is not None


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_parse_when_raises_only_date_error_on_any_text(text: str) -> None:
    try:
        result = when(text)
    except DateError as e:
        assert_a_sentence_for_the_champion(e)
    else:
        assert result.at.tzinfo is not None and result.at.utcoffset() is not None


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(_PIECES, max_size=16).map("".join)))
def test_split_range_and_zone_field_raise_only_date_error(text: str) -> None:
    try:
        start, end = split_range(text)
    except DateError as e:
        assert_a_sentence_for_the_champion(e)
    else:  # pieces of what was written; split, neither piece is empty
        written = " ".join(text.replace("\u201c", '"').replace("\u201d", '"').split())
        assert " ".join(start.split()) in written
        assert end is None or (start.strip() and end.strip() and " ".join(end.split()) in written)
    try:
        zone = resolve_zone_field(text, "UTC")
    except DateError as e:
        assert_a_sentence_for_the_champion(e)
    else:
        assert zone.tz.utcoffset(datetime(2026, 1, 1)) is not None and zone.label


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
       st.sampled_from(["UTC", "America/Chicago", "Europe/Berlin", "Asia/Kolkata", "+05:45"]))
def test_what_is_shown_reads_back(instant: datetime, zone_text: str) -> None:
    """A time written the way the status comment shows it parses back to the same instant."""
    zone = field(zone_text)
    local = instant.replace(tzinfo=UTC).astimezone(zone.tz).replace(second=0, microsecond=0)
    written = f"{local:%Y-%m-%d %H:%M}{local:%z}"
    written = f"{written[:-2]}:{written[-2:]}"  # an RFC 3339 offset, not ambiguous at a fold
    result = parse_when(written.replace(" ", "T"), field_zone=zone, opened_at=OPENED)
    assert result.utc == local.astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                    timezones=st.just(UTC)),
       st.integers(0, 23), st.integers(0, 59),
       st.sampled_from(["UTC", "America/Chicago", "Europe/London", "Australia/Lord_Howe"]))
def test_end_time_alone_is_the_next_such_time(after: datetime, hour: int, minute: int,
                                              zone_text: str) -> None:
    try:
        end = when(f"{hour}:{minute:02d}", zone_text, after=after)
    except DateError as e:
        assert "does not exist" in str(e) or "happens twice" in str(e)  # a DST hour
        return
    assert after <= end.at < after + timedelta(hours=25)
    assert (end.at.hour, end.at.minute) == (hour, minute)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                    timezones=st.just(UTC)),
       st.sampled_from(["America/Chicago", "America/New_York", "Europe/Berlin", "UTC",
                        "+05:30", "Asia/Kolkata", "Europe/London"]))
def test_shown_times_read_back(instant: datetime, zone_text: str) -> None:
    """/reschedule may be given a time as the bot shows it (format_utc, format_local)."""
    instant = instant.replace(second=0, microsecond=0)
    zone = field(zone_text)
    assert when(format_utc(instant), zone_text).utc == instant
    try:
        again = parse_when(format_local(instant, zone), field_zone=zone, opened_at=OPENED)
    except DateError as e:
        assert "happens twice" in str(e)  # the repeated hour shown without its offset
        return
    assert again.utc == instant


# --- places in brackets, and a day with no time --------------------------------------------

@pytest.mark.parametrize(
    ("text", "tz_field", "expected_utc", "fragment"),
    [
        ("Mar 3, 2027, 09:30 CET (Spain)", None, "2027-03-03 08:30", ""),  # confirms
        ("Jan 3 2027 1pm CST (New Orleans, USA)", None, "2027-01-03 19:00", ""),
        ("Jun 3 2027 10am PT (Seattle)", None, "2027-06-03 17:00", ""),  # unknown beside a zone
        ("Mar 3, 2027, 09:30 CET (London)", None, "2027-03-03 08:30",
         "`London` is not on CET (UTC+01:00) on 3 March 2027; the time was read in CET"),
        ("Dec 1 2027 9am (Seattle)", "Europe/Paris", "2027-12-01 08:00",
         "I don't know where `Seattle` is, so the time was read in Europe/Paris"),
        ("Dec 1 2027 9am (USA)", "Europe/Paris", "2027-12-01 08:00",
         "`USA` has more than one time zone, so the time was read in Europe/Paris"),
        ("Dec 1 2027 9am (Chicago) (Spain)", None, "2027-12-01 09:00", "I don't know where"),
    ],
)
def test_a_place_in_brackets_settles_confirms_or_is_said(text: str, tz_field: str | None,
                                                         expected_utc: str, fragment: str) -> None:
    result = when(text, tz_field)
    assert result.utc == utc(expected_utc)
    assert (fragment in result.note) if fragment else result.note == ""


@pytest.mark.parametrize(
    ("text", "tz_field", "date_only", "expected_utc", "whole_day"),
    [
        ("April 8, 2027", "America/Los_Angeles", clock_time(9, 0), "2027-04-08 16:00", False),
        ("April 8, 2027", "America/Los_Angeles", "whole day", "2027-04-08 07:00", True),
        ("April 8, 2027", "America/Los_Angeles", "end of day", "2027-04-09 07:00", False),
        ("April 8, 2027", None, clock_time(13, 0), "2027-04-08 13:00", False),
        ("2027-04-08 10:00", None, clock_time(9, 0), "2027-04-08 10:00", False),  # as written
        ("April 8", "Europe/Madrid", clock_time(9, 30), "2027-04-08 07:30", False),
    ],
)
def test_a_day_with_no_time(text: str, tz_field: str | None,
                            date_only: Any, expected_utc: str, whole_day: bool) -> None:
    result = parse_when(text, field_zone=field(tz_field), opened_at=utc("2027-01-10 00:00"),
                        date_only=date_only)
    assert result.utc == utc(expected_utc)
    assert ("read as the whole day" in result.note) == whole_day
