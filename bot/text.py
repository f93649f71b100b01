"""Make text taken from issues safe to put into the bot's own comments.

People's text must not ping ``@everyone`` or a team, break the checklist's
lines, close an HTML comment, or forge the hidden state block.
"""

from __future__ import annotations

import re
import unicodedata

_ZWSP = "\u200b"
_MENTION_RE = re.compile(r"@(?=[A-Za-z0-9])")
_MD_SPECIAL_RE = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")
_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def _printable(text: str) -> str:
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cs":  # lone surrogates cannot be encoded for GitHub
            out.append("\ufffd")
        elif cat in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
            # Bidi overrides could make a rendered line read differently from its text.
            continue
        else:
            out.append(ch)
    return "".join(out)


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
    """People's text shown as inline code (nothing in it renders or pings)."""
    if not text:
        return ""
    flat = " ".join(_printable(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    flat = flat.replace("`", "'")
    return f"`{flat}`"


def quote(text: str | None, limit: int = 80) -> str:
    """Quote what someone wrote in an error message: short, one line, no markup."""
    if text is None:
        return '""'
    flat = " ".join(_printable(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return code(flat, limit + 1) if flat else '""'


def is_login(text: str) -> bool:
    return bool(_LOGIN_RE.match(text))


def mention(login: str) -> str:
    """An @-mention of a GitHub user; anything not shaped like a login is shown inert."""
    login = login.strip().lstrip("@")
    if is_login(login):
        return f"@{login}"
    return inline(login, 40)
