"""Slash commands, pure: the grammar, who may run what, and what each command decides."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.commands import (
    BY_NAME,
    COMMANDS,
    MAX_COMMANDS,
    Context,
    Invocation,
    Result,
    Role,
    UsageError,
    commands_table,
    decide,
    decide_all,
    form_dates,
    known_roles,
    lookups_needed,
    parse_commands,
)
from bot.core.config import Config, PrewarmConfig
from bot.core.confirm import is_confirmed
from bot.core.forms import load_form, render_form_body
from bot.core.model import IssueSnapshot, RepoRef
from bot.core.plan import tier_view, triage
from bot.core.request import EventRequest
from bot.core.status import Approval, StatusComment, StatusState
from bot.service.loading import load_config

ROOT = Path(__file__).resolve().parent.parent
CONFIG = load_config(ROOT / "config.yaml")
FORM = load_form(CONFIG.form_path)
OPENED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ALL_ROLES = frozenset(Role)
EMPTY = StatusState()


def option(field: str, prefix: str) -> str:
    f = FORM.field(field)
    assert f is not None
    return next(o for o in f.options if o.lower().startswith(prefix))


def make_issue(tier: str = "enhanced", assignees: tuple[str, ...] = ("alice", "bob"),
               **answers: Any) -> IssueSnapshot:
    base: dict[str, Any] = {
        "hub_url": "https://stat101.midwest.hubs.example.org",
        "event_name": "STAT 101 midterm",
        "event_type": option("event_type", "exam"),
        "start": "2027-03-09 13:00",
        "end": "2027-03-09 16:15",
        "timezone": "America/Chicago",
        "attendees": "180",
        "tier": option("tier", tier),
        "community_rep": "@prof-okafor",
    }
    base.update(answers)
    return IssueSnapshot(
        repo=RepoRef("jupyter-community", "event-requests", 7001), number=12,
        title="[Event]: STAT 101 midterm", body=render_form_body(FORM, base),
        author="champion", labels=("event-request",), assignees=assignees, state="open",
        created_at=OPENED,
    )


def request_of(issue: IssueSnapshot, state: StatusState = EMPTY,
               config: Config = CONFIG) -> EventRequest:
    status = StatusComment(id=1, body="", state=state, ticked=frozenset())
    result = triage(issue, status, config, FORM, NOW)
    assert result.request is not None
    return result.request


def context(actor: str = "lead-lee", roles: frozenset[Role] | None = None,
            issue: IssueSnapshot | None = None, state: StatusState = EMPTY,
            config: Config = CONFIG) -> Context:
    issue = issue or make_issue()
    request = request_of(issue, state, config)
    if roles is None:
        roles = known_roles(actor, issue, request, config)
    start, end = form_dates(issue, FORM)
    return Context(issue=issue, request=request, state=state, assignees=issue.assignees,
                   actor=actor, roles=roles, config=config, form=FORM, now=NOW,
                   form_start=start, form_end=end)


def run(line: str, ctx: Context) -> Result:
    found = parse_commands(line)
    assert len(found) == 1, found
    return decide(found[0], ctx)


def names(body: str) -> list[tuple[str, str]]:
    return [(i.name, i.args) for i in parse_commands(body)]


# --- grammar --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/approve-tier", [("approve-tier", "")]),
        ("/approve-tier premium", [("approve-tier", "premium")]),
        ("/approve-tier premium   \t", [("approve-tier", "premium")]),
        ("/Approve-Tier premium", [("approve-tier", "premium")]),
        ("   /help", [("help", "")]),
        # Four spaces or a tab: indented code.
        ("    /help", []),
        ("\t/help", []),
        ("text\n\n    /cancel\n", []),
        # CRLF and lone CR line ends.
        ("Thanks!\r\n/cancel\r\n", [("cancel", "")]),
        ("Thanks!\r/assign @alice\r", [("assign", "@alice")]),
        ("/assign @alice\r\n/unassign bob\r\n", [("assign", "@alice"), ("unassign", "bob")]),
        # Several commands run in order.
        ("/assign @a\nsome words\n/approve-tier\n/help",
         [("assign", "@a"), ("approve-tier", ""), ("help", "")]),
        # Not at the start of the line, or in inline code.
        ("please /cancel", []),
        ("`/cancel`", []),
        ("- /cancel", []),
        # Quotes, and the lazy continuation lines of a quote.
        ("> /cancel", []),
        (">/cancel", []),
        ("  > /approve-tier", []),
        ("> > /approve-tier", []),
        ("> you wrote\n/approve-tier", []),
        ("> you wrote\n\n/approve-tier", [("approve-tier", "")]),
        ("> you wrote\n   \n/help", [("help", "")]),
        # Fenced code, either fence, longer fences, info strings, unclosed fences.
        ("```\n/cancel\n```", []),
        ("~~~\n/cancel\n~~~\n/help", [("help", "")]),
        ("```python\n/cancel\n```\n/help", [("help", "")]),
        ("````\n```\n/cancel\n````\n/help", [("help", "")]),
        ("~~~\n```\n/cancel\n~~~", []),
        ("```\n/cancel", []),
        ("  ```\n/cancel\n  ```\n/help", [("help", "")]),
        ("```\n/cancel\n``` not a close\n/help\n```", []),
        # HTML comments, one line or several, unclosed, and inside a command's line.
        ("<!-- /cancel -->", []),
        ("<!--\n/cancel\n-->\n/help", [("help", "")]),
        ("<!-- a\n/cancel\nb -->/approve-tier\n/help", [("help", "")]),
        ("<!--\n/cancel", []),
        ("<!-- x --> /cancel", []),
        ("/assign @a <!-- @b --> @c", [("assign", "@a  @c")]),
        ("/decline-tier over budget <!-- and more\n/cancel\n-->", [("decline-tier",
                                                                    "over budget")]),
        ("```\n<!--\n```\n/help", [("help", "")]),
        # HTML <pre> and <code> elements render as code, whatever the case and attributes.
        ("<pre>\n/cancel\n</pre>", []),
        ("<pre>\n/cancel\n</pre>\n/help", [("help", "")]),
        ("<PRE class=\"x\">\n/cancel\n</Pre>\n/help", [("help", "")]),
        ("<code>\n/cancel\n</code>\n/help", [("help", "")]),
        ("<pre><code>\n/cancel\n</code>\n/approve-tier\n</pre>\n/help", [("help", "")]),
        ("<pre>\n\n/cancel\n```\n/approve-tier\n</pre>\n/help", [("help", "")]),
        ("<pre>\n> x\n\n/cancel\n</pre>", []),
        ("text <code>\n/cancel\n</code> more\n/help", [("help", "")]),
        ("<pre>\n/cancel", []),
        ("<pre>/cancel</pre>\n/help", [("help", "")]),
        ("/decline-tier see <code>\n/cancel\n</code>", [("decline-tier", "see <code>")]),
        ("<!-- x --><pre>\n/cancel\n</pre>\n/help", [("help", "")]),
        ("<!--\n--> <pre>\n/cancel\n</pre>\n/help", [("help", "")]),
        # Not an element: a comment, a code span or a fence showing the tag, or another tag.
        ("<!-- <pre> -->\n/help", [("help", "")]),
        ("write `<pre>` around it\n/help", [("help", "")]),
        ("```\n<pre>\n```\n/help", [("help", "")]),
        ("<preview>\n/help", [("help", "")]),
        ("<pre>\n</code>\n/cancel\n</pre>\n/help", [("help", "")]),
        # A line that begins inside an HTML tag (a multi-line attribute) is part of the tag.
        ('<img alt="\n/approve-tier\n">', []),
        ('<img alt="\n/approve-tier\n">\n/help', [("help", "")]),
        ('<details title="\n/cancel\n">\n</details>', []),
        ("<img alt='x\n/cancel\n' src=y>\n/help", [("help", "")]),
        ("<img\n/cancel\n>", []),
        ('text <a href="x" title="a\n\n/help', [("help", "")]),  # a blank line ends the tag
        ('<img alt="a > b"\n/cancel\n>', []),  # ">" in a quoted value does not close it
        ('`<img alt="`\n/help', [("help", "")]),  # in a code span: text, not a tag
        ('a < b\n/help', [("help", "")]),  # "<" and a space: no tag
        ('<img src="x">\n/help', [("help", "")]),
        ('<!-- <img alt=" -->\n/help', [("help", "")]),
        # Any whitespace between the name and its arguments and between arguments.
        ("/assign\u00a0@bob", [("assign", "@bob")]),
        ("/assign\u00a0@bob\u00a0@carol", [("assign", "@bob @carol")]),
        ("/assign\u2003@bob\u3000@carol\t@dan", [("assign", "@bob @carol @dan")]),
        ("/cancel\u00a0", [("cancel", "")]),
        ("/help\u200b", []),  # a zero-width space is not whitespace: not the same name
        # Unknown words after a slash are left alone.
        ("/home/me/notes.txt", []),
        ("/shrug", []),
        ("/approve-tiers", []),
        ("/approve-tier.", []),
        ("/ approve-tier", []),
        ("", []),
        ("\n\n\n", []),
    ],
)
def test_parse_commands(body: str, expected: list[tuple[str, str]]) -> None:
    assert names(body) == expected


def test_a_command_keeps_its_line_for_quoting() -> None:
    (found,) = parse_commands("  /approve-tier  gold  \r\n")
    assert found == Invocation("approve-tier", "gold", "/approve-tier  gold")


def test_at_most_ten_commands_run_from_one_comment() -> None:
    assert len(parse_commands("/help\n" * 50)) == MAX_COMMANDS


def test_none_body() -> None:
    assert parse_commands(None) == ()


_FRAGMENTS = st.sampled_from([
    "/cancel", "/help", "/assign @a", "/approve-tier premium", "/reschedule x", "> ", ">",
    "```", "~~~", "````", "<!--", "-->", "    ", "\t", "   ", " ", "text", "\n", "\r\n",
    "\r", "`", "/", "@", "-", "\u2028", "\x00", "é",
])


@given(st.text())
def test_no_text_crashes_the_parser(body: str) -> None:
    for inv in parse_commands(body):
        assert inv.name in BY_NAME
        assert "\n" not in inv.line and "\r" not in inv.line
        assert inv.line.startswith("/")


@given(st.lists(_FRAGMENTS, max_size=40).map("".join))
def test_no_markdown_crashes_the_parser(body: str) -> None:
    found = parse_commands(body)
    assert len(found) <= MAX_COMMANDS
    for inv in found:
        assert re.match(r"^/[a-z-]+", inv.line.lower())


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="`~\r\n\x1c\x1d\x1e\x85"
                                                                     "\u2028\u2029"),
                        max_size=30), max_size=10))
def test_nothing_in_a_fence_is_a_command(lines: list[str]) -> None:
    body = "```\n" + "\n".join(["/cancel", *lines]) + "\n```"
    assert parse_commands(body) == ()


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n\x1c\x1d\x1e\x85"
                                                                     "\u2028\u2029"),
                        max_size=30), max_size=10))
def test_nothing_in_a_quote_is_a_command(lines: list[str]) -> None:
    body = "\n".join(f"> {line}" for line in ["/cancel", *lines])
    assert parse_commands(body) == ()


@given(st.sampled_from(["pre", "PRE", "code", "Code", 'pre class="x"']),
       st.lists(st.text(alphabet=st.characters(blacklist_characters="<\r\n\x1c\x1d\x1e\x85"
                                                                      "\u2028\u2029"),
                        max_size=30), max_size=10))
def test_nothing_in_a_pre_or_code_element_is_a_command(tag: str, lines: list[str]) -> None:
    name = tag.split()[0]
    body = f"<{tag}>\n" + "\n".join(["/cancel", *lines]) + f"\n</{name}>"
    assert parse_commands(body) == ()


def test_a_command_after_a_no_break_space_is_decided_like_a_space() -> None:
    result = run("/assign\u00a0@carol\u00a0@dan", context("alice"))
    assert result.outcome == "ok" and result.assignees == ("alice", "bob", "carol", "dan")
    result = run("/reschedule\u00a02027-03-16\u00a013:00", context("champion"))
    assert result.outcome == "ok", result.reply


# --- roles ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("login", "expected"),
    [
        ("lead-lee", {Role.TEAM_LEAD}),
        ("LEAD-LEE", {Role.TEAM_LEAD}),
        ("alice", {Role.ASSIGNEE}),
        ("champion", {Role.AUTHOR}),
        ("Prof-Okafor", {Role.COMMUNITY_REP}),
        ("stranger", set()),
    ],
)
def test_known_roles(login: str, expected: set[Role]) -> None:
    issue = make_issue()
    roles = known_roles(login, issue, request_of(issue), CONFIG)
    assert roles == frozenset(expected | {Role.ANYONE})


@pytest.mark.parametrize(
    ("body", "known", "expected"),
    [
        ("/approve-tier", {Role.ANYONE}, {Role.TEAM_LEAD}),
        ("/approve-tier", {Role.ANYONE, Role.TEAM_LEAD}, set()),
        ("/assign", {Role.ANYONE, Role.ASSIGNEE}, set()),
        ("/assign", {Role.ANYONE}, {Role.WRITER, Role.TEAM_LEAD}),
        ("/cancel", {Role.ANYONE, Role.AUTHOR}, set()),
        ("/cancel", {Role.ANYONE}, {Role.WRITER, Role.TEAM_LEAD}),
        ("/checklist", {Role.ANYONE}, {Role.WRITER, Role.TEAM_LEAD}),
        ("/help", {Role.ANYONE}, {Role.WRITER, Role.TEAM_LEAD}),
        ("/help", {Role.ANYONE, Role.TEAM_LEAD}, {Role.WRITER}),
        ("hello", {Role.ANYONE}, set()),
    ],
)
def test_lookups_needed(body: str, known: set[Role], expected: set[Role]) -> None:
    assert lookups_needed(parse_commands(body), frozenset(known)) == frozenset(expected)


# --- /approve-tier and /decline-tier --------------------------------------------------------

def test_a_lead_approves_the_tier_asked_for() -> None:
    result = run("/approve-tier", context())
    assert result.outcome == "ok" and result.sync
    assert result.state.approval == Approval("enhanced", "lead-lee", "2026-11-23T10:00:00Z",
                                             "enhanced")
    assert result.reply is not None
    assert result.reply.startswith("@champion @prof-okafor: @lead-lee approved the `enhanced`")


def test_a_lead_may_approve_another_tier_than_the_one_asked() -> None:
    result = run("/approve-tier Premium", context())
    assert result.state.approval is not None
    assert (result.state.approval.tier, result.state.approval.requested) == ("premium",
                                                                              "enhanced")
    assert result.reply is not None and "the form asked for `enhanced`" in result.reply


@pytest.mark.parametrize("actor", ["champion", "alice", "prof-okafor", "stranger"])
def test_only_leads_approve(actor: str) -> None:
    result = run("/approve-tier premium", context(actor))
    assert result.outcome == "refused" and not result.sync
    assert result.state == StatusState()
    assert result.reply == (f"@{actor}, `/approve-tier premium` can be run by the team leads "
                            "(`@lead-lee`); nothing was changed.")


def notified(reply: str) -> list[str]:
    """The logins GitHub would notify: @-mentions outside code spans."""
    return re.findall(r"(?<![\w`])@([A-Za-z0-9-]+)", re.sub(r"`[^`]*`", "", reply))


@pytest.mark.parametrize(
    ("line", "actor"),
    [
        ("/assign @carol", "champion"),
        ("/approve-tier premium", "alice"),
        ("/decline-tier no budget", "champion"),
        ("/reschedule 2027-03-16 13:00", "alice"),
        ("/cancel", "stranger"),
        ("/prewarm 6", "champion"),
        ("/checklist", "prof-okafor"),
    ],
)
def test_a_refusal_notifies_only_the_person_refused(line: str, actor: str) -> None:
    result = run(line, context(actor))
    assert result.outcome == "refused" and result.reply is not None
    assert notified(result.reply) == [actor]
    # the people who may run it are still named, in code spans
    assert "`@lead-lee`" in result.reply


def test_writers_are_not_leads() -> None:
    result = run("/approve-tier", context("maintainer", frozenset({Role.ANYONE, Role.WRITER})))
    assert result.outcome == "refused"


def test_a_member_of_the_lead_team_is_named_in_a_refusal() -> None:
    config = replace(CONFIG, team_leads=(), team_lead_team="jupyter-community/leads")
    result = run("/decline-tier", context("stranger", config=config))
    assert result.reply is not None
    assert "the team leads (members of `jupyter-community/leads`)" in result.reply


def test_no_leads_configured_is_said_plainly() -> None:
    config = replace(CONFIG, team_leads=())
    result = run("/approve-tier", context("stranger", config=config))
    assert result.reply is not None and "none are configured yet" in result.reply
    assert "[]" not in result.reply


def test_an_unknown_tier_is_refused_with_the_list() -> None:
    result = run("/approve-tier gold", context())
    assert result.outcome == "invalid" and result.state == StatusState()
    assert result.reply == ("@lead-lee, `gold` is not a support tier here; the tiers are "
                            "`standard`, `enhanced`, `premium`. Nothing was changed.")


def test_approving_twice_changes_nothing_and_says_nothing() -> None:
    first = run("/approve-tier", context())
    again = run("/approve-tier", context(state=first.state))
    assert again.outcome == "unchanged" and again.reply is None and not again.sync
    assert again.state == first.state


def test_asking_for_another_tier_after_approval_makes_it_pending_again() -> None:
    approved = run("/approve-tier", context()).state
    edited = make_issue(tier="premium")
    view = tier_view(request_of(edited, approved), approved, CONFIG)
    assert view.status == "pending"
    # Approving it then is a change again.
    assert run("/approve-tier", context(issue=edited, state=approved)).outcome == "ok"


def test_a_free_tier_needs_no_approval() -> None:
    result = run("/approve-tier", context(issue=make_issue(tier="standard")))
    assert result.outcome == "unchanged" and not result.sync
    assert result.reply == "@lead-lee, the `standard` tier needs no approval; nothing to do."


def test_a_lead_declines_with_a_reason() -> None:
    approved = run("/approve-tier", context()).state
    result = run("/decline-tier no budget left, sorry @everyone", context(state=approved))
    assert result.outcome == "ok"
    assert result.state.approval is None and result.state.decline is not None
    assert result.state.decline.reason == "no budget left, sorry @everyone"
    assert result.state.decline.requested == "enhanced"
    assert result.reply is not None
    assert "goes on at the `standard` tier" in result.reply
    assert "@everyone" not in result.reply  # people's text never pings
    issue = make_issue()
    assert tier_view(request_of(issue, result.state), result.state, CONFIG).status == "declined"


def test_declining_the_same_way_twice_changes_nothing() -> None:
    declined = run("/decline-tier late", context()).state
    assert run("/decline-tier late", context(state=declined)).outcome == "unchanged"
    assert run("/decline-tier later", context(state=declined)).outcome == "ok"


def test_declining_a_free_tier_has_nothing_to_decline() -> None:
    result = run("/decline-tier", context(issue=make_issue(tier="standard")))
    assert result.outcome == "unchanged" and result.state == StatusState()
    assert result.reply is not None and "nothing to decline" in result.reply


# --- /assign and /unassign ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "actor", "outcome", "assignees"),
    [
        ("/assign", "alice", "unchanged", ("alice", "bob")),
        ("/assign", "lead-lee", "ok", ("alice", "bob", "lead-lee")),
        ("/assign @carol dan", "alice", "ok", ("alice", "bob", "carol", "dan")),
        ("/assign @carol, @dan,", "alice", "ok", ("alice", "bob", "carol", "dan")),
        ("/assign @Carol @carol", "alice", "ok", ("alice", "bob", "Carol")),
        ("/assign @ALICE", "bob", "unchanged", ("alice", "bob")),
        ("/assign @not_a_login", "alice", "usage", ("alice", "bob")),
        ("/assign @", "alice", "usage", ("alice", "bob")),
        ("/unassign", "bob", "ok", ("alice",)),
        ("/unassign @ALICE @bob", "lead-lee", "ok", ()),
        ("/unassign @carol", "alice", "unchanged", ("alice", "bob")),
        ("/assign @carol", "champion", "refused", ("alice", "bob")),
        ("/unassign", "stranger", "refused", ("alice", "bob")),
    ],
)
def test_assign_and_unassign(line: str, actor: str, outcome: str,
                             assignees: tuple[str, ...]) -> None:
    result = run(line, context(actor))
    assert result.outcome == outcome
    assert result.assignees == assignees
    assert result.sync == (outcome == "ok")


def test_a_writer_may_assign() -> None:
    result = run("/assign @carol", context("maint", frozenset({Role.ANYONE, Role.WRITER})))
    assert result.outcome == "ok"


def test_more_than_ten_assignees_is_refused() -> None:
    many = " ".join(f"@user{i}" for i in range(9))
    result = run(f"/assign {many}", context("alice"))
    assert result.outcome == "invalid" and result.assignees == ("alice", "bob")
    assert result.reply is not None and "at most 10" in result.reply


def test_a_bad_login_gets_the_usage() -> None:
    result = run("/assign @bad_login!", context("alice"))
    assert result.reply == ("@alice, `/assign @bad_login!` was not applied: `@bad_login!` is "
                            "not a GitHub login. Usage: `/assign [@login ...]`, for example "
                            "`/assign @alice @bob`.")


# --- /reschedule ----------------------------------------------------------------------------

def test_reschedule_moves_the_event_and_the_rotation_follows() -> None:
    issue = make_issue()
    before = triage(issue, None, CONFIG, FORM, NOW)
    result = run("/reschedule 2027-03-16 13:00 to 16:15", context("champion", issue=issue))
    assert result.outcome == "ok" and result.sync
    r = result.state.reschedule
    assert r is not None
    assert (r.start, r.end, r.by) == ("2027-03-16 13:00", "16:15", "champion")
    assert (r.form_start, r.form_end) == ("2027-03-09 13:00", "2027-03-09 16:15")
    status = StatusComment(1, "", replace(result.state, rotation_start=before.state.rotation_start,
                                          rotation=before.state.rotation), frozenset())
    after = triage(issue, status, CONFIG, FORM, NOW)
    assert after.request is not None
    assert after.request.start == datetime(2027, 3, 16, 18, 0, tzinfo=UTC)
    assert after.request.end == datetime(2027, 3, 16, 21, 15, tzinfo=UTC)
    assert after.state.rotation_start == "2027-03-16T18:00:00Z"


def test_reschedule_with_only_a_start_keeps_the_length() -> None:
    result = run("/reschedule 2027-03-16 09:00", context("prof-okafor"))
    r = result.state.reschedule
    assert r is not None and r.end is not None
    request = request_of(make_issue(), result.state)
    assert request.start == datetime(2027, 3, 16, 14, 0, tzinfo=UTC)
    assert request.end == datetime(2027, 3, 16, 17, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "start", "end"),
    [
        ("/reschedule 2027-03-23 13:00 2027-03-23 16:00", "2027-03-23 18:00", "2027-03-23 21:00"),
        ("/reschedule 2027-03-23 13:00 16:00", "2027-03-23 18:00", "2027-03-23 21:00"),
        ("/reschedule 2027-03-23 13:00   16:00", "2027-03-23 18:00", "2027-03-23 21:00"),
        ("/reschedule Mar 23 2027 1pm 4pm", "2027-03-23 18:00", "2027-03-23 21:00"),
        ("/reschedule 2027-03-23 13:00 UTC 16:00", "2027-03-23 13:00", "2027-03-23 16:00"),
        ("/reschedule 2027-03-23 13:00 2027-03-24 09:00", "2027-03-23 18:00", "2027-03-24 14:00"),
        ("/reschedule 2027-03-23 13:00 to 16:00", "2027-03-23 18:00", "2027-03-23 21:00"),
        ("/reschedule 2027-03-23 13:00 - 16:00", "2027-03-23 18:00", "2027-03-23 21:00"),
    ],
)
def test_reschedule_reads_a_start_and_an_end_as_people_type_them(line: str, start: str,
                                                                 end: str) -> None:
    result = run(line, context("champion"))
    assert result.outcome == "ok", result.reply
    request = request_of(make_issue(), result.state)
    assert request.start == datetime.fromisoformat(f"{start}+00:00")
    assert request.end == datetime.fromisoformat(f"{end}+00:00")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("/reschedule 2027-03-23 13:00 14:00 16:00",
         '`2027-03-23 13:00 14:00 16:00` does not read as one start and one end; give the '
         "start, then optionally the end"),
        ("/reschedule 1 Mar 13:00 2028 2 Mar 16:00",
         '`1 Mar 13:00 2028 2 Mar 16:00` splits into a start and an end more than one way'),
        ("/reschedule 2027-03-23 13:00 14:00 to 16:00", "does not read as one start and one end"),
        ("/reschedule 13:00 16:00", '`13:00 16:00` does not read as one start and one end'),
        ("/reschedule Feb 30 2027 13:00 16:00", '`Feb 30 2027 13:00`: there is no 30 February'),
    ],
)
def test_reschedule_with_times_that_do_not_split_says_so_in_the_commands_terms(
        line: str, problem: str) -> None:
    result = run(line, context("champion"))
    assert result.outcome == "usage" and result.state == StatusState()
    assert result.reply is not None and problem in result.reply
    assert "field" not in result.reply  # a command has no fields
    assert "Usage: `/reschedule START [END]`" in result.reply


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("/reschedule", "it needs the new start"),
        ("/reschedule next tuesday-ish", '`next tuesday-ish`'),
        ("/reschedule 2027-03-16 13:00 to banana", "the end"),
        ("/reschedule 2027-03-16 13:00 to 2027-03-16 12:00", "the end is before the start"),
        ("/reschedule 2026-11-01 09:30 to 11:00", "the start is in the past"),
        ("/reschedule 2027-03-16 09:00 to 10:00 to 11:00", "does not read as one start"),
    ],
)
def test_reschedule_with_unreadable_dates_gets_the_usage(line: str, problem: str) -> None:
    result = run(line, context("champion"))
    assert result.outcome == "usage" and result.state == StatusState()
    assert result.reply is not None
    assert problem in result.reply
    assert "Usage: `/reschedule START [END]`" in result.reply


def test_reschedule_to_a_time_already_passed_is_refused() -> None:
    # After the issue was opened (so the form would accept it) but before now.
    result = run("/reschedule 2026-11-23 09:30 UTC to 09:45 UTC", context("champion"))
    assert result.outcome == "usage"
    assert result.reply is not None and "has already passed" in result.reply


def test_reschedule_to_the_same_dates_changes_nothing() -> None:
    result = run("/reschedule 2027-03-09 13:00 to 16:15", context("champion"))
    assert result.outcome == "unchanged" and result.reply is None


def test_reschedule_is_refused_to_others() -> None:
    result = run("/reschedule 2027-03-16 13:00", context("alice"))
    assert result.outcome == "refused"
    assert result.reply == (
        "@alice, `/reschedule 2027-03-16 13:00` can be run by the issue's author "
        "(`@champion`), the community representative (`@prof-okafor`), the team leads "
        "(`@lead-lee`) or collaborators with write access to this repository; nothing was "
        "changed.")


# --- /cancel, /checklist, /prewarm, /help ---------------------------------------------------

def test_cancel() -> None:
    result = run("/cancel", context("champion"))
    assert result.outcome == "ok" and result.close and result.reply is None
    assert result.state.cancelled_by == "champion"
    assert result.state.cancelled_at == "2026-11-23T10:00:00Z"
    again = run("/cancel", context("champion", state=result.state))
    assert again.outcome == "unchanged" and not again.close


def test_cancel_takes_no_arguments() -> None:
    result = run("/cancel the pre-warm", context("champion"))
    assert result.outcome == "usage" and not result.close
    assert result.reply is not None and "takes nothing after the command" in result.reply


def test_checklist_is_for_writers_and_leads() -> None:
    assert run("/checklist", context("lead-lee")).sync
    assert run("/checklist", context("champion")).outcome == "refused"


ENABLED = replace(CONFIG, prewarm=PrewarmConfig(repository="ops/clusters", max_nodes=20))


@pytest.mark.parametrize(
    ("line", "config", "outcome", "nodes"),
    [
        ("/prewarm", ENABLED, "ok", None),
        ("/prewarm 6", ENABLED, "ok", 6),
        ("/prewarm 0", ENABLED, "ok", 0),
        ("/prewarm 21", ENABLED, "usage", None),
        ("/prewarm -1", ENABLED, "usage", None),
        ("/prewarm six", ENABLED, "usage", None),
        ("/prewarm", CONFIG, "invalid", None),
    ],
)
def test_prewarm(line: str, config: Config, outcome: str, nodes: int | None) -> None:
    # An assigned engineer who is also a writer: the /prewarm confirms the request too.
    result = run(line, context("alice", roles=frozenset({Role.ASSIGNEE, Role.WRITER}),
                               config=config))
    assert result.outcome == outcome
    assert result.prewarm == (outcome == "ok")
    assert result.prewarm_nodes == nodes


@pytest.mark.parametrize(("roles", "outcome", "confirmed_by"), [
    (frozenset({Role.WRITER}), "ok", "alice"),
    (frozenset({Role.TEAM_LEAD}), "ok", "alice"),
    # An assigned engineer who is not a writer cannot vouch for a stranger's request.
    (frozenset({Role.ASSIGNEE}), "invalid", None),
])
def test_prewarm_confirms_only_when_a_writer_or_lead_asks(
        roles: frozenset[Role], outcome: str, confirmed_by: str | None) -> None:
    ctx = context("alice", roles=roles, config=ENABLED)
    result = run("/prewarm", ctx)
    assert result.outcome == outcome and result.prewarm == (outcome == "ok")
    got = result.state.confirmation
    assert (got.by if got else None) == confirmed_by
    if got is not None:
        assert is_confirmed(ctx.request, result.state)
    if outcome == "invalid":
        assert result.reply is not None and "/confirm" in result.reply


@pytest.mark.parametrize(("actor", "roles", "outcome"), [
    ("maint", frozenset({Role.ANYONE, Role.WRITER}), "ok"),
    ("lead-lee", None, "ok"),
    ("champion", None, "refused"),  # the author of a stranger's request
    ("alice", None, "refused"),  # assigned, not a writer
    ("stranger", None, "refused"),
])
def test_confirm_by_writers_and_leads_only(actor: str, roles: frozenset[Role] | None,
                                           outcome: str) -> None:
    ctx = context(actor, roles=roles, config=ENABLED)
    result = run("/confirm", ctx)
    assert result.outcome == outcome
    assert is_confirmed(ctx.request, result.state) == (outcome == "ok")
    if outcome == "ok":
        assert result.state.confirmation is not None
        assert result.state.confirmation.by == actor and result.sync
        again = run("/confirm", replace(ctx, state=result.state))
        assert again.outcome == "unchanged"  # still a 👍, nothing written


def test_a_team_leads_tier_approval_confirms_the_request() -> None:
    ctx = context("lead-lee", config=ENABLED)
    result = run("/approve-tier premium", ctx)
    assert result.outcome == "ok" and is_confirmed(ctx.request, result.state)


def test_prewarm_when_not_configured_says_so() -> None:
    result = run("/prewarm", context("alice"))
    assert result.reply is not None and "pre-warming is not configured" in result.reply


def test_prewarm_of_a_cancelled_request_is_refused() -> None:
    state = StatusState(cancelled_by="champion", cancelled_at="2026-11-23T09:30:00Z")
    assert run("/prewarm", context("alice", config=ENABLED, state=state)).outcome == "invalid"


def _listed(reply: str) -> set[str]:
    return set(re.findall(r"^\| `/([a-z-]+)", reply, re.MULTILINE))


@pytest.mark.parametrize(
    ("actor", "roles", "expected"),
    [
        ("stranger", {Role.ANYONE}, {"help"}),
        ("champion", {Role.ANYONE, Role.AUTHOR}, {"reschedule", "cancel", "help"}),
        ("alice", {Role.ANYONE, Role.ASSIGNEE}, {"assign", "unassign", "prewarm", "help"}),
        ("maint", {Role.ANYONE, Role.WRITER},
         {"assign", "unassign", "reschedule", "cancel", "checklist", "prewarm", "confirm",
          "help"}),
        ("lead-lee", set(Role), {c.name for c in COMMANDS}),
    ],
)
def test_help_lists_what_this_person_may_use(actor: str, roles: set[Role],
                                             expected: set[str]) -> None:
    result = run("/help", context(actor, frozenset(roles)))
    assert result.outcome == "ok" and result.reply is not None
    assert _listed(result.reply) == expected
    assert "https://example.org/event-support-policy" in result.reply


def test_help_without_a_policy_url_links_nothing() -> None:
    result = run("/help", context(config=replace(CONFIG, policy_url="")))
    assert result.reply is not None and "http" not in result.reply


# --- several commands in one comment --------------------------------------------------------

def test_commands_run_in_order_on_what_the_last_one_left() -> None:
    ctx = context("lead-lee")
    outcome = decide_all(parse_commands("/assign @carol\n/unassign @carol\n/approve-tier\n"
                                        "/approve-tier\n/cancel"), ctx)
    assert [r.outcome for _, r in outcome.results] == ["ok", "ok", "ok", "unchanged", "ok"]
    assert outcome.assignees == ("alice", "bob")
    assert outcome.state.approval is not None and outcome.state.cancelled_by == "lead-lee"
    assert outcome.close and outcome.sync and outcome.acknowledged
    assert outcome.reply is not None and outcome.reply.count("approved") == 1


def test_a_refused_comment_is_not_acknowledged() -> None:
    outcome = decide_all(parse_commands("/approve-tier\n/checklist"), context("stranger"))
    assert not outcome.acknowledged and not outcome.sync
    assert outcome.reply is not None and outcome.reply.count("nothing was changed") == 2


# --- no input crashes a decision ------------------------------------------------------------

_CTX = {actor: context(actor, ALL_ROLES if actor == "lead-lee" else None, config=ENABLED)
        for actor in ("lead-lee", "champion", "stranger")}


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None, max_examples=150)
@given(name=st.sampled_from(sorted(BY_NAME)), args=st.text(max_size=120),
       actor=st.sampled_from(sorted(_CTX)))
def test_no_arguments_crash_a_command(name: str, args: str, actor: str) -> None:
    flat = " ".join(args.split())
    result = decide(Invocation(name, flat, f"/{name} {flat}"), _CTX[actor])
    assert result.outcome in ("ok", "unchanged", "refused", "usage", "invalid")
    if result.outcome in ("refused", "usage", "invalid"):
        assert result.reply and not result.sync and not result.close


@pytest.mark.parametrize("spec", COMMANDS, ids=lambda c: c.name)
def test_every_declared_example_parses_its_arguments(spec: Any) -> None:
    for example in spec.examples:
        (inv,) = parse_commands(example)
        assert inv.name == spec.name
        try:
            spec.read_args(inv.args, ENABLED)
        except UsageError as e:  # pragma: no cover - the message says which
            pytest.fail(f"{example}: {e}")


# --- the README's command table is generated ------------------------------------------------

def test_readme_command_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- commands:start -->\n(.*?)\n<!-- commands:end -->", readme, re.DOTALL)
    assert m is not None, "README.md needs the commands table between the markers"
    assert m.group(1).strip() == commands_table(), (
        "README.md's command table is out of date; paste commands_table()'s output")


def test_a_reply_never_carries_an_html_comment_from_the_command() -> None:
    # Quoting the line back must not let anyone plant the status comment's marker.
    (inv,) = parse_commands("/approve-tier gold <!-- event-support-bot:status -->")
    assert inv.line == "/approve-tier gold" and "<!--" not in inv.line
    result = decide(inv, context("stranger"))
    assert result.reply is not None and "<!--" not in result.reply
