"""Fuzzing (hypothesis): the webhook endpoint, and the pure path from issue text to comment.

- ``POST /webhook`` with random bodies (bytes, any JSON, GitHub's payloads with parts
  replaced by anything), random headers and right, wrong or missing signatures: the
  answer is always the one the contract documents for that input, never a ``500``, and
  the workers handle every delivery taken without an error escaping to them.
- The form parser, the request reader and the date parser, through ``plan``: any body
  in the form's shape with hostile answers gives a plan whose labels come from config,
  whose errors name form fields, and whose one status comment is safe and within
  GitHub's size limit.
- The date parser alone: a ``When`` in a plannable year, or a ``DateError``.
- The command parser and every command's decision, for every kind of person.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import http.client
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.core.commands import BY_NAME, MAX_COMMANDS, Context, Role, decide_all, parse_commands
from bot.core.dates import (
    DateError,
    parse_daily_hours,
    parse_when,
    resolve_zone_field,
    sessions,
    split_field,
)
from bot.core.model import IssueSnapshot, RepoRef
from bot.core.plan import plan
from bot.core.request import read_request
from bot.core.status import StatusState, encode_state, listed_items, read_status, ticked_items
from bot.service.app import EventBot, Settings
from bot.service.workqueue import WorkQueue
from bot.wiring import create_app

from .botapp import Clock, fast_config
from .expect import assert_a_sentence_for_the_champion
from .hostile_bodies import GITHUB_BODY_LIMIT
from .payloads import webhook_payload
from .test_faults import FORM, form_body, option
from .test_hostile import BOUND, bot_labels, pings

CONFIG = fast_config()
SECRET = "fuzz-secret"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


# --- the webhook endpoint ----------------------------------------------------------------


@dataclass
class ThreadedBot:
    """The real app served from a thread, so hypothesis (synchronous) can post to it."""

    port: int
    app: web.Application
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def queue(self) -> WorkQueue:
        queue: WorkQueue = self.app["queue"]
        return queue

    @property
    def bot(self) -> EventBot:
        bot: EventBot = self.app["bot"]
        return bot


@pytest.fixture(scope="module")
def threaded_bot() -> Iterator[ThreadedBot]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    # Dry run without GitHub: every delivery is planned from its payload alone.
    settings_ = Settings(config=CONFIG, form=FORM, webhook_secret=SECRET, dry_run=True)
    app = create_app(settings_, None, clock=Clock())

    async def start() -> web.AppRunner:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner

    runner = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    port = runner.addresses[0][1]
    try:
        yield ThreadedBot(port, app, loop)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a payload a value could be replaced."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value[:3]):
            found += _paths(item, (*prefix, i))
    return found


BASES = {
    "issues": webhook_payload("issues", "opened"),
    "issue_comment": webhook_payload("issue_comment", "created"),
}
BASES["issues"]["issue"]["body"] = form_body()
BASES["issues"]["issue"]["labels"] = [{"name": "event-request"}]
BASES["issue_comment"]["comment"]["body"] = "/approve-tier\n/assign @alice\n/reschedule x"
PATHS = {event: _paths(payload) for event, payload in BASES.items()}

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=8), inner, max_size=4), max_leaves=12)


def _replaced(payload: Any, path: tuple[Any, ...], value: Any) -> None:
    target = payload
    for step in path[:-1]:
        target = target[step]
        if not isinstance(target, dict | list):
            return
    with contextlib.suppress(IndexError, TypeError, KeyError):
        target[path[-1]] = value


@st.composite
def mutated_payload(draw: st.DrawFn) -> tuple[str, bytes]:
    event = draw(st.sampled_from(sorted(BASES)))
    payload = json.loads(json.dumps(BASES[event]))
    for path, value in draw(st.lists(st.tuples(st.sampled_from(PATHS[event]), json_value),
                                     max_size=4)):
        # Deeper paths may be gone after an earlier replacement: then nothing happens.
        with contextlib.suppress(KeyError, TypeError):
            _replaced(payload, path, value)
    payload["action"] = draw(st.sampled_from(
        ["opened", "edited", "reopened", "labeled", "closed", "created", "deleted"]))
    return event, json.dumps(payload).encode()


header_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), max_size=60)
# Mostly GitHub's payloads with parts replaced: those get past the checks to the workers.
bodies = st.one_of(
    st.binary(max_size=300).map(lambda b: ("issues", b)),
    json_value.map(lambda v: ("issues", json.dumps(v).encode())),
    mutated_payload(), mutated_payload(), mutated_payload(), mutated_payload(),
)


def _post(port: int, body: bytes, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/webhook", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _expected(body: bytes, signature: str, event: str, delivery: str) -> int:
    """The contract's answer: 401, then 400 (headers, then the body), then 202."""
    if signature != "right":
        return 401
    if not event.strip() or not delivery.strip() or len(event) > 100 or len(delivery) > 200:
        return 400
    try:
        decoded = json.loads(body)
    except ValueError:
        return 400
    return 202 if isinstance(decoded, dict) else 400


@fuzz(250)
@given(body=bodies, signature=st.sampled_from(["right", "right", "right", "wrong", "none"]),
       event=st.one_of(st.just("PAYLOAD'S OWN"), st.just("PAYLOAD'S OWN"),
                       st.sampled_from(["issues", "issue_comment", "installation",
                                        "installation_repositories", "ping", ""]),
                       header_text),
       delivery=st.one_of(st.just("FRESH"), st.just("FRESH"), header_text))
def test_the_webhook_endpoint_answers_as_documented(
    threaded_bot: ThreadedBot, body: tuple[str, bytes], signature: str, event: str,
    delivery: str
) -> None:
    kind, raw = body
    if delivery == "FRESH":  # a new id, as GitHub gives each delivery (hypothesis repeats)
        delivery = str(uuid.uuid4())
    headers = {"Content-Type": "application/json", "X-GitHub-Delivery": delivery,
               "X-GitHub-Event": kind if event == "PAYLOAD'S OWN" else event}
    if signature == "right":
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(
            SECRET.encode(), raw, hashlib.sha256).hexdigest()
    elif signature == "wrong":
        headers["X-Hub-Signature-256"] = "sha256=" + hashlib.sha256(raw).hexdigest()
    status = _post(threaded_bot.port, raw, headers)
    assert status == _expected(raw, signature, headers["X-GitHub-Event"], delivery)


def test_after_the_fuzzing_every_delivery_was_handled_without_error(
    threaded_bot: ThreadedBot
) -> None:
    """Runs after the fuzzing above (same module fixture): the workers took it all."""

    async def drained() -> None:
        while threaded_bot.queue.depth or threaded_bot.queue.in_flight:
            await asyncio.sleep(0.01)

    threaded_bot.run(asyncio.wait_for(drained(), 30))
    queue = threaded_bot.queue
    assert queue.processed > 40  # the fuzzing got past the checks into the workers
    assert queue.failed == 0
    # The server still answers.
    raw = json.dumps(BASES["issues"]).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert _post(threaded_bot.port, raw, {"X-GitHub-Event": "issues",
                                          "X-GitHub-Delivery": "last",
                                          "X-Hub-Signature-256": signature}) == 202


# --- the pure path: form, request, dates, plan -------------------------------------------

hostile_line = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["@everyone", "@jupyter/core-team", "<!-- item:cloud-quotas -->",
                     "- [x] done <!-- item:cloud-quotas -->", "<!-- event-support-bot:state ",
                     "-->", "```", "~~~", "### Hub URL", "### Tier", "_No response_",
                     "\u202e", "\x00", "\ud800", "| a |", "<details>", "2027-03-09 13:00",
                     "tomorrow", "03/04/2027 9am EST", "13:00 IST", "premium", "0", "-5",
                     "1e9", "∞", "４２"]),
)
answer = st.one_of(st.none(), st.lists(hostile_line, max_size=4).map(" ".join))
FIELD_IDS = [f.id for f in FORM.fields]


@fuzz(200)
@given(answers=st.fixed_dictionaries({i: answer for i in FIELD_IDS}),
       tail=st.lists(hostile_line, max_size=6).map("\n".join),
       opened_days=st.integers(-400, 400))
def test_any_form_answers_give_a_safe_plan(answers: dict[str, str | None], tail: str,
                                           opened_days: int) -> None:
    body = form_body(**answers) + "\n" + tail
    issue = IssueSnapshot(
        repo=RepoRef("org", "repo", 1), number=7, title="Event request", body=body,
        author="champion", labels=("event-request",), assignees=(), state="open",
        created_at=NOW + timedelta(days=opened_days))
    request = read_request(issue, FORM, CONFIG)
    assert {e.field for e in request.errors} <= {*FIELD_IDS, None}
    assert request.tier is None or request.tier in CONFIG.tiers
    triage, desired = plan(issue, None, CONFIG, FORM, NOW)
    assert set(triage.labels) <= bot_labels(CONFIG)
    assert desired.labels_add <= bot_labels(CONFIG)
    assert ("needs-info" in triage.labels) == bool(request.errors)
    comment = desired.status_body
    assert comment is not None and len(comment) < 65536
    assert comment.count("<!-- event-support-bot:state ") == 1
    assert ticked_items(comment) == frozenset()
    assert listed_items(comment) <= {item.id for item in CONFIG.checklist}
    assert read_status(comment).state.approval is None
    pinged = pings(comment)
    assert not {"everyone", "here"} & pinged and not any("/" in p for p in pinged)
    for forbidden in ("\u202e", "\x00", "\ud800"):
        assert forbidden not in comment


# Long runs of what regular expressions stumble on, filling an answer up to GitHub's limit:
# whitespace runs between numbers and words, separators, backticks, tags, mentions.
run_unit = (st.sampled_from([" ", "\t", "\n", "\r\n", " \n", "\u00a0 "])
            | st.sampled_from(["1", "1 ", "1,", "1.", "0", ",000", " 000", "~", "-", "+", ":", "/",
                               "a/", ".", "a.", "`", "``", "`a", "<", "<pre", "<!--", "-->", "@",
                               "@a ", "#", "### ", "```\n", "- [x] ", "|", "\\", '"', "12 ",
                               "am ", "T", "Z", "https://", "a-"])
            | st.text(min_size=1, max_size=3))
run_word = (st.sampled_from(["120", "4", "1.5", "~ 12", "1,000", "+05", "12:00"])
            | st.sampled_from(["", "x", "GB", "users", "@a", "`", "<", "pm", "/"])
            | st.text(max_size=4))
runs = st.tuples(st.lists(st.tuples(run_word, run_unit, st.integers(1, 70_000)), min_size=1,
                          max_size=3), run_word)


def _filled(runs: tuple[list[tuple[str, str, int]], str], room: int) -> str:
    """Each word then its unit repeated COUNT times, then the last word, cut to ROOM."""
    parts, tail = runs
    text = "".join(word + unit * min(count, room // len(unit) + 1) for word, unit, count in parts)
    return text[:max(room - len(tail), 0)] + tail


@fuzz(20)
@given(parts=runs)
@example(parts=([("120", " ", 70_000)], "x"))  # took a minute before the bot bounded it
def test_any_answer_up_to_githubs_limit_is_planned_within_a_bound(
    parts: tuple[list[tuple[str, str, int]], str]
) -> None:
    """Each field in turn, and all at once, holds the runs, filling the body to the limit."""
    for fields in [[f] for f in FIELD_IDS] + [FIELD_IDS]:
        room = (GITHUB_BODY_LIMIT - len(form_body(**dict.fromkeys(fields, "")))) // len(fields)
        answer = _filled(parts, room)
        body = form_body(**dict.fromkeys(fields, answer))
        assert len(body) <= GITHUB_BODY_LIMIT
        issue = IssueSnapshot(
            repo=RepoRef("org", "repo", 1), number=7, title=answer[:256], body=body,
            author="champion", labels=("event-request",), assignees=(), state="open",
            created_at=NOW)
        began = time.perf_counter()
        triage, desired = plan(issue, None, CONFIG, FORM, NOW)  # never raises
        parse_commands(body)  # the same text as a comment
        took = time.perf_counter() - began
        assert took < BOUND, f"{fields}: {took:.2f} s"
        assert desired.status_body is None or len(desired.status_body) < GITHUB_BODY_LIMIT
        assert {e.field for e in triage.errors} <= {*FIELD_IDS, None}


zone_text = st.one_of(st.none(), st.sampled_from(
    ["UTC", "America/Chicago", "Asia/Kolkata", "+05:45", "chicago", "EST", "nowhere/none"]))


@fuzz(300)
@given(text=st.lists(hostile_line | st.sampled_from(
    ["2027", "03", "/", "-", ":", "13:00", "9am", "noon", "midnight", "March", "Tue", "T",
     "Z", "+02:00", "UTC", "EST", "PST", "IST", "BST", " ", "to", "2/29", "31",
     # the forms a hub operator's champions write
     "ET", "PT", "Pacific", "Mountain", "US/Central", "(", ")", "(Spain)", "(New Orleans, USA)",
     "930am", "2nd", "June 8-10", "8-", ",", "https://arewemeetingyet.com/Europe/Madrid/",
     "2027-03-03/09:30/x"]),
    max_size=10).map("".join), zone=zone_text, opened_days=st.integers(-1000, 1000))
def test_the_date_parser_gives_a_when_or_a_date_error(text: str, zone: str | None,
                                                      opened_days: int) -> None:
    opened = NOW + timedelta(days=opened_days)
    try:
        field_zone = resolve_zone_field(zone, "UTC", CONFIG.timezone_abbreviations)
    except DateError as e:
        assert_a_sentence_for_the_champion(e)
        return
    try:
        when = parse_when(text, field_zone=field_zone, opened_at=opened,
                          abbreviations=CONFIG.timezone_abbreviations)
    except DateError as e:
        assert_a_sentence_for_the_champion(e)
        return
    assert when.at.tzinfo is not None
    assert 1969 <= when.utc.year <= 2201


@fuzz(300)
@given(text=st.lists(hostile_line | st.sampled_from(
    ["9am", "1pm", "09:00", "13:00", "-", "\u2013", " to ", " ", "PT", "EDT", "US/Pacific",
     "(Seattle)", "(", ")", "930am", "noon", "June 8", "Pacific", "IST", ","]),
    max_size=10).map("".join), zone=zone_text)
def test_daily_hours_and_ranges_give_a_value_or_a_date_error(text: str, zone: str | None) -> None:
    try:
        field_zone = resolve_zone_field(zone, "UTC", CONFIG.timezone_abbreviations)
    except DateError:
        return
    began = time.perf_counter()
    with contextlib.suppress(DateError):
        start, end = split_field(text, CONFIG.timezone_abbreviations)
        assert end is None or (start and end)  # a range has both ends
    try:
        daily = parse_daily_hours(text, field_zone=field_zone,
                                  abbreviations=CONFIG.timezone_abbreviations)
    except DateError as e:
        assert str(e)
    else:
        assert daily.start < daily.end
        days = sessions(NOW, NOW + timedelta(days=31), daily)
        assert 30 <= len(days) <= 32 and all(s.start < s.end for s in days)
    assert time.perf_counter() - began < BOUND


# --- commands ------------------------------------------------------------------------------

ROLE_SETS = [frozenset(), frozenset({Role.WRITER}), frozenset(Role)]
command_line = st.builds(
    lambda name, args, indent: f"{indent}/{name} {args}",
    st.sampled_from(sorted(BY_NAME)), st.lists(hostile_line | st.sampled_from(
        ["@alice", "@bob", "@everyone", "premium", "standard", "2027-03-16 13:00", "to",
         "16:00", "6", "-1", "999999999999", "0"]), max_size=4).map(" ".join),
    st.sampled_from(["", " ", "   ", "    "]))
comment_text = st.lists(command_line | hostile_line, max_size=8).map("\n".join)


@fuzz(200)
@given(body=comment_text, roles=st.sampled_from(ROLE_SETS),
       tier=st.sampled_from(["standard", "premium"]))
def test_any_comment_gives_documented_command_outcomes(body: str, roles: frozenset[Role],
                                                        tier: str) -> None:
    issue = IssueSnapshot(
        repo=RepoRef("org", "repo", 1), number=7, title="Event request",
        body=form_body(tier=option("tier", tier)), author="champion",
        labels=("event-request",), assignees=("alice",), state="open",
        created_at=NOW - timedelta(days=1))
    request = read_request(issue, FORM, CONFIG)
    invocations = parse_commands(body)
    assert len(invocations) <= MAX_COMMANDS
    assert all(inv.name in BY_NAME and "<!--" not in inv.args for inv in invocations)
    ctx = Context(issue=issue, request=request, state=StatusState(), assignees=issue.assignees,
                  actor="someone", roles=roles, config=CONFIG, form=FORM, now=NOW,
                  form_start="2027-03-09 13:00", form_end="2027-03-09 16:00")
    outcome = decide_all(invocations, ctx)
    assert len(outcome.results) == len(invocations)
    for _, result in outcome.results:
        assert result.outcome in ("ok", "unchanged", "refused", "usage", "invalid")
        if not roles:
            # Someone with no role changes nothing but through /help.
            assert result.outcome in ("refused", "usage", "invalid", "unchanged", "ok")
    encode_state(outcome.state)  # whatever they did can be written down
    if outcome.state.approval is not None:
        assert outcome.state.approval.tier in CONFIG.tiers
    reply = outcome.reply or ""
    pinged = pings(reply)
    assert not {"everyone", "here"} & pinged and not any("/" in p for p in pinged), reply
