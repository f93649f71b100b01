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

The bot posts only replies it rendered itself. An entry holds the reply's text as the
bot rendered it, and that text is protected by the state block's MAC (``bot.core.sealing``),
bound to this repository and issue: only a block the bot signed for this very request
can owe a reply. A block that fails verification owes nothing (``status.untrusted``
drops its outbox with everything else that is not on the harmless list), so pasted or
forged text is never posted; the cost is that a reply owed at the moment a writer
damages the block is lost. Storing what is needed to render each reply again instead
was weighed and not chosen: replies come from many places (command answers that depend
on the actor and the moment, reminders, notices, config notes), each would need its
inputs kept in the state and a renderer to match, for no gain in trust over a text the
MAC already covers.
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


def command_reply_id(comment_id: int, part: int = 0) -> str:
    """The id of a reply to a person's comment: the same every time that comment is run.

    A command run twice (a delivery retried after it half-failed, handed back at a
    shutdown, redelivered) then answers once: the second run's reply carries the id the
    first one's already does, and a reply whose id is on the issue is not posted again.
    """
    return hashlib.sha256(f"command:{comment_id}:{part}".encode()).hexdigest()[:16]


def answering(comment_id: int, reply: str, part: int = 0) -> str:
    """``reply`` marked as the answer to the comment ``comment_id`` (see ``command_reply_id``)."""
    return f"{reply}\n\n{reply_marker(command_reply_id(comment_id, part))}"


def _own_id(reply: str) -> str | None:
    """The id a reply was marked with already (a command's answer), if any."""
    found = _REPLY_RE.findall(reply)
    return found[-1] if found else None


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
    answer): nothing says they were made, so nothing is lost if they are not. A reply
    marked as the answer to a comment (``answering``) keeps its id, so running that
    comment again does not answer it twice.
    """
    posted = posted_ids(comments, bot_login)
    missing = tuple(e for e in (owed(status.state) if status is not None else ())
                    if e.id not in posted)
    seed = f"{issue.repo.full_name.lower()}#{issue.number}\n{status.body if status else ''}"
    fresh = []
    for i, reply in enumerate(desired.replies):
        own = _own_id(reply)
        if own is not None:  # an answer to a comment: posted once, however often it is run
            fresh.append(OwedReply(own, reply))
            continue
        digest = hashlib.sha256(f"{seed}\n{i}\n{reply}".encode()).hexdigest()[:16]
        fresh.append(OwedReply(digest, f"{reply}\n\n{reply_marker(digest)}"))
    entries = tuple(_first_of_each([*missing, *fresh], posted))[-MAX_OWED:]
    if desired.status_body is None:
        return replace(desired, replies=tuple(e.body for e in entries))
    return replace(desired, status_body=_with_outbox(desired.status_body, entries),
                   replies=tuple(e.body for e in entries))


def _first_of_each(entries: Iterable[OwedReply], posted: frozenset[str]) -> list[OwedReply]:
    """Each id once (the one owed before wins), and none already on the issue."""
    seen = set(posted)
    kept = []
    for entry in entries:
        if entry.id not in seen:
            seen.add(entry.id)
            kept.append(entry)
    return kept
