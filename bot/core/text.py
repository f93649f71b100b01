"""Make text taken from issues safe to put into the bot's own comments.

People's text must not ping ``@everyone`` or a team, break the checklist's
lines, close an HTML comment, or forge the hidden state block.
"""

from __future__ import annotations

import re

_ZWSP = "\u200b"
_MENTION_RE = re.compile(r"@(?=[A-Za-z0-9])")
_MD_SPECIAL_RE = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")
_BACKTICKS_RE = re.compile("`+")
_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
# Names that notify a whole room elsewhere; on GitHub they would ping whoever owns the
# login, which is never what someone writing them means.
_ROOM_MENTIONS = frozenset({"everyone", "here", "channel", "all"})


# Unicode's categories Cs (surrogates), Cc (controls), Zl and Zp are these fixed ranges;
# regular expressions find them without a Python loop per character (a hot path).
_SURROGATE_RE = re.compile("[\ud800-\udfff]")  # lone surrogates cannot be encoded for GitHub
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Bidi overrides could make a rendered line read differently from its text.
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _printable(text: str) -> str:
    if text.isascii() and text.isprintable():
        return text
    text = _SURROGATE_RE.sub("\ufffd", text)
    return _BIDI_RE.sub("", _CONTROL_RE.sub(" ", text))


def inline(text: str | None, limit: int = 120) -> str:
    """One line of people's text, safe inside a table cell or a list item."""
    if not text:
        return ""
    flat = " ".join(_printable(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    flat = _MD_SPECIAL_RE.sub(r"\\\1", flat)
    return _MENTION_RE.sub("@" + _ZWSP, flat)


def plain(text: str | None, limit: int = 200) -> str:
    """Trusted text (from config) on one line: no escaping, just no line breaks."""
    if not text:
        return ""
    flat = " ".join(_printable(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def code(text: str | None, limit: int = 120) -> str:
    """People's text shown as inline code: on one line, cut to LIMIT, nothing in it renders.

    GitHub shows a code span's text as written: no link, no bare-URL autolink, no emphasis,
    no mention. The span is fenced with one backtick more than the longest run inside it,
    and padded with a space where the text starts or ends with a backtick (or with a space
    at both ends, which GitHub would take off), so no text can end it early.
    """
    if not text:
        return ""
    flat = " ".join(_printable(text).split())
    if not flat:  # only controls and invisible marks: nothing to show
        return ""
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    # The bot's hidden markers are HTML comments: people's text never holds one whole.
    flat = flat.replace("<!--", "<!\u200b--").replace("-->", "--\u200b>")
    fence = "`" * (max(map(len, _BACKTICKS_RE.findall(flat)), default=0) + 1)
    if flat[0] == "`" or flat[-1] == "`" or (flat[0] == " " and flat[-1] == " "):
        flat = f" {flat} "
    return f"{fence}{flat}{fence}"


def quote(text: str | None, limit: int = 80) -> str:
    """Quote what someone wrote in an error message: short, one line, as inline code."""
    if text is None:
        return '""'
    flat = " ".join(_printable(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return code(flat, limit + 1) if flat else '""'


def is_login(text: str) -> bool:
    return bool(_LOGIN_RE.match(text)) and text.lower() not in _ROOM_MENTIONS


def mention(login: str) -> str:
    """An @-mention of a GitHub user; anything not shaped like a login is shown inert."""
    login = login.strip().lstrip("@")
    if is_login(login):
        return f"@{login}"
    return inline(login, 40)
