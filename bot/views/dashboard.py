"""``GET /``: the coming weeks at a glance, as one server-rendered HTML page.

No scripts and no build step: plain HTML from Jinja2 templates
(``bot/views/templates``) with a small inline stylesheet that reads on a phone, so it
works with scripts off and under a strict Content-Security-Policy. Everything taken
from issues is escaped by the templates' autoescape.

The page shows the open requests that have not ended yet (the index every
sync keeps), in start order: hub, type, tier (pending or approved), engineers,
checklist progress, pre-warm state and a link to the issue, with overdue checklist
items standing out (each card: ``bot.views.cards``). Under it, a chart of requests
per month by type (drawn by ``bot.views.chart``), counted by ``bot.views.report``
from every event request in every installation (open and closed) and cached, so
the page costs GitHub nothing on most loads.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from ..core.config import Config
from ..service.index import IndexEntry
from .access import VIEW_HEADERS, protected
from .calendar import calendar_view
from .cards import card, issue_href, prewarm_state, relative, span_text, tier_badge, zone_of
from .chart import ChartData, chart_svg, chart_types
from .pages import render
from .report_fetch import fetch_records
from .report_summary import monthly_by_type

__all__ = [
    "ChartCache",
    "ChartData",
    "add_views",
    "build_chart",
    "chart_months",
    "chart_svg",
    "chart_window",
    "dashboard_view",
    "issue_href",
    "prewarm_state",
    "relative",
    "render_page",
    "span_text",
    "tier_badge",
    "zone_of",
]

log = logging.getLogger("bot.dashboard")

CHART_TTL = timedelta(hours=1)
CHART_WAIT_SECONDS = 10.0  # the first load waits this long for the chart, then shows the list
CHART_MONTHS_BACK = 11
CHART_MONTHS_AHEAD = 6


# --- the chart's data ----------------------------------------------------------------


def _month_key(moment: datetime) -> str:
    return f"{moment:%Y-%m}"


def chart_window(now: datetime) -> tuple[str, str]:
    first = (now.replace(day=1) - timedelta(days=1)).replace(day=1)
    for _ in range(CHART_MONTHS_BACK - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    last = now.replace(day=1)
    for _ in range(CHART_MONTHS_AHEAD):
        last = (last + timedelta(days=32)).replace(day=1)
    return _month_key(first), _month_key(last)


def chart_months(pairs: Sequence[tuple[str, str]], now: datetime
                 ) -> dict[str, dict[str, int]]:
    """(month, type) pairs -> the chart's bars: from the window's first month up to this
    one, or on to the last month in the window that has a request (events start ahead)."""
    first, last = chart_window(now)
    present = [m for m, _ in pairs if first <= m <= last]
    upto = max([_month_key(now), *present])
    return monthly_by_type(pairs, first=first, last=upto)


async def build_chart(bot: Any, now: datetime) -> ChartData:
    """Requests per month by type, from every installation's event requests (or the index)."""
    github = bot.github
    if github is None or bot.settings.dry_run:
        # The same window as below: a request starting next month is counted as listed.
        pairs = [(_month_key(e.start or e.created_at), e.event_type) for e in bot.index]
        return ChartData(chart_months(pairs, now), now,
                         "open requests the bot has seen since it started")
    pairs = []
    for inst in await github.installations():
        inst_id = inst.get("id") if isinstance(inst, dict) else None
        if not isinstance(inst_id, int):
            continue
        client = await github.installation(inst_id)
        for repo_json in await client.repositories():
            full = repo_json.get("full_name")
            if not isinstance(full, str) or full.count("/") != 1:
                continue
            repo_configs = getattr(bot, "repo_configs", None)
            config = (await repo_configs.load(client, full)).config if repo_configs \
                else bot.config
            # The type and the start come from the issue alone: no comments are read.
            records = await fetch_records(client, full, config, bot.settings.form, now,
                                          keys=bot.settings.keys, with_status=False)
            pairs += [(r.month, r.event_type) for r in records]
    return ChartData(chart_months(pairs, now), now,
                     "every event request in every installation, open and closed, by the "
                     "month the event starts")


class ChartCache:
    """The chart, rebuilt at most once per ``ttl`` and never by two loads at once."""

    def __init__(self, ttl: timedelta = CHART_TTL, wait_seconds: float = CHART_WAIT_SECONDS
                 ) -> None:
        self.ttl = ttl
        self.wait_seconds = wait_seconds
        self.data: ChartData | None = None
        self._task: asyncio.Task[None] | None = None

    async def _build(self, bot: Any, now: datetime) -> None:
        try:
            self.data = await build_chart(bot, now)
        except Exception:
            log.exception("the dashboard chart could not be built; the next load tries again")

    async def get(self, bot: Any, now: datetime) -> ChartData | None:
        data = self.data
        if data is not None and now - data.built < self.ttl:
            return data
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._build(bot, now))
        if data is not None:
            return data  # stale but shown at once; the new one is on its way
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.wait_seconds)
        except TimeoutError:
            return None
        return self.data

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


# --- the page ------------------------------------------------------------------------


def render_page(entries: Sequence[IndexEntry], config: Config, now: datetime,
                chart: ChartData | None, feed_href: str) -> str:
    """The whole dashboard (pure)."""
    return str(render(
        "dashboard.html",
        cards=[card(e, config, now) for e in entries],
        live=sum(1 for e in entries if e.start is not None and e.start <= now
                 and (e.end is None or now < e.end)),
        overdue=sum(1 for e in entries if e.overdue(now)),
        pending=sum(1 for e in entries if e.tier_status == "pending"),
        now=f"{now.astimezone(UTC):%a %d %b %Y %H:%M}",
        feed_href=feed_href,
        policy_href=issue_href(config.policy_url) if config.policy_url else "",
        chart=chart,
        svg=chart_svg(chart.by_month) if chart is not None else "",
        built=f"{chart.built:%Y-%m-%d %H:%M}" if chart is not None else "",
        types=chart_types(chart.by_month) if chart is not None else [],
    ))


CHART_KEY: web.AppKey[ChartCache] = web.AppKey("dashboard_chart", ChartCache)


def _feed_href(request: web.Request) -> str:
    token = request.query.get("token")
    # Carry a token that came in the address on to the feed link, so a bookmark works;
    # one sent as a header stays out of the page.
    return "events.ics" + (f"?token={urllib.parse.quote(token, safe='')}" if token else "")


async def dashboard_view(request: web.Request) -> web.Response:
    bot = request.app["bot"]
    now: datetime = bot.clock()
    entries = bot.index.upcoming(now)
    chart = await request.app[CHART_KEY].get(bot, now)
    page = render_page(entries, bot.config, now, chart, _feed_href(request))
    return web.Response(text=page, content_type="text/html", charset="utf-8",
                        headers=dict(VIEW_HEADERS))


def add_views(app: web.Application, dashboard_token: str | None) -> None:
    """Wire ``GET /`` and ``GET /events.ics``, both behind ``dashboard_token`` (off when unset)."""
    cache = ChartCache()
    app[CHART_KEY] = cache

    async def close_chart(_: web.Application) -> None:
        await cache.close()

    app.on_cleanup.append(close_chart)
    guard = protected(lambda _: dashboard_token)
    app.router.add_get("/", guard(dashboard_view))
    app.router.add_get("/events.ics", guard(calendar_view))
