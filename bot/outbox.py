"""Replies the bot owes: recorded in the status comment before they are posted (pure).

A sync writes the status comment first (its state says a reminder was sent, a command
was done), then the labels, then the replies. If GitHub fails, or the process dies,
between the first write and the last, the state says "sent" and nobody saw it. So the
status comment written in that sync also carries the replies as an outbox, each with an
id, and each reply carries its id in a hidden marker. Every sync reads the issue's
comments anyway: an outbox entry whose marker no comment of the bot's holds is posted
then, and the next status comment written drops the entries that are out. That makes
each reply exactly once (``create_comment`` already never posts one twice after an
ambiguous failure), at no extra call.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from .model import Comment, Desired, IssueSnapshot
from .status import StatusComment, StatusState, read_status, state_block

OUTBOX_KEY = "outbox"
MAX_OWED = 20  # replies kept per request: more means something else is badly wrong
_STATE_BLOCK_RE = re.compile(r"<!-- event-support-bot:state [A-Za-z0-9_=-]* -->")
_REPLY_RE = re.compile(r"<!-- event-support-bot:reply ([0-9a-f]{16}) -->")


@dataclass(frozen=True)
class OwedReply:
    id: str
    body: str  # as posted, marker included


def reply_marker(reply_id: str) -> str:
    return f"<!-- event-support-bot:reply {reply_id} -->"


def owed(state: StatusState) -> tuple[OwedReply, ...]:
    """The outbox a status comment's state holds (a damaged one reads as empty)."""
    raw: Any = state.extra.get(OUTBOX_KEY)
    if not isinstance(raw, list):
        return ()
    found = []
    for entry in raw:
        if (isinstance(entry, dict) and isinstance(entry.get("id"), str)
                and isinstance(entry.get("body"), str)):
            found.append(OwedReply(entry["id"], entry["body"]))
    return tuple(found)


def posted_ids(comments: Iterable[Comment], bot_login: str | None) -> frozenset[str]:
    """Reply ids in the bot's own comments (a marker someone else pasted counts for nothing)."""
    ids: set[str] = set()
    for comment in comments:
        if not comment.author_is_bot:
            continue
        if bot_login is not None and comment.author.lower() != bot_login.lower():
            continue
        ids.update(_REPLY_RE.findall(comment.body))
    return frozenset(ids)


def _with_outbox(body: str, entries: tuple[OwedReply, ...]) -> str:
    """The status comment's text with its state's outbox set to ``entries``."""
    blocks = list(_STATE_BLOCK_RE.finditer(body))
    if not blocks:
        return body
    match = blocks[-1]  # the last one is the bot's (see ``status.read_status``)
    state = read_status(body).state
    extra = {k: v for k, v in state.extra.items() if k != OUTBOX_KEY}
    if entries:
        extra[OUTBOX_KEY] = [{"id": e.id, "body": e.body} for e in entries]
    block = state_block(replace(state, extra=extra))
    return body[:match.start()] + block + body[match.end():]


def settle(issue: IssueSnapshot, status: StatusComment | None, comments: Iterable[Comment],
           bot_login: str | None, desired: Desired) -> Desired:
    """``desired`` with its replies marked and owed in the status comment it writes, and
    the replies an earlier sync owed but never posted added to those to post.

    Replies of a sync that leaves the status comment alone record nothing (a ``/help``
    answer): nothing says they were made, so nothing is lost if they are not.
    """
    posted = posted_ids(comments, bot_login)
    missing = tuple(e for e in (owed(status.state) if status is not None else ())
                    if e.id not in posted)
    if desired.status_body is None:
        return replace(desired, replies=(*(e.body for e in missing), *desired.replies))
    seed = f"{issue.repo.full_name.lower()}#{issue.number}\n{status.body if status else ''}"
    fresh = []
    for i, reply in enumerate(desired.replies):
        digest = hashlib.sha256(f"{seed}\n{i}\n{reply}".encode()).hexdigest()[:16]
        fresh.append(OwedReply(digest, f"{reply}\n\n{reply_marker(digest)}"))
    entries = (*missing, *fresh)[-MAX_OWED:]
    return replace(desired, status_body=_with_outbox(desired.status_body, entries),
                   replies=tuple(e.body for e in entries))
