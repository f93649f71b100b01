"""Command line: serve, plan, check-config (and the commands later issues add)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config import Config, ConfigError, load_config
from .forms import FormError, FormTemplate, load_form
from .model import IssueSnapshot, RepoRef, issue_from_json
from .plan import Triage, iso, triage

EXIT_USAGE = 2


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def config_path(arg: str | None) -> str:
    return arg or os.environ.get("BOT_CONFIG") or "config.yaml"


def load_all(path: str) -> tuple[Config, FormTemplate]:
    config = load_config(path)
    try:
        form = load_form(config.form_path)
    except FormError as e:
        raise ConfigError([f"form: {e}"]) from None
    return config, form


def parse_now(text: str | None) -> datetime:
    if not text:
        return datetime.now(timezone.utc)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def issue_from_file(path: Path, now: datetime) -> IssueSnapshot:
    raw = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix.lower() == ".json":
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the JSON file is not an object")
        issue = data.get("issue", data)
        repo_json = data.get("repository") if isinstance(data.get("repository"), dict) else {}
        full = repo_json.get("full_name") if isinstance(repo_json, dict) else None
        owner, _, name = (full if isinstance(full, str) else "example/example").partition("/")
        return issue_from_json(issue, RepoRef(owner, name or "example"))
    title = path.stem.replace("-", " ").replace("_", " ")
    return IssueSnapshot(repo=RepoRef("example", "example"), number=1, title=title, body=raw,
                         author="champion", labels=(), assignees=(), state="open",
                         created_at=now)


def triage_json(result: Triage) -> dict[str, Any]:
    req = result.request
    usable = req is not None and not result.errors
    sizing = result.sizing
    return {
        "is_event_request": result.is_event_request,
        "event_type": req.event_type if req else None,
        "tier": req.tier if req else None,
        "start": iso(req.start) if req and req.start else None,
        "end": iso(req.end) if req and req.end else None,
        "timezone": req.zone.label if req and req.zone else None,
        "attendees": req.attendees if req else None,
        "labels": list(result.labels),
        "assignees": list(result.assignees),
        "errors": [{"field": e.field, "message": e.message} for e in result.errors],
        "sizing": {
            "node_type": sizing.node_type, "users_per_node": sizing.users_per_node,
            "nodes": sizing.nodes, "prewarm_nodes": sizing.prewarm_nodes,
        } if sizing is not None else None,
        "checklist": [{"id": i.id, "text": i.text, "due": iso(i.due)}
                      for i in result.checklist],
        "comment": result.comment,
        "usable": usable,
    }


def triage_text(result: Triage) -> str:
    if not result.is_event_request:
        return "Not an event request: the bot leaves this issue alone.\n"
    data = triage_json(result)
    lines = [
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
    if data["sizing"]:
        s = data["sizing"]
        lines.append(f"  sizing:     {s['nodes']} x {s['node_type']} ({s['users_per_node']} "
                     f"users/node), pre-warm {s['prewarm_nodes']}")
    for err in data["errors"]:
        lines.append(f"  problem:    [{err['field'] or '-'}] {err['message']}")
    lines += ["", "Status comment:", "", result.comment or ""]
    return "\n".join(lines) + "\n"


def cmd_plan(args: argparse.Namespace) -> int:
    try:
        config, form = load_all(config_path(args.config))
    except ConfigError as e:
        for line in e.problems:
            print(f"error: {line}", file=sys.stderr)
        return 1
    try:
        now = parse_now(args.now)
    except ValueError:
        return _fail(f"--now {args.now!r} is not an ISO 8601 time like 2026-11-23T10:00:00Z",
                     EXIT_USAGE)
    path = Path(args.file)
    try:
        issue = issue_from_file(path, now)
    except FileNotFoundError:
        return _fail(f"{path}: file not found")
    except (OSError, ValueError) as e:
        return _fail(f"{path}: cannot be read as an issue body or webhook payload ({e})")
    result = triage(issue, None, config, form, now)
    if args.format == "json":
        print(json.dumps(triage_json(result), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(triage_text(result))
    return 0


def form_tier_problems(config: Config, form: FormTemplate) -> list[str]:
    return tier_option_problems(list(config.tiers), form, config.form_path.name)


def tier_option_problems(tiers: list[str], form: FormTemplate, form_name: str) -> list[str]:
    """Each tier option must start with a config tier, and each tier needs an option."""
    field = form.field("tier")
    if field is None:
        return [f"{form_name}: has no `tier` dropdown"]
    problems = []
    names = sorted(tiers, key=len, reverse=True)
    matched: set[str] = set()
    for option in field.options:
        hit = next((n for n in names if option.lower().startswith(n.lower())), None)
        if hit is None:
            problems.append(f"{form_name}: tier option {option!r} does not start "
                            f"with a tier in config ({', '.join(tiers)})")
        else:
            matched.add(hit)
    for name in tiers:
        if name not in matched:
            problems.append(f"{form_name}: no tier option for config tier {name!r}")
    return problems


def _raw_tier_problems(path: str) -> list[str]:
    """When the config has other problems, still check its tiers against the form."""
    import yaml

    from .config import DEFAULT_FORM_PATH

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        form = load_form(DEFAULT_FORM_PATH)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, FormError):
        return []
    if not isinstance(raw, dict) or raw.get("form") or not isinstance(raw.get("tiers"), dict):
        return []
    names = [str(name) for name in raw["tiers"]]
    return tier_option_problems(names, form, DEFAULT_FORM_PATH.name)


def cmd_check_config(args: argparse.Namespace) -> int:
    path = config_path(args.path)
    try:
        config, form = load_all(path)
    except ConfigError as e:
        for line in [*e.problems, *_raw_tier_problems(path)]:
            print(line)
        return 1
    problems = form_tier_problems(config, form)
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"{path}: ok ({len(config.tiers)} tiers, {len(config.oncall.engineers)} engineers, "
          f"{len(config.checklist)} checklist items)")
    return check_app_grants(config)


def check_app_grants(config: Config) -> int:
    """With App credentials in the environment, also check what the App was granted."""
    import asyncio

    from .access import check_app_grants as grants

    problems = asyncio.run(grants(os.environ, config.github))
    if problems is None:
        return 0
    for line in problems:
        print(line)
    if problems:
        return 1
    print("GitHub App: the permissions and events app.yml lists are granted")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import report

    try:
        config, form = load_all(config_path(args.config))
    except ConfigError as e:
        for line in e.problems:
            print(f"error: {line}", file=sys.stderr)
        return 1
    return report.run(args, os.environ, config, form)


def cmd_policy(args: argparse.Namespace) -> int:
    from .policy import render_policy

    try:
        config = load_config(config_path(args.config))
    except ConfigError as e:
        for line in e.problems:
            print(f"error: {line}", file=sys.stderr)
        return 1
    sys.stdout.write(render_policy(config))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(args)


def cmd_clock(args: argparse.Namespace) -> int:
    from .serve import clock

    return clock(args)


def cmd_tick(args: argparse.Namespace) -> int:
    from .serve import tick

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
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("report", help="categorise past event requests, and what to bill")
    from .report import add_arguments as report_arguments

    report_arguments(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("policy", help="the support offering from config, as Markdown")
    p.add_argument("--config", default=None)
    p.set_defaults(func=cmd_policy)

    p = sub.add_parser("check-config", help="validate config.yaml and the form")
    p.add_argument("path", nargs="?", default=None)
    p.set_defaults(func=cmd_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
