"""The door of the work queue, and how one issue's waiting work is run.

``admit`` decides from a delivery alone, cheaply (event, action, label, the form's
headings, a command line), whether it can lead to any work; what it keeps is small:
the issue's key and, for a command, the comment. The issue itself is read from
GitHub when the work runs, so a key that waited through ten edits plans from the
issue as it now is (level-triggered), once.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..core.commands import parse_commands
from ..core.config import Config
from ..core.confirm import edit_facts, edit_from_payload
from ..core.forms import FormTemplate, has_required_headings
from ..core.model import RepoRef, issue_from_json
from ..core.request import is_event_request
from ..core.status import MARKER
from ..github.errors import GitHubError
from .metrics import Metrics
from .server import Delivery
from .workqueue import Arrival, Door, IssueKey, IssueQueue, Work, WorkQueue

if TYPE_CHECKING:
    from .app import EventBot

log = logging.getLogger("bot.server")

TRIAGE_ACTIONS = frozenset({"opened", "edited", "reopened", "closed"})
SETUP_EVENTS = frozenset({"installation", "installation_repositories"})
SETUP_ACTIONS = frozenset({"created", "added", "new_permissions_accepted", "unsuspend"})
MAX_LOGIN = 100
COMMENT_FIELDS = ("id", "body", "created_at", "updated_at", "author_association",
                  "html_url")
USER_FIELDS = ("login", "type", "id")


def _small(data: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {}
    return {k: data[k] for k in fields if k in data and isinstance(data[k], (str, int, bool))}


def _sender(payload: dict[str, Any]) -> dict[str, Any]:
    sender = _small(payload.get("sender"), USER_FIELDS)
    login = sender.get("login")
    if isinstance(login, str):
        sender["login"] = login[:MAX_LOGIN]
    return sender


def slim(payload: dict[str, Any], repo: str, installation: int, number: int) -> dict[str, Any]:
    """What of a payload the work keeps: who, where, and the comment; never the issue."""
    kept: dict[str, Any] = {
        "action": payload.get("action"),
        "repository": {"full_name": repo},
        "installation": {"id": installation},
        "issue": {"number": number},
        "sender": _sender(payload),
    }
    comment = payload.get("comment")
    if isinstance(comment, dict):
        small = _small(comment, COMMENT_FIELDS)
        small["user"] = _small(comment.get("user"), USER_FIELDS)
        kept["comment"] = small
    return kept


def _repo_ref(full: str, installation: int) -> RepoRef:
    owner, name = full.split("/")
    return RepoRef(owner, name, installation)


def _is_person(sender: Any) -> bool:
    if not isinstance(sender, dict):
        return False
    login = sender.get("login")
    return (isinstance(login, str) and bool(login) and sender.get("type") != "Bot"
            and not login.endswith("[bot]"))


def admit(delivery: Delivery, config: Config, form: FormTemplate, *,
          keep_issue: bool = False) -> Arrival | None:
    """The work a delivery asks for, or None when it can ask for none."""
    payload = delivery.payload
    inst = payload.get("installation")
    inst_id = inst.get("id") if isinstance(inst, dict) else None
    installation = inst_id if isinstance(inst_id, int) and not isinstance(inst_id, bool) else 0
    if delivery.event in SETUP_EVENTS:
        if installation <= 0 or delivery.action not in SETUP_ACTIONS:
            return None
        # Rare, and their payloads are lists of repositories: kept whole.
        return Arrival(IssueKey(installation, "", 0, delivery.id), "", delivery)
    repo_json, issue_json = payload.get("repository"), payload.get("issue")
    if not isinstance(repo_json, dict) or not isinstance(issue_json, dict):
        return None
    full, number = repo_json.get("full_name"), issue_json.get("number")
    if (not isinstance(full, str) or full.count("/") != 1 or not isinstance(number, int)
            or isinstance(number, bool) or number <= 0 or "pull_request" in issue_json):
        return None
    key = IssueKey(installation, full.lower(), number)
    action = delivery.action
    kept = replace(delivery, payload=slim(payload, full, installation, number))
    issue = issue_json if keep_issue else None
    if delivery.event == "issues":
        if action == "labeled":
            label = payload.get("label")
            name = label.get("name") if isinstance(label, dict) else None
            marks = {x.lower() for x in (config.labels.event_request, *config.request_labels)}
            if not isinstance(name, str) or name.lower() not in marks:
                return None
        elif action not in TRIAGE_ACTIONS or not _may_be_request(payload, full, config, form):
            return None
        reopening = action == "reopened" and _is_person(payload.get("sender"))
        if action == "edited" and _is_person(payload.get("sender")):
            # Who edited and what it read before, as fingerprints: the sync asks GitHub
            # whether the editor is a writer, and the body is read again then.
            trust = edit_from_payload(payload, _repo_ref(full, installation), form, config)
            facts = edit_facts(trust)
            if facts is not None:
                kept.payload["edit"] = facts
        return Arrival(key, full, kept, sync=True, reopening=reopening, issue=issue)
    if delivery.event == "issue_comment":
        comment = payload.get("comment")
        body = comment.get("body") if isinstance(comment, dict) else None
        if not isinstance(comment, dict) or not isinstance(body, str):
            return None
        if (action == "created" and issue_json.get("state") == "open"
                and _is_person(comment.get("user")) and _is_person(payload.get("sender"))
                and parse_commands(body)):
            return Arrival(key, full, kept, command=True, issue=issue)
        if action == "edited" and MARKER in body and _is_person(payload.get("sender")):
            return Arrival(key, full, kept, sync=True, issue=issue)  # a box ticked
    return None


def _may_be_request(payload: dict[str, Any], full: str, config: Config,
                    form: FormTemplate) -> bool:
    """An event request, or one a moment ago (its headings edited away), or an issue
    whose labels its repository's own config may read as the request label."""
    issue_json = payload["issue"]
    labels = issue_json.get("labels")
    if isinstance(labels, list) and labels:
        return True
    owner, name = full.split("/")
    try:
        issue = issue_from_json(issue_json, RepoRef(owner, name, 0))
    except ValueError:
        return False
    if is_event_request(issue, form, config):
        return True
    changes = payload.get("changes")
    body = changes.get("body") if isinstance(changes, dict) else None
    before = body.get("from") if isinstance(body, dict) else None
    return isinstance(before, str) and has_required_headings(before, form)


def door_for(bot: EventBot) -> Door:
    keep_issue = bot.github is None or bot.settings.dry_run  # nothing to read it from later

    def door(delivery: Delivery) -> Arrival | None:
        if delivery.event == "push":
            # The operator's hub index changed: read again when next needed (in this
            # process; others refresh on their own clock). Nothing waits in the queue.
            repository = delivery.payload.get("repository")
            name = repository.get("full_name") if isinstance(repository, dict) else None
            if isinstance(name, str):
                bot.hubs.stale(name)
            return None
        return admit(delivery, bot.config, bot.settings.form, keep_issue=keep_issue)

    return door


def queue_for(bot: EventBot, metrics: Metrics, redis_url: str | None = None) -> WorkQueue:
    """The in-memory queue; with ``redis_url`` (``REDIS_URL``), the one all processes
    share, with the per-issue lock and each installation's write pace beside it."""
    server = bot.config.server

    async def run(work: Work) -> Work | None:
        return await run_work(bot, work)

    if not redis_url:
        return IssueQueue(door_for(bot), run, metrics, max_waiting=server.queue_size,
                          workers=server.workers)
    from .redis_queue import RedisIssueLocks, RedisWorkQueue, RedisWritePace, connect

    redis = connect(redis_url)
    # Every sync (webhook, scheduler, reconciliation) takes the issue's lease in Redis.
    setattr(bot, "issue_lock", RedisIssueLocks(redis, bot.issue_lock))  # noqa: B010
    github = bot.github
    if github is not None:
        config = github.config

        def pace(label: str) -> RedisWritePace | None:
            if not label.startswith("installation "):
                return None  # the App's own calls are not writes to an installation
            return RedisWritePace(redis, label.replace(" ", ":"), config)

        github.options = replace(github.options, write_pace=pace)
    return RedisWorkQueue(redis, door_for(bot), run, metrics, max_waiting=server.queue_size,
                          workers=server.workers)


async def run_work(bot: EventBot, work: Work) -> Work | None:
    """One issue's waiting work: one sync from the issue as it is now, then each command
    comment, in the order they came. A step that fails does not stop the next; the
    first failure is raised at the end (reconciliation and the command retries keep it).
    """
    if work.setup is not None:
        await bot.handle(work.setup)
        return None
    key = work.key
    owner, name = work.repo.split("/")
    repo = RepoRef(owner, name, key.installation)
    first_error: Exception | None = None
    issue: dict[str, Any] | None = work.issue

    async def current() -> dict[str, Any]:
        if work.issue is not None:
            return work.issue
        client = await bot.client_for(key.installation)
        data = await client.issue(repo.full_name, key.number)
        if not isinstance(data, dict):
            raise GitHubError(0, "the issue read back as no object", method="GET")
        return data

    steps: list[Delivery] = []
    if work.sync or work.reopening is not None:
        base = work.reopening if work.reopening is not None else None
        payload = dict(base.payload) if base is not None else slim({}, work.repo,
                                                                   key.installation, key.number)
        payload["action"] = "reopened" if base is not None else "edited"
        if work.edit is not None and base is None:
            payload["edit"] = work.edit
        event = Delivery(base.id if base is not None else (work.ids[0] if work.ids else ""),
                         "issues", payload, received=work.received)
        steps.append(event)
    steps.extend(work.commands)
    left: list[Delivery] = []
    for step in steps:
        if issue is None:
            try:
                issue = await current()
            except GitHubError as e:
                if e.status in (404, 410):
                    log.info("%s#%s is gone; its waiting work is dropped", work.repo,
                             key.number)
                    return None
                first_error = first_error or e
            except Exception as e:
                first_error = first_error or e
        if issue is None:  # unreadable for now
            if step.event == "issues":
                _keep_for_reconciliation(bot, repo, key.number, first_error)
            else:
                left.append(step)  # a command runs once GitHub answers again
            continue
        try:
            await bot.handle(replace(step, payload={**step.payload, "issue": issue}))
        except Exception as e:  # the next command still runs
            first_error = first_error or e
        issue = work.issue  # the step may have changed it: read it again for the next
    if left:
        retry = Work(key, work.repo, work.received, commands=left, attempts=work.attempts)
        for step in left:
            retry.ids.append(step.id)
            retry.events[step.event] += 1
        if first_error is not None:
            log.warning("%s#%s: %d command(s) wait for the issue to read (%s)", work.repo,
                        key.number, len(left), first_error)
        return retry
    if first_error is not None:
        raise first_error
    return None


def _keep_for_reconciliation(bot: EventBot, repo: RepoRef, number: int,
                             error: Exception | None) -> None:
    """The issue could not be read: its sync waits for reconciliation, as a failed
    sync's does (``EventBot.sync``)."""
    bot.failures[(repo.full_name.lower(), number)] = type(error).__name__
    bot.metrics.pending_work.set(bot.pending)
    bot.agenda.failed(repo, number, bot.clock(),
                      timedelta(seconds=bot.config.scheduler.reconcile_seconds))
