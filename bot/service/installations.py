"""``installation`` and ``installation_repositories`` deliveries -> labels, then reconciliation.

A router of its own (``gidgethub.routing``), composed with the others' in
``bot.service.app``.
"""

from __future__ import annotations

from gidgethub import routing, sansio

from ..github.labels_sync import repos_in_payload
from .ports import Bot

router = routing.Router()

# New repositories, or new permissions: their labels and requests are brought up to date.
ACTIONS = ("created", "added", "new_permissions_accepted", "unsuspend")


async def on_installation(event: sansio.Event, bot: Bot) -> None:
    payload = event.data
    inst = payload.get("installation")
    if not isinstance(inst, dict) or not isinstance(inst.get("id"), int):
        return
    if payload.get("action") in ("created", "added"):
        named = repos_in_payload(payload)
        for repo in named if named is not None else [None]:
            bot.forget_config(repo)  # new repositories: read their overrides
    # Labels first, so the requests reconciled next get them in their colours.
    await bot.sync_labels(inst["id"], repos_in_payload(payload))
    await bot.reconcile_installation(inst["id"])


for _event in ("installation", "installation_repositories"):
    for _action in ACTIONS:
        router.add(on_installation, _event, action=_action)
