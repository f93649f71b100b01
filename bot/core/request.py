"""Form fields -> EventRequest: dates, validation and classification (pure).

Every problem is tied to the form element it comes from, in words a
community champion can act on; a value that cannot be read is ``None`` and
never guessed. The readers of one answer each (hub, attendees, tier, type,
representatives, memory) are in ``request_fields``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from . import text
from .config import Config, parse_memory_gib
from .dates import (
    DailyHours,
    DateError,
    Session,
    When,
    Zone,
    parse_daily_hours,
    parse_when,
    resolve_zone_field,
    sessions,
    split_days,
    split_field,
)
from .form_map import bound_form, yes_no
from .forms import FormTemplate, ParsedForm, has_required_headings, parse_form_body
from .model import IssueSnapshot

# The field readers are in their own module; every public name is still importable here.
from .request_fields import (
    MAX_NUMBER_TEXT,
    MAX_REP_WORDS,
    MAX_REPS,
    bare_rep_words,
    classify,
    memory_as_written,
    read_attendees,
    read_hub,
    read_rep,
    read_tier,
)

__all__ = [
    "MAX_NUMBER_TEXT", "MAX_REP_WORDS", "MAX_REPS", "DateOverride", "EventRequest",
    "FieldError", "bare_rep_words", "classify", "field_label", "is_event_request",
    "memory_as_written", "read_attendees", "read_hub", "read_rep", "read_request",
    "read_tier", "rep_words_to_confirm",
]


@dataclass(frozen=True)
class FieldError:
    field: str | None  # the form element's id, or None when no one field is at fault
    message: str


@dataclass(frozen=True)
class DateOverride:
    """Dates set by ``/reschedule``; they win over the form until the form's dates change."""

    start: str
    end: str | None


@dataclass(frozen=True)
class EventRequest:
    hub_host: str | None
    hub_url: str | None
    event_name: str | None
    event_type: str
    type_source: str  # "form", "keywords" or "default"
    tier: str | None  # a tier name from config
    start: datetime | None  # UTC
    end: datetime | None  # UTC
    zone: Zone | None
    attendees: int | None
    memory_per_user_gib: float | None  # None: the config default
    community_rep: str | None  # the first of community_reps
    details: str | None
    errors: tuple[FieldError, ...]
    short_notice: bool
    start_in_past: bool
    notes: tuple[str, ...] = ()  # warnings (dates, the community rep), not errors
    community_reps: tuple[str, ...] = ()  # every handle given, in order
    memory_written: str | None = None  # the memory answer as written, e.g. "4 GB"
    daily_hours: DailyHours | None = None  # the hours of each day participants are active
    sessions: tuple[Session, ...] = ()  # the active time; empty when the dates are unreadable

    @property
    def usable(self) -> bool:
        return not self.errors


def is_event_request(issue: IssueSnapshot, form: FormTemplate, config: Config) -> bool:
    """One of ``request_labels``, or the headings of every required field in the body."""
    wanted = {label.lower() for label in (config.labels.event_request, *config.request_labels)}
    if any(label.lower() in wanted for label in issue.labels):
        return True
    return has_required_headings(issue.body, form)


def _label_of(form: FormTemplate, field_id: str) -> str:
    f = form.field(field_id)
    return f.label if f else field_id


def rep_words_to_confirm(issue: IssueSnapshot, form: FormTemplate, config: Config
                         ) -> tuple[str, ...]:
    """What the shell asks GitHub about (``Trust.users``) before planning ``issue``."""
    return bare_rep_words(parse_form_body(issue.body, bound_form(form, config))
                          .get("community_rep"))


def read_request(issue: IssueSnapshot, form: FormTemplate, config: Config,
                 override: DateOverride | None = None,
                 parsed: ParsedForm | None = None) -> EventRequest:
    """Read and check every field; never raises on bad input."""
    form = bound_form(form, config)
    fields = (parsed if parsed is not None and parsed.template.bound == form.bound
              else parse_form_body(issue.body, form))
    errors: list[FieldError] = []

    def need(field_id: str, value: str | None) -> str | None:
        f = form.field(field_id)
        if (value is None or not value.strip()) and f is not None and f.required:
            errors.append(FieldError(field_id, "is required but was left empty"))
            return None
        return value

    host, url, hub_error = read_hub(need("hub_url", fields.get("hub_url")))
    if hub_error:
        errors.append(FieldError("hub_url", hub_error))

    name = fields.get("event_name")
    details = fields.get("details")
    dropdown = need("event_type", fields.get("event_type"))
    event_type, type_source = classify(dropdown, name, issue.title, details, config)

    start_raw = need("start", fields.get("start"))
    range_end: str | None = None  # the end of a range written in the start box
    if start_raw and override is None:
        start_raw, range_end = _split(start_raw, config)
    end_raw = fields.get("end") if range_end else need("end", fields.get("end"))
    if end_raw and override is None:  # the start's range pasted again, or "June 8-10": the 10th
        end_raw = (range_end if end_raw == fields.get("start") else None) or _last_day(end_raw)
    if override is not None:
        start_raw, end_raw = override.start, override.end or end_raw
    zone: Zone | None = None
    start_when: When | None = None
    end_when: When | None = None
    try:
        zone = resolve_zone_field(fields.get("timezone"), config.default_timezone,
                                  config.timezone_abbreviations)
    except DateError as e:
        errors.append(FieldError("timezone", str(e)))
    daily: DailyHours | None = None
    daily_raw = fields.get("daily_hours")
    if zone is not None and daily_raw and daily_raw.strip():
        try:
            daily = parse_daily_hours(daily_raw, field_zone=zone,
                                      abbreviations=config.timezone_abbreviations)
        except DateError as e:
            errors.append(FieldError("daily_hours", str(e)))
        else:  # hours written with a zone say where the champion's days are
            zone = daily.zone if daily.zone.source == "written" else zone
    if zone is not None and start_raw:
        try:
            start_when = parse_when(start_raw, field_zone=zone, opened_at=issue.created_at,
                                    abbreviations=config.timezone_abbreviations,
                                    date_only=daily.start if daily else "whole day")
        except DateError as e:
            errors.append(FieldError("start", str(e)))
    if zone is not None and (end_raw or range_end) and start_when is not None:
        try:
            # An end written without a zone is in the zone the start was written in.
            end_zone = start_when.zone if start_when.zone.source == "written" else zone
            end_when = parse_when(end_raw or range_end or "", field_zone=end_zone,
                                  opened_at=issue.created_at,
                                  abbreviations=config.timezone_abbreviations,
                                  after=start_when.at,
                                  date_only=daily.end if daily else "end of day")
            if range_end and end_raw and override is None:
                ranged = parse_when(range_end, field_zone=end_zone, opened_at=issue.created_at,
                                    abbreviations=config.timezone_abbreviations,
                                    after=start_when.at,
                                    date_only=daily.end if daily else "end of day")
                if ranged.at != end_when.at:
                    end_when = None
                    raise DateError("is not where the range in the start ends; give one end")
        except DateError as e:
            errors.append(FieldError("end", str(e)))
    elif zone is not None and end_raw:
        try:  # still check the end alone, so every problem is listed at once
            parse_when(end_raw, field_zone=zone, opened_at=issue.created_at,
                       abbreviations=config.timezone_abbreviations, date_only="end of day")
        except DateError as e:
            errors.append(FieldError("end", str(e)))

    start = start_when.at.astimezone(timezone.utc) if start_when else None
    end = end_when.at.astimezone(timezone.utc) if end_when else None
    if start is not None and end is not None and end <= start:
        errors.append(FieldError("end", "is before the start; check both dates and times"))
        end = None
    opened = issue.created_at.astimezone(timezone.utc)
    start_in_past = start is not None and start <= opened
    if start_in_past:
        errors.append(FieldError("start", "is in the past (before this issue was opened)"))
    if start is not None and end is not None and end - start > timedelta(days=31):
        errors.append(FieldError("end", "is more than 31 days after the start; for longer "
                                        "support, open one request per event"))
        end = None
    spans: tuple[Session, ...] = ()
    if start is not None and end is not None and (daily or not (daily_raw and daily_raw.strip())):
        spans = sessions(start, end, daily)
        if not spans:
            errors.append(FieldError("daily_hours", "no day between the start and the end has "
                                                    "any of these hours; check all three"))
    short_notice = (start is not None and not start_in_past
                    and start - opened < timedelta(days=config.notice_days))
    notice_note = _notice_note(yes_no(fields, "notice"), start, start_in_past, short_notice,
                               opened, config.notice_days)

    attendees, att_error = read_attendees(need("attendees", fields.get("attendees")),
                                          config.max_attendees)
    if att_error:
        errors.append(FieldError("attendees", att_error))

    memory: float | None = None
    memory_written: str | None = None
    mem_raw = fields.get("memory_per_user")
    if mem_raw and mem_raw.strip():
        try:
            memory = parse_memory_gib(mem_raw.strip())
            if memory > 1024:
                raise ValueError
            memory_written = memory_as_written(mem_raw)
        except ValueError:
            errors.append(FieldError("memory_per_user",
                                     f"{text.quote(mem_raw)} is not an amount of memory; "
                                     "write it like `4 GB`"))
            memory, memory_written = None, None

    tier, tier_error = read_tier(need("tier", fields.get("tier")), config)
    if form.field("tier") is None and config.default_tier:
        tier = config.default_tier  # a team's own form without tiers: every request is on it
    if tier_error:
        errors.append(FieldError("tier", tier_error))

    reps, rep_note = read_rep(fields.get("community_rep"), issue.trust.users)

    final_zone = start_when.zone if start_when else zone
    return EventRequest(
        hub_host=host, hub_url=url, event_name=name.strip() if name else None,
        event_type=event_type, type_source=type_source, tier=tier,
        start=start, end=end, zone=final_zone, attendees=attendees,
        memory_per_user_gib=memory, community_rep=reps[0] if reps else None,
        details=details, errors=tuple(errors), short_notice=short_notice,
        start_in_past=start_in_past,
        notes=tuple(dict.fromkeys([*(w.note for w in (start_when, end_when) if w and w.note),
                                   *([rep_note] if rep_note else []),
                                   *([notice_note] if notice_note else [])])),
        community_reps=reps, memory_written=memory_written, daily_hours=daily, sessions=spans,
    )


def _notice_note(said: bool | None, start: datetime | None, start_in_past: bool,
                 short_notice: bool, opened: datetime, notice_days: int) -> str | None:
    """When the form's "enough notice?" answer and the dates disagree, say so."""
    if said is None or start is None or start_in_past or said != short_notice:
        return None
    days = (start - opened).days
    if said:
        return (f"The form says the event is at least {notice_days} days away, but it starts "
                f"{days} days after this issue was opened; check the dates.")
    return (f"The form says the event is less than {notice_days} days away, but it starts "
            f"{days} days after this issue was opened; check the dates.")


def _last_day(raw: str) -> str:
    try:
        days = split_days(raw)
    except DateError:
        return raw  # too long: parse_when says so
    return days[1] if days else raw


def _split(raw: str, config: Config) -> tuple[str, str | None]:
    try:
        return split_field(raw, config.timezone_abbreviations)
    except DateError:
        return raw, None  # too long or unreadable: parse_when says why


def field_label(form: FormTemplate, field_id: str | None) -> str:
    return _label_of(form, field_id) if field_id else "Request"
