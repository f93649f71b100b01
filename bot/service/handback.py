"""Commands cut off by a shutdown are handed back to GitHub, not lost.

GitHub was answered ``202`` for them, so it will not send them again by itself, and a
command cannot be redone by reconciliation (a sync reads the issue, not the comments'
intent). Before the process exits it finds each cut-off command delivery in the App's
delivery log and asks GitHub to deliver it again (``POST /app/hook/deliveries/{id}/
attempts``). Another process that is already up takes it at once; if none is, the
attempt fails, and the next process's redelivery sweep (``scheduler.failed_deliveries``:
a delivery whose newest attempt failed) asks for it once more.

Other issue deliveries are not handed back: the next start's reconciliation redoes them
from the issue as it is (a reopening is, since only its delivery says who reopened it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ..core.model import parse_github_time
from .server import Delivery

log = logging.getLogger("bot.handback")

# How far back the delivery log is read, beyond the oldest cut-off delivery's age: the
# log's times are GitHub's, the ages this process's own.
LOG_MARGIN = timedelta(minutes=10)


class DeliveryLog(Protocol):
    async def recent_deliveries(self, since: datetime) -> list[dict[str, Any]]: ...
    async def redeliver(self, delivery_id: int) -> None: ...


def commands_among(deliveries: Iterable[Delivery]) -> list[Delivery]:
    """The deliveries only running them again can redo, once each: new comments
    (commands), and a person reopening an issue (it lifts a cancellation)."""
    seen: dict[str, Delivery] = {}
    for delivery in deliveries:
        if ((delivery.event == "issue_comment" and delivery.action == "created")
                or (delivery.event == "issues" and delivery.action == "reopened")):
            seen.setdefault(delivery.id, delivery)
    return list(seen.values())


def log_ids(recent: Iterable[Any], guids: Iterable[str]) -> dict[str, int]:
    """For each wanted guid, the id of its newest attempt in GitHub's delivery log."""
    wanted = set(guids)
    newest: dict[str, tuple[datetime, int]] = {}
    for item in recent:
        if not isinstance(item, dict) or item.get("guid") not in wanted:
            continue
        delivery_id = item.get("id")
        if not isinstance(delivery_id, int) or isinstance(delivery_id, bool):
            continue
        when = parse_github_time(item.get("delivered_at")) or datetime.min.replace(tzinfo=UTC)
        key = (when, delivery_id)
        if item["guid"] not in newest or key > newest[item["guid"]]:
            newest[item["guid"]] = key
    return {guid: key[1] for guid, key in newest.items()}


async def hand_back(github: DeliveryLog, deliveries: Sequence[Delivery], budget: float,
                    now: datetime | None = None) -> list[str]:
    """Ask GitHub to deliver the cut-off commands again, within ``budget`` seconds.

    Returns the guids handed back; every one that could not be is logged by its guid,
    so an operator can redeliver it from the App's settings.
    """
    commands = commands_among(deliveries)
    if not commands:
        return []
    oldest = max(time.monotonic() - d.received for d in commands)
    since = (now or datetime.now(UTC)) - timedelta(seconds=oldest) - LOG_MARGIN
    handed: list[str] = []
    try:
        async with asyncio.timeout(budget):
            ids = log_ids(await github.recent_deliveries(since), (d.id for d in commands))
            for delivery in commands:
                delivery_id = ids.get(delivery.id)
                if delivery_id is None:
                    continue
                await github.redeliver(delivery_id)
                handed.append(delivery.id)
    except Exception as e:  # shutting down: say what is lost, never raise
        log.error("handing back cut-off commands failed (%s)", type(e).__name__)
    lost = sorted(d.id for d in commands if d.id not in handed)
    if handed:
        log.warning("handed %d cut-off command delivery(ies) back to GitHub: %s",
                    len(handed), ", ".join(handed))
    if lost:
        log.error("%d command delivery(ies) could not be handed back; redeliver them from "
                  "the App's advanced settings: %s", len(lost), ", ".join(lost))
    return handed
