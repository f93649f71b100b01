"""``issue_comment`` deliveries -> slash commands, run in one pass per comment.

Find out who is asking (asking GitHub only for the roles the commands need), then run
the one sync path every trigger takes, under the issue's lock: it reads the issue and
the status comment as they are now, and ``CommandHook`` decides every command in order
on them (``bot.core.commands``, pure) and plans again from the state they left. The sync
applies that: the status comment, one PATCH of labels, assignees and state, and one
reply for the whole comment. A ``+1`` reaction follows when a command did its work;
``/prewarm`` dispatches in a sync of its own afterwards (``bot.core.prewarm``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from gidgethub import routing, sansio

from ..core import outbox
from ..core.commands import (
    CommentOutcome,
    Context,
    Invocation,
    Role,
    decide_all,
    form_dates,
    is_writer,
    known_roles,
    lookups_needed,
    parse_commands,
)
from ..core.config import Config
from ..core.forms import FormTemplate
from ..core.model import (
    Comment,
    Desired,
    IssueSnapshot,
    RepoRef,
    comment_from_json,
    issue_from_json,
    repo_from_payload,
)
from ..core.plan import plan
from ..core.request import is_event_request, read_request
from ..core.status import MARKER, RAN_DAYS, StatusComment, StatusState, has_run, with_ran
from ..core.triage import Triage
from ..github.client import GitHubClient, GitHubError
from .apply import SyncResult
from .dispatching import PrewarmOutcome, prewarm_now
from .logs import issue_context
from .ports import Bot

log = logging.getLogger("bot.commands")

# GitHub answers these when the App may not ask (no Members permission, say): the person
# then simply does not have the role, rather than the delivery failing for ever.
_NOT_ALLOWED_TO_ASK = frozenset({401, 403, 422})


def _from_a_bot(comment: Comment, payload: dict[str, Any]) -> bool:
    sender = payload.get("sender")
    sender_is_bot = isinstance(sender, dict) and (
        sender.get("type") == "Bot" or str(sender.get("login", "")).endswith("[bot]"))
    return comment.author_is_bot or sender_is_bot or not comment.author


async def _looked_up(client: GitHubClient, repo: RepoRef, login: str, needed: frozenset[Role],
                     config: Config) -> set[Role]:
    """The roles only GitHub knows: write access, membership of the team-lead team."""
    roles: set[Role] = set()
    org, _, team = config.team_lead_team.partition("/")
    try:
        if Role.WRITER in needed and is_writer(await client.permission(repo.full_name, login)):
            roles.add(Role.WRITER)
    except GitHubError as e:
        if e.status not in _NOT_ALLOWED_TO_ASK:
            raise
        log.warning("cannot ask for %s's permission on %s: %s", login, repo.full_name, e)
    try:
        if Role.TEAM_LEAD in needed and org and team and await client.is_team_member(
                org, team, login):
            roles.add(Role.TEAM_LEAD)
    except GitHubError as e:
        if e.status not in _NOT_ALLOWED_TO_ASK:
            raise
        log.warning("cannot ask whether %s is in %s: %s", login, config.team_lead_team, e)
    return roles


def _merged(issue: IssueSnapshot, outcome: CommentOutcome, desired: Desired) -> Desired:
    """The plan's changes on top of the commands' assignees, as a change to the issue."""
    final = [a for a in outcome.assignees
             if a.lower() not in {x.lower() for x in desired.assignees_remove}]
    final += [a for a in desired.assignees_add if a.lower() not in {x.lower() for x in final}]
    have = {a.lower() for a in issue.assignees}
    keep = {a.lower() for a in final}
    return replace(
        desired,
        assignees_add=tuple(a for a in final if a.lower() not in have),
        assignees_remove=tuple(a for a in issue.assignees if a.lower() not in keep),
        close_reason="not_planned" if outcome.close else desired.close_reason,
    )


class CommandHook:
    """Decides the commands inside the one sync path, on the issue and status as read there.

    Called with the plan the sync made; returns the plan made again from the state the
    commands left (so the status comment, labels and assignees follow), plus their reply.
    The sync calls it again after dispatching, with the records in the state: deciding is
    pure, so it decides again on that.
    """

    def __init__(self, invocations: tuple[Invocation, ...], actor: str,
                 looked_up: frozenset[Role], config: Config, form: FormTemplate,
                 now: datetime, comment_id: int, written_at: datetime | None = None) -> None:
        self.invocations = invocations
        self.comment_id = comment_id
        self.written_at = written_at
        self.actor = actor
        self.looked_up = looked_up
        self.config = config
        self.form = form
        self.now = now
        self.outcome: CommentOutcome | None = None
        self.planned: SyncResult | None = None  # the request as the commands left it

    def __call__(self, issue: IssueSnapshot, status: StatusComment | None, triaged: Triage,
                 desired: Desired) -> Desired:
        self.outcome = self.planned = None
        if issue.state != "open" or triaged.request is None:
            return desired  # closed since the comment was written: stay silent
        if status is not None and has_run(status.state, self.comment_id):
            log.info("comment %s ran before; not running it again", self.comment_id)
            return desired  # redelivered, under whatever delivery id: once is enough
        roles = known_roles(self.actor, issue, triaged.request, self.config) | self.looked_up
        form_start, form_end = form_dates(issue, self.form)
        state = status.state if status is not None else StatusState()
        # The tiers asked for as the plan knows them, this version of the form included.
        state = replace(state, tiers_asked=triaged.state.tiers_asked)
        ctx = Context(issue=issue, request=triaged.request, state=state,
                      assignees=issue.assignees, actor=self.actor, roles=roles,
                      config=self.config, form=self.form, now=self.now,
                      form_start=form_start, form_end=form_end, written_at=self.written_at)
        outcome = self.outcome = decide_all(self.invocations, ctx)
        if outcome.sync:
            planned_issue = replace(issue, assignees=outcome.assignees)
            ran = with_ran(outcome.state, self.comment_id, self.now)
            # With no status comment yet, an empty body makes the plan post one.
            planned_status = (replace(status, state=ran) if status is not None
                              else StatusComment(id=0, body="", state=ran,
                                                 ticked=frozenset()))
            result, desired = plan(planned_issue, planned_status, self.config, self.form,
                                   self.now)
            desired = _merged(issue, outcome, desired)
            after = replace(planned_issue, state="closed" if outcome.close else issue.state)
            now_status = replace(planned_status, state=result.state,
                                 body=desired.status_body or planned_status.body)
            self.planned = SyncResult(after, result, desired, 0, now_status)
        if outcome.reply:
            # Marked as the answer to this comment: run again, it is not answered twice.
            reply = outbox.answering(self.comment_id, outcome.reply)
            desired = replace(desired, replies=(*desired.replies, reply))
        return desired


router = routing.Router()


@router.register("issue_comment", action="created")
@router.register("issue_comment", action="edited")
async def on_comment(event: sansio.Event, bot: Bot) -> None:
    await on_issue_comment(bot, str(event.data.get("action")), event.data)


async def on_issue_comment(bot: Bot, action: str, payload: dict[str, Any]) -> None:
    """Run the commands in a new comment on an open event request; anything else is ignored."""

    if action == "edited":
        await _on_status_edited(bot, payload)
        return  # an edited comment never runs its commands again
    if action != "created":
        return
    repo = repo_from_payload(payload)
    issue_json = payload.get("issue")
    comment = comment_from_json(payload.get("comment"))
    if repo is None or comment is None or not isinstance(issue_json, dict):
        return
    if "pull_request" in issue_json or issue_json.get("state") != "open":
        return
    if _from_a_bot(comment, payload):
        return
    invocations = parse_commands(comment.body)
    if not invocations:
        return
    try:
        seen = issue_from_json(issue_json, repo)
    except ValueError:
        return
    with issue_context(repo.full_name, seen.number):
        await _run(bot, repo, seen, issue_json, comment, invocations)


async def _on_status_edited(bot: Bot, payload: dict[str, Any]) -> None:
    """A person ticked a box in the status comment: sync, so progress and closing follow."""

    repo = repo_from_payload(payload)
    comment = comment_from_json(payload.get("comment"))
    issue_json = payload.get("issue")
    sender = payload.get("sender")
    if repo is None or comment is None or not isinstance(issue_json, dict):
        return
    if MARKER not in comment.body or not comment.author_is_bot:
        return
    if not isinstance(sender, dict) or sender.get("type") == "Bot":
        return  # our own edit of the status comment
    number = issue_json.get("number")
    if isinstance(number, int) and issue_json.get("state") == "open":
        with issue_context(repo.full_name, number):
            await bot.sync(repo, number)


async def _run(bot: Bot, repo: RepoRef, seen: IssueSnapshot, issue_json: dict[str, Any],
               comment: Comment, invocations: tuple[Invocation, ...]) -> None:
    client = await bot.client_for(repo.installation_id)
    if not isinstance(client, GitHubClient):
        return
    bot_login = await bot.bot_login()
    if bot_login is not None and comment.author.lower() == bot_login.lower():
        return
    config = await bot.config_for(client, repo.full_name)
    form, dry_run = bot.form, bot.dry_run
    if not is_event_request(seen, form, config):
        return
    now = bot.clock()
    if comment.created_at is not None and comment.created_at < now - timedelta(days=RAN_DAYS):
        log.info("comment %s is older than %d days; not run", comment.id, RAN_DAYS)
        return  # older than the record of comments run: it may have run already
    actor = comment.author
    # Ask GitHub only for roles the issue (as the payload shows it) does not already give.
    known = known_roles(actor, seen, read_request(seen, form, config), config)
    looked_up = await _looked_up(client, repo, actor, lookups_needed(invocations, known),
                                 config)
    hook = CommandHook(invocations, actor, frozenset(looked_up), config, form, now,
                       comment.id, comment.created_at)
    outcomes: list[str] = []
    try:
        # The one sync path, under the issue's lock: it reads the issue and the status
        # comment as they are now, and the hook decides the commands on those.
        await bot.sync(repo, seen.number, issue_json=issue_json if dry_run else None,
                       hook=hook)
        outcome = hook.outcome
        if outcome is None:
            return
        if hook.planned is not None:
            # The sync reported the request as it was before the commands; say how it is now.
            bot.remember(hook.planned)
        outcomes = [result.outcome for _, result in outcome.results]
        if outcome.prewarm is not None:
            at = next(i for i, (_, r) in enumerate(outcome.results) if r is outcome.prewarm)
            done = await _prewarm(bot, repo, seen.number, outcome.prewarm.prewarm_nodes,
                                   actor, dry_run, comment.id)
            outcomes[at] = "ok" if done.ok else "failed"
            if not done.replied:
                await client.create_comment(repo.full_name, seen.number, done.message)
        if any(o in ("ok", "unchanged") for o in outcomes):
            await client.add_reaction(repo.full_name, comment.id, "+1")
    except Exception:
        outcomes = ["error"] * len(invocations)
        raise
    finally:
        for inv, result in zip(invocations, outcomes, strict=False):
            bot.metrics.commands.labels(command=inv.name, outcome=result).inc()
            log.info("/%s by %s: %s", inv.name, actor, result)


async def _prewarm(bot: Bot, repo: RepoRef, number: int, nodes: int | None, actor: str,
                   dry_run: bool, comment_id: int) -> PrewarmOutcome:
    """``/prewarm`` dispatches in a sync of its own (``bot.service.dispatching``), after the
    commands', once per comment however often the comment is run."""
    if dry_run:
        return PrewarmOutcome(True, "(dry run) the pre-warm workflow would be dispatched now.")
    return await prewarm_now(bot, repo, number, nodes, actor, comment_id)
