"""``python -m bot report``: what past event requests were, and what to bill for them.

Reads every event request (open and closed: an issue with the label, or one
whose body holds the form's headings) through the API, re-triages each with
the pure core (its body, plus the state in its status comment: approvals,
declines, reschedules, cancellations, ticked boxes) and categorises them.

Definitions (all times UTC):
- A request belongs to the month, and to the ``--since``/``--until`` period,
  in which its event starts; when its start could not be read, in which the
  issue was opened.
- Notice is the time from opening the issue to the event's start.
- A checklist item is *late* when its due time had passed and its box was
  not ticked: for a closed issue at the moment it was closed (its boxes as
  they were left), for an open one now. Items not yet due, and every item of
  a cancelled request, are not counted. GitHub keeps no history of when a
  box was ticked, so "ticked after it was due" cannot be told apart from
  "ticked on time".
- Billing lists each event in the period whose tier costs money and was
  approved (or needs no approval), at its price in config, per hub. A
  cancelled request (``/cancel``, or closed as not planned) is not billed,
  nor one whose start could not be read.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from ..core.config import Config
from ..core.forms import FormTemplate
from .report_fetch import UsageError, build_report, fetch_records
from .report_format import CHART_COLOURS, CSV_COLUMNS, format_table, render
from .report_plot import PlotError, check_plot_path, write_chart
from .report_records import RequestRecord, record_from
from .report_summary import Report, monthly_by_type, summarize

__all__ = [
    "CHART_COLOURS", "CSV_COLUMNS", "Report", "RequestRecord", "UsageError", "add_arguments",
    "build_report", "fetch_records", "format_table", "monthly_by_type", "parse_bound",
    "record_from", "render", "run", "summarize",
]


def parse_bound(text: str | None, *, end: bool) -> datetime | None:
    """``2026-03`` / ``2026-03-15`` / an ISO 8601 time, in UTC.

    A month or a day given as ``--until`` includes all of it (the bound is the
    start of the next one).
    """
    if not text:
        return None
    value = text.strip()
    try:
        if len(value) == 7 and value[4] == "-":
            year, month = int(value[:4]), int(value[5:7])
            first = datetime(year, month, 1, tzinfo=UTC)
            if not end:
                return first
            return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{text!r} is not a date like 2026-03-01 (or 2026-03, or an ISO 8601 "
                         "time)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace, env: Mapping[str, str], config: Config,
        form: FormTemplate, now: datetime | None = None) -> int:
    """The ``report`` command once the config is loaded; returns the exit status."""
    from ..github.client import GitHubError

    now = now or datetime.now(UTC)
    repo = str(args.repo or "")
    if repo.count("/") != 1 or not all(repo.split("/")):
        print(f"error: --repo {repo!r} is not OWNER/NAME", file=sys.stderr)
        return 2
    try:
        plot = check_plot_path(args.plot) if args.plot else None
        since = parse_bound(args.since, end=False)
        until = parse_bound(args.until, end=True)
        if since and until and until <= since:
            raise UsageError("--until is before --since")
        report = asyncio.run(build_report(repo, env, config, form, since=since, until=until,
                                          now=now))
    except (UsageError, PlotError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # an unreadable private key
        print(f"error: {e}", file=sys.stderr)
        return 2
    except LookupError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except GitHubError as e:
        print(f"error: GitHub: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(render(report, args.format))
    if plot is not None:
        try:
            write_chart(report.by_month, plot, f"Event requests per month, {report.repo}")
        except OSError as e:
            print(f"error: cannot write {args.plot}: {e}", file=sys.stderr)
            return 1
        print(f"chart written to {args.plot}", file=sys.stderr)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", required=True, help="OWNER/NAME")
    parser.add_argument("--since", default=None,
                        help="first day (UTC) of the period: 2026-01-01, or a month: 2026-01")
    parser.add_argument("--until", default=None,
                        help="last day (UTC) of the period, included: 2026-06-30, or 2026-06")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--plot", default=None, metavar="FILE.png|FILE.svg",
                        help="also draw the requests per month by type (SVG; PNG with .[plot])")
    parser.add_argument("--config", default=None)
