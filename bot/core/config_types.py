"""The value types of ``config.yaml`` (sizes, offsets, zones, dates, URLs) and how pydantic's
errors read: one line per problem, ``path.to.key: what is wrong``."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    Strict,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import ErrorDetails, core_schema

from .config_values import DueOffset

# Matched whole on stripped, length-capped text: no two quantifiers over the same characters.
_OFFSET_RE = re.compile(r"([+-]?)\s*(\d+)\s*([dh])")
_MEMORY_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(gib|gb|g|mib|mb|m)?", re.IGNORECASE)
_MAX_SIZE_TEXT = 40
OWNER_NAME = r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+"


def parse_offset(text: str) -> DueOffset:
    """``-21d`` / ``-12h`` (before the start), ``+1d`` (after the end), ``start+0h``, ``end-1h``."""
    raw = str(text).strip()
    anchor = ""
    for name in ("start", "end"):
        if raw.lower().startswith(name):
            anchor, raw = name, raw[len(name):]
            break
    raw = raw.strip()
    m = _OFFSET_RE.fullmatch(raw) if len(raw) <= _MAX_SIZE_TEXT else None
    if not m:
        raise ValueError(f"due offset {text!r} is not like -21d, -12h, +1d or start+0h")
    sign, num, unit = m.groups()
    amount = -int(num) if sign == "-" else int(num)
    if not anchor:
        anchor = "start" if sign == "-" else "end"
    return DueOffset(anchor=anchor, amount=amount, unit=unit)


def parse_memory_gib(text: Any) -> float:
    """``4 GB``, ``4G``, ``4096 MiB``, ``4`` -> GiB (GB and GiB are read alike: people mean GiB)."""
    if isinstance(text, bool):
        raise ValueError(f"memory {text!r} is not a size")
    if isinstance(text, int | float):
        value = float(text)
    else:
        written = str(text).strip()
        m = _MEMORY_RE.fullmatch(written) if len(written) <= _MAX_SIZE_TEXT else None
        if not m:
            raise ValueError(f"memory {text!r} is not a size like 4 GB")
        value = float(m.group(1))
        if (m.group(2) or "g").lower().startswith("m"):
            value /= 1024
    if value <= 0:
        raise ValueError(f"memory {text!r} must be more than zero")
    return value


def _text(value: Any) -> Any:
    """A number written where text is meant (``ref: 1``) is that text; anything else stays
    for the string check to name."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date like 2026-01-07") from None


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone like America/Chicago") from None
    return name


def _zone_or_offset(value: str) -> str:
    return value if re.fullmatch(r"[+-]\d{2}:?\d{2}", value) else _zone(value)


def _login(value: str) -> str:
    if not value.strip():
        raise ValueError(f"{value!r} is not a GitHub login")
    return value.strip().lstrip("@")


def _https_url(url: str) -> str:
    """An ``https://`` URL or nothing: the status comment and ``/help`` link to it."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:  # a malformed [IPv6] part
        host = None
    if not (url.isprintable() and " " not in url and host
            and parts.scheme.lower() == "https"):
        raise ValueError(f"{url[:100]!r} is not an https:// URL")
    return url


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(f"not a regular expression: {e}") from None
    return pattern


@dataclass(frozen=True)
class _Check:
    """Annotated metadata: a check after the type's own, and what the JSON Schema says of it."""

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def shown(self) -> dict[str, Any]:
        return {}

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(schema), **self.shown()}


@dataclass(frozen=True)
class OneOf(_Check):
    """Text that must be one of ``names`` (an ``enum`` in the JSON Schema)."""

    names: tuple[str, ...]
    what: str = ""

    def check(self, value: str) -> str:
        if value not in self.names:
            raise ValueError(f"unknown {self.what} {value!r}" if self.what
                             else f"{value!r} is not one of {', '.join(self.names)}")
        return value

    def shown(self) -> dict[str, Any]:
        return {"enum": list(self.names)}


@dataclass(frozen=True)
class Matching(_Check):
    """Text matching ``pattern`` whole (a ``pattern`` in the JSON Schema), else ``message``."""

    pattern: str
    message: str  # formatted with the value as {0!r}

    def check(self, value: str) -> str:
        if not re.fullmatch(self.pattern, value):
            raise ValueError(self.message.format(value))
        return value

    def shown(self) -> dict[str, Any]:
        return {"pattern": f"^{self.pattern}$"}


@dataclass(frozen=True)
class NotEmpty(_Check):
    """A list or mapping that holds something; text that is not blank (kept stripped)."""

    message: str

    def check(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
        if not value:
            raise ValueError(self.message)
        return value

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        shown = handler(schema)
        at_least = {"array": "minItems", "object": "minProperties", "string": "minLength"}
        return {**shown, at_least.get(shown.get("type", ""), "minItems"): 1}


Text = Annotated[str, BeforeValidator(_text), Strict()]
Whole = Annotated[int, Strict(), Field(ge=0)]
AtLeastOne = Annotated[int, Strict(), Field(ge=1)]  # 0 would hang or mean unbounded
Number = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
# A value of 0 or less would stop the bot (a zero timeout, a busy loop).
AboveZero = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
Flag = Annotated[bool, Strict()]
Login = Annotated[str, Strict(), AfterValidator(_login)]
Zone = Annotated[Text, AfterValidator(_zone),
                 WithJsonSchema({"type": "string", "description": "an IANA time zone",
                                 "examples": ["America/Chicago"]})]
ZoneOrOffset = Annotated[Text, AfterValidator(_zone_or_offset),
                         WithJsonSchema({"type": "string", "examples": ["Asia/Kolkata",
                                                                        "+05:45"]})]
IsoDate = Annotated[date, PlainValidator(_date),
                    WithJsonSchema({"type": "string", "format": "date"})]
HttpsUrl = Annotated[Text, AfterValidator(_https_url),
                     WithJsonSchema({"type": "string", "pattern": "^(https://.*)?$"})]
Regex = Annotated[Text, AfterValidator(_regex),
                  WithJsonSchema({"type": "string", "format": "regex"})]
Memory = Annotated[float, PlainValidator(parse_memory_gib), WithJsonSchema({
    "anyOf": [{"type": "number", "exclusiveMinimum": 0},
              {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*([GgMm]([Ii]?[Bb])?)?\s*$"}],
    "examples": ["4 GB", "512 MiB"], "description": "a size: GB and GiB alike, MB/MiB, or GiB"})]
Offset = Annotated[DueOffset, PlainValidator(parse_offset),
                   WithJsonSchema({"type": "string", "examples": ["-21d", "-12h", "+1d",
                                                                  "start+0h"],
                                   "pattern": r"^\s*((start|end)\s*)?[+-]?\s*\d+\s*[dh]\s*$"})]


# --- pydantic's errors as the bot's one-line problems --------------------------


def where(loc: Sequence[int | str]) -> str:
    """``('checklist', 0, 'tiers')`` -> ``checklist[0].tiers``."""
    out = ""
    for part in loc:
        if isinstance(part, int) or not re.fullmatch(r"[\w-]{1,100}", part):
            out += f"[{part!r}]" if isinstance(part, str) else f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "config"


def _kind(value: Any) -> str:
    return type(value).__name__


_MESSAGES: Mapping[str, Callable[[Any, Mapping[str, Any]], str]] = {
    "int_type": lambda v, c: f"{v!r} is not a whole number",
    "int_parsing": lambda v, c: f"{v!r} is not a whole number",
    "int_from_float": lambda v, c: f"{v!r} is not a whole number",
    "float_type": lambda v, c: f"{v!r} is not a number",
    "float_parsing": lambda v, c: f"{v!r} is not a number",
    "finite_number": lambda v, c: f"{v!r} is not a finite number",
    "greater_than_equal": lambda v, c: f"{v!r} must be at least {c['ge']:g}",
    "greater_than": lambda v, c: f"{v!r} must be more than {c['gt']:g}",
    "less_than_equal": lambda v, c: f"{v!r} must be at most {c['le']:g}",
    "bool_type": lambda v, c: f"{v!r} is not true or false",
    "string_type": lambda v, c: f"{v!r} is not text",
    "dict_type": lambda v, c: f"must be a mapping, not {_kind(v)}",
    "model_type": lambda v, c: f"must be a mapping, not {_kind(v)}",
    "model_attributes_type": lambda v, c: f"must be a mapping, not {_kind(v)}",
    "list_type": lambda v, c: f"must be a list, not {_kind(v)}",
    "extra_forbidden": lambda v, c: "unknown key",
    "missing": lambda v, c: "is required",
    "value_error": lambda v, c: str(c["error"]),
}


def problem_line(error: ErrorDetails, prefix: Sequence[int | str] = ()) -> str:
    """One pydantic error as ``path: message`` (``form_fields.begins: 'begins' is not ...``)."""
    loc = [*prefix, *error["loc"]]
    say = _MESSAGES.get(error["type"])
    message = say(error.get("input"), error.get("ctx") or {}) if say else error["msg"]
    if len(loc) >= 2 and loc[-1] == "[key]":  # a mapping's key: named as one, even a number
        loc = [*loc[:-2], str(loc[-2])]
    return f"{where(loc)}: {message}"
