"""Read an issue's current state from GitHub, plan, and apply the difference.

The one path every trigger takes (webhook, command, tick, reconciliation).
A new valid request costs three calls: read the comments, post the status
comment, one PATCH of the issue with labels and assignees together.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from ..core import outbox
from ..core.config import Config
from ..core.forms import FormTemplate
from ..core.hub_index import HubEntry
from ..core.model import (
    Comment,
    Desired,
    HubBooking,
    IssueSnapshot,
    RepoRef,
    Trust,
    comment_from_json,
    issue_from_json,
)
from ..core.plan import Edit, plan
from ..core.prewarm import with_records
from ..core.request import is_event_request, rep_words_to_confirm
from ..core.sealing import StateKeys
from ..core.status import StatusComment, find_status, seal_status
from ..core.triage import Triage
from .runs import follow_runs
from .trust import confirmed_users
from .workflows import run_dispatches

log = logging.getLogger("bot.apply")


class IssueClient(Protocol):
    """The part of the GitHub client that applying a plan needs."""

    async def issue(self, repo: str, number: int) -> Any: ...
    async def issue_comments(self, repo: str, number: int) -> list[Any]: ...
    async def update_issue(self, repo: str, number: int, **fields: Any) -> Any: ...
    async def create_comment(self, repo: str, number: int, body: str) -> Any: ...
    async def edit_comment(self, repo: str, comment_id: int, body: str) -> Any: ...
    async def delete_comment(self, repo: str, comment_id: int) -> Any: ...
    async def add_reaction(self, repo: str, comment_id: int, content: str = "+1") -> Any: ...
    async def dispatch_workflow(self, repo: str, workflow: str, ref: str,
                                inputs: Mapping[str, str]) -> Any: ...
    async def get(self, url: str, params: Any = None) -> Any: ...


@dataclass(frozen=True)
class SyncResult:
    issue: IssueSnapshot | None
    triage: Triage | None
    desired: Desired | None
    writes: int
    status: StatusComment | None = None
    config: Config | None = None  # the config planned with (a repository's own, maybe)


class StateEdit(Protocol):
    """What a command (or a reopening) does inside the one sync path.

    ``before`` edits the state the one plan starts from (pure; it plans nothing itself);
    ``after`` only adds to that plan what is not state: replies, a dispatch, a close.
    ``after`` runs again on the plan made with the records of a dispatch.
    """

    def before(self, issue: IssueSnapshot, status: StatusComment | None) -> Edit | None: ...
    def after(self, issue: IssueSnapshot, status: StatusComment | None, triage: Triage,
              desired: Desired) -> Desired: ...


async def _read_comments(client: IssueClient, issue: IssueSnapshot) -> list[Comment]:
    raw = await client.issue_comments(issue.repo.full_name, issue.number)
    return [c for c in (comment_from_json(x) for x in raw) if c is not None]


async def read_status(client: IssueClient, issue: IssueSnapshot, bot_login: str | None,
                      keys: StateKeys) -> tuple[StatusComment | None, tuple[int, ...]]:
    return _verified(await _read_comments(client, issue), issue, bot_login, keys)


def _verified(comments: list[Comment], issue: IssueSnapshot, bot_login: str | None,
              keys: StateKeys) -> tuple[StatusComment | None, tuple[int, ...]]:
    status, duplicates = find_status(comments, bot_login, keys, issue.repo.full_name,
                                     issue.number)
    if status is not None and not status.verified:
        log.warning("the state block in the status comment on %s#%s does not verify "
                    "(edited, copied from another request, or written before it was "
                    "signed): it grants nothing and is written again",
                    issue.repo.full_name, issue.number)
    return status, duplicates


async def apply_desired(client: IssueClient, issue: IssueSnapshot, status: StatusComment | None,
                        desired: Desired) -> int:
    """Make the issue match ``desired``; returns the number of writes made."""
    repo = issue.repo.full_name
    writes = 0
    # Labels and assignees first: the status comment's state then records only what landed
    # (a rotation recorded as applied whose PATCH failed would never be assigned again).
    fields: dict[str, Any] = {}
    if desired.labels is not None:  # the plan's one difference, as whole lists
        fields["labels"] = list(desired.labels)
    if desired.assignees is not None:
        fields["assignees"] = list(desired.assignees)
    if desired.close_reason and issue.state == "open":
        fields["state"] = "closed"
        fields["state_reason"] = desired.close_reason
    if fields:
        await client.update_issue(repo, issue.number, **fields)
        writes += 1
    if desired.status_body is not None:
        if status is None:
            await client.create_comment(repo, issue.number, desired.status_body)
        else:
            await client.edit_comment(repo, status.id, desired.status_body)
        writes += 1
    for reply in desired.replies:
        await client.create_comment(repo, issue.number, reply)
        writes += 1
    for comment_id, content in desired.reactions:  # last: it says the work is done
        await client.add_reaction(repo, comment_id, content)
        writes += 1
    return writes


async def sync_request(
    client: IssueClient,
    repo: RepoRef,
    number: int,
    config: Config,
    form: FormTemplate,
    now: datetime,
    *,
    bot_login: str | None,
    issue_json: Any = None,
    edit: StateEdit | None = None,
    read_comments: bool = True,
    issue_is_current: bool = False,
    hub_bookings: Mapping[str, tuple[HubBooking, ...]] | None = None,
    hub_index: Mapping[str, HubEntry] | None = None,
    state_keys: StateKeys,
    trust: Callable[[IssueSnapshot], Awaitable[Trust]] | None = None,
) -> SyncResult:
    """Bring one request to the state its body, its status comment and the clock call for.

    ``hub_bookings``: the other live requests the bot knows of, by hub (pre-warming one
    hub for two overlapping events takes both into account). ``trust``: who among the
    issue's author and editor is a writer or team lead (asked of GitHub by the shell)."""
    prefetched: list[Comment] | None = None
    if issue_json is None and read_comments:
        # The issue and its comments at once: two reads, one round trip (the door let
        # only requests through, so the comments are nearly always wanted).
        data, raw = await asyncio.gather(client.issue(repo.full_name, number),
                                         client.issue_comments(repo.full_name, number))
        prefetched = [c for c in (comment_from_json(x) for x in raw) if c is not None]
    else:
        data = issue_json if issue_json is not None else await client.issue(repo.full_name,
                                                                            number)
    booked = hub_bookings if hub_bookings is not None else {}
    issue = replace(issue_from_json(data, repo), hub_bookings=booked, hub_index=hub_index)
    if not is_event_request(issue, form, config):
        return SyncResult(issue, None, None, 0)
    status: StatusComment | None = None
    duplicates: tuple[int, ...] = ()
    comments: list[Comment] = []
    if read_comments:
        comments = (prefetched if prefetched is not None
                    else await _read_comments(client, issue))
        status, duplicates = _verified(comments, issue, bot_login, state_keys)
        if status is not None and issue_json is not None and not issue_is_current:
            # The bot has acted on this issue before, so the payload may predate that
            # (a redelivery, a late second delivery): plan from the issue as it is now.
            issue = replace(issue_from_json(await client.issue(repo.full_name, number), repo),
                            hub_bookings=booked, hub_index=hub_index)
            if not is_event_request(issue, form, config):
                return SyncResult(issue, None, None, 0, status)
    if trust is not None:
        issue = replace(issue, trust=await trust(issue))
    users = await confirmed_users(client, rep_words_to_confirm(issue, form, config))
    if users:
        issue = replace(issue, trust=replace(issue.trust, users=users))
    status = await follow_runs(client, config, status, now)  # the runs dispatches started
    edited = edit.before(issue, status) if edit is not None else None
    # The plan is pure and CPU-bound (milliseconds): off the event loop, so webhooks are
    # answered and other installations' work goes on while it runs.
    triage, desired = await asyncio.to_thread(plan, issue, status, config, form, now, edited)
    if edit is not None:
        desired = edit.after(issue, status, triage, desired)
    if desired.dispatches:
        # Dispatch before writing the status comment, then plan again with the records in
        # the state, so the one edit below records what was dispatched (or why it failed).
        records = await run_dispatches(client, desired.dispatches, now)
        status_after = with_records(status, records)
        if edited is not None:
            edited = replace(edited, state=replace(
                edited.state, dispatches=(*edited.state.dispatches, *records)))
        triage, desired = await asyncio.to_thread(plan, issue, status_after, config, form, now,
                                                  edited)
        if edit is not None:
            desired = edit.after(issue, status_after, triage, desired)
        if desired.dispatches:  # one round per sync; a retry waits for the next tick
            desired = replace(desired, dispatches=())
            triage = replace(triage, next_due=now)
    if status is not None and not status.verified and desired.status_body is None:
        desired = replace(desired, status_body=status.body)  # a block that failed: signed now
    # Replies are owed in the status comment before they are posted: none is lost if the
    # sync stops half-way, and one an earlier sync owed is posted now.
    desired = outbox.settle(issue, status, comments, bot_login, desired)
    if desired.status_body is not None:
        desired = replace(desired, status_body=seal_status(
            desired.status_body, state_keys, repo.full_name, number))
    writes = await apply_desired(client, issue, status, desired)
    for dup in duplicates:
        # Two processes raced to post the first status comment: keep the oldest.
        log.warning("deleting duplicate status comment %s on %s#%s", dup, repo.full_name,
                    number)
        await client.delete_comment(repo.full_name, dup)
        writes += 1
    if writes:
        log.info("applied %d write(s) to %s#%s", writes, repo.full_name, number)
    return SyncResult(issue, triage, desired, writes, status, config)
