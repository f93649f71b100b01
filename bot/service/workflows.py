"""Sending workflow dispatches: every outcome becomes a record for the status comment.

Apart from ``bot.service.dispatching`` (``/prewarm`` at once) so that applying a plan
needs nothing that asks the running bot for anything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from ..core.model import WorkflowDispatch
from ..core.prewarm import iso
from ..core.status import DispatchRecord

log = logging.getLogger("bot.dispatching")

_MAX_ERROR_CHARS = 200


class DispatchClient(Protocol):
    async def dispatch_workflow(self, repo: str, workflow: str, ref: str,
                                inputs: Mapping[str, str]) -> None: ...


def _error_text(exc: Exception) -> str:
    # GitHubError messages are redacted already; anything else shows its type only.
    status = getattr(exc, "status", None)
    message = getattr(exc, "message", None)
    if isinstance(status, int) and isinstance(message, str):
        shown = f"GitHub answered {status or 'nothing'}: {message}"
    else:
        shown = type(exc).__name__
    return " ".join(shown.split())[:_MAX_ERROR_CHARS]


async def run_dispatches(client: DispatchClient, dispatches: Sequence[WorkflowDispatch],
                         now: datetime) -> tuple[DispatchRecord, ...]:
    """Dispatch each, in order; every outcome is a record, a failure included (never raised)."""
    records = []
    for d in dispatches:
        try:
            await client.dispatch_workflow(d.repository, d.workflow, d.ref, d.inputs)
        except Exception as exc:  # kept on the issue and retried later, never lost
            log.warning("%s dispatch of %s/%s failed: %s", d.kind, d.repository, d.workflow,
                        _error_text(exc))
            records.append(DispatchRecord(kind=d.kind, at=iso(now), inputs=dict(d.inputs),
                                          ok=False, error=_error_text(exc), comment=d.comment,
                                          for_start=d.for_start, hub=d.hub))
        else:
            log.info("%s dispatched: %s/%s %s", d.kind, d.repository, d.workflow, d.inputs)
            records.append(DispatchRecord(kind=d.kind, at=iso(now), inputs=dict(d.inputs),
                                          ok=True, comment=d.comment, for_start=d.for_start,
                                          hub=d.hub))
    return tuple(records)
