"""The dashboard in a real headless Chromium (Playwright), with scripts off, on a phone screen.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the ``playwright``
package (its own browser download is not used). Without them the browser tests skip,
unless ``REQUIRE_BROWSER=1`` (set by ``.ci/run``), where they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.core.config import parse_config
from bot.core.status import Approval, DispatchRecord, StatusState
from bot.service.index import IndexedItem, IndexEntry
from bot.views.dashboard import chart_svg, chart_window, relative, render_page, span_text, zone_of

from . import fakegithub
from .botapp import Clock, running_bot
from .fakegithub import FakeGitHub
from .requests_seed import add_request

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TOKEN = "dashboard-token-5678"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
REPO = "astro-dept/event-requests"
INSTALLATION = 7501
PRE_EVENT_ITEMS = ("confirm-details", "cloud-quotas", "image-update", "image-freeze",
                   "node-pool", "access-test", "login-test", "guaranteed-qos", "prewarm",
                   "oncall-watch")


def require_browser() -> None:
    """Skip (or, under CI, fail) with how to install what is missing."""
    problem = None
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        problem = "the playwright package is missing: python -m pip install playwright"
    if problem is None and not CHROMIUM.exists():
        problem = ("Chromium is not installed at /usr/bin/chromium: on Debian or Ubuntu run "
                   "`apt-get install -y chromium` (bash .ci/run does it)")
    if problem is not None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser test required (REQUIRE_BROWSER=1) but {problem}",
                        pytrace=False)
        pytest.skip(problem)


# --- seeded requests ---------------------------------------------------------------


def seed(fake: FakeGitHub) -> dict[str, int]:
    fake.add_installation(INSTALLATION, "astro-dept")
    fake.add_repo(REPO, INSTALLATION)
    opened = datetime(2026, 11, 1, 9, tzinfo=UTC)

    def one(key: str, *, name: str, start: str, end: str, kind: str, tier: str,
            status: StatusState | None = None, ticked: tuple[str, ...] = (),
            closed: bool = False, title: str | None = None, zone: str = "UTC") -> int:
        return add_request(
            fake, REPO, opened=opened, title=title or f"[Event]: {name}", status=status,
            ticked=ticked, closed=opened + timedelta(days=1) if closed else None,
            hub=f"https://{key}.hubs.example.org", name=name, event_type=kind, start=start,
            end=end, timezone=zone, tier=tier).number

    approved = StatusState(approval=Approval("premium", "lead-lee", "2026-11-02T10:00:00Z",
                                             "premium"))
    return {
        # Listed in start order: happening now, then tomorrow (overdue items), then later.
        "exam": one("stars", name="Astronomy 101 final", start="2026-11-24 14:00",
                    end="2026-11-24 17:00", kind="exam", tier="premium", status=approved),
        "workshop": one("galaxy", name="Telescope data workshop", start="2026-12-15 09:00",
                        end="2026-12-15 12:00", kind="workshop", tier="standard",
                        zone="Europe/Berlin"),
        "now": one("moon", name="Live sky demo", start="2026-11-23 09:00",
                   end="2026-11-23 12:00", kind="demo", tier="standard",
                   status=StatusState(), ticked=PRE_EVENT_ITEMS),
        "pending": one("comet", name="<script>alert('x')</script> Comet night",
                       start="2027-01-20 18:00", end="2027-01-20 20:00", kind="other",
                       tier="enhanced"),
        # Not on the dashboard: over, or closed.
        "ended": one("sun", name="Solar seminar", start="2026-11-22 09:00",
                     end="2026-11-22 11:00", kind="demo", tier="standard"),
        "closed": one("mars", name="Cancelled talk", start="2026-11-30 09:00",
                      end="2026-11-30 10:00", kind="demo", tier="standard", closed=True),
    }


async def issue_pages() -> AsyncIterator[TestServer]:
    """Stands in for github.com: the page an issue link leads to."""
    async def page(request: web.Request) -> web.Response:
        owner, repo, number = (request.match_info[k] for k in ("owner", "repo", "number"))
        return web.Response(text=f"<!doctype html><title>issue</title>"
                                 f"<h1 id=issue>Issue {owner}/{repo}#{number}</h1>",
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/{owner}/{repo}/issues/{number}", page)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def github_pages(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    async for server in issue_pages():
        base = str(server.make_url("")).rstrip("/")
        monkeypatch.setattr(fakegithub, "HTML_BASE", base)
        yield base


async def test_the_dashboard_in_a_real_browser(fake_github: FakeGitHub, app_key: str,
                                               github_pages: str) -> None:
    require_browser()
    from playwright.async_api import async_playwright

    numbers = seed(fake_github)
    async with running_bot(fake_github, app_key, clock=Clock(NOW),
                           dashboard_token=TOKEN) as running:
        await running.app["reconcile_task"]
        base = str(running.server.make_url("/"))
        ARTIFACTS.mkdir(exist_ok=True)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM),
                                               args=CHROMIUM_ARGS, headless=True)
            try:
                # A phone, with scripts off: the page must not need them.
                phone = await browser.new_context(java_script_enabled=False,
                                                  viewport={"width": 390, "height": 844},
                                                  device_scale_factor=2, is_mobile=True)
                page = await phone.new_page()

                refused = await page.goto(base)
                assert refused is not None and refused.status == 401
                assert "Timeline" not in await page.content()

                answer = await page.goto(f"{base}?token={TOKEN}")
                assert answer is not None and answer.status == 200
                await page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"),
                                      full_page=True)

                cards = page.locator("li.event")
                titles = [t.strip() for t in await cards.locator("h3 a.issue").all_inner_texts()]
                assert titles == ["Live sky demo", "Astronomy 101 final",
                                  "Telescope data workshop",
                                  "<script>alert('x')</script> Comet night"]
                starts = [await cards.nth(i).get_attribute("data-start") for i in range(4)]
                assert starts == sorted(s or "" for s in starts)
                assert await page.locator("script").count() == 0  # the title stayed text

                live = cards.nth(0)
                assert "happening now" in await live.inner_text()
                assert await live.locator(".badge.overdue").count() == 0  # all ticked

                exam = cards.nth(1)
                assert "overdue" in (await exam.get_attribute("class") or "")
                alert = exam.locator(".alert")
                assert await alert.is_visible()
                overdue_text = await alert.inner_text()
                assert "Confirm the event details" in overdue_text
                badge = exam.locator(".badge.overdue")
                assert re.fullmatch(r"⚠ \d+ overdue", (await badge.inner_text()).strip())
                exam_text = await exam.inner_text()
                for part in ("stars.hubs.example.org", "exam", "premium · approved",
                             "0/12 done"):
                    assert part in exam_text, part
                assert await exam.locator("progress").count() == 1
                assert await cards.nth(3).locator(".tier.pending").inner_text() == \
                    "enhanced · pending approval"
                assert "CET" in await cards.nth(2).inner_text()  # the request's own zone

                chart = page.locator("svg.chart")
                assert await chart.is_visible()
                assert await chart.locator("rect").count() >= 4
                numbers_table = await page.locator("details table").text_content() or ""
                assert "2026-11" in numbers_table

                # Following an issue link leads to the issue.
                link = exam.locator("a.issue")
                href = await link.get_attribute("href")
                assert href == f"{github_pages}/{REPO}/issues/{numbers['exam']}"
                await link.click()
                await page.wait_for_url(href)
                assert await page.locator("#issue").inner_text() == \
                    f"Issue {REPO}#{numbers['exam']}"
                await phone.close()

                desktop = await browser.new_context(viewport={"width": 1280, "height": 900})
                page = await desktop.new_page()
                answer = await page.goto(f"{base}?token={TOKEN}")
                assert answer is not None and answer.status == 200
                await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
                await desktop.close()
            finally:
                await browser.close()
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
    assert (ARTIFACTS / "dashboard-phone.png").stat().st_size > 10_000


# --- the page without a browser -----------------------------------------------------


def entry(number: int, start: datetime | None, **overrides: Any) -> IndexEntry:
    values: dict[str, Any] = dict(
        repo="o/r", number=number, installation_id=1, title=f"[Event]: {number}",
        html_url=f"https://github.com/o/r/issues/{number}", hub="h.example.org",
        event_name=f"Event {number}", event_type="workshop", tier_requested="standard",
        tier_effective="standard", tier_status="granted", start=start,
        end=start + timedelta(hours=2) if start else None, zone="UTC", attendees=50,
        assignees=("alice",), items=(), dispatches=(), needs_info=False, cancelled=False,
        open=True, created_at=NOW - timedelta(days=30))
    values.update(overrides)
    return IndexEntry(**values)


def test_people_text_is_escaped_and_links_are_web_links() -> None:
    hostile = entry(1, NOW + timedelta(days=1), event_name='"><img src=x onerror=alert(1)>',
                    hub="<b>hub</b>", html_url="javascript:alert(1)",
                    assignees=("<i>x</i>",))
    page = render_page([hostile], parse_config({}), NOW, None, "events.ics?token=a%22b")
    assert "<img" not in page and "<b>hub" not in page and "<i>x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="#"' in page and "javascript:" not in page
    assert 'href="events.ics?token=a%22b"' in page
    assert "<script" not in page


@pytest.mark.parametrize(
    ("dispatches", "prewarm", "text", "css"),
    [((), {}, "by hand (checklist)", ""),
     ((), {"repository": "o/infra"}, "automatic, Wed 25 Nov 08:00 UTC", ""),
     ((DispatchRecord("prewarm", "2026-11-25T08:00:00Z", {"replicas": "6"}, True),),
      {"repository": "o/infra"}, "pre-warmed at 2026-11-25 08:00 UTC (6 nodes)", "good"),
     ((DispatchRecord("prewarm", "2026-11-25T08:00:00Z", {}, True),
       DispatchRecord("scale-down", "2026-11-25T12:30:00Z", {}, True)),
      {"repository": "o/infra"}, "scaled down at 2026-11-25 12:30 UTC", "muted"),
     ((DispatchRecord("prewarm", "2026-11-25T08:00:00Z", {}, False, "404 no workflow"),),
      {"repository": "o/infra"}, "pre-warm failed at 2026-11-25 08:00 UTC: 404 no workflow",
      "bad")],
)
def test_prewarm_state(dispatches: tuple[DispatchRecord, ...], prewarm: dict[str, Any],
                       text: str, css: str) -> None:
    from bot.views.dashboard import prewarm_state

    item = IndexedItem("prewarm", "Pre-warm", NOW, False, False)
    e = entry(1, datetime(2026, 11, 25, 10, tzinfo=UTC), dispatches=dispatches, items=(item,))
    assert prewarm_state(e, parse_config({"prewarm": prewarm}), NOW) == (text, css)


def test_overdue_items_stand_out_and_ticked_ones_do_not() -> None:
    items = (IndexedItem("a", "Freeze the image", NOW - timedelta(days=1), False, False),
             IndexedItem("b", "Check quotas", NOW - timedelta(days=2), True, False),
             IndexedItem("c", "Pre-warm", NOW + timedelta(days=1), False, False))
    page = render_page([entry(1, NOW + timedelta(days=2), items=items)], parse_config({}), NOW,
                       None, "events.ics")
    assert 'class="event overdue"' in page
    assert "⚠ 1 overdue" in page
    alert = page[page.index('class="alert"'):]
    assert "Freeze the image" in alert and "Check quotas" not in alert
    assert "1/3 done" in page


@pytest.mark.parametrize(
    ("label", "offset_hours"),
    [("UTC", 0), ("America/Chicago", -6), ("+05:30", 5.5), ("-03:00", -3), ("Nowhere/Else", None),
     (None, None)],
)
def test_zones_from_the_index(label: str | None, offset_hours: float | None) -> None:
    tz = zone_of(label)
    if offset_hours is None:
        assert tz is None
    else:
        assert tz is not None
        assert NOW.astimezone(tz).utcoffset() == timedelta(hours=offset_hours)


@pytest.mark.parametrize(
    ("start", "end", "tz", "text"),
    [(datetime(2026, 12, 1, 15, tzinfo=UTC), datetime(2026, 12, 1, 18, tzinfo=UTC), "UTC",
      "Tue 1 Dec 2026, 15:00–18:00 UTC"),
     (datetime(2026, 12, 1, 15, tzinfo=UTC), datetime(2026, 12, 1, 18, tzinfo=UTC),
      "America/Chicago", "Tue 1 Dec 2026, 09:00–12:00 CST"),
     (datetime(2026, 12, 1, 22, tzinfo=UTC), datetime(2026, 12, 2, 1, tzinfo=UTC), "UTC",
      "Tue 1 Dec 2026 22:00 – Wed 2 Dec 2026 01:00 UTC"),
     (datetime(2026, 12, 1, 15, tzinfo=UTC), None, "+05:30", "Tue 1 Dec 2026, 20:30 UTC+05:30")],
)
def test_time_spans(start: datetime, end: datetime | None, tz: str, text: str) -> None:
    zone = zone_of(tz)
    assert zone is not None
    assert span_text(start, end, zone) == text


@pytest.mark.parametrize(
    ("delta", "text"),
    [(timedelta(minutes=30), "in 30 min"), (timedelta(hours=5), "in 5 h"),
     (timedelta(days=3), "in 3 days"), (-timedelta(hours=2), "2 h ago")],
)
def test_relative_times(delta: timedelta, text: str) -> None:
    assert relative(NOW + delta, NOW) == text


def test_chart_window_and_bars() -> None:
    assert chart_window(NOW) == ("2025-12", "2027-05")
    svg = chart_svg({"2026-10": {"exam": 2, "demo": 1}, "2026-11": {}, "2026-12": {"exam": 1}})
    assert svg.count("<rect") == 3
    assert "<title>2026-10 exam: 2</title>" in svg
    assert "No requests" in chart_svg({})


@pytest.mark.parametrize(("required", "outcome"), [("1", pytest.fail.Exception),
                                                   ("", pytest.skip.Exception)])
def test_without_chromium_the_browser_test_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch, required: str, outcome: type[BaseException]) -> None:
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("REQUIRE_BROWSER", required)
    with pytest.raises(outcome) as caught:
        require_browser()
    assert "apt-get install -y chromium" in str(caught.value)


async def test_the_chart_is_cached_and_refreshed_in_the_background(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.views import dashboard

    builds: list[datetime] = []

    async def build(bot: Any, now: datetime) -> dashboard.ChartData:
        builds.append(now)
        return dashboard.ChartData({"2026-11": {"exam": len(builds)}}, now, "test")

    monkeypatch.setattr(dashboard, "build_chart", build)
    cache = dashboard.ChartCache(ttl=timedelta(hours=1))
    first = await cache.get(None, NOW)
    assert first is not None and first.by_month["2026-11"]["exam"] == 1
    assert await cache.get(None, NOW + timedelta(minutes=59)) is first
    stale = await cache.get(None, NOW + timedelta(hours=2))
    assert stale is first  # shown at once while the new one is built
    await asyncio.sleep(0)
    fresh = await cache.get(None, NOW + timedelta(hours=2))
    assert fresh is not None and fresh.by_month["2026-11"]["exam"] == 2
    assert len(builds) == 2
    await cache.close()


# --- the chart's window ---------------------------------------------------------------


async def test_in_dry_run_the_chart_counts_the_requests_the_page_lists(
        fake_github: FakeGitHub, app_key: str) -> None:
    """The chart reads the index in a dry run; an exam starting in a later month is a bar."""
    from .payloads import issues_payload

    fake_github.add_installation(INSTALLATION, "astro-dept")
    fake_github.add_repo(REPO, INSTALLATION)
    seeded = add_request(fake_github, REPO, opened=NOW - timedelta(days=2),
                         title="[Event]: Astronomy 101 final",
                         hub="https://stars.hubs.example.org", name="Astronomy 101 final",
                         event_type="exam", start="2027-01-20 14:00", end="2027-01-20 17:00",
                         tier="standard")
    async with running_bot(fake_github, app_key, clock=Clock(NOW), dry_run=True,
                           dashboard_token=TOKEN) as running:
        await running.deliver("issues", issues_payload(fake_github, REPO, seeded.number,
                                                       "opened"))
        await running.settle()
        async with running.session.get(running.server.make_url("/"),
                                       params={"token": TOKEN}) as answer:
            assert answer.status == 200
            page = await answer.text()
    assert "Astronomy 101 final" in page  # listed...
    numbers = page.split("<details>", 1)[1]
    # ...and counted, in the month it starts (exam and total columns).
    assert "<tr><th scope=row>2027-01</th><td>1</td><td>1</td></tr>" in numbers
    assert "<tr><th scope=row>2026-11</th><td>0</td><td>0</td></tr>" in numbers
    assert "2027-02" not in numbers  # up to the last month with a request, as without dry run


def test_the_chart_window_is_the_same_with_and_without_github() -> None:
    from bot.views.dashboard import chart_months

    pairs = [("2027-02", "exam"), ("2020-01", "demo"), ("2030-01", "exam")]
    months = chart_months(pairs, NOW)
    assert list(months)[0] == "2025-12" and list(months)[-1] == "2027-02"
    assert months["2027-02"]["exam"] == 1 and sum(months["2026-11"].values()) == 0
    assert list(chart_months([], NOW))[-1] == "2026-11"  # up to this month at least


async def test_the_chart_counts_an_unlabelled_request_and_not_a_plain_issue(
        fake_github: FakeGitHub, app_key: str) -> None:
    from bot.views.dashboard import build_chart

    from .requests_seed import request_body

    fake_github.add_installation(INSTALLATION, "astro-dept")
    fake_github.add_repo(REPO, INSTALLATION)
    number = fake_github.add_issue(
        REPO, title="[Event]: no label", created_at=NOW - timedelta(days=3),
        body=request_body(hub="https://a.hubs.example.org", name="Unlabelled",
                          event_type="workshop", start="2026-12-10 10:00",
                          end="2026-12-10 12:00", tier="standard"))
    fake_github.add_issue(REPO, title="A question", created_at=NOW - timedelta(days=3),
                          body="### Hub URL\n\nhttps://a.hubs.example.org\n\nIs it up?")
    async with running_bot(fake_github, app_key, clock=Clock(NOW)) as running:
        # The bot labels a request it recognises; one it has not handled yet has no label.
        fake_github.edit_issue(REPO, number, labels=[])
        fake_github.reset_log()
        chart = await build_chart(running.bot, NOW)
        again = await build_chart(running.bot, NOW)
    # Every issue listed, once a build, on one page; the second build is a free 304.
    listings = fake_github.calls("GET", operation_id="issues/list-for-repo")
    assert [(c.query.get("state"), "labels" in c.query, c.status) for c in listings] == [
        ("all", False, 200), ("all", False, 304)]
    assert again.by_month == chart.by_month
    assert {m: sum(c.values()) for m, c in chart.by_month.items() if sum(c.values())} == {
        "2026-12": 1}
    assert chart.by_month["2026-12"]["workshop"] == 1
