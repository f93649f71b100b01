"""``/prewarm`` at once: the shell half of pre-warming (sending is ``bot.service.workflows``).

Public API::

    async prewarm_now(bot, repo: RepoRef, number: int, nodes: int | None, actor: str)
        -> PrewarmOutcome(ok: bool, message: str)
        Dispatches at once (through the one sync path, so the record lands in the status
        comment's state in the same edit) and returns the reply to post; never raises for
        a refusal or a failed dispatch.

What is dispatched, and whether it may be, is decided by the pure ``bot/core/prewarm.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..core import text
from ..core.config import Config
from ..core.model import Desired, IssueSnapshot, RepoRef, WorkflowDispatch
from ..core.outbox import answering
from ..core.prewarm import PREWARM, Refusal, check_nodes, prewarm_dispatch, scale_down_dispatch
from ..core.status import DispatchRecord, StatusComment

if TYPE_CHECKING:
    from ..core.plan import Edit
    from ..core.triage import Triage
    from .ports import Bot

log = logging.getLogger("bot.dispatching")


@dataclass(frozen=True)
class PrewarmOutcome:
    ok: bool
    message: str  # the reply for the person who asked
    replied: bool = False  # the sync posted it already (owed in the status comment)


def _describe(record: DispatchRecord) -> str:
    shown = ", ".join(f"{k}={text.inline(v, 40)}" for k, v in sorted(record.inputs.items()))
    return f"`{shown}`" if shown else "no inputs"


class ManualDispatch:
    """Adds one dispatch to a sync's plan and reads its record after it ran (``after``).

    Asked from a comment (``comment_id``), the dispatch is recorded with that comment and
    done once however often the comment is run, and the reply goes out through the sync
    (owed in the status comment, marked as the answer to that comment: said once too).
    """

    def __init__(self, config: Config, nodes: int | None, actor: str,
                 comment_id: int | None = None) -> None:
        self.config = config
        self.nodes = nodes
        self.actor = actor
        self.comment_id = comment_id
        self.dispatch: WorkflowDispatch | None = None
        self.outcome: PrewarmOutcome | None = None

    def _say(self, desired: Desired, ok: bool, message: str) -> Desired:
        if self.comment_id is None:
            self.outcome = PrewarmOutcome(ok, message)
            return desired
        self.outcome = PrewarmOutcome(ok, message, replied=True)
        reply = answering(self.comment_id, message, part=1)
        return replace(desired, replies=(*desired.replies, reply))

    def _recorded(self, record: DispatchRecord | None, desired: Desired) -> Desired:
        if record is None:
            return self._say(desired, False, "The dispatch was not recorded; try again.")
        if record.ok:
            verb = "Pre-warming" if record.kind == PREWARM else "Scale-down"
            return self._say(desired, True, f"{verb} dispatched for "
                             f"{text.mention(self.actor)} ({_describe(record)}).")
        return self._say(desired, False, "❌ The workflow could not be dispatched: "
                         f"{text.inline(record.error, 200)}")

    def before(self, issue: IssueSnapshot, status: StatusComment | None) -> Edit | None:
        return None  # the dispatch is added to the plan; its record comes with the sync

    def after(self, issue: IssueSnapshot, status: StatusComment | None, triage: Triage,
              desired: Desired) -> Desired:
        if self.dispatch is None:
            return self._first(issue, status, triage, desired)
        record = next((r for r in reversed(status.state.dispatches if status else ())
                       if r.kind == self.dispatch.kind and r.comment == self.comment_id
                       and r.inputs == self.dispatch.inputs), None)
        return self._recorded(record, desired)

    def _first(self, issue: IssueSnapshot, status: StatusComment | None, triage: Triage,
               desired: Desired) -> Desired:
        if self.comment_id is not None:
            done = next((r for r in triage.state.dispatches
                         if r.comment == self.comment_id and r.ok), None)
            if done is not None:  # this comment was run before, and it dispatched then
                return self._recorded(done, desired)
        if issue.state != "open" or triage.state.cancelled_by:
            return self._say(desired, False, "This request is closed or cancelled; "
                                             "nothing was pre-warmed.")
        if not self.config.prewarm.enabled:  # said first: confirming would not help
            return self._say(desired, False, "⚠️ Not pre-warmed: pre-warming is not configured "
                                             "for this bot (`prewarm.repository`).")
        if not triage.confirmed:
            return self._say(desired, False, "This request awaits confirmation (`/confirm` "
                                             "by a writer or team lead); nothing was "
                                             "pre-warmed.")
        planned = (scale_down_dispatch(triage.state, triage.request, self.config,
                                       index=issue.hub_index)
                   if self.nodes == 0 else
                   prewarm_dispatch(triage.request, triage.sizing, self.config, self.nodes,
                                    issue.hub_index))
        if isinstance(planned, Refusal):
            return self._say(desired, False, f"⚠️ Not pre-warmed: {planned.reason}.")
        planned = replace(planned, comment=self.comment_id)
        self.dispatch = planned
        # The asked-for dispatch replaces any of the same kind the clock planned just now.
        others = tuple(d for d in desired.dispatches if d.kind != planned.kind)
        return replace(desired, dispatches=(*others, planned))


async def prewarm_now(bot: Bot, repo: RepoRef, number: int, nodes: int | None,
                      actor: str, comment_id: int | None = None) -> PrewarmOutcome:
    """``/prewarm [NODES]``: dispatch at once; NODES None means the sizing's, 0 scales down.

    The caller checks who may run it; this checks the inputs, dispatches through the one
    sync path (so the record is in the status comment), and returns the reply: posted
    already when ``comment_id`` is given (``replied``), else for the caller to post.
    """
    # The repository's own config (its override file) decides, as it does for the clock.
    config = await bot.config_for(await bot.client_for(repo.installation_id), repo.full_name)
    if nodes is not None and comment_id is None:
        refused = check_nodes(nodes, config.prewarm)
        if refused is not None:
            return PrewarmOutcome(False, f"⚠️ Not pre-warmed: {refused.reason}.")
    manual = ManualDispatch(config, nodes, actor, comment_id)
    result = await bot.sync(repo, number, edit=manual)
    if manual.outcome is not None:
        return manual.outcome
    if result.triage is None:
        return PrewarmOutcome(False, "This issue is not an event request.")
    return PrewarmOutcome(False, "Nothing was dispatched; try again.")
