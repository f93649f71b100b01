"""``issues`` deliveries -> the one sync path: opened, edited, reopened, closed, labelled.

A router of its own (``gidgethub.routing``), composed with the others' in
``bot.service.app``; it asks the running bot only through ``bot.service.ports``.
"""

from __future__ import annotations

import logging
from typing import Any

from gidgethub import routing, sansio

from ..core.confirm import edit_from_payload
from ..core.model import issue_from_json, repo_from_payload
from ..core.plan import Reopening
from .ports import Bot

log = logging.getLogger("bot.app")

router = routing.Router()

TRIAGE_ACTIONS = frozenset({"opened", "edited", "reopened", "closed"})


async def on_issue(event: sansio.Event, bot: Bot) -> None:
    """Sync the issue; a ``labeled`` delivery only when the label is the request's own."""
    payload: dict[str, Any] = event.data
    action = payload.get("action")
    repo = repo_from_payload(payload)
    issue = payload.get("issue")
    if repo is None or not isinstance(issue, dict) or not isinstance(issue.get("number"),
                                                                     int):
        log.warning("issues delivery without a usable repository or issue; dropped")
        return
    try:
        issue_from_json(issue, repo)  # GitHub's payloads always read; anything else is not
    except ValueError as e:
        log.warning("issues delivery with an unreadable issue (%s); dropped", e)
        return
    if repo.installation_id <= 0 and bot.github is not None and not bot.dry_run:
        log.warning("issues delivery without an installation id; dropped")
        return
    if action == "labeled":
        label = payload.get("label")
        name = label.get("name") if isinstance(label, dict) else None
        marks = {x.lower() for x in (bot.config.labels.event_request, *bot.config.request_labels)}
        if not isinstance(name, str) or name.lower() not in marks:
            return
    sender = payload.get("sender")
    sender = sender if isinstance(sender, dict) else {}
    login = sender.get("login")
    if (action == "reopened" and isinstance(login, str) and login
            and sender.get("type") != "Bot" and not login.endswith("[bot]")):
        # A person reopened it: a request cancelled with /cancel comes back.
        await bot.sync(repo, issue["number"], issue_json=issue, edit=Reopening(login))
        return
    await bot.sync(repo, issue["number"], issue_json=issue,
                   edited=edit_from_payload(payload, repo, bot.form, bot.config))


for _action in (*sorted(TRIAGE_ACTIONS), "labeled"):
    router.add(on_issue, "issues", action=_action)

