"""Following the workflow runs dispatches started: the shell half of ``bot.core.runs``.

Public API::

    async follow_runs(client, config, status, now) -> StatusComment | None
        every record whose run is awaited, looked up (Actions API) and updated; a failed
        lookup leaves the record as it was (tried again next sync); never raises

A sync calls it before planning (not right after dispatching: GitHub creates the run a
moment later, and the status comment written with the dispatch is the one ``plan``
previews). While a run is awaited, the plan asks the scheduler back within
``bot.core.runs.POLL_EVERY``: a failed run is said within one pass.
"""

from __future__ import annotations

import logging
import urllib.parse
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from ..core.config import Config
from ..core.runs import awaiting, claimed, pick_run, with_run
from ..core.status import StatusComment

log = logging.getLogger("bot.runs")


class RunsClient(Protocol):
    async def get(self, url: str, params: Any = None) -> Any: ...


def _runs_url(config: Config) -> str:
    owner, _, name = config.prewarm.repository.partition("/")
    q = urllib.parse.quote
    return (f"/repos/{q(owner, safe='')}/{q(name, safe='')}/actions/workflows/"
            f"{q(config.prewarm.workflow, safe='')}/runs")


async def follow_runs(client: RunsClient, config: Config, status: StatusComment | None,
                      now: datetime) -> StatusComment | None:
    if status is None or not config.prewarm.enabled:
        return status
    waiting = awaiting(status.state)
    if not waiting:
        return status
    state = status.state
    try:
        # Newest first: the runs since the oldest awaited dispatch are among the first page
        # (``pick_run`` reads each run's ``created_at``).
        data = await client.get(_runs_url(config), {"event": "workflow_dispatch",
                                                    "per_page": 100})
    except Exception as exc:  # looked up again next sync; the record stays awaited
        log.warning("the runs of %s/%s could not be listed: %s", config.prewarm.repository,
                    config.prewarm.workflow, type(exc).__name__)
        return status
    runs = data.get("workflow_runs") if isinstance(data, dict) else None
    runs = runs if isinstance(runs, list) else []
    for i in waiting:
        others = claimed(state) - {state.dispatches[i].run_id or 0}
        state = with_run(state, i, pick_run(runs, state.dispatches[i], others), now)
    return replace(status, state=state) if state != status.state else status
