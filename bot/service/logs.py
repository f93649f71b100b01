"""Logging to stdout, as text or JSON, with the delivery id and issue on every line."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

_delivery: contextvars.ContextVar[str] = contextvars.ContextVar("delivery", default="-")
_issue: contextvars.ContextVar[str] = contextvars.ContextVar("issue", default="-")


@contextmanager
def delivery_context(delivery_id: str, issue: tuple[str, int] | None = None) -> Iterator[None]:
    t1 = _delivery.set(delivery_id)
    t2 = _issue.set(f"{issue[0]}#{issue[1]}" if issue else "-")
    try:
        yield
    finally:
        _delivery.reset(t1)
        _issue.reset(t2)


@contextmanager
def issue_context(repo: str, number: int) -> Iterator[None]:
    token = _issue.set(f"{repo}#{number}")
    try:
        yield
    finally:
        _issue.reset(token)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.delivery = _delivery.get()
        record.issue = _issue.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "delivery": getattr(record, "delivery", "-"),
            "issue": getattr(record, "issue", "-"),
        }
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [delivery=%(delivery)s issue=%(issue)s] "
            "%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
