"""Command line: serve, plan, check-config (and the commands later issues add)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .core import outbox
from .core.config import Config, ConfigError
from .core.dates import DateError, parse_when
from .core.form_map import bound_form
from .core.forms import FormTemplate, parse_form_body
from .core.model import (
    Desired,
    IssueSnapshot,
    RepoRef,
    Trust,
    WorkflowDispatch,
    issue_from_json,
    parse_github_time,
)
from .core.plan import plan
from .core.prewarm import with_records
from .core.request import EventRequest
from .core.sealing import DEVELOPMENT_KEYS, StateKeys
from .core.status import seal_status
from .core.triage import Triage, iso
from .service.loading import config_path, load_config, load_or_say, say_problems

EXIT_USAGE = 2


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def parse_now(text: str | None) -> datetime:
    if not text:
        return datetime.now(timezone.utc)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def issue_from_file(path: Path, now: datetime) -> tuple[IssueSnapshot, tuple[str, ...]]:
    """-> (the issue, notes on what was assumed to read it)."""
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix.lower() == ".json":
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the JSON file is not an object")
        issue = data.get("issue", data)
        repo_json = data.get("repository") if isinstance(data.get("repository"), dict) else {}
        full = repo_json.get("full_name") if isinstance(repo_json, dict) else None
        owner, _, name = (full if isinstance(full, str) else "example/example").partition("/")
        notes: tuple[str, ...] = ()
        created = parse_github_time(issue.get("created_at")) if isinstance(issue, dict) else None
        if isinstance(issue, dict) and created is None:
            # A plan is still worth printing: --now stands in, as it does for a .md file.
            issue = {**issue, "created_at": iso(now)}
            notes = (f"the payload's issue.created_at is missing or not an ISO 8601 time; "
                     f"read as opened at {iso(now)} (--now, else the current time)",)
        return issue_from_json(issue, RepoRef(owner, name or "example")), notes
    title = path.stem.replace("-", " ").replace("_", " ")
    return IssueSnapshot(repo=RepoRef("example", "example"), number=1, title=title, body=raw,
                         author="champion", labels=(), assignees=(), state="open",
                         created_at=now), ()


@dataclass(frozen=True)
class PlanPreview:
    """What the server would do with the issue on its first sync (no status comment yet)."""

    issue: IssueSnapshot
    triage: Triage
    desired: Desired  # replies settled into the status comment, as ``sync_request`` posts them
    dispatched: tuple[WorkflowDispatch, ...] = ()  # sent before the status comment is written
    end: datetime | None = None  # the end as read, even when the start could not be
    notes: tuple[str, ...] = ()


class _AssumeDispatched:
    """A dispatch client for previews: every dispatch succeeds, nothing is sent."""

    async def dispatch_workflow(self, repo: str, workflow: str, ref: str,
                                inputs: Mapping[str, str]) -> None:
        return None


def preview_first_sync(issue: IssueSnapshot, config: Config, form: FormTemplate,
                       now: datetime, notes: tuple[str, ...] = (),
                       keys: StateKeys = DEVELOPMENT_KEYS) -> PlanPreview:
    """``bot.service.apply.sync_request``'s pure steps for an issue with no comments yet (its
    state block signed under ``keys``, as the server would)."""
    result, desired = plan(issue, None, config, form, now)
    dispatched = desired.dispatches
    if dispatched:
        # As sync_request does: dispatch (assumed to succeed here), then plan again with
        # the records in the state, so the one status comment records them.
        import asyncio

        from .service.workflows import run_dispatches

        records = asyncio.run(run_dispatches(_AssumeDispatched(), dispatched, now))
        result, desired = plan(issue, with_records(None, records), config, form, now)
        desired = replace(desired, dispatches=())
    desired = outbox.settle(issue, None, (), None, desired)
    if desired.status_body is not None:
        desired = replace(desired, status_body=seal_status(
            desired.status_body, keys, issue.repo.full_name, issue.number))
    return PlanPreview(issue, result, desired, dispatched,
                       end_as_read(issue, form, config, result.request), notes)


def end_as_read(issue: IssueSnapshot, form: FormTemplate, config: Config,
                request: EventRequest | None) -> datetime | None:
    """The end, also when only the start is at fault: the bot checks the end alone then
    (``read_request``), and a field it could read is shown, not null."""
    if request is None:
        return None
    if request.end is not None:
        return request.end
    if request.start is not None or request.zone is None:
        return None  # the end was refused with the start (before it, too long), or no zone
    if any(e.field == "end" for e in request.errors):
        return None
    raw = parse_form_body(issue.body, bound_form(form, config)).get("end")
    if not raw:
        return None
    try:
        when = parse_when(raw, field_zone=request.zone, opened_at=issue.created_at,
                          abbreviations=config.timezone_abbreviations)
    except (DateError, ValueError):
        return None
    return when.at.astimezone(timezone.utc)


def triage_json(preview: PlanPreview,
                form_fields: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The contract's JSON object; an error names the form's own element (``form_fields``)."""
    element = dict(form_fields or {})
    result = preview.triage
    req = result.request
    usable = req is not None and not result.errors
    sizing = result.sizing
    return {
        "is_event_request": result.is_event_request,
        "event_type": req.event_type if req else None,
        "tier": req.tier if req else None,
        "start": iso(req.start) if req and req.start else None,
        "end": iso(preview.end) if preview.end else None,
        "timezone": req.zone.label if req and req.zone else None,
        "daily_hours": {
            "start": f"{req.daily_hours.start:%H:%M}", "end": f"{req.daily_hours.end:%H:%M}",
            "timezone": req.daily_hours.zone.label,
        } if req and req.daily_hours else None,
        "attendees": req.attendees if req else None,
        # What the bot decides (CONTRACT.md): its own labels, and the engineers it assigns
        # from the rotation (none when the start cannot be read). Labels and assignees
        # people set stay on the issue; the text format lists them.
        "labels": list(result.labels),
        "assignees": list(result.state.rotation),
        "errors": [{"field": element.get(e.field, e.field) if e.field else None,
                    "message": e.message} for e in result.errors],
        "sizing": {
            "node_type": sizing.node_type, "users_per_node": sizing.users_per_node,
            "nodes": sizing.nodes, "prewarm_nodes": sizing.prewarm_nodes,
        } if sizing is not None else None,
        "checklist": [{"id": i.id, "text": i.text, "due": iso(i.due)}
                      for i in result.checklist],
        "comment": preview.desired.status_body,
        "usable": usable,
    }


def _kept(have: Sequence[str], bot: Sequence[str]) -> list[str]:
    mine = {x.lower() for x in bot}
    return [x for x in have if x.lower() not in mine]


def triage_text(preview: PlanPreview) -> str:
    notes = [f"Note: {note}" for note in preview.notes]
    if not preview.triage.is_event_request:
        return "\n".join([*notes, "Not an event request: the bot leaves this issue alone."]) + "\n"
    data = triage_json(preview)
    desired = preview.desired
    lines = [
        *notes,
        f"Event request: {'usable' if data['usable'] else 'needs info'}",
        f"  type:       {data['event_type']}",
        f"  tier:       {data['tier']}",
        f"  start:      {data['start']}",
        f"  end:        {data['end']}",
        f"  timezone:   {data['timezone']}",
        f"  attendees:  {data['attendees']}",
        f"  labels:     {', '.join(data['labels'])}",
        f"  assignees:  {', '.join(data['assignees']) or '-'}",
    ]
    kept_labels = _kept(preview.issue.labels, data["labels"])
    kept_people = _kept(preview.issue.assignees, data["assignees"])
    if kept_labels or kept_people:
        lines.append(f"  kept:       labels {', '.join(kept_labels) or '-'}; assignees "
                     f"{', '.join(kept_people) or '-'} (set by people, left as they are)")
    if data["sizing"]:
        s = data["sizing"]
        lines.append(f"  sizing:     {s['nodes']} x {s['node_type']} ({s['users_per_node']} "
                     f"users/node), pre-warm {s['prewarm_nodes']}")
    for err in data["errors"]:
        lines.append(f"  problem:    [{err['field'] or '-'}] {err['message']}")
    for d in preview.dispatched:
        inputs = ", ".join(f"{k}={v}" for k, v in sorted(d.inputs.items()))
        lines.append(f"  dispatch:   {d.kind}: {d.repository} {d.workflow}@{d.ref} ({inputs})")
    if desired.close_reason:
        lines.append(f"  close:      as {desired.close_reason}")
    lines += ["", "Status comment:", "", desired.status_body or ""]
    for number, reply in enumerate(desired.replies, 1):
        lines += ["", f"Reply {number} of {len(desired.replies)}:", "", reply]
    return "\n".join(lines) + "\n"


def cmd_plan(args: argparse.Namespace) -> int:
    loaded = load_or_say(args.config)
    if loaded is None:
        return 1
    config, form = loaded
    try:
        now = parse_now(args.now)
    except ValueError:
        return _fail(f"--now {args.now!r} is not an ISO 8601 time like 2026-11-23T10:00:00Z",
                     EXIT_USAGE)
    path = Path(args.file)
    try:
        issue, notes = issue_from_file(path, now)
    except FileNotFoundError:
        return _fail(f"{path}: file not found")
    except (OSError, ValueError) as e:
        return _fail(f"{path}: cannot be read as an issue body or webhook payload ({e})")
    if args.author_confirms:  # GitHub is not asked here: the person running it says so
        issue = replace(issue, trust=Trust(author=True))
    from .core.sealing import keys_from_env

    # Signed as the server would sign it (a fixed development key without either setting).
    keys = keys_from_env(os.environ) or DEVELOPMENT_KEYS
    preview = preview_first_sync(issue, config, form, now, notes, keys)
    if args.format == "json":
        # The JSON object's keys are the contract's; a note goes to stderr instead.
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        print(json.dumps(triage_json(preview, config.form_fields), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(triage_text(preview))
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    from .cli_check import check_config

    return check_config(args.path, args.repo_file)


def cmd_report(args: argparse.Namespace) -> int:
    from .views import report

    loaded = load_or_say(args.config)
    if loaded is None:
        return 1
    return report.run(args, os.environ, *loaded)


def cmd_policy(args: argparse.Namespace) -> int:
    from .core.policy import render_policy

    try:
        config = load_config(config_path(args.config))
    except ConfigError as e:
        return say_problems(e)
    sys.stdout.write(render_policy(config))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """The JSON Schemas of config.yaml and .github/event-bot.yml: printed, or written."""
    from .core.config_jsonschema import schema_files

    files = schema_files()
    if not args.write:
        sys.stdout.write(files[args.which])
        return 0
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        print(f"wrote {folder / name}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .wiring import serve

    return serve(args)


def cmd_clock(args: argparse.Namespace) -> int:
    from .service.serve import clock

    return clock(args)


def cmd_tick(args: argparse.Namespace) -> int:
    from .service.serve import tick

    return tick(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the webhook server (and the scheduler)")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--dry-run", action="store_true",
                   help="need no credentials, write nothing to GitHub, log each write")
    p.add_argument("--no-scheduler", action="store_true")
    p.add_argument("--config", default=None)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("clock", help="run the scheduler alone (loops)")
    p.add_argument("--config", default=None)
    p.set_defaults(func=cmd_clock)

    p = sub.add_parser("tick", help="one scheduler pass, then exit")
    p.add_argument("--config", default=None)
    p.set_defaults(func=cmd_tick)

    p = sub.add_parser("plan", help="show what the bot would do with an issue body or payload")
    p.add_argument("file")
    p.add_argument("--now", default=None, help="ISO 8601; also when a .md issue was opened")
    p.add_argument("--config", default=None)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--author-confirms", action="store_true",
                   help="plan as if the author is a writer or team lead (confirmed as filed)")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("report", help="categorise past event requests, and what to bill")
    from .views.report import add_arguments as report_arguments

    report_arguments(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("policy", help="the support offering from config, as Markdown")
    p.add_argument("--config", default=None)
    p.set_defaults(func=cmd_policy)

    p = sub.add_parser("check-config", help="validate config.yaml and the form")
    p.add_argument("path", nargs="?", default=None)
    p.add_argument("--repo-file", default=None, metavar="PATH",
                   help="also check a repository's .github/event-bot.yml over that config")
    p.set_defaults(func=cmd_check_config)  # bot.cli_check

    p = sub.add_parser("schema", help="the JSON Schema of config.yaml (or event-bot.yml)")
    p.add_argument("which", nargs="?", default="config.schema.json",
                   choices=["config.schema.json", "event-bot.schema.json"])
    p.add_argument("--write", action="store_true", help="write both into --dir")
    p.add_argument("--dir", default="schemas")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code

