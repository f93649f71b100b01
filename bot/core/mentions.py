"""Whom the bot pings for a request's community representatives (pure).

The author names the representatives, so without limits an author could make the bot
ping anyone, once per edit. The status comment mentions them when it is first posted
(that notifies); afterwards a representative named later is told by a notice comment, at
most ``MAX_REP_NOTICES`` of them per request, ``REP_NOTICE_COOL_DOWN`` apart. No comment
pings more than ``MAX_MENTIONS`` of them; the others are named as inert text. What was
told is kept in the state's ``sent`` keys, only for the representatives the form names
now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from . import text

REP = "rep"  # rep:LOGIN, the bot pinged this representative
REP_NOTICE = "rep-notice"  # rep-notice:ISO, a notice to newly named representatives
NOTICES = "notices"  # the state tracks the pending and rep notices (lifecycle.NOTICES)
MAX_MENTIONS = 5  # representatives one comment pings at most
MAX_REP_NOTICES = 3  # notices per request after the first status comment
REP_NOTICE_COOL_DOWN = timedelta(hours=24)  # between two notices


def rep_key(login: str) -> str:
    return f"{REP}:{login.lower()}"


def is_rep_key(key: str) -> bool:
    return key.startswith(f"{REP}:")


def told(reps: Sequence[str], sent: Iterable[str]) -> tuple[str, ...]:
    """The representatives named now whom the bot has pinged, in the form's order."""
    keys = set(sent)
    return tuple(r for r in reps if rep_key(r) in keys)


def mentioned(reps: Sequence[str], sent: Iterable[str]) -> tuple[str, ...]:
    """Whom the bot's comments mention: those told, at most ``MAX_MENTIONS``; before the
    state tracks notices (the first status comment, an older state), the first ones named,
    whom that comment tells."""
    keys = set(sent)
    if NOTICES not in keys:
        return tuple(reps[:MAX_MENTIONS])
    return told(reps, keys)[:MAX_MENTIONS]


def inert(logins: Sequence[str], limit: int = 10) -> str:
    """Handles shown as code (read, not pinged), a bounded number of them."""
    shown = ", ".join(text.code(f"@{login}", 60) for login in logins[:limit])
    more = len(logins) - limit
    return f"{shown} and {more} more" if more > 0 else shown
