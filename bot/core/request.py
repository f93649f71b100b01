"""Form fields -> EventRequest: dates, validation and classification (pure).

Every problem is tied to the form element it comes from, in words a
community champion can act on; a value that cannot be read is ``None`` and
never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from . import text
from .config import EVENT_TYPES, Config, parse_memory_gib
from .dates import DateError, Session, When, Zone, parse_when, resolve_zone_field
from .forms import FormTemplate, ParsedForm, has_required_headings, parse_form_body
from .model import IssueSnapshot

_HOST_RE = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}[a-z0-9]$"
)
# A memory answer as parse_memory_gib reads it, kept to show the unit the person wrote.
# Matched whole on stripped text: no two quantifiers over the same characters (bounded work).
_MEMORY_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(gib|gb|g|mib|mb|m)?", re.IGNORECASE)
_UNITS = {"gib": "GiB", "gb": "GB", "g": "G", "mib": "MiB", "mb": "MB", "m": "M"}
_REP_PUNCTUATION = "()[]<>\"'.,;:"
MAX_REPS = 10  # more handles than this in one field is a list to trim, not to ping
MAX_REP_WORDS = 100
_INT_RE = re.compile(r"~?\s*(\d{1,3}(?:[,_ ]\d{3})+|\d+)\s*(?:users?|people|students|"
                     r"attendees|participants|learners)?", re.IGNORECASE)
MAX_NUMBER_TEXT = 40  # longer is no number of people (or of gigabytes): refused unread


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
    # One per day with daily hours; empty: one session from start to end (when readable).
    sessions: tuple[Session, ...] = ()

    @property
    def usable(self) -> bool:
        return not self.errors


def is_event_request(issue: IssueSnapshot, form: FormTemplate, config: Config) -> bool:
    """The label, or the headings of every required field in the body."""
    wanted = config.labels.event_request.lower()
    if any(label.lower() == wanted for label in issue.labels):
        return True
    return has_required_headings(issue.body, form)


def _label_of(form: FormTemplate, field_id: str) -> str:
    f = form.field(field_id)
    return f.label if f else field_id


def read_hub(raw: str | None) -> tuple[str | None, str | None, str | None]:
    """-> (host, url, error). A bare host name is fine."""
    if raw is None or not raw.strip():
        return None, None, None
    value = raw.strip()
    if len(value) > 2000:
        return None, None, "is too long to be a hub address"
    candidate = value if "://" in value else f"https://{value}"
    try:
        parts = urlsplit(candidate)
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
        scheme = parts.scheme
    except ValueError:  # "[" without an IPv6 address, a port that is not a number
        host, port, scheme = "", None, ""
    if scheme not in ("http", "https") or not _HOST_RE.match(host):
        return None, None, (f"{text.quote(value)} is not a hub address; write it like "
                            "`https://hub.example.org` or `hub.example.org`")
    netloc = host if port is None else f"{host}:{port}"
    return host, f"https://{netloc}{parts.path.rstrip('/')}", None


def read_attendees(raw: str | None, maximum: int) -> tuple[int | None, str | None]:
    if raw is None or not raw.strip():
        return None, None
    written = raw.strip()
    m = _INT_RE.fullmatch(written) if len(written) <= MAX_NUMBER_TEXT else None
    if not m:
        return None, (f"{text.quote(raw)} is not a number of people; write the peak number "
                      "of simultaneous users as a whole number, like `120`")
    value = int(re.sub(r"[,_ ]", "", m.group(1)))
    if value <= 0:
        return None, "must be at least 1"
    if value > maximum:
        return None, (f"{value} is more than this team supports in one event ({maximum}); "
                      "check the number, or contact the team")
    return value, None


def read_tier(raw: str | None, config: Config) -> tuple[str | None, str | None]:
    """The dropdown text starts with the tier's name (case-insensitive, longest name first)."""
    if raw is None or not raw.strip():
        return None, None
    value = raw.strip().lower()
    for name in sorted(config.tiers, key=len, reverse=True):
        if value.startswith(name.lower()):
            rest = value[len(name):]
            if not rest or not rest[0].isalnum():
                return name, None
    names = ", ".join(f"`{n}`" for n in config.tiers)
    return None, f"{text.quote(raw)} is not one of the support tiers ({names})"


def classify(dropdown: str | None, name: str | None, title: str, details: str | None,
             config: Config) -> tuple[str, str]:
    """-> (event type, source). The dropdown decides; for "other" or nothing, keywords do."""
    if dropdown:
        lowered = dropdown.lower()
        for event_type in EVENT_TYPES:
            if event_type != "other" and re.search(rf"\b{event_type}s?\b", lowered):
                return event_type, "form"
    haystack = " ".join(x for x in (name, title, details) if x).lower()
    for event_type in EVENT_TYPES:
        cfg = config.event_types.get(event_type)
        if cfg is None:
            continue
        for keyword in cfg.keywords:
            if re.search(rf"(?<![a-z0-9]){re.escape(keyword)}s?(?![a-z0-9])", haystack):
                return event_type, "keywords"
    if dropdown and "other" in dropdown.lower():
        return "other", "form"
    return "other", "default"


def _rep_login(token: str) -> str | None:
    """The login in a handle-shaped word (``@octocat``, a github.com link), else None."""
    word = token.strip(_REP_PUNCTUATION)
    for prefix in ("https://github.com/", "http://github.com/", "github.com/"):
        if word.lower().startswith(prefix):
            return word[len(prefix):].strip("/")
    return word[1:] if word.startswith("@") else None


def read_rep(raw: str | None) -> tuple[tuple[str, ...], str | None]:
    """-> (logins, note). The field is optional: what is not a handle is a note, never an error.

    Handles are ``@login`` or github.com links, separated by commas or spaces, with any
    other words around them (``@okafor (Dr. Okafor)``); bare logins count only as a list
    of single words (``okafor, ta-jones``), since ``Dr Okafor`` is a name.
    """
    if raw is None or not raw.strip():
        return (), None
    value = " ".join(raw.split())
    # Only the first words are read: a field of 16,000 handles is a list, not a team.
    words = [w for w in re.split(r"[\s,;]+", value, maxsplit=MAX_REP_WORDS)[:MAX_REP_WORDS] if w]
    shaped = [login for login in map(_rep_login, words) if login]
    if not shaped:
        items = [i.strip() for i in re.split(r"[,;]", value, maxsplit=MAX_REP_WORDS)[:MAX_REP_WORDS]
                 if i.strip()]
        if all(len(i.split()) == 1 for i in items):
            shaped = [i.strip(_REP_PUNCTUATION) for i in items]
    first: dict[str, str] = {}
    for login in shaped:
        if text.is_login(login):
            first.setdefault(login.lower(), login)
    logins = tuple(first.values())
    if not logins:
        return (), (f"The community representative {text.quote(value)} is not a GitHub "
                    "handle, so nobody was mentioned; write handles like `@octocat` to have them "
                    "notified.")
    notes = []
    skipped = [x for x in shaped if not text.is_login(x)]
    if skipped:
        names = (", ".join(text.quote(f"@{x}", 40) for x in skipped[:3])
                 + (", …" if len(skipped) > 3 else ""))
        one = len(skipped) == 1
        notes.append(f"{names} in the community representative field {'is' if one else 'are'} "
                     f"not {'a person’s GitHub handle' if one else 'GitHub handles of people'}"
                     f" and {'was' if one else 'were'} not mentioned.")
    if len(logins) > MAX_REPS:
        notes.append(f"Only the first {MAX_REPS} community representatives are mentioned.")
        logins = logins[:MAX_REPS]
    return logins, " ".join(notes) or None


def memory_as_written(raw: str) -> str | None:
    """``4gb`` -> ``4 GB``: the number and unit as written (None without a unit)."""
    written = raw.strip()
    m = _MEMORY_RE.fullmatch(written) if len(written) <= MAX_NUMBER_TEXT else None
    if not m or not m.group(2):
        return None
    return f"{m.group(1)} {_UNITS[m.group(2).lower()]}"


def read_request(issue: IssueSnapshot, form: FormTemplate, config: Config,
                 override: DateOverride | None = None,
                 parsed: ParsedForm | None = None) -> EventRequest:
    """Read and check every field; never raises on bad input."""
    fields = parsed if parsed is not None else parse_form_body(issue.body, form)
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
    end_raw = need("end", fields.get("end"))
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
    if zone is not None and start_raw:
        try:
            start_when = parse_when(start_raw, field_zone=zone, opened_at=issue.created_at,
                                    abbreviations=config.timezone_abbreviations)
        except DateError as e:
            errors.append(FieldError("start", str(e)))
    if zone is not None and end_raw and start_when is not None:
        try:
            # An end written without a zone is in the zone the start was written in.
            end_zone = start_when.zone if start_when.zone.source == "written" else zone
            end_when = parse_when(end_raw, field_zone=end_zone, opened_at=issue.created_at,
                                  abbreviations=config.timezone_abbreviations,
                                  after=start_when.at)
        except DateError as e:
            errors.append(FieldError("end", str(e)))
    elif zone is not None and end_raw:
        try:  # still check the end alone, so every problem is listed at once
            parse_when(end_raw, field_zone=zone, opened_at=issue.created_at,
                       abbreviations=config.timezone_abbreviations)
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
    short_notice = (start is not None and not start_in_past
                    and start - opened < timedelta(days=config.notice_days))

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
    if tier_error:
        errors.append(FieldError("tier", tier_error))

    reps, rep_note = read_rep(fields.get("community_rep"))

    final_zone = start_when.zone if start_when else zone
    return EventRequest(
        hub_host=host, hub_url=url, event_name=name.strip() if name else None,
        event_type=event_type, type_source=type_source, tier=tier,
        start=start, end=end, zone=final_zone, attendees=attendees,
        memory_per_user_gib=memory, community_rep=reps[0] if reps else None,
        details=details, errors=tuple(errors), short_notice=short_notice,
        start_in_past=start_in_past,
        notes=tuple(dict.fromkeys([*(w.note for w in (start_when, end_when) if w and w.note),
                                   *([rep_note] if rep_note else [])])),
        community_reps=reps, memory_written=memory_written,
    )


def field_label(form: FormTemplate, field_id: str | None) -> str:
    return _label_of(form, field_id) if field_id else "Request"
