"""What each command does to the request's state and assignees, and what it replies."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from .. import text
from ..config import Config
from ..confirm import confirmed, is_confirmed
from ..dates import DateError, format_utc, split_range
from ..form_map import bound_form
from ..forms import FormTemplate, parse_form_body
from ..model import IssueSnapshot
from ..plan import tier_view
from ..request import DateOverride, EventRequest, read_request
from ..status import Approval, Decline, Reschedule, StatusState, tier_asked_at
from ..triage import iso
from .grammar import Invocation
from .roles import Role, _reps, _same

MAX_ASSIGNEES = 10  # GitHub's limit per issue
MAX_REASON = 500

# --- deciding ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Context:
    """Everything a command decides from: the request as it is and who is asking."""

    issue: IssueSnapshot
    request: EventRequest
    state: StatusState  # as the commands before this one in the comment left it
    assignees: tuple[str, ...]  # likewise
    actor: str
    roles: frozenset[Role]
    config: Config
    form: FormTemplate
    now: datetime
    form_start: str | None = None  # the form's start and end as written now
    form_end: str | None = None
    written_at: datetime | None = None  # when the comment was written (what its author saw)


@dataclass(frozen=True)
class Result:
    """What one command decided."""

    outcome: str  # "ok", "unchanged", "refused", "usage" (bad arguments), "invalid"
    state: StatusState
    assignees: tuple[str, ...]
    reply: str | None = None
    close: bool = False  # close the issue as not planned
    sync: bool = False  # plan and apply: the state, the assignees or the comment change
    prewarm: bool = False  # dispatch the pre-warm workflow now
    prewarm_nodes: int | None = None  # None: the planned pre-warm count

    @property
    def succeeded(self) -> bool:
        return self.outcome in ("ok", "unchanged")


class UsageError(ValueError):
    """The arguments do not fit the command; ``str(e)`` says why, for the person."""


A = TypeVar("A")


@dataclass(frozen=True)
class Command(Generic[A]):
    """One command, declared once: /help, the README and the checks all read this."""

    name: str
    usage: str
    roles: tuple[Role, ...]
    description: str
    examples: tuple[str, ...]
    read_args: Callable[[str, Config], A]
    decide: Callable[[A, Context, Invocation], Result]


def _done(ctx: Context, **changes: Any) -> Result:
    fields: dict[str, Any] = {"outcome": "ok", "state": ctx.state, "assignees": ctx.assignees,
                              "sync": True}
    fields.update(changes)
    return Result(**fields)


def _unchanged(ctx: Context, reply: str | None = None) -> Result:
    return Result("unchanged", ctx.state, ctx.assignees, reply=reply)


def _said(ctx: Context, outcome: str, reply: str) -> Result:
    return Result(outcome, ctx.state, ctx.assignees, reply=reply)


def _listing(items: list[str], last: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def _named(login: str) -> str:
    """A person named without notifying them: GitHub sends no notice for a code span."""
    return text.code("@" + login.strip().lstrip("@"), 41)


def _people(logins: Iterable[str]) -> str:
    return _listing([_named(x) for x in logins])


def _tiers(config: Config) -> str:
    return ", ".join(text.code(n) for n in config.tiers)


def _champions(ctx: Context) -> str:
    """Whom a tier decision is for: the issue's author and the community representative."""
    people = [ctx.issue.author] if ctx.issue.author else []
    for rep in _reps(ctx.request):
        if not any(_same(rep, p) for p in people):
            people.append(rep)
    return " ".join(text.mention(p) for p in people)


def _to(ctx: Context) -> str:
    return f"{text.mention(ctx.actor)}, "


def _for_champions(ctx: Context, news: str) -> str:
    champions = _champions(ctx)
    return f"{champions}: {news}" if champions else news


def _no_args(args: str, config: Config) -> None:
    return None


def _strictly_no_args(args: str, config: Config) -> None:
    if args:
        raise UsageError(f"it takes nothing after the command ({text.quote(args)} was given)")


def _optional_text(args: str, config: Config) -> str:
    return args.strip()


def _logins(args: str, config: Config) -> tuple[str, ...]:
    out: list[str] = []
    for token in re.split(r"[\s,]+", args.strip()):
        if not token:
            continue
        login = token.removeprefix("@")
        if not text.is_login(login):
            raise UsageError(f"{text.quote(token)} is not a GitHub login")
        if not any(_same(login, x) for x in out):
            out.append(login)
    return tuple(out)


def _dates(args: str, config: Config) -> tuple[str, str | None]:
    if not args.strip():
        raise UsageError("it needs the new start (and, if it changes, the end)")
    try:
        return split_range(args, config.timezone_abbreviations)
    except DateError as e:
        raise UsageError(str(e)) from None


def _nodes(args: str, config: Config) -> int | None:
    if not args.strip():
        return None
    value = args.strip()
    top = config.prewarm.max_nodes
    if not re.fullmatch(r"\d{1,6}", value) or not 0 <= int(value) <= top:
        raise UsageError(f"NODES must be a whole number from 0 to {top}, not "
                         f"{text.quote(value)}")
    return int(value)


# --- the commands --------------------------------------------------------------------------

def _approve(name: str, ctx: Context, inv: Invocation) -> Result:
    config, request = ctx.config, ctx.request
    # The tier the form asked for when the lead wrote the comment, not when it is read.
    known, requested = True, request.tier
    if ctx.written_at is not None and ctx.state.tiers_asked:
        known, requested = tier_asked_at(ctx.state, ctx.written_at)
    if not known:
        return _said(ctx, "usage", f"{_to(ctx)}the form has changed too often since you wrote "
                     "this for me to tell which tier it asked for then, so nothing was "
                     "approved; name the tier: `/approve-tier NAME`.")
    if name:
        tier = config.tier_named(name)
        if tier is None:
            return _said(ctx, "invalid", f"{_to(ctx)}{text.quote(name)} is not a support tier "
                         f"here; the tiers are {_tiers(config)}. Nothing was changed.")
        chosen = tier.name
    elif requested is not None:
        chosen = requested
    else:
        return _said(ctx, "usage", f"{_to(ctx)}the form names no tier I can read, so name the "
                     f"one to approve: `/approve-tier NAME` (the tiers are {_tiers(config)}).")
    current = tier_view(request, ctx.state, config)
    if current.status == "approved" and current.effective == chosen:
        return _unchanged(ctx)
    if current.status == "granted" and current.effective == chosen:
        return _unchanged(ctx, f"{_to(ctx)}the {text.code(chosen)} tier needs no approval; "
                               "nothing to do.")
    approval = Approval(tier=chosen, by=ctx.actor, at=iso(ctx.now), requested=requested)
    state = confirmed(replace(ctx.state, approval=approval, decline=None), request, ctx.actor,
                      ctx.now)  # a lead's approval confirms the request too
    asked = ""
    if requested and requested != chosen:
        asked = f" (the form asked for {text.code(requested)})"
    if request.tier and request.tier != requested:
        asked += (f"; the form now asks for {text.code(request.tier)}, which awaits a "
                  "team lead's approval")
    reply = _for_champions(ctx, f"{text.mention(ctx.actor)} approved the {text.code(chosen)} "
                                f"tier for this event{asked}.")
    return _done(ctx, state=state, reply=reply)


def _decline(reason: str, ctx: Context, inv: Invocation) -> Result:
    config, request = ctx.config, ctx.request
    requested = request.tier
    if requested is None:
        return _unchanged(ctx, f"{_to(ctx)}the form names no tier I can read, so there is "
                               "nothing to decline.")
    tier = config.tiers.get(requested)
    current = tier_view(request, ctx.state, config)
    if current.status == "granted" or (tier is not None and not tier.requires_approval
                                       and current.status != "approved"):
        return _unchanged(ctx, f"{_to(ctx)}the {text.code(requested)} tier needs no "
                               "approval, so there is nothing to decline.")
    reason = reason[:MAX_REASON]
    d = ctx.state.decline
    if current.status == "declined" and d is not None and d.reason == reason:
        return _unchanged(ctx)
    decline = Decline(by=ctx.actor, at=iso(ctx.now), reason=reason, requested=requested)
    state = replace(ctx.state, decline=decline, approval=None)
    why = f" Reason: {text.inline(reason, 300)}" if reason else ""
    reply = _for_champions(ctx, f"{text.mention(ctx.actor)} declined the "
                                f"{text.code(requested)} tier; this event goes on at the "
                                f"{text.code(config.free_tier)} tier.{why}")
    return _done(ctx, state=state, reply=reply)


def _assign(logins: tuple[str, ...], ctx: Context, inv: Invocation) -> Result:
    people = logins or (ctx.actor,)
    have = list(ctx.assignees)
    new = [p for p in people if not any(_same(p, a) for a in have)]
    if not new:
        return _unchanged(ctx)
    if len(have) + len(new) > MAX_ASSIGNEES:
        return _said(ctx, "invalid", f"{_to(ctx)}an issue can have at most {MAX_ASSIGNEES} "
                     f"assignees, and this one has {len(have)}; nothing was changed.")
    return _done(ctx, assignees=tuple(have + new))


def _unassign(logins: tuple[str, ...], ctx: Context, inv: Invocation) -> Result:
    people = logins or (ctx.actor,)
    kept = tuple(a for a in ctx.assignees if not any(_same(a, p) for p in people))
    if kept == ctx.assignees:
        return _unchanged(ctx)
    return _done(ctx, assignees=kept)


def _date_problems(request: EventRequest) -> list[str]:
    names = {"start": "the start", "end": "the end", "timezone": "the form's time zone"}
    return [f"{names[e.field]} {e.message}" if e.message.startswith("is ")
            else f"{names[e.field]}: {e.message}"
            for e in request.errors if e.field is not None and e.field in names]


def _reschedule(dates: tuple[str, str | None], ctx: Context, inv: Invocation) -> Result:
    start_text, end_text = dates
    parsed = parse_form_body(ctx.issue.body, bound_form(ctx.form, ctx.config))

    def read(end: str | None) -> EventRequest:
        return read_request(ctx.issue, ctx.form, ctx.config, DateOverride(start_text, end),
                            parsed=parsed)

    old = ctx.request
    if end_text is None and old.start is not None and old.end is not None:
        # Only a new start: the event keeps its length.
        first = read(None)
        if first.start is not None:
            end_text = format_utc(first.start + (old.end - old.start))
    new = read(end_text)
    problems = _date_problems(new)
    if not problems and new.start is not None and new.start <= ctx.now:
        problems.append(f"the start ({format_utc(new.start)}) has already passed")
    if not problems and (new.start is None or new.end is None):
        problems.append("the dates could not be read")
    if problems:
        raise UsageError("; ".join(problems))  # answered with the usage, as bad arguments
    if new.start == old.start and new.end == old.end:
        return _unchanged(ctx)
    r = Reschedule(start=start_text, end=end_text, by=ctx.actor, at=iso(ctx.now),
                   form_start=ctx.form_start, form_end=ctx.form_end)
    return _done(ctx, state=replace(ctx.state, reschedule=r))


def _cancel(_: None, ctx: Context, inv: Invocation) -> Result:
    if ctx.state.cancelled_by:
        return _unchanged(ctx)
    state = replace(ctx.state, cancelled_by=ctx.actor, cancelled_at=iso(ctx.now))
    return _done(ctx, state=state, close=True)


def _checklist(_: None, ctx: Context, inv: Invocation) -> Result:
    return _done(ctx)  # the plan re-renders the status comment (a new one if it was deleted)


def _vouches(ctx: Context) -> bool:
    return bool(ctx.roles & {Role.WRITER, Role.TEAM_LEAD})


def _prewarm(nodes: int | None, ctx: Context, inv: Invocation) -> Result:
    if not ctx.config.prewarm.enabled:
        return _said(ctx, "invalid", f"{_to(ctx)}pre-warming is not configured for this "
                     "deployment (`prewarm.repository` in the config), so nothing was started.")
    if ctx.state.cancelled_by:
        return _said(ctx, "invalid", f"{_to(ctx)}this request was cancelled, so nothing is "
                     "pre-warmed.")
    if _vouches(ctx):  # a writer's or lead's /prewarm confirms the request as it reads
        state = confirmed(ctx.state, ctx.request, ctx.actor, ctx.now)
        return Result("ok", state, ctx.assignees, prewarm=True, prewarm_nodes=nodes,
                      sync=state != ctx.state)
    if not is_confirmed(ctx.request, ctx.state):
        return _said(ctx, "invalid", f"{_to(ctx)}this request awaits confirmation, so nothing "
                     "was pre-warmed: a writer or team lead comments `/confirm` first.")
    return Result("ok", ctx.state, ctx.assignees, prewarm=True, prewarm_nodes=nodes)


def _confirm(_: None, ctx: Context, inv: Invocation) -> Result:
    if is_confirmed(ctx.request, ctx.state):
        return _unchanged(ctx)
    return _done(ctx, state=confirmed(ctx.state, ctx.request, ctx.actor, ctx.now))
