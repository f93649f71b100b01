"""One form answer at a time -> a value, or words saying what is wrong with it (pure).

The hub address, the number of attendees, the tier, the event type, the community
representatives and the memory per user. Each reader is bounded on a stranger's text:
no regex here backtracks, and a long answer is refused unread.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import text
from .config import EVENT_TYPES, Config

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


def bare_rep_words(raw: str | None) -> tuple[str, ...]:
    """The login-shaped words of a representative field with no ``@handle`` in it: a list of
    single words (``okafor, ta-jones``) may be logins, which only GitHub can confirm;
    ``Dr Okafor`` is a name and is never asked about."""
    if raw is None or not raw.strip():
        return ()
    value = " ".join(raw.split())
    words = [w for w in re.split(r"[\s,;]+", value, maxsplit=MAX_REP_WORDS)[:MAX_REP_WORDS] if w]
    if any(map(_rep_login, words)):
        return ()
    items = [i.strip() for i in re.split(r"[,;]", value, maxsplit=MAX_REP_WORDS)[:MAX_REP_WORDS]
             if i.strip()]
    if not all(len(i.split()) == 1 for i in items):
        return ()
    bare = (i.strip(_REP_PUNCTUATION) for i in items)
    return tuple(dict.fromkeys(b for b in bare if text.is_login(b)))[:MAX_REPS]


def read_rep(raw: str | None, users: frozenset[str] = frozenset()
             ) -> tuple[tuple[str, ...], str | None]:
    """-> (logins, note). The field is optional: what is not a handle is a note, never an error.

    Handles are ``@login`` or github.com links, separated by commas or spaces, with any
    other words around them (``@okafor (Dr. Okafor)``). A bare word (``okafor``) is a
    login only when GitHub said so (``users``, lowercased); otherwise it stays a name.
    """
    if raw is None or not raw.strip():
        return (), None
    value = " ".join(raw.split())
    # Only the first words are read: a field of 16,000 handles is a list, not a team.
    words = [w for w in re.split(r"[\s,;]+", value, maxsplit=MAX_REP_WORDS)[:MAX_REP_WORDS] if w]
    shaped = [login for login in map(_rep_login, words) if login]
    if not shaped:
        shaped = [w for w in bare_rep_words(value) if w.lower() in users]
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
