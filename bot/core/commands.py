"""Slash commands in issue comments: the grammar, one declaration per command, who may run
what, and what each command does to the request (pure: no I/O, no clock of its own).

A command changes the status comment's state (an approval, new dates, a cancellation) or
the assignees and says what to reply; the shell (``bot.service.commanding``) then runs the same
plan every other trigger runs, so the status comment and labels follow from the new state.
``/help`` and the README's command table are rendered from the declarations below, so
they cannot drift from what the bot does.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from . import text
from .config import Config
from .confirm import confirmed, is_confirmed
from .dates import DateError, format_utc, split_range
from .form_map import bound_form
from .forms import FormTemplate, parse_form_body
from .model import IssueSnapshot
from .plan import tier_view
from .request import DateOverride, EventRequest, read_request
from .status import Approval, Decline, Reschedule, StatusState, tier_asked_at
from .triage import iso

MAX_COMMANDS = 10  # per comment: a pasted wall of commands must not become a wall of replies
MAX_ASSIGNEES = 10  # GitHub's limit per issue
MAX_REASON = 500

# --- grammar -------------------------------------------------------------------------------

# Any Unicode whitespace ends the name: a pasted no-break space must not hide a command.
_COMMAND_RE = re.compile(r"^ {0,3}/([A-Za-z][A-Za-z0-9_-]*)(?=\s|$)")
_OTHER_SPACE_RE = re.compile(r"[^\S ]")  # whitespace other than a plain space
_FENCE_OPEN_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_QUOTE_RE = re.compile(r"^ {0,3}>")
_COMMENT_OPEN = "<!--"
_COMMENT_CLOSE = "-->"
# GitHub renders <pre> and <code> elements as code, whatever their case and attributes.
_HTML_CODE_TAG_RE = re.compile(r"<(/?)(pre|code)(?![\w-])", re.IGNORECASE)
_BACKTICKS_RE = re.compile(r"`+")
_TAG_OPEN_RE = re.compile(r"</?[A-Za-z]")  # an HTML tag starts: its attributes may span lines
_TAG_TEXT_RE = re.compile(r"[>\"']")  # what ends a tag, or starts a quoted attribute value


@dataclass(frozen=True)
class Invocation:
    """One command as written: ``/name args``."""

    name: str  # lower-case, without the slash
    args: str  # the rest of the line, HTML comments taken out, trimmed
    line: str  # the line as written, trimmed and without HTML comments, to quote back


def _visible(line: str, in_comment: bool) -> tuple[str, bool, bool]:
    """-> (the line's text outside HTML comments, in a comment at its end, began in one)."""
    began = in_comment
    out: list[str] = []
    pos = 0
    while pos <= len(line):
        if in_comment:
            close = line.find(_COMMENT_CLOSE, pos)
            if close < 0:
                break
            in_comment, pos = False, close + len(_COMMENT_CLOSE)
        else:
            start = line.find(_COMMENT_OPEN, pos)
            if start < 0:
                out.append(line[pos:])
                break
            out.append(line[pos:start])
            in_comment, pos = True, start + len(_COMMENT_OPEN)
    return "".join(out), in_comment, began


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (len(line) - len(line.lstrip(" ")) <= 3 and stripped.startswith(fence)
            and set(stripped) == {fence[0]})


def _without_code_spans(line: str) -> str:
    """The line without its backtick code spans (`` `<pre>` `` is text, not a tag).

    A span runs from a backtick run to the next run of the same length. Found in one pass
    over the runs: a pattern searching ahead from each run took quadratic time on runs of
    every length, none closing another.
    """
    runs = [(m.start(), m.end()) for m in _BACKTICKS_RE.finditer(line)]
    closer: list[int | None] = [None] * len(runs)
    seen: dict[int, int] = {}  # run length -> index of the nearest such run to the right
    for i in range(len(runs) - 1, -1, -1):
        length = runs[i][1] - runs[i][0]
        closer[i] = seen.get(length)
        seen[length] = i
    kept: list[str] = []
    pos = i = 0
    while i < len(runs):
        j = closer[i]
        if j is None:
            i += 1
            continue
        kept.append(line[pos:runs[i][0]])
        pos = runs[j][1]
        i = j + 1
    kept.append(line[pos:])
    return "".join(kept)


def _tag_after(visible: str, tag: str | None) -> str | None:
    """Whether an HTML tag is still open after this line (None: not; else "" or the quote
    of its attribute value still open), given the same for the line before."""
    pos = 0
    while True:
        if tag is None:
            opening = _TAG_OPEN_RE.search(visible, pos)
            if opening is None:
                return None
            tag, pos = "", opening.end()
        elif tag:
            end = visible.find(tag, pos)
            if end < 0:
                return tag
            tag, pos = "", end + 1
        else:
            mark = _TAG_TEXT_RE.search(visible, pos)
            if mark is None:
                return tag
            tag, pos = (None if mark.group() == ">" else mark.group()), mark.end()


def _html_code_after(visible: str, element: str | None) -> str | None:
    """The ``pre`` or ``code`` element open after this line's visible text (None: none).

    Outside an element the first opening tag starts one (backtick code spans are text);
    inside, only its own closing tag ends it.
    """
    scanned = visible if element is not None else _without_code_spans(visible)
    for tag in _HTML_CODE_TAG_RE.finditer(scanned):
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if element is None and not closing:
            element = name
        elif element == name and closing:
            element = None
    return element


def parse_commands(body: str | None, names: Iterable[str] | None = None
                   ) -> tuple[Invocation, ...]:
    """Every known command in a comment, in order.

    A command is a line starting with ``/NAME`` (up to three spaces before it), then any
    whitespace (a no-break space too) before its arguments. Lines in ``>`` quotes (and
    their lazy continuation lines), fenced or indented code, HTML ``<pre>`` and ``<code>``
    elements and HTML comments are never commands: templates and replies quote commands,
    and a command nobody can see must not run. Unknown names (``/home/me``, ``/shrug``)
    are ignored.
    """
    if not body:
        return ()
    known = {n.lower() for n in (names if names is not None else COMMAND_NAMES)}
    found: list[Invocation] = []
    fence: str | None = None
    in_comment = False
    in_quote = False
    element: str | None = None  # the HTML <pre> or <code> element the line begins in
    tag: str | None = None  # inside an HTML tag: "" or the quote of the attribute value open
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if fence is not None and not in_comment:
            if _closes(line, fence):
                fence = None
            continue
        visible, in_comment_after, began_in_comment = _visible(line, in_comment)
        in_comment = in_comment_after
        if element is not None or began_in_comment:
            element = _html_code_after(visible, element)
            continue
        if not line.strip():
            in_quote = False
            tag = None  # a blank line ends the paragraph: an unclosed tag was only text
            continue
        if _QUOTE_RE.match(line):
            in_quote = True
            continue
        opening = _FENCE_OPEN_RE.match(visible)
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = opening.group(1)
            in_quote = False
            in_comment = False  # a comment opener inside the fence line is code, not HTML
            tag = None
            continue
        began_in_tag = tag is not None
        tag = _tag_after(visible if began_in_tag else _without_code_spans(visible), tag)
        if began_in_tag:
            continue  # a line inside a tag (``<img alt="`` above) is an attribute, not shown
        element = _html_code_after(visible, None)
        if in_quote:
            continue  # lazy continuation of the quote above: it renders inside the quote
        m = _COMMAND_RE.match(line)
        if m is None or m.group(1).lower() not in known:
            continue
        args = _OTHER_SPACE_RE.sub(" ", visible[len(m.group(0)):].strip())
        found.append(Invocation(name=m.group(1).lower(), args=args, line=visible.strip()))
        if len(found) >= MAX_COMMANDS:
            break
    return tuple(found)


# --- roles ---------------------------------------------------------------------------------

class Role(enum.Enum):
    TEAM_LEAD = "team lead"
    WRITER = "writer"
    ASSIGNEE = "assigned engineer"
    AUTHOR = "author"
    COMMUNITY_REP = "community representative"
    ANYONE = "anyone"


# How the README and /help name each role, in this order.
ROLE_TITLES: dict[Role, str] = {
    Role.TEAM_LEAD: "team leads",
    Role.WRITER: "writers",
    Role.ASSIGNEE: "assigned engineers",
    Role.AUTHOR: "the issue's author",
    Role.COMMUNITY_REP: "the community representative",
    Role.ANYONE: "anyone",
}
LOOKED_UP = frozenset({Role.WRITER, Role.TEAM_LEAD})  # need GitHub's answer
WRITER_PERMISSIONS = frozenset({"write", "maintain", "admin"})


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower().lstrip("@") == b.lower().lstrip("@")


def known_roles(login: str, issue: IssueSnapshot, request: EventRequest | None,
                config: Config) -> frozenset[Role]:
    """The roles read from the config and the issue alone, without asking GitHub."""
    roles = {Role.ANYONE}
    if any(_same(login, lead) for lead in config.team_leads):
        roles.add(Role.TEAM_LEAD)
    if any(_same(login, a) for a in issue.assignees):
        roles.add(Role.ASSIGNEE)
    if _same(login, issue.author):
        roles.add(Role.AUTHOR)
    if request is not None and any(_same(login, r) for r in _reps(request)):
        roles.add(Role.COMMUNITY_REP)
    return frozenset(roles)


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


def is_writer(permission: str) -> bool:
    return permission.lower() in WRITER_PERMISSIONS


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


def _reps(request: EventRequest) -> tuple[str, ...]:
    """Every community representative the form names (the first alone, from older code)."""
    if request.community_reps:
        return request.community_reps
    return (request.community_rep,) if request.community_rep else ()


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
        return _usage(ctx, inv, "; ".join(problems))
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
        args = spec.read_args(inv.args, ctx.config)
    except UsageError as e:
        return _usage(ctx, inv, str(e))
    return spec.decide(args, ctx, inv)


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
