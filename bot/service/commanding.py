"""``issue_comment`` deliveries -> slash commands, run in one pass per comment.

Find out who is asking (asking GitHub only for the roles the commands need), then run
the one sync path every trigger takes, under the issue's lock: it reads the issue and
the status comment as they are now, ``CommandEdit`` decides every command in order on
them (``bot.core.commands``, pure) as an edit of the state, and the sync plans once from
that. It applies the result: the status comment, one PATCH of labels, assignees and
state, one reply for the whole comment, a ``/prewarm``'s dispatch (``bot.core.prewarm``)
and the ``+1`` reaction when a command did its work.
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
from ..core.form_map import bound_form
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
from ..core.plan import Edit, request_and_state
from ..core.request import is_event_request, read_request
from ..core.status import MARKER, RAN_DAYS, StatusComment, has_run, with_ran
from ..core.triage import Triage
from ..github.client import GitHubClient, GitHubError
from .dispatching import ManualDispatch
from .logs import issue_context
from .ports import Bot

log = logging.getLogger("bot.commands")

DRY_RUN_PREWARM = "(dry run) the pre-warm workflow would be dispatched now."
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


class CommandEdit:
    """The commands of one comment as an edit of the state, before the one plan of a sync.

    ``before`` decides every command in order on the issue and status as the sync read
    them (``bot.core.commands``, pure) and returns the state and assignees they leave;
    the sync plans once from that. ``after`` adds what is not state: the one reply for
    the comment, a close, and a ``/prewarm``'s dispatch (and, once dispatched, its reply).
    """

    def __init__(self, invocations: tuple[Invocation, ...], actor: str,
                 looked_up: frozenset[Role], config: Config, form: FormTemplate,
                 now: datetime, comment_id: int, written_at: datetime | None = None,
                 dry_run: bool = False) -> None:
        self.invocations = invocations
        self.comment_id = comment_id
        self.written_at = written_at
        self.actor = actor
        self.looked_up = looked_up
        self.config = config
        self.form = form
        self.now = now
        self.dry_run = dry_run
        self.outcome: CommentOutcome | None = None
        self.prewarm: ManualDispatch | None = None

    def before(self, issue: IssueSnapshot, status: StatusComment | None) -> Edit | None:
        self.outcome = self.prewarm = None
        if issue.state != "open":
            return None  # closed since the comment was written: stay silent
        if status is not None and has_run(status.state, self.comment_id):
            log.info("comment %s ran before; not running it again", self.comment_id)
            return None  # redelivered, under whatever delivery id: once is enough
        # The request and state as the plan reads them, the form's tier included.
        request, state = request_and_state(issue, status, self.config, self.form, self.now)
        roles = known_roles(self.actor, issue, request, self.config) | self.looked_up
        form_start, form_end = form_dates(issue, bound_form(self.form, self.config))
        ctx = Context(issue=issue, request=request, state=state,
                      assignees=issue.assignees, actor=self.actor, roles=roles,
                      config=self.config, form=self.form, now=self.now,
                      form_start=form_start, form_end=form_end, written_at=self.written_at)
        outcome = self.outcome = decide_all(self.invocations, ctx)
        if outcome.prewarm is not None and not self.dry_run:
            self.prewarm = ManualDispatch(self.config, outcome.prewarm.prewarm_nodes,
                                          self.actor, self.comment_id)
        if not outcome.sync:
            return None
        return Edit(with_ran(outcome.state, self.comment_id, self.now), outcome.assignees)

    def after(self, issue: IssueSnapshot, status: StatusComment | None, triaged: Triage,
              desired: Desired) -> Desired:
        outcome = self.outcome
        if outcome is None:
            return desired
        if outcome.close:
            desired = replace(desired, close_reason="not_planned")
        if outcome.reply:
            # Marked as the answer to this comment: run again, it is not answered twice.
            reply = outbox.answering(self.comment_id, outcome.reply)
            desired = replace(desired, replies=(*desired.replies, reply))
        if outcome.prewarm is not None and self.dry_run:
            reply = outbox.answering(self.comment_id, DRY_RUN_PREWARM, part=1)
            desired = replace(desired, replies=(*desired.replies, reply))
        if self.prewarm is not None:
            desired = self.prewarm.after(issue, status, triaged, desired)
        if any(o in ("ok", "unchanged") for o in self.outcomes()):
            desired = replace(desired, reactions=(*desired.reactions, (self.comment_id, "+1")))
        return desired

    def outcomes(self) -> list[str]:
        """Each command's outcome, a ``/prewarm`` as its dispatch went."""
        outcome = self.outcome
        if outcome is None:
            return []
        outcomes = [result.outcome for _, result in outcome.results]
        if outcome.prewarm is not None:
            at = next(i for i, (_, r) in enumerate(outcome.results) if r is outcome.prewarm)
            done = self.prewarm.outcome if self.prewarm is not None else None
            ok = self.dry_run or (done is not None and done.ok)
            outcomes[at] = "ok" if ok else "failed"
        return outcomes


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
    edit = CommandEdit(invocations, actor, frozenset(looked_up), config, form, now,
                       comment.id, comment.created_at, dry_run)
    outcomes: list[str] = []
    try:
        # The one sync path, under the issue's lock: it reads the issue and the status
        # comment as they are now, and the commands edit the state before its one plan.
        await bot.sync(repo, seen.number, issue_json=issue_json if dry_run else None,
                       edit=edit)
        outcomes = edit.outcomes()  # the "+1" on the comment went out with the sync
    except Exception:
        outcomes = ["error"] * len(invocations)
        raise
    finally:
        for inv, result in zip(invocations, outcomes, strict=False):
            bot.metrics.commands.labels(command=inv.name, outcome=result).inc()
            log.info("/%s by %s: %s", inv.name, actor, result)
