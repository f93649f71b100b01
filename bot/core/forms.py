"""The issue form's answers: the body GitHub renders from a submission (the template,
and reading it, are in ``form_template``; its names are re-exported here).

GitHub turns a submitted issue form into Markdown: each element as ``### LABEL``,
a blank line, then the answer (or ``_No response_``), elements joined by blank
lines. Dropdown answers are the option text (several joined by ``", "``),
checkboxes are ``- [X] option`` lines, and a textarea with ``render:`` is wrapped
in a code fence. Markdown elements are not rendered at all.

Answers are found by the labels of the template the bot is configured with, so
rewording a label needs no code change. Only a heading equal to a known label
(trimmed, case-insensitive), outside a code fence, and the first for its field,
starts a section; any other line, ``### Something`` pasted into the details
included, belongs to the answer above it.

Bodies come from anyone, so parsing is linear in the body's length and never
raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from .form_template import (
    EMPTY_TEMPLATE,
    FIELD_KINDS,
    FormError,
    FormField,
    FormTemplate,
    form_from_mapping,
    label_key,
    load_form,
    load_form_yaml,
)

__all__ = [
    "EMPTY_TEMPLATE", "FIELD_KINDS", "NO_RESPONSE", "FormError", "FormField", "FormTemplate",
    "ParsedForm", "form_from_mapping", "has_required_headings", "label_key", "load_form",
    "load_form_yaml", "parse_form_body", "render_form_body", "split_selection",
]

NO_RESPONSE = "_No response_"
# Older renderings of an unselected optional dropdown.
_NONE_DROPDOWN = "None"
# A code fence opener: up to three spaces, three or more backticks or tildes, an info string.
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_CHECKBOX_RE = re.compile(r"^ {0,3}[-*+][ \t]+\[([ xX])\](?:[ \t]+(.*))?$")
_MARKS = frozenset("#`~")  # what a heading or a fence line starts with


@dataclass(frozen=True)
class ParsedForm:
    """The answers in one issue body, by field id."""

    values: Mapping[str, str | None]  # None: no answer ("_No response_", "None", empty)
    checked: Mapping[str, tuple[str, ...]]  # checkboxes id -> ticked option texts
    present: frozenset[str]  # ids whose heading appeared in the body
    template: FormTemplate = field(default=EMPTY_TEMPLATE, repr=False, compare=False)

    def get(self, id: str) -> str | None:
        return self.values.get(id)

    def selected(self, id: str) -> tuple[str, ...]:
        """The options chosen: split a multi-select answer, or the ticked checkboxes."""
        if id in self.checked:
            return self.checked[id]
        value = self.values.get(id)
        if value is None:
            return ()
        f = self.template.field(id)
        if f is None or f.kind != "dropdown":
            return (value,)
        return split_selection(value, f.options) if f.multiple else (value,)


# --- the rendered body -------------------------------------------------------


def parse_form_body(body: str | None, template: FormTemplate) -> ParsedForm:
    """Split a rendered issue body into answers by the template's labels. Never raises."""
    return _parse_form_body(body if isinstance(body, str) else None, template)


@lru_cache(maxsize=8)  # one sync asks for the same body's answers several times
def _parse_form_body(body: str | None, template: FormTemplate) -> ParsedForm:
    by_label = {label_key(f.label): f for f in template.fields}
    lines = _lines(body)
    # Only a line starting with "#", "`" or "~" can be a heading or a fence: the others are
    # passed over unread, so a body of 60,000 lines costs milliseconds.
    marked = [i for i, line in enumerate(lines) if line.lstrip(" ")[:1] in _MARKS]
    closes_ahead = _closing_fences_ahead(lines, marked)
    sections: dict[str, tuple[int, int]] = {}  # field id -> [first, end) line range
    current: FormField | None = None
    fence: tuple[str, int] | None = None  # the open code fence: its character and length
    for k, i in enumerate(marked):
        line = lines[i]
        if fence is not None:
            closer = _closing_fence(line)
            if closer is not None and closer[0] == fence[0] and closer[1] >= fence[1]:
                fence = None
            continue
        f = _heading_field(line, by_label)
        if f is not None and f.id not in sections:
            if current is not None:
                sections[current.id] = (sections[current.id][0], i)
            current = f
            sections[f.id] = (i + 1, len(lines))
            continue
        # An input or a dropdown answer is one line, so a fence there is stray text.
        if current is None or current.kind in ("textarea", "upload"):
            fence = _opening_fence(line, closes_ahead[k + 1])

    values: dict[str, str | None] = {}
    checked: dict[str, tuple[str, ...]] = {}
    for f in template.fields:
        if f.id not in sections:
            continue
        first, end = sections[f.id]
        answer = _answer(lines[first:end], f)
        values[f.id] = answer
        if f.kind == "checkboxes":
            checked[f.id] = _ticked(answer, f.options)
    return ParsedForm(
        values=MappingProxyType(values),
        checked=MappingProxyType(checked),
        present=frozenset(sections),
        template=template,
    )


def render_form_body(template: FormTemplate,
                     answers: Mapping[str, str | Sequence[str] | None]) -> str:
    """The body GitHub renders when the form is submitted with these answers.

    ``answers`` maps field ids to text, to the chosen options (a multi-select
    dropdown, ticked checkboxes), or to None for no answer. Used to write
    examples and tests in the exact shape the bot receives.
    """
    sections: list[str] = []
    for f in template.fields:
        value = answers.get(f.id)
        chosen = (value,) if isinstance(value, str) else tuple(value or ())
        if f.kind == "checkboxes":
            ticked = {label_key(c) for c in chosen}
            text = "\n".join(
                f"- [{'X' if label_key(o) in ticked else ' '}] {o}" for o in f.options
            )
        elif not any(chosen):
            text = NO_RESPONSE
        else:
            text = ", ".join(chosen)
            if f.render:
                text = f"```{f.render}\n{text}\n```"
        sections.append(f"### {f.label}\n\n{text}")
    return "\n\n".join(sections)


def has_required_headings(body: str | None, template: FormTemplate) -> bool:
    """Whether the body holds the heading of every required field (of every field, if none is).

    This is how an issue opened from the form is recognised without its label.
    """
    wanted = template.required_ids or tuple(f.id for f in template.fields)
    if not wanted or not body or "###" not in body:
        return False  # no heading at all: most issues, and the parse is the costly part
    present = parse_form_body(body, template).present
    return all(i in present for i in wanted)


def split_selection(value: str, options: Sequence[str]) -> tuple[str, ...]:
    """Split a multi-select answer ``"a, b"``, keeping whole any option that holds ", "."""
    # Longest first, so an option that extends another ("A, B" over "A") wins.
    ordered = sorted({o for o in options if o}, key=len, reverse=True)
    out: list[str] = []
    pos, n = 0, len(value)
    while pos < n:
        for option in ordered:
            end = pos + len(option)
            if value.startswith(option, pos) and (end == n or value.startswith(", ", end)):
                break
        else:
            # Not an option (an edited body): take the text up to the next separator.
            end = value.find(", ", pos)
            end = n if end < 0 else end
        piece = value[pos:end].strip()
        if piece:
            out.append(piece)
        pos = end + 2
    return tuple(out)


def _lines(body: str | None) -> list[str]:
    if not isinstance(body, str):
        return []
    # CommonMark line endings: \r\n, \n, or a lone \r. Trailing spaces never matter here.
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    return [line.rstrip() for line in text.split("\n")]


def _heading_field(line: str, by_label: Mapping[str, FormField]) -> FormField | None:
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3 or not stripped.startswith("###"):
        return None
    rest = stripped[3:]
    if rest and rest[0] not in " \t":
        return None  # "####" is another level, "###x" is not a heading
    f = by_label.get(label_key(rest))
    if f is None:
        # An ATX heading may close with hashes: "### Start ###".
        closed = rest.rstrip("#")
        if closed != rest and (not closed or closed[-1] in " \t"):
            f = by_label.get(label_key(closed))
    return f


def _closing_fence(line: str) -> tuple[str, int] | None:
    m = _FENCE_RE.match(line)
    if m is None or m.group(2).strip():
        return None
    return m.group(1)[0], len(m.group(1))


def _closing_fences_ahead(lines: Sequence[str], marked: Sequence[int]
                          ) -> list[dict[str, int]]:
    """For each of the MARKED lines (by position in it), the longest closing fence of each
    character from there on; one more entry for the end.

    A fence counts only when a closing fence follows it: a stray ``` typed into
    one answer would otherwise swallow every answer after it. One backward pass
    keeps that question constant-time per line.
    """
    out: list[dict[str, int]] = [{}] * (len(marked) + 1)
    ahead: dict[str, int] = {}
    for k in range(len(marked) - 1, -1, -1):
        closer = _closing_fence(lines[marked[k]])
        if closer is not None and closer[1] > ahead.get(closer[0], 0):
            ahead = {**ahead, closer[0]: closer[1]}  # a new dict: earlier entries share the old
        out[k] = ahead
    return out


def _opening_fence(line: str, closes_ahead: Mapping[str, int]) -> tuple[str, int] | None:
    m = _FENCE_RE.match(line)
    if m is None:
        return None
    char, size = m.group(1)[0], len(m.group(1))
    if char == "`" and "`" in m.group(2):
        return None  # a backtick fence's info string never holds a backtick
    return (char, size) if closes_ahead.get(char, 0) >= size else None


def _answer(lines: Sequence[str], f: FormField) -> str | None:
    first, end = 0, len(lines)
    while first < end and not lines[first].strip():
        first += 1
    while end > first and not lines[end - 1].strip():
        end -= 1
    fenced = False
    if f.render is not None and end - first >= 2:
        opener = _opening_fence(lines[first], {"`": 1 << 30, "~": 1 << 30})
        closer = _closing_fence(lines[end - 1])
        if opener and closer and closer[0] == opener[0] and closer[1] >= opener[1]:
            first, end, fenced = first + 1, end - 1, True
            # The fence keeps blank lines GitHub does not show as part of the answer.
            while first < end and not lines[first].strip():
                first += 1
            while end > first and not lines[end - 1].strip():
                end -= 1
    if first == end:
        return None
    text = "\n".join(lines[first:end])
    if end - first == 1 and not fenced:
        text = text.strip()  # indentation means something only in code
    if text == NO_RESPONSE:
        return None
    if f.kind == "dropdown" and text == _NONE_DROPDOWN and _NONE_DROPDOWN not in f.options:
        return None
    return text


def _ticked(answer: str | None, options: Sequence[str]) -> tuple[str, ...]:
    if answer is None:
        return ()
    canonical = {label_key(o): o for o in options}
    out: list[str] = []
    for line in answer.split("\n"):
        m = _CHECKBOX_RE.match(line)
        if m is None or m.group(1) == " ":
            continue
        text = (m.group(2) or "").strip()
        if text:
            out.append(canonical.get(label_key(text), text))
    return tuple(out)
