"""One declaration per command (``/help``, the README and the checks read them), who may
run it, and deciding a comment's commands in order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from .. import text
from ..forms import FormTemplate, parse_form_body
from ..model import IssueSnapshot
from ..status import StatusState
from .grammar import Invocation
from .grammar import parse_commands as parse_lines
from .handlers import (
    Command,
    Context,
    Result,
    UsageError,
    _approve,
    _assign,
    _cancel,
    _checklist,
    _confirm,
    _dates,
    _decline,
    _listing,
    _logins,
    _named,
    _no_args,
    _nodes,
    _optional_text,
    _people,
    _prewarm,
    _reschedule,
    _said,
    _strictly_no_args,
    _to,
    _unassign,
)
from .roles import LOOKED_UP, ROLE_TITLES, Role, _reps


def _help(_: None, ctx: Context, inv: Invocation) -> Result:
    return Result("ok", ctx.state, ctx.assignees, reply=help_reply(ctx))


COMMANDS: tuple[Command[Any], ...] = (
    Command("approve-tier", "/approve-tier [NAME]", (Role.TEAM_LEAD,),
            "Approves the tier the form asked for when you wrote the comment (or another "
            "one, by NAME) and tells the champion; if the form later asks for another tier, "
            "that one awaits approval again.",
            ("/approve-tier", "/approve-tier premium"), _optional_text, _approve),
    Command("decline-tier", "/decline-tier [REASON]", (Role.TEAM_LEAD,),
            "Declines the paid tier asked for: the event goes on at the free tier, and the "
            "reason goes to the champion and into the status comment.",
            ("/decline-tier no budget left this term",), _optional_text, _decline),
    Command("assign", "/assign [@login ...]", (Role.TEAM_LEAD, Role.WRITER, Role.ASSIGNEE),
            "Assigns these people (nobody named: yourself).",
            ("/assign", "/assign @alice @bob"), _logins, _assign),
    Command("unassign", "/unassign [@login ...]", (Role.TEAM_LEAD, Role.WRITER, Role.ASSIGNEE),
            "Unassigns these people (nobody named: yourself).",
            ("/unassign @bob",), _logins, _unassign),
    Command("reschedule", "/reschedule START [END]",
            (Role.AUTHOR, Role.COMMUNITY_REP, Role.TEAM_LEAD, Role.WRITER),
            "Moves the event: dates are read like the form's (no END: it keeps its length); "
            "due dates, sizing and the on-call engineers follow, ticked boxes stay.",
            ("/reschedule 2027-03-16 13:00 to 16:15",), _dates, _reschedule),
    Command("cancel", "/cancel", (Role.AUTHOR, Role.COMMUNITY_REP, Role.TEAM_LEAD, Role.WRITER),
            "Cancels the request: labels it, closes it as not planned, and stops reminders "
            "and pre-warming.", ("/cancel",), _strictly_no_args, _cancel),
    Command("checklist", "/checklist", (Role.WRITER, Role.TEAM_LEAD),
            "Re-renders the status comment from the issue (repairs a damaged or deleted one).",
            ("/checklist",), _no_args, _checklist),
    Command("prewarm", "/prewarm [NODES]", (Role.TEAM_LEAD, Role.WRITER, Role.ASSIGNEE),
            "Starts the pre-warm workflow now, for NODES nodes (a whole number up to the "
            "configured maximum; 0 scales down) or the planned count.",
            ("/prewarm", "/prewarm 6"),
            _nodes, _prewarm),
    Command("confirm", "/confirm", (Role.WRITER, Role.TEAM_LEAD),
            "Confirms the request's hub, dates and attendees as they read now, so pre-warming "
            "may follow; an edit of them by anyone else awaits confirmation again.",
            ("/confirm",), _strictly_no_args, _confirm),
    Command("help", "/help", (Role.ANYONE,), "Lists the commands you may use here.",
            ("/help",), _no_args, _help),
)
BY_NAME: dict[str, Command[Any]] = {c.name: c for c in COMMANDS}
COMMAND_NAMES = frozenset(BY_NAME)


def allowed(spec: Command[Any], roles: frozenset[Role]) -> bool:
    return Role.ANYONE in spec.roles or bool(set(spec.roles) & roles)


def who_may(spec: Command[Any], ctx: Context) -> str:
    """The people who may run ``spec`` on this issue, named where the bot knows them (in
    code spans: a refusal notifies the person refused, not everyone who could have run it)."""
    config = ctx.config
    parts: list[str] = []
    for role in spec.roles:
        if role is Role.TEAM_LEAD:
            names = [_named(x) for x in config.team_leads]
            if config.team_lead_team:
                names.append(f"members of {text.code(config.team_lead_team)}")
            known = _listing(names, "or") if names else "none are configured yet"
            parts.append(f"the team leads ({known})")
        elif role is Role.WRITER:
            parts.append("collaborators with write access to this repository")
        elif role is Role.ASSIGNEE:
            named = f" ({_people(ctx.issue.assignees)})" if ctx.issue.assignees else ""
            parts.append(f"the engineers assigned to this issue{named}")
        elif role is Role.AUTHOR and ctx.issue.author:
            parts.append(f"the issue's author ({_named(ctx.issue.author)})")
        elif role is Role.COMMUNITY_REP and _reps(ctx.request):
            reps = ", ".join(_named(r) for r in _reps(ctx.request))
            parts.append(f"the community representative ({reps})")
        elif role is Role.ANYONE:
            parts.append("anyone")
    return _listing(parts, "or")


def _usage(ctx: Context, inv: Invocation, problem: str) -> Result:
    spec = BY_NAME[inv.name]
    example = ""
    if spec.examples and spec.examples[-1] != spec.usage:
        example = f", for example {text.code(spec.examples[-1])}"
    return _said(ctx, "usage", f"{_to(ctx)}{text.code(inv.line, 200)} was not applied: "
                 f"{problem}. Usage: {text.code(spec.usage)}{example}.")


def decide(inv: Invocation, ctx: Context) -> Result:
    """One command: refused (one reply naming who may run it), bad arguments (the usage),
    or its effect. Never raises on what people write."""
    spec = BY_NAME[inv.name]
    if not allowed(spec, ctx.roles):
        return _said(ctx, "refused", f"{_to(ctx)}{text.code(inv.line, 200)} can be run by "
                     f"{who_may(spec, ctx)}; nothing was changed.")
    try:
        return spec.decide(spec.read_args(inv.args, ctx.config), ctx, inv)
    except UsageError as e:
        return _usage(ctx, inv, str(e))


@dataclass(frozen=True)
class CommentOutcome:
    """Every command of one comment, decided in order, and what they add up to."""

    results: tuple[tuple[Invocation, Result], ...]
    state: StatusState
    assignees: tuple[str, ...]
    close: bool
    sync: bool
    prewarm: Result | None  # the last /prewarm that succeeded

    @property
    def reply(self) -> str | None:
        """One reply for the whole comment (several commands, one notification)."""
        parts = [r.reply for _, r in self.results if r.reply]
        return "\n\n".join(parts) if parts else None

    @property
    def acknowledged(self) -> bool:
        return any(r.succeeded for _, r in self.results)


def decide_all(invocations: Iterable[Invocation], ctx: Context) -> CommentOutcome:
    results: list[tuple[Invocation, Result]] = []
    close = sync = False
    prewarm: Result | None = None
    for inv in invocations:
        if inv.name not in BY_NAME:
            continue
        result = decide(inv, ctx)
        results.append((inv, result))
        ctx = replace(ctx, state=result.state, assignees=result.assignees)
        close = close or result.close
        sync = sync or result.sync
        if result.prewarm:
            prewarm = result
    return CommentOutcome(tuple(results), ctx.state, ctx.assignees, close, sync, prewarm)


def form_dates(issue: IssueSnapshot, form: FormTemplate) -> tuple[str | None, str | None]:
    """The form's start and end as written now (a /reschedule remembers them)."""
    parsed = parse_form_body(issue.body, form)
    return parsed.get("start"), parsed.get("end")


# --- the generated reference ---------------------------------------------------------------

def _cell(value: str) -> str:
    return value.replace("|", "\\|")


def help_reply(ctx: Context) -> str:
    mine = [c for c in COMMANDS if allowed(c, ctx.roles)]
    lines = [f"{_to(ctx)}these are the commands you can use on this request. Write each at "
             "the start of its own line in a new comment.", "",
             "| command | what it does | example |", "|---|---|---|"]
    lines += [f"| `{_cell(c.usage)}` | {_cell(c.description)} | `{_cell(c.examples[-1])}` |"
              for c in mine]
    if ctx.config.policy_url:
        lines += ["", f"What each support tier includes: {ctx.config.policy_url}"]
    return "\n".join(lines)


def commands_table() -> str:
    """The README's command reference, generated from the declarations."""
    lines = ["| command | what it does | who may run it | example |", "|---|---|---|---|"]
    for c in COMMANDS:
        who = ", ".join(ROLE_TITLES[r] for r in c.roles)
        examples = ", ".join(f"`{_cell(e)}`" for e in c.examples)
        lines.append(f"| `{_cell(c.usage)}` | {_cell(c.description)} | {who} | {examples} |")
    return "\n".join(lines)


def lookups_needed(invocations: Iterable[Invocation], known: frozenset[Role]
                   ) -> frozenset[Role]:
    """Which of writer / team lead must be asked of GitHub to decide these commands.

    Nothing is asked when a role already known allows the command; ``/help`` lists every
    command the person may use, so it asks for everything not yet known.
    """
    needed: set[Role] = set()
    for inv in invocations:
        spec = BY_NAME.get(inv.name)
        if spec is None:
            continue
        if inv.name in ("help", "prewarm"):  # /prewarm by a writer or lead also confirms
            needed |= LOOKED_UP - known
        elif not (set(spec.roles) & known):
            needed |= set(spec.roles) & LOOKED_UP
    return frozenset(needed)


def parse_commands(body: str | None, names: Iterable[str] | None = None
                   ) -> tuple[Invocation, ...]:
    """Every declared command in a comment, in order (``bot.core.commands.grammar``)."""
    return parse_lines(body, COMMAND_NAMES if names is None else names)
