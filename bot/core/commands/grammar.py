"""Where a comment holds commands: lines starting ``/NAME``, outside quotes, code and HTML
comments (bounded, no backtracking on what people write)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_COMMANDS = 10  # per comment: a pasted wall of commands must not become a wall of replies


# --- grammar -------------------------------------------------------------------------------

# Any Unicode whitespace ends the name: a pasted no-break space must not hide a command.
_COMMAND_RE = re.compile(r"^ {0,3}/([A-Za-z][A-Za-z0-9_-]*)(?=\s|$)")
_OTHER_SPACE_RE = re.compile(r"[^\S ]")  # whitespace other than a plain space
_FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_QUOTE_RE = re.compile(r"^ {0,3}>")
_COMMENT_OPEN = "<!--"
_COMMENT_CLOSE = "-->"
# GitHub renders <pre> and <code> elements as code, whatever their case and attributes.
_HTML_CODE_TAG_RE = re.compile(r"<(/?)(pre|code)(?![\w-])", re.IGNORECASE)
_BACKTICKS_RE = re.compile(r"`+")
_TAG_OPEN_RE = re.compile(r"</?[A-Za-z]")  # an HTML tag starts: its attributes may span lines
_TAG_TEXT_RE = re.compile(r"[>\"']")  # what ends a tag, or starts a quoted attribute value


@dataclass(frozen=True)
class Invocation:
    """One command as written: ``/name args``."""

    name: str  # lower-case, without the slash
    args: str  # the rest of the line, HTML comments taken out, trimmed
    line: str  # the line as written, trimmed and without HTML comments, to quote back


def _visible(line: str, in_comment: bool) -> tuple[str, bool, bool]:
    """-> (the line's text outside HTML comments, in a comment at its end, began in one)."""
    began = in_comment
    out: list[str] = []
    pos = 0
    while pos <= len(line):
        if in_comment:
            close = line.find(_COMMENT_CLOSE, pos)
            if close < 0:
                break
            in_comment, pos = False, close + len(_COMMENT_CLOSE)
        else:
            start = line.find(_COMMENT_OPEN, pos)
            if start < 0:
                out.append(line[pos:])
                break
            out.append(line[pos:start])
            in_comment, pos = True, start + len(_COMMENT_OPEN)
    return "".join(out), in_comment, began


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (len(line) - len(line.lstrip(" ")) <= 3 and stripped.startswith(fence)
            and set(stripped) == {fence[0]})


def _without_code_spans(line: str) -> str:
    """The line without its backtick code spans (`` `<pre>` `` is text, not a tag).

    A span runs from a backtick run to the next run of the same length. Found in one pass
    over the runs: a pattern searching ahead from each run took quadratic time on runs of
    every length, none closing another.
    """
    runs = [(m.start(), m.end()) for m in _BACKTICKS_RE.finditer(line)]
    closer: list[int | None] = [None] * len(runs)
    seen: dict[int, int] = {}  # run length -> index of the nearest such run to the right
    for i in range(len(runs) - 1, -1, -1):
        length = runs[i][1] - runs[i][0]
        closer[i] = seen.get(length)
        seen[length] = i
    kept: list[str] = []
    pos = i = 0
    while i < len(runs):
        j = closer[i]
        if j is None:
            i += 1
            continue
        kept.append(line[pos:runs[i][0]])
        pos = runs[j][1]
        i = j + 1
    kept.append(line[pos:])
    return "".join(kept)


def _tag_after(visible: str, tag: str | None) -> str | None:
    """Whether an HTML tag is still open after this line (None: not; else "" or the quote
    of its attribute value still open), given the same for the line before."""
    pos = 0
    while True:
        if tag is None:
            opening = _TAG_OPEN_RE.search(visible, pos)
            if opening is None:
                return None
            tag, pos = "", opening.end()
        elif tag:
            end = visible.find(tag, pos)
            if end < 0:
                return tag
            tag, pos = "", end + 1
        else:
            mark = _TAG_TEXT_RE.search(visible, pos)
            if mark is None:
                return tag
            tag, pos = (None if mark.group() == ">" else mark.group()), mark.end()


def _html_code_after(visible: str, element: str | None) -> str | None:
    """The ``pre`` or ``code`` element open after this line's visible text (None: none).

    Outside an element the first opening tag starts one (backtick code spans are text);
    inside, only its own closing tag ends it.
    """
    scanned = visible if element is not None else _without_code_spans(visible)
    for tag in _HTML_CODE_TAG_RE.finditer(scanned):
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if element is None and not closing:
            element = name
        elif element == name and closing:
            element = None
    return element


def parse_commands(body: str | None, names: Iterable[str]) -> tuple[Invocation, ...]:
    """Every known command in a comment, in order.

    A command is a line starting with ``/NAME`` (up to three spaces before it), then any
    whitespace (a no-break space too) before its arguments. Lines in ``>`` quotes (and
    their lazy continuation lines), fenced or indented code, HTML ``<pre>`` and ``<code>``
    elements and HTML comments are never commands: templates and replies quote commands,
    and a command nobody can see must not run. Unknown names (``/home/me``, ``/shrug``)
    are ignored.
    """
    if not body:
        return ()
    known = {n.lower() for n in names}
    found: list[Invocation] = []
    fence: str | None = None
    in_comment = False
    in_quote = False
    element: str | None = None  # the HTML <pre> or <code> element the line begins in
    tag: str | None = None  # inside an HTML tag: "" or the quote of the attribute value open
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if fence is not None and not in_comment:
            if _closes(line, fence):
                fence = None
            continue
        visible, in_comment_after, began_in_comment = _visible(line, in_comment)
        in_comment = in_comment_after
        if element is not None or began_in_comment:
            element = _html_code_after(visible, element)
            continue
        if not line.strip():
            in_quote = False
            tag = None  # a blank line ends the paragraph: an unclosed tag was only text
            continue
        if _QUOTE_RE.match(line):
            in_quote = True
            continue
        opening = _FENCE_OPEN_RE.match(visible)
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = opening.group(1)
            in_quote = False
            in_comment = False  # a comment opener inside the fence line is code, not HTML
            tag = None
            continue
        began_in_tag = tag is not None
        tag = _tag_after(visible if began_in_tag else _without_code_spans(visible), tag)
        if began_in_tag:
            continue  # a line inside a tag (``<img alt="`` above) is an attribute, not shown
        element = _html_code_after(visible, None)
        if in_quote:
            continue  # lazy continuation of the quote above: it renders inside the quote
        m = _COMMAND_RE.match(line)
        if m is None or m.group(1).lower() not in known:
            continue
        args = _OTHER_SPACE_RE.sub(" ", visible[len(m.group(0)):].strip())
        found.append(Invocation(name=m.group(1).lower(), args=args, line=visible.strip()))
        if len(found) >= MAX_COMMANDS:
            break
    return tuple(found)
