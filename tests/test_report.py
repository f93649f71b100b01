"""``python -m bot report`` on a fake repository with dozens of requests across months,
types and tiers: exact counts, a CSV a spreadsheet opens, and billing totals."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.core.sealing import derived_key
from bot.core.status import Approval, Decline, StatusState
from bot.views import report, report_format
from bot.views.report import CSV_COLUMNS, build_report, monthly_by_type, parse_bound

from .botapp import SECRET, STATE_KEYS, fast_config
from .fakegithub import FakeGitHub
from .requests_seed import FORM, add_request

REPO = "jupyter-community/event-requests"
INSTALLATION = 7101
CONFIG_PATH = str(Path(__file__).resolve().parent.parent / "config.yaml")
NOW = datetime(2027, 2, 1, tzinfo=UTC)
TYPES = ("exam", "workshop", "demo", "other")
TIERS = ("standard", "enhanced", "premium")
HUBS = ("stat.hubs.example.org", "bio.hubs.example.org", "cs.hubs.example.org")
NOTICE = (30, 10, 25, 40, 14, 21)
PRICES = {"standard": 0, "enhanced": 500, "premium": 1500}
CANCELLED = 8  # /cancel after approval
NOT_PLANNED = 22  # approved, then closed as not planned
NEEDS_INFO = frozenset({5, 16, 27})  # attendees unreadable
TICKED = ("confirm-details", "image-freeze")


@dataclass(frozen=True)
class Spec:
    """One seeded request and what the report must make of it."""

    i: int

    @property
    def month(self) -> int:
        return 1 + self.i // 3

    @property
    def type(self) -> str:
        return TYPES[self.i % 4]

    @property
    def tier(self) -> str:
        return TIERS[(self.i // 2) % 3]

    @property
    def hub(self) -> str:
        return HUBS[(self.i // 4) % 3]

    @property
    def zone(self) -> str:
        return "America/Chicago" if self.i % 6 == 0 else "UTC"

    @property
    def start(self) -> datetime:
        local = datetime(2026, self.month, 3 + 9 * (self.i % 3), 14, 0, tzinfo=ZoneInfo(self.zone))
        return local.astimezone(UTC)

    @property
    def notice(self) -> int:
        return NOTICE[self.i % 6]

    @property
    def attendees(self) -> int | None:
        return None if self.i in NEEDS_INFO else 20 + 5 * self.i

    @property
    def outcome(self) -> str:
        if self.i in (CANCELLED, NOT_PLANNED):
            return "cancelled"
        if self.tier == "standard":
            return "granted"
        return ("approved", "approved", "approved", "pending", "declined")[self.i % 5]

    @property
    def cancelled(self) -> bool:
        return self.outcome == "cancelled"

    @property
    def closed(self) -> bool:
        return self.i % 4 == 1 or self.i == NOT_PLANNED

    @property
    def has_status(self) -> bool:
        return self.outcome in ("approved", "declined", "cancelled") or self.i % 2 == 0

    @property
    def billed(self) -> int:
        return PRICES[self.tier] if self.outcome == "approved" else 0

    @property
    def tier_bucket(self) -> str:
        if self.outcome == "pending":
            return "pending"
        if self.outcome == "declined":
            return "standard"
        return self.tier


SPECS = tuple(Spec(i) for i in range(36))


def seed(fake: FakeGitHub, specs: tuple[Spec, ...] = SPECS) -> None:
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)
    for s in specs:
        at = (s.start - timedelta(days=s.notice + 1)).isoformat()
        approval = Approval(s.tier, "lead-lee", at, s.tier)
        state = {
            "approved": StatusState(approval=approval),
            "declined": StatusState(decline=Decline("lead-lee", at, "budget", s.tier)),
            "cancelled": StatusState(approval=approval, cancelled_by="prof-okafor",
                                     cancelled_at=at),
        }.get(s.outcome, StatusState())
        local = s.start.astimezone(ZoneInfo(s.zone))
        add_request(
            fake, REPO, opened=s.start - timedelta(days=s.notice),
            title="=cmd|' /C calc'!A0" if s.i == 3 else f"[Event]: event {s.i}",
            status=state if s.has_status else None, ticked=TICKED if s.has_status else (),
            closed=s.start + timedelta(days=10) if s.closed else None,
            state_reason="not_planned" if s.i == NOT_PLANNED else "completed",
            hub=f"https://{s.hub}", name=f"Event {s.i}", event_type=s.type,
            start=f"{local:%Y-%m-%d %H:%M}", end=f"{local + timedelta(hours=3):%Y-%m-%d %H:%M}",
            timezone=s.zone, tier=s.tier,
            attendees=str(s.attendees) if s.attendees is not None else "lots of people",
        )


def app_env(fake: FakeGitHub, app_key: str) -> dict[str, str]:
    return {"GITHUB_APP_ID": str(fake.app_id), "GITHUB_PRIVATE_KEY": app_key,
            "GITHUB_API_URL": fake.api_url, "GITHUB_WEBHOOK_SECRET": SECRET}


async def test_report_counts_every_category_exactly(fake_github: FakeGitHub,
                                                    app_key: str) -> None:
    seed(fake_github)
    config = fast_config()
    result = await build_report(REPO, app_env(fake_github, app_key), config, FORM, now=NOW)

    assert len(result.records) == 36
    assert dict(result.by_type) == {"exam": 9, "workshop": 9, "demo": 9, "other": 9}
    assert dict(result.by_tier_requested) == {"standard": 12, "enhanced": 12, "premium": 12}
    assert dict(result.by_tier) == dict(Counter(s.tier_bucket for s in SPECS))
    assert result.by_tier["pending"] == sum(1 for s in SPECS if s.outcome == "pending") == 4
    assert dict(result.by_hub) == dict(Counter(s.hub for s in SPECS))
    assert list(result.by_month) == [f"2026-{m:02d}" for m in range(1, 13)]
    for month, counts in result.by_month.items():
        wanted = Counter(s.type for s in SPECS if f"2026-{s.month:02d}" == month)
        assert {t: c for t, c in counts.items() if c} == dict(wanted), month
    assert result.cancelled == 2
    assert result.needs_info == len(NEEDS_INFO)
    assert result.open == sum(1 for s in SPECS if not s.closed)

    live = [s for s in SPECS if not s.cancelled]
    assert result.notice.counted == len(live)
    assert result.notice.median_days == pytest.approx(statistics.median(s.notice for s in live))
    assert result.notice.under == sum(1 for s in live if s.notice < 21)

    people = [s.attendees for s in live if s.attendees is not None]
    assert (result.attendees.counted, result.attendees.total, result.attendees.largest) == (
        len(people), sum(people), max(people))

    late = {i.id: i for i in result.late_items}
    assert late["confirm-details"].due == len(live)
    assert late["confirm-details"].late == sum(1 for s in live if not s.has_status)
    assert late["image-update"].late == len(live)  # nobody ticked it
    # An exam item, and on any request whose premium tier was approved.
    assert late["access-test"].due == late["access-test"].late == sum(
        1 for s in live if s.type == "exam" or (s.tier == "premium"
                                                 and s.outcome == "approved"))

    lines = {(b.hub, b.tier): b for b in result.billing}
    for hub in HUBS:
        for tier in ("enhanced", "premium"):
            billed = [s for s in SPECS if s.hub == hub and s.tier == tier and s.billed]
            if billed:
                line = lines.pop((hub, tier))
                assert (line.events, line.unit_usd, line.amount_usd) == (
                    len(billed), PRICES[tier], sum(s.billed for s in billed))
                assert set(line.issues) == {f"{REPO}#{s.i + 1}" for s in billed}
    assert not lines, "nothing but approved paid tiers is billed"
    assert result.billing_total_usd == sum(s.billed for s in SPECS) == 12500

    text = report.format_table(result)
    assert "Billing" in text and "$12,500" in text
    assert "36 (" in text


@pytest.mark.parametrize(
    ("since", "until", "months"),
    [("2026-04", "2026-06", (4, 5, 6)),
     ("2026-04-01", "2026-06-30", (4, 5, 6)),
     ("2026-12-01", None, (12,)),
     (None, "2026-01-31", (1,))],
)
async def test_report_period_is_by_event_start(fake_github: FakeGitHub, app_key: str,
                                               since: str | None, until: str | None,
                                               months: tuple[int, ...]) -> None:
    seed(fake_github)
    result = await build_report(
        REPO, app_env(fake_github, app_key), fast_config(), FORM,
        since=parse_bound(since, end=False), until=parse_bound(until, end=True), now=NOW)
    chosen = [s for s in SPECS if s.month in months]
    assert len(result.records) == len(chosen) == 3 * len(months)
    assert list(result.by_month) == [f"2026-{m:02d}" for m in months]
    assert result.billing_total_usd == sum(s.billed for s in chosen)


async def test_billing_is_exact_per_hub_and_period(fake_github: FakeGitHub,
                                                   app_key: str) -> None:
    fake_github.add_installation(INSTALLATION, "jupyter-community")
    fake_github.add_repo(REPO, INSTALLATION)

    def one(hub: str, tier: str, day: str, approved: bool) -> None:
        state = StatusState(approval=Approval(tier, "lead-lee", "2026-01-02T00:00:00Z", tier)
                            ) if approved else StatusState()
        add_request(fake_github, REPO, opened=datetime(2026, 1, 2, tzinfo=UTC),
                    title="[Event]: billing", status=state, hub=hub, name="Course",
                    event_type="workshop", start=f"{day} 10:00", end=f"{day} 12:00",
                    tier=tier)

    one("a.hubs.example.org", "premium", "2026-03-10", approved=True)
    one("a.hubs.example.org", "enhanced", "2026-03-11", approved=True)
    one("a.hubs.example.org", "enhanced", "2026-03-31", approved=True)
    one("b.hubs.example.org", "premium", "2026-03-20", approved=True)
    one("b.hubs.example.org", "premium", "2026-03-21", approved=False)  # pending: not billed
    one("a.hubs.example.org", "premium", "2026-04-01", approved=True)  # next period
    one("b.hubs.example.org", "standard", "2026-03-05", approved=False)  # free

    result = await build_report(REPO, app_env(fake_github, app_key), fast_config(), FORM,
                                since=parse_bound("2026-03", end=False),
                                until=parse_bound("2026-03", end=True), now=NOW)
    assert [(b.hub, b.tier, b.events, b.unit_usd, b.amount_usd) for b in result.billing] == [
        ("a.hubs.example.org", "enhanced", 2, 500, 1000),
        ("a.hubs.example.org", "premium", 1, 1500, 1500),
        ("b.hubs.example.org", "premium", 1, 1500, 1500),
    ]
    assert result.billing_total_usd == 4000


async def run_cli(argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
                  ) -> int:
    for key in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH",
                "GITHUB_TOKEN", "GITHUB_API_URL", "BOT_CONFIG", "BOT_STATE_KEY",
                "GITHUB_WEBHOOK_SECRET"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The command runs its own event loop, as from a shell; the fake keeps serving on ours.
    return await asyncio.to_thread(main, argv)


async def test_csv_opens_in_a_spreadsheet_with_a_token(
        fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(fake_github)
    fake_github.personal_tokens.add("ghp_report")
    code = await run_cli(["report", "--repo", REPO, "--format", "csv", "--config", CONFIG_PATH],
                         {"GITHUB_TOKEN": "ghp_report", "GITHUB_API_URL": fake_github.api_url,
                          # With a token, the state key verifies the approvals it counts.
                          "BOT_STATE_KEY": f"rotated,{derived_key(SECRET)}"},
                         monkeypatch)
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(",".join(CSV_COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert len(rows) == 36
    assert Counter(r["event_type"] for r in rows) == Counter(s.type for s in SPECS)
    assert Counter(r["month"] for r in rows) == Counter(f"2026-{s.month:02d}" for s in SPECS)
    assert sum(float(r["billable_usd"]) for r in rows) == 12500
    by_number = {int(r["number"]): r for r in rows}
    # A title a spreadsheet would run as a formula stays text.
    assert by_number[4]["title"].startswith("'=cmd")
    assert by_number[CANCELLED + 1]["cancelled"] == "yes"
    assert by_number[1]["start_utc"] == "2026-01-03T20:00:00Z"  # 14:00 in Chicago, winter
    assert all(r["url"].endswith(f"/issues/{r['number']}") for r in rows)


async def test_json_and_plot_as_the_app(fake_github: FakeGitHub, app_key: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    seed(fake_github)
    chart = tmp_path / "monthly.svg"
    code = await run_cli(["report", "--repo", REPO, "--format", "json", "--since", "2026-01",
                          "--until", "2026-06", "--plot", str(chart), "--config", CONFIG_PATH],
                         app_env(fake_github, app_key), monkeypatch)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["requests"] == 18
    assert sum(data["by_type"].values()) == 18
    assert data["billing"]["total_usd"] == sum(s.billed for s in SPECS if s.month <= 6)
    assert len(data["records"]) == 18
    svg = ElementTree.fromstring(chart.read_text(encoding="utf-8"))  # well-formed, standalone
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    bars = svg.findall(".//{http://www.w3.org/2000/svg}rect/{http://www.w3.org/2000/svg}title")
    assert sum(int(b.text.rsplit(": ", 1)[1]) for b in bars if b.text) == 18
    assert fake_github.calls(operation_id="apps/get-repo-installation")


async def test_a_png_chart_is_drawn_with_the_plotting_extra(
        fake_github: FakeGitHub, app_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(fake_github)
    chart = tmp_path / "monthly.png"
    code = await run_cli(["report", "--repo", REPO, "--plot", str(chart), "--config",
                          CONFIG_PATH], app_env(fake_github, app_key), monkeypatch)
    assert code == 0, capsys.readouterr().err
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_a_png_chart_without_the_extra_is_refused_before_github_is_asked(
        fake_github: FakeGitHub, app_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed(fake_github)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the extra were not installed
    chart = tmp_path / "monthly.png"
    code = await run_cli(["report", "--repo", REPO, "--plot", str(chart), "--config",
                          CONFIG_PATH], app_env(fake_github, app_key), monkeypatch)
    assert code == 2
    err = capsys.readouterr().err
    assert "pip install '.[plot]'" in err and "FILE.svg" in err
    assert not chart.exists() and not fake_github.requests


async def test_table_is_the_default(fake_github: FakeGitHub, app_key: str,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    seed(fake_github, SPECS[:6])
    code = await run_cli(["report", "--repo", REPO, "--config", CONFIG_PATH],
                         app_env(fake_github, app_key), monkeypatch)
    out = capsys.readouterr().out
    assert code == 0
    for heading in ("By type", "By tier", "By month", "By hub", "Notice", "Attendees",
                    "Late checklist items", "Billing"):
        assert heading in out


@pytest.mark.parametrize(
    ("argv", "env", "code", "message"),
    [(["--repo", "not-a-repo"], {}, 2, "is not OWNER/NAME"),
     (["--repo", REPO], {}, 2, "needs GitHub access"),
     (["--repo", REPO, "--since", "last week"], {"GITHUB_TOKEN": "x"}, 2, "is not a date"),
     (["--repo", REPO, "--since", "2026-05", "--until", "2026-04"], {"GITHUB_TOKEN": "x"}, 2,
      "before --since"),
     (["--repo", "someone/else"], {"app": "yes"}, 1, "not installed on someone/else")],
)
async def test_report_refuses_clearly(fake_github: FakeGitHub, app_key: str,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], argv: list[str],
                                      env: dict[str, str], code: int, message: str) -> None:
    seed(fake_github, ())
    if env.pop("app", None):
        env = app_env(fake_github, app_key)
    else:
        env = {**env, "GITHUB_API_URL": fake_github.api_url}
    got = await run_cli(["report", *argv, "--config", CONFIG_PATH], env, monkeypatch)
    err = capsys.readouterr().err
    assert got == code
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [("2026-03", False, datetime(2026, 3, 1, tzinfo=UTC)),
     ("2026-03", True, datetime(2026, 4, 1, tzinfo=UTC)),
     ("2026-12", True, datetime(2027, 1, 1, tzinfo=UTC)),
     ("2026-03-15", False, datetime(2026, 3, 15, tzinfo=UTC)),
     ("2026-03-15", True, datetime(2026, 3, 16, tzinfo=UTC)),
     ("2026-03-15T12:00:00Z", True, datetime(2026, 3, 15, 12, tzinfo=UTC)),
     ("2026-03-15T12:00:00+02:00", False, datetime(2026, 3, 15, 10, tzinfo=UTC)),
     (None, False, None)],
)
def test_period_bounds_are_utc(text: str | None, end: bool, expected: datetime | None) -> None:
    assert parse_bound(text, end=end) == expected


@pytest.mark.parametrize(
    ("pairs", "first", "last", "expected"),
    [([("2026-01", "exam"), ("2026-03", "demo")], None, None,
      {"2026-01": {"exam": 1}, "2026-02": {}, "2026-03": {"demo": 1}}),
     ([("2026-11", "exam"), ("2027-01", "exam"), ("2027-01", "exam")], None, None,
      {"2026-11": {"exam": 1}, "2026-12": {}, "2027-01": {"exam": 2}}),
     ([("2026-01", "exam"), ("2026-05", "demo")], "2026-02", "2026-05",
      {"2026-02": {}, "2026-03": {}, "2026-04": {}, "2026-05": {"demo": 1}}),
     ([], None, None, {})],
)
def test_months_without_requests_show_as_zero(pairs: list[tuple[str, str]], first: str | None,
                                              last: str | None,
                                              expected: dict[str, dict[str, int]]) -> None:
    got = monthly_by_type(pairs, first=first, last=last)
    assert {m: {t: c for t, c in counts.items() if c} for m, counts in got.items()} == expected
    assert all(set(counts) >= {"exam", "workshop", "demo", "other"} for counts in got.values())


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-x", "'-x"), ("@a", "'@a"),
     ("plain", "plain"), (3, 3)],
)
def test_csv_cells_never_run_as_formulas(value: Any, cell: Any) -> None:
    assert report_format._cell(value) == cell


async def test_an_unlabelled_request_is_counted_and_a_plain_issue_is_not(
        fake_github: FakeGitHub, app_key: str) -> None:
    """An event request is the label OR the form's headings (CONTRACT.md): every issue is
    listed, once, without a label filter, and comments are read for requests only."""
    from .requests_seed import request_body

    fake_github.add_installation(INSTALLATION, "jupyter-community")
    fake_github.add_repo(REPO, INSTALLATION)
    opened = datetime(2026, 3, 1, tzinfo=UTC)
    labelled = add_request(fake_github, REPO, opened=opened, title="[Event]: labelled",
                           hub="https://a.hubs.example.org", name="Labelled", event_type="exam",
                           start="2026-04-10 10:00", end="2026-04-10 12:00",
                           tier="standard").number
    unlabelled = fake_github.add_issue(
        REPO, title="[Event]: no label", created_at=opened, body=request_body(
            hub="https://b.hubs.example.org", name="Unlabelled", event_type="workshop",
            start="2026-05-10 10:00", end="2026-05-10 12:00", tier="standard"))
    plain = fake_github.add_issue(REPO, title="The hub is slow", created_at=opened,
                                  body="### What happened\n\nIt is slow.\n\n/cancel")
    fake_github.reset_log()

    result = await build_report(REPO, app_env(fake_github, app_key), fast_config(), FORM,
                                now=NOW)
    assert sorted(r.number for r in result.records) == [labelled, unlabelled]
    assert dict(result.by_type) == {"exam": 1, "workshop": 1}
    assert {m: sum(c.values()) for m, c in result.by_month.items()} == {"2026-04": 1,
                                                                       "2026-05": 1}
    [listing] = fake_github.calls("GET", operation_id="issues/list-for-repo")
    assert listing.query.get("state") == "all" and "labels" not in listing.query
    read = {c.path for c in fake_github.calls("GET", path_contains="/comments")}
    assert read == {f"/repos/{REPO}/issues/{n}/comments" for n in (labelled, unlabelled)}
    assert not any(f"/issues/{plain}/" in c.path for c in fake_github.requests)


async def test_pull_requests_in_the_issue_list_are_skipped() -> None:
    """GitHub lists pull requests among issues; a body with the form's headings there is
    still not a request."""
    from .requests_seed import request_body

    body = request_body(hub="https://a.hubs.example.org", name="PR", event_type="exam",
                        start="2026-04-10 10:00", end="2026-04-10 12:00", tier="standard")
    asked: list[tuple[str, dict[str, Any]]] = []

    class Client:
        async def get_all(self, url: str, params: dict[str, Any]) -> list[Any]:
            asked.append((url, params))
            return [{"number": 1, "title": "Add a feature", "body": body, "state": "open",
                     "user": {"login": "dev"}, "labels": [], "assignees": [],
                     "created_at": "2026-03-01T00:00:00Z", "pull_request": {"url": "x"}}]

        async def issue_comments(self, repo: str, number: int) -> list[Any]:
            raise AssertionError("no comments are read for a pull request")

    records = await report.fetch_records(Client(), REPO, fast_config(), FORM, NOW,
                                         keys=STATE_KEYS)
    assert records == []
    assert [u for u, _ in asked] == [f"/repos/{REPO}/issues"]
