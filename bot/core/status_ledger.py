"""The ledgers in the state: which comments' commands ran, and the tier asked for over time.

Each comment's commands run once (``has_run``, ``with_ran``), and an unnamed
``/approve-tier`` approves the tier the form asked for when its comment was written
(``with_tier_asked``, ``tier_asked_at``). Both are bounded.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from .status_state import MAX_RAN, MAX_TIERS_ASKED, StatusState


def _utc(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# --- commands run once ---------------------------------------------------------------

RAN_DAYS = 30  # how long they are remembered: a comment older than this never runs


def has_run(state: StatusState, comment_id: int) -> bool:
    """Whether this comment's commands ran already (GitHub's comment ids only grow, so
    once the record is full, an id below every kept one is an old comment's)."""
    ids = [c for c, _ in state.ran]
    return comment_id in ids or (len(ids) >= MAX_RAN and comment_id < min(ids))


def with_ran(state: StatusState, comment_id: int, now: datetime) -> StatusState:
    """``state`` recording that ``comment_id``'s commands ran at ``now`` (old ones pruned)."""
    cutoff = now - timedelta(days=RAN_DAYS)
    kept = [(c, at) for c, at in state.ran
            if c != comment_id and (when := _when(at)) is not None and when >= cutoff]
    kept = sorted([*kept, (comment_id, _utc(now))])[-MAX_RAN:]
    return replace(state, ran=tuple(kept))


# --- the tier asked for, over time ---------------------------------------------------


def with_tier_asked(state: StatusState, tier: str | None, since: datetime) -> StatusState:
    """``state`` knowing the form asks for ``tier`` from ``since`` (when it changed)."""
    if state.tiers_asked and state.tiers_asked[-1][0] == tier:
        return state
    asked = (*state.tiers_asked, (tier, _utc(since)))[-MAX_TIERS_ASKED:]
    return replace(state, tiers_asked=asked)


def tier_asked_at(state: StatusState, at: datetime) -> tuple[bool, str | None]:
    """-> (known, the tier the form asked for at ``at``). Unknown when ``at`` is before
    every version kept; a version seen in the same second as ``at`` counts as after it."""
    found: tuple[bool, str | None] = (False, None)
    for i, (tier, since) in enumerate(state.tiers_asked):
        when = _when(since)
        if when is None:
            continue
        if when < at or (i == 0 and when <= at):
            found = (True, tier)
    return found
