"""``GET /``: the coming weeks at a glance, as one server-rendered HTML page.

No scripts and no build step: plain HTML with a small inline stylesheet that
reads on a phone, so it works with scripts off and under a strict
Content-Security-Policy. Everything taken from issues is escaped.

The page shows the open requests that have not ended yet (the index every
sync keeps), in start order: hub, type, tier (pending or approved),
engineers, checklist progress, pre-warm state and a link to the issue, with
overdue checklist items standing out. Under it, a chart of requests per
month by type, computed by ``bot.views.report`` from every event request in every
installation (open and closed) and cached, so the page costs GitHub nothing
on most loads.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from ..core.config import EVENT_TYPES, Config
from ..service.index import IndexEntry
from .access import VIEW_HEADERS, protected
from .calendar import calendar_view
from .report_fetch import fetch_records
from .report_format import CHART_COLOURS
from .report_summary import monthly_by_type

log = logging.getLogger("bot.dashboard")

CHART_TTL = timedelta(hours=1)
CHART_WAIT_SECONDS = 10.0  # the first load waits this long for the chart, then shows the list
CHART_MONTHS_BACK = 11
CHART_MONTHS_AHEAD = 6
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


# --- times ---------------------------------------------------------------------


def zone_of(label: str | None) -> tzinfo | None:
    """An IANA name or a ``+05:30`` offset (as the index keeps them) -> a tzinfo."""
    if not label:
        return None
    m = _OFFSET_RE.match(label)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        return timezone(timedelta(minutes=minutes if m.group(1) == "+" else -minutes))
    try:
        return ZoneInfo(label)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _clock(dt: datetime) -> str:
    return f"{dt:%H:%M}"


def _day(dt: datetime) -> str:
    return f"{dt:%a} {dt.day} {dt:%b %Y}"


def _zone_name(dt: datetime) -> str:
    name = dt.tzname() or ""
    if name.isalpha():
        return name
    offset = dt.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def span_text(start: datetime, end: datetime | None, tz: tzinfo) -> str:
    """``Mon 30 Nov 2026, 14:00–17:00 UTC`` in ``tz`` (the end's day when it differs)."""
    a = start.astimezone(tz)
    if end is None:
        return f"{_day(a)}, {_clock(a)} {_zone_name(a)}"
    b = end.astimezone(tz)
    if a.date() == b.date():
        return f"{_day(a)}, {_clock(a)}–{_clock(b)} {_zone_name(b)}"
    return f"{_day(a)} {_clock(a)} – {_day(b)} {_clock(b)} {_zone_name(b)}"


def relative(moment: datetime, now: datetime) -> str:
    seconds = (moment - now).total_seconds()
    ahead = seconds >= 0
    seconds = abs(seconds)
    if seconds < 3600:
        amount = f"{max(1, round(seconds / 60))} min"
    elif seconds < 48 * 3600:
        amount = f"{round(seconds / 3600)} h"
    else:
        days = round(seconds / 86400)
        amount = f"{days} days"
    return f"in {amount}" if ahead else f"{amount} ago"


# --- what each card says ---------------------------------------------------------


def tier_badge(entry: IndexEntry) -> tuple[str, str]:
    """-> (text, css class)."""
    if entry.tier_status == "pending":
        return f"{entry.tier_requested} · pending approval", "pending"
    if entry.tier_status == "approved":
        return f"{entry.tier_effective} · approved", "approved"
    if entry.tier_status == "declined":
        return f"{entry.tier_effective} · {entry.tier_requested} declined", "declined"
    if entry.tier_status == "granted":
        return f"{entry.tier_effective}", "granted"
    return "not given", "unknown"


def prewarm_state(entry: IndexEntry, config: Config, now: datetime) -> tuple[str, str]:
    """-> (text, css class) from the dispatches recorded in the status comment."""
    last = entry.dispatches[-1] if entry.dispatches else None
    if last is not None:
        at = last.at[:16].replace("T", " ") + " UTC"
        verb = "pre-warm" if last.kind == "prewarm" else "scale-down"
        if not last.ok:
            return f"{verb} failed at {at}: {last.error or 'no reason given'}", "bad"
        if last.kind == "prewarm":
            nodes = last.inputs.get("replicas")
            extra = f" ({nodes} nodes)" if nodes else ""
            return f"pre-warmed at {at}{extra}", "good"
        return f"scaled down at {at}", "muted"
    if config.prewarm.enabled and entry.start is not None and not entry.needs_info:
        due = entry.start - timedelta(hours=config.prewarm.lead_time_hours)
        when = f"{due:%a %d %b %H:%M} UTC"
        if due <= now:
            return f"due since {when}", "warn"
        return f"automatic, {when}", ""
    item = next((i for i in entry.items if i.id == "prewarm"), None)
    if item is not None:
        return ("done (checklist)", "good") if item.ticked else ("by hand (checklist)", "")
    return "off", "muted"


def issue_href(url: str) -> str:
    """Only web links are followed: anything else (``javascript:``...) becomes inert."""
    parts = urllib.parse.urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else "#"


def _progress(entry: IndexEntry) -> str:
    done, total = entry.progress
    if not total:
        return "<span class=muted>no checklist yet</span>"
    return (f'<progress value="{done}" max="{total}" aria-label="checklist progress">'
            f"{done}/{total}</progress> {done}/{total} done")


def render_entry(entry: IndexEntry, config: Config, now: datetime) -> str:
    overdue = entry.overdue(now)
    live = entry.start is not None and entry.start <= now and (entry.end is None
                                                               or now < entry.end)
    classes = ["event"]
    if overdue:
        classes.append("overdue")
    if live:
        classes.append("live")
    if entry.needs_info:
        classes.append("needs-info")
    badges = []
    if live:
        badges.append('<span class="badge live">happening now</span>')
    if overdue:
        badges.append(f'<span class="badge overdue">⚠ {len(overdue)} overdue</span>')
    if entry.needs_info:
        badges.append('<span class="badge info">needs info</span>')

    if entry.start is not None:
        when = span_text(entry.start, entry.end, UTC)
        local_tz = zone_of(entry.zone)
        local = ""
        if local_tz is not None and entry.start.astimezone(local_tz).utcoffset() != timedelta(0):
            local = (f'<span class="local">{esc(span_text(entry.start, entry.end, local_tz))}'
                     "</span>")
        rel = relative(entry.start, now) if not live else (
            f"ends {relative(entry.end, now)}" if entry.end else "")
        when_html = (f'<time datetime="{esc(entry.start.isoformat())}">{esc(when)}</time>'
                     f'{local} <span class="rel">{esc(rel)}</span>')
    else:
        when_html = '<span class="muted">dates not readable yet</span>'

    name = entry.event_name or entry.title or f"#{entry.number}"
    tier_text, tier_class = tier_badge(entry)
    prewarm_text, prewarm_class = prewarm_state(entry, config, now)
    people = ", ".join(esc(a) for a in entry.assignees) or '<span class="muted">nobody yet</span>'
    attendees = f"{entry.attendees:,}" if entry.attendees is not None else "—"
    overdue_html = ""
    if overdue:
        items = "".join(f"<li>{esc(i.text)} <span class=due>due {esc(_day(i.due))} "
                        f"{esc(_clock(i.due))} UTC</span></li>" for i in overdue)
        overdue_html = (f'<div class="alert" role="note"><strong>Overdue:</strong>'
                        f"<ul>{items}</ul></div>")
    anchor = re.sub(r"[^a-z0-9-]", "-", f"{entry.repo.lower()}-{entry.number}")
    return f"""<li class="{' '.join(classes)}" id="ev-{esc(anchor)}" data-start="{
        esc(entry.start.isoformat() if entry.start else '')}">
<div class="when">{when_html} {' '.join(badges)}</div>
<h3><a class="issue" href="{esc(issue_href(entry.html_url))}">{esc(name)}</a>
<span class="ref">{esc(entry.repo)}#{entry.number}</span></h3>
<dl>
<dt>Hub</dt><dd>{esc(entry.hub or '—')}</dd>
<dt>Type</dt><dd><span class="type type-{esc(entry.event_type)}">{esc(entry.event_type)}</span>
 · {esc(attendees)} attendees</dd>
<dt>Tier</dt><dd><span class="tier {tier_class}">{esc(tier_text)}</span></dd>
<dt>Engineers</dt><dd>{people}</dd>
<dt>Checklist</dt><dd>{_progress(entry)}</dd>
<dt>Pre-warm</dt><dd><span class="prewarm {prewarm_class}">{esc(prewarm_text)}</span></dd>
</dl>
{overdue_html}
</li>"""


# --- the chart ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChartData:
    by_month: Mapping[str, Mapping[str, int]]
    built: datetime
    scope: str  # what it counts, said under the chart


def _month_label(month: str) -> str:
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return names[int(month[5:7]) - 1]


def chart_svg(by_month: Mapping[str, Mapping[str, int]]) -> str:
    """Stacked bars per month, by type, as inline SVG (each bar has a hover title)."""
    months = list(by_month)
    if not months:
        return '<p class="muted">No requests to chart yet.</p>'
    types = [t for t in EVENT_TYPES if any(c.get(t) for c in by_month.values())] or ["other"]
    top = max(1, max(sum(c.values()) for c in by_month.values()))
    bar, gap, left, height, base = 28, 10, 28, 160, 180
    width = left + len(months) * (bar + gap) + gap
    parts = [f'<svg class="chart" viewBox="0 0 {width} 220" role="img" '
             f'aria-labelledby="chart-title" preserveAspectRatio="xMinYMin meet">',
             '<title id="chart-title">Requests per month by event type</title>']
    step = max(1, -(-top // 4))
    for tick in range(0, top + 1, step):
        y = base - tick * height / top
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" '
                     f'text-anchor="end">{tick}</text>')
    for n, month in enumerate(months):
        x = left + gap + n * (bar + gap)
        y = float(base)
        for t in types:
            count = by_month[month].get(t, 0)
            if not count:
                continue
            h = count * height / top
            y -= h
            parts.append(f'<rect x="{x}" y="{y:.1f}" width="{bar}" height="{h:.1f}" '
                         f'fill="{CHART_COLOURS.get(t, "#888888")}"><title>{esc(month)} '
                         f'{esc(t)}: {count}</title></rect>')
        total = sum(by_month[month].values())
        if total:
            parts.append(f'<text x="{x + bar / 2}" y="{y - 4:.1f}" class="value" '
                         f'text-anchor="middle">{total}</text>')
        label = _month_label(month)
        parts.append(f'<text x="{x + bar / 2}" y="{base + 16}" class="axis" '
                     f'text-anchor="middle">{esc(label)}</text>')
        if n == 0 or month.endswith("-01"):
            parts.append(f'<text x="{x + bar / 2}" y="{base + 30}" class="axis" '
                         f'text-anchor="middle">{esc(month[:4])}</text>')
    parts.append("</svg>")
    legend = "".join(f'<li><span class="swatch" style="background:{CHART_COLOURS.get(t, "#888")}">'
                     f"</span>{esc(t)}</li>" for t in types)
    return "".join(parts) + f'<ul class="legend">{legend}</ul>'


def chart_table(by_month: Mapping[str, Mapping[str, int]]) -> str:
    types = [t for t in EVENT_TYPES if any(c.get(t) for c in by_month.values())]
    head = "".join(f"<th scope=col>{esc(t)}</th>" for t in types)
    rows = "".join(
        f"<tr><th scope=row>{esc(m)}</th>"
        + "".join(f"<td>{c.get(t, 0)}</td>" for t in types)
        + f"<td>{sum(c.values())}</td></tr>" for m, c in by_month.items())
    return (f"<table><thead><tr><th scope=col>month</th>{head}<th scope=col>total</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


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

STYLE = """
:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#fff;--card:#f6f8fa;
--line:#d1d9e0;--bad:#cf222e;--badbg:#ffebe9;--warn:#9a6700;--good:#1a7f37;--accent:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;
--card:#161b22;--line:#30363d;--bad:#ff7b72;--badbg:#3c1618;--warn:#d29922;--good:#3fb950;
--accent:#4493f8}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
header,main{max-width:62rem;margin:0 auto;padding:0 1rem}
header{padding-top:1rem}
h1{font-size:1.5rem;margin:.2rem 0}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
h3{font-size:1.05rem;margin:.3rem 0;overflow-wrap:anywhere}
a{color:var(--accent)}
.summary{color:var(--muted);margin:.2rem 0}
.summary strong{color:var(--fg)}
ol.timeline{list-style:none;margin:0;padding:0 0 0 .9rem;border-left:3px solid var(--line)}
.event{position:relative;background:var(--card);border:1px solid var(--line);
border-radius:8px;padding:.7rem .9rem;margin:0 0 .9rem}
.event::before{content:"";position:absolute;left:-1.45rem;top:1rem;width:.8rem;height:.8rem;
border-radius:50%;background:var(--line);border:2px solid var(--bg)}
.event.live::before{background:var(--good)}
.event.overdue{border-color:var(--bad);border-left:6px solid var(--bad)}
.event.overdue::before{background:var(--bad)}
.when{font-weight:600}
.local,.rel,.ref,.muted,.due{color:var(--muted);font-weight:400}
.local{display:block;font-size:.9rem}
.ref{font-size:.85rem;margin-left:.3rem}
.badge{display:inline-block;font-size:.8rem;font-weight:600;border-radius:1rem;
padding:0 .55rem;margin-left:.2rem;border:1px solid currentColor}
.badge.live{color:var(--good)}
.badge.overdue{color:#fff;background:var(--bad);border-color:var(--bad)}
.badge.info{color:var(--warn)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .8rem;margin:.4rem 0 0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}
.tier.pending,.prewarm.warn{color:var(--warn);font-weight:600}
.tier.approved,.prewarm.good{color:var(--good)}
.prewarm.bad{color:var(--bad);font-weight:600}
.tier.declined,.prewarm.muted{color:var(--muted)}
progress{width:6rem;vertical-align:middle}
.alert{margin-top:.5rem;padding:.4rem .6rem;border-radius:6px;background:var(--badbg);
color:var(--bad)}
.alert ul{margin:.2rem 0 0;padding-left:1.2rem}
.chart{width:100%;max-width:48rem;height:auto}
.chart .grid{stroke:var(--line);stroke-width:1}
.chart text{fill:var(--muted);font-size:11px}
.chart .value{fill:var(--fg)}
.legend{list-style:none;padding:0;display:flex;gap:1rem;flex-wrap:wrap}
.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;border-radius:2px}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid var(--line);padding:.15rem .5rem;text-align:right}
footer{max-width:62rem;margin:1rem auto;padding:0 1rem 2rem;color:var(--muted);
font-size:.85rem}
@media (max-width:30rem){body{font-size:15px}dl{gap:.1rem .5rem}
ol.timeline{padding-left:.6rem}.event{padding:.6rem .7rem}.event::before{left:-1.1rem}}
"""


def render_page(entries: Sequence[IndexEntry], config: Config, now: datetime,
                chart: ChartData | None, feed_href: str) -> str:
    """The whole dashboard (pure)."""
    live = sum(1 for e in entries if e.start is not None and e.start <= now
               and (e.end is None or now < e.end))
    overdue = sum(1 for e in entries if e.overdue(now))
    pending = sum(1 for e in entries if e.tier_status == "pending")
    summary = (f"<strong>{len(entries)}</strong> upcoming · <strong>{live}</strong> happening "
               f"now · <strong>{overdue}</strong> with overdue items · <strong>{pending}"
               "</strong> awaiting tier approval")
    if entries:
        timeline = ('<ol class="timeline">'
                    + "".join(render_entry(e, config, now) for e in entries) + "</ol>")
    else:
        timeline = '<p class="muted">No upcoming events.</p>'
    if chart is None:
        chart_html = ('<p class="muted">The chart is being prepared; reload in a minute.</p>')
    else:
        chart_html = (chart_svg(chart.by_month)
                      + f'<p class="muted">Counts {esc(chart.scope)}; as of '
                      f"{esc(f'{chart.built:%Y-%m-%d %H:%M}')} UTC.</p>"
                      + ("<details><summary>The numbers</summary>"
                         + chart_table(chart.by_month) + "</details>" if chart.by_month else ""))
    policy = (f' · <a href="{esc(issue_href(config.policy_url))}">support policy</a>'
              if config.policy_url else "")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Event support — upcoming events</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>Upcoming events</h1>
<p class="summary">{summary}</p>
<p class="summary">As of {esc(f"{now.astimezone(UTC):%a %d %b %Y %H:%M}")} UTC ·
<a href="{esc(feed_href)}">calendar feed (.ics)</a>{policy}</p>
</header>
<main>
<section aria-labelledby="timeline-title">
<h2 id="timeline-title">Timeline</h2>
{timeline}
</section>
<section aria-labelledby="chart-heading">
<h2 id="chart-heading">Requests per month, by type</h2>
{chart_html}
</section>
</main>
<footer>Times in UTC, with the request's own zone beneath. Served by the event-support bot.
</footer>
</body>
</html>
"""


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
