"""Hostile input: whatever arrives, a clear answer or a clear needs-info comment.

Webhooks are checked before anything else is done with them: too large (refused before
the body is read whole), unsigned, without GitHub's headers, not JSON, not an object. A
signed payload of the wrong shape is taken and dropped; an issue whose text is strange
(huge, emoji, right-to-left, invalid characters, markdown aimed at the bot's own comment)
gets the status comment any request gets, and never crashes a worker or holds the queue.
Text from issues cannot ping ``@everyone`` or a team, tick a box in the checklist, or
forge the hidden state block; tier names and labels come only from config.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from markdown_it import MarkdownIt

from bot.core.commands import parse_commands
from bot.core.config import Config
from bot.core.plan import plan
from bot.core.status import (
    MARKER,
    StatusState,
    listed_items,
    read_status,
    state_block,
    ticked_items,
)
from bot.service.server import signature_ok

from .botapp import SECRET, RunningBot, fast_config, running_bot
from .fakegithub import FakeGitHub
from .hostile_bodies import ATTACKS, GITHUB_BODY_LIMIT, NOW, Attack, backtick_runs, issue_with
from .payloads import deliver, issue_comment_payload, issues_payload, sign
from .requests_seed import FORM
from .test_faults import (
    BOT_LOGIN,
    INSTALLATION,
    OPENED,
    REPO,
    faulty_config,
    form_body,
    option,
    status_comments,
)

MIB = 1024 * 1024


def seed(fake: FakeGitHub) -> None:
    fake.add_installation(INSTALLATION, "jupyter-community")
    fake.add_repo(REPO, INSTALLATION)


def bot_labels(config: Config) -> set[str]:
    """Every label the bot may put on an issue: all of them from config."""
    names = config.labels
    return ({names.event_request, names.tier_pending, names.needs_info, names.short_notice,
             names.cancelled, names.done}
            | {names.type_label(t) for t in config.event_types}
            | {names.tier_label(t) for t in config.tiers})


async def raw_post(port: int, head: str, body_chunks: Any = ()) -> tuple[int, float, int]:
    """POST with a socket, reading the answer while sending the body lazily.

    -> (status, seconds to the answer, body bytes sent when the answer came).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began = time.monotonic()
    sent = 0
    try:
        answer = asyncio.create_task(reader.readline())
        writer.write(head.encode())
        await writer.drain()
        for chunk in body_chunks:
            if answer.done():
                break  # answered before the body ended: stop sending
            writer.write(chunk)
            sent += len(chunk)
            try:
                await asyncio.wait_for(writer.drain(), 5)
            except (ConnectionError, TimeoutError):
                break
        line = await asyncio.wait_for(answer, 10)
        return int(line.split()[1]), time.monotonic() - began, sent
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def _headers(length: str | None, event: str = "issues") -> str:
    lines = ["POST /webhook HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"X-GitHub-Event: {event}", "X-GitHub-Delivery: big-1",
             "X-Hub-Signature-256: sha256=" + "0" * 64]
    lines.append(f"Content-Length: {length}" if length else "Transfer-Encoding: chunked")
    return "\r\n".join(lines) + "\r\n\r\n"


def _chunked(total: int, size: int = MIB) -> Any:
    for _ in range(total // size):
        yield f"{size:x}\r\n".encode() + b" " * size + b"\r\n"
    yield b"0\r\n\r\n"


async def test_a_body_over_25_mib_is_refused_before_it_is_read(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=faulty_config()) as running:
        port = running.server.port
        assert port is not None
        # Announced as 40 MiB and never sent: the answer comes without reading it.
        status, took, _ = await raw_post(port, _headers(str(40 * MIB)))
        assert status == 413 and took < 2
        # Chunked, no length: refused once 25 MiB have come in, long before the end.
        status, _, sent = await raw_post(port, _headers(None), _chunked(200 * MIB))
        assert status == 413
        assert sent < 60 * MIB, sent / MIB
        # Just under the limit is read, and then judged on its signature.
        small = b" " * (25 * MIB - 10)
        status, _, _ = await raw_post(port, _headers(str(len(small))), [small])
        assert status == 401
        await assert_still_working(running, fake_github)
        assert running.queue.processed == 1  # only the good delivery reached a worker
        async with running.session.get(running.server.make_url("/metrics")) as resp:
            text = await resp.text()
    assert 'bot_webhook_rejected_total{reason="too_large"} 2.0' in text


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{not json", {}, 400),
        (b'{"action": "opened", "issue": ', {}, 400),
        (b"\xff\xfe{\"action\": \"opened\"}", {}, 400),  # not UTF-8
        (b'{"action": "\xc3\x28"}', {}, 400),  # an invalid UTF-8 sequence inside a string
        (b"[]", {}, 400),
        (b'"just a string"', {}, 400),
        (b"null", {}, 400),
        (b"", {}, 400),
        (b"{}", {"X-GitHub-Event": None}, 400),
        (b"{}", {"X-GitHub-Delivery": None}, 400),
        (b"{}", {"X-GitHub-Event": "x" * 500}, 400),
        (b"{}", {"X-Hub-Signature-256": "sha256=deadbeef"}, 401),
        (b"{}", {"X-GitHub-Event": "star"}, 202),  # not handled: taken and dropped
        # Nested past what the parser follows (it raised RecursionError: a 500), or too long.
        pytest.param(b"[" * 100_000, {}, 400, id="100,000 ["),
        pytest.param(b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, {}, 400, id="100,000 {"),
        pytest.param(b'{"a": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", {}, 400, id="5,000 deep"),
        pytest.param(b'{"a": ' + b"9" * 100_000 + b"}", {}, 400, id="100,000 digits"),
        (b'{"action": "opened"}', {}, 202),  # handled, and nothing to act on
    ],
)
async def test_bad_webhooks_get_a_clear_answer(
    fake_github: FakeGitHub, app_key: str, body: bytes, headers: dict[str, str | None],
    status: int
) -> None:
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=faulty_config()) as running:
        got = await deliver(running.url.rstrip("/"), "issues", body, SECRET, headers=headers)
        assert got == status
        await running.settle()
        await assert_still_working(running, fake_github)


def _shapes(fake: FakeGitHub, number: int) -> list[tuple[str, Any]]:
    """Signed payloads of GitHub's shape with one part of the wrong type or missing."""
    good = issues_payload(fake, REPO, number, "opened")

    def changed(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        payload = copy.deepcopy(good)
        change(payload)
        return payload

    return [
        ("issue is a string", changed(lambda p: p.update(issue="#1"))),
        ("issue missing", changed(lambda p: p.pop("issue"))),
        ("number is a string", changed(lambda p: p["issue"].update(number=str(number)))),
        ("number is negative", changed(lambda p: p["issue"].update(number=-number))),
        ("number is huge", changed(lambda p: p["issue"].update(number=10**30))),
        ("number is a bool", changed(lambda p: p["issue"].update(number=True))),
        ("repository is a list", changed(lambda p: p.update(repository=[]))),
        ("full_name has no slash", changed(lambda p: p["repository"].update(full_name="x"))),
        ("full_name is a path", changed(
            lambda p: p["repository"].update(full_name="../../etc/passwd"))),
        ("installation id is text", changed(lambda p: p["installation"].update(id="7001"))),
        ("action is a number", changed(lambda p: p.update(action=5))),
        ("labels is a string", changed(lambda p: p["issue"].update(labels="event-request"))),
        ("labels hold numbers", changed(lambda p: p["issue"].update(labels=[1, None, {}]))),
        ("body is a number", changed(lambda p: p["issue"].update(body=12))),
        ("body is a list", changed(lambda p: p["issue"].update(body=["### Hub URL"]))),
        ("title is null", changed(lambda p: p["issue"].update(title=None))),
        ("user is null", changed(lambda p: p["issue"].update(user=None))),
        ("assignees is a dict", changed(lambda p: p["issue"].update(assignees={"a": 1}))),
        ("created_at is garbage", changed(lambda p: p["issue"].update(created_at="soon"))),
        ("created_at is a number", changed(lambda p: p["issue"].update(created_at=0))),
        ("state is odd", changed(lambda p: p["issue"].update(state="sideways"))),
        ("deeply nested", changed(lambda p: p.update(extra=json.loads("[" * 500 + "]" * 500)))),
    ]


async def test_payloads_of_the_wrong_shape_never_stop_the_worker(
    fake_github: FakeGitHub, app_key: str
) -> None:
    seed(fake_github)
    config = faulty_config()
    async with running_bot(fake_github, app_key, config=config) as running:
        number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                       body=form_body())
        shapes = _shapes(fake_github, number)
        answers = [await running.deliver("issues", payload) for _, payload in shapes]
        assert [a.status for a in answers] == [202] * len(shapes)
        comment_id = fake_github.add_comment(REPO, number, "/help", "someone")
        broken_comment = issue_comment_payload(fake_github, REPO, number, comment_id)
        broken_comment["comment"]["body"] = {"text": "/help"}
        assert (await running.deliver("issue_comment", broken_comment)).status == 202
        no_user = issue_comment_payload(fake_github, REPO, number, comment_id)
        no_user["comment"]["user"] = None
        assert (await running.deliver("issue_comment", no_user)).status == 202
        await running.settle(timeout=20)
        await assert_still_working(running, fake_github)
        # Nothing bogus is left waiting for reconciliation (it would wait for ever).
        assert running.bot.pending == 0, running.bot.failures
    # Whatever the payload said, the issue got at most its one status comment, and only
    # labels from config.
    assert len(status_comments(fake_github, REPO, number)) <= 1
    assert set(fake_github.labels(REPO, number)) <= bot_labels(config)


async def assert_still_working(running: RunningBot, fake: FakeGitHub) -> None:
    """A good delivery after the bad ones is handled at once: no worker died, no jam."""
    number = fake.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                            body=form_body())
    resp = await running.deliver("issues", issues_payload(fake, REPO, number, "opened"))
    assert resp.status == 202
    await running.settle(timeout=10)
    assert len(status_comments(fake, REPO, number)) == 1
    async with running.session.get(running.server.make_url("/healthz")) as health:
        assert health.status == 200
        assert (await health.json())["queue_depth"] == 0


def _outside_code(text: str) -> str:
    """Text with inline code spans blanked, reading left to right as GitHub's markdown does.

    A backslash-escaped backtick opens no span; other escaped characters are kept as they
    are (an escaped ``@`` may still notify, so it is counted).
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in _PUNCTUATION:
            out.append("'" if text[i + 1] == "`" else text[i + 1])
            i += 2
        elif char == "`":
            run = re.match(r"`+", text[i:])
            assert run is not None
            closing = re.compile(f"(?<!`){run.group(0)}(?!`)").search(text, i + run.end())
            if closing is None:
                out.append(run.group(0))
                i += run.end()
            else:
                out.append(" ")
                i = closing.end()
        else:
            out.append(char)
            i += 1
    return "".join(out)


_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def pings(markdown: str) -> set[str]:
    """Who a comment notifies: @-mentions outside code and HTML comments, as GitHub reads."""
    text = re.sub(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1", "", markdown, flags=re.S | re.M)
    text = _outside_code(re.sub(r"<!--.*?-->", "", text, flags=re.S))
    return set(re.findall(r"(?<![\w`])@([A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9][\w.-]*)?)",
                          text))


def config_engineers(config: Config) -> set[str]:
    return {e.login for e in config.oncall.engineers}


FORGED_STATE = state_block(StatusState(sent=("reminder:confirm-details",), extra={
    "approval": {"tier": "premium", "by": "lead-lee", "at": "2026-11-23T09:00:00Z",
                 "requested": "premium"}}))
EMOJI = "🎉👩🏽‍💻🔥"
RTL = "\u202eامتحان نهائي\u202c \u05d1\u05d7\u05d9\u05e0\u05d4"


@pytest.mark.parametrize(
    ("name", "answers", "needs_info"),
    [
        ("emoji and right-to-left text everywhere", {
            "hub_url": f"https://hub.example.org/{EMOJI}{RTL}",
            "event_name": f"{EMOJI} {RTL}", "start": f"2027-03-09 13:00 {RTL}",
            "end": f"2027-03-09 16:00{EMOJI}", "timezone": f"{RTL}/{EMOJI}",
            "attendees": f"180 {EMOJI}", "memory_per_user": f"4 GB {RTL}",
            "community_rep": f"@{EMOJI}", "details": f"{RTL}\n{EMOJI}\n" * 50}, True),
        ("mentions of everyone and of teams", {
            "event_name": "@everyone @jupyter/core-team exam",
            "community_rep": "@jupyter/core-team",
            "details": "cc @everyone @here @jupyter/core-team @org/admins"},
         False),  # a team is no representative: a note (the field is optional), no ping
        ("a forged checklist and a forged state block", {
            "event_name": "STAT <!-- item:cloud-quotas --> - [x] x",
            "details": "- [x] Check cloud quotas <!-- item:cloud-quotas -->\n"
                       f"- [x] forged <!-- item:forged -->\n{MARKER}\n{FORGED_STATE}\n"
                       "-->\n<!-- unclosed\n```\n| a | b |\n</details>",
            "tier": option("tier", "premium")}, False),
        ("a tier that is not in config", {"tier": "platinum-unlimited ✨"}, True),
        ("control characters and lone surrogates", {
            "event_name": "exam\x00\x1b[31m\ud800 red", "details": "\x07\x08\ufeff\u2028"},
         False),
        ("a 100,000-line body", {
            "details": "\n".join(f"line {i} @everyone <!-- item:x{i} -->"
                                 for i in range(100_000))}, False),
        ("10,000 form headings", {
            "details": "\n\n".join(f"### Hub URL\n\nhttps://evil{i}.example" for i in
                                   range(10_000))}, False),
    ],
)
async def test_strange_issue_text_gets_one_safe_status_comment(
    fake_github: FakeGitHub, app_key: str, name: str, answers: dict[str, str | None],
    needs_info: bool
) -> None:
    seed(fake_github)
    config = faulty_config()
    async with running_bot(fake_github, app_key, config=config) as running:
        body = form_body(**answers)
        number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                       body=body, title=f"{EMOJI}{RTL} @everyone")
        began = time.monotonic()
        resp = await running.deliver("issues", issues_payload(fake_github, REPO, number,
                                                              "opened"))
        assert resp.status == 202
        await running.settle(timeout=20)
        took = time.monotonic() - began
        await assert_still_working(running, fake_github)
    assert took < 10, f"{name}: {took:.1f} s"
    [comment] = status_comments(fake_github, REPO, number)
    text = comment["body"]
    labels = set(fake_github.labels(REPO, number))
    assert ("needs-info" in labels) == needs_info, (name, labels)
    assert labels <= bot_labels(config), labels
    # No ping but the ones the bot means (people by login), none from the champion's text.
    pinged = pings(text)
    assert not {"everyone", "here"} & pinged, pinged
    assert not any("/" in p for p in pinged), pinged  # no team
    assert pinged <= {"prof-okafor", "lead-lee", *config_engineers(config)}, pinged
    # The checklist is the bot's own: its items, each once, none ticked by the champion.
    status = read_status(text)
    assert ticked_items(text) == frozenset()
    listed = listed_items(text)
    assert "forged" not in listed and not any(i.startswith("x") for i in listed)
    assert text.count("<!-- event-support-bot:state ") == 1
    assert status.state.approval is None
    assert "reminder:confirm-details" not in status.state.sent
    if (answers.get("tier") or "").startswith("premium"):
        assert "tier: pending" in labels and "tier: premium" not in labels
    # Nothing the champion wrote can end the bot's HTML comments early or hide text.
    for forbidden in ("\u202e", "\x00", "\x1b", "\ud800"):
        assert forbidden not in text
    assert len(text) < 65536
    assert comment["user"]["login"] == BOT_LOGIN


async def test_a_persons_marker_is_not_the_status_comment(
    fake_github: FakeGitHub, app_key: str
) -> None:
    """A champion who pastes the bot's marker and a state block gains nothing."""
    seed(fake_github)
    async with running_bot(fake_github, app_key, config=faulty_config()) as running:
        number = fake_github.add_issue(REPO, labels=["event-request"], created_at=OPENED,
                                       body=form_body(tier=option("tier", "premium")))
        fake_github.add_comment(REPO, number, f"{MARKER}\n{FORGED_STATE}\n- [x] all done",
                                "champion")
        await running.deliver("issues", issues_payload(fake_github, REPO, number, "opened"))
        await running.settle()
    [status] = status_comments(fake_github, REPO, number)
    assert read_status(status["body"]).state.approval is None
    labels = fake_github.labels(REPO, number)
    assert "tier: pending" in labels and "tier: premium" not in labels


def test_signatures_are_checked_on_the_bytes_received() -> None:
    """Re-encoding a payload (as a proxy might) breaks its signature: bytes, not JSON."""
    body = json.dumps({"a": "é"}).encode()
    other = json.dumps({"a": "é"}, ensure_ascii=False).encode()
    assert signature_ok("k", body, sign(body, "k"))
    assert not signature_ok("k", other, sign(body, "k"))


# --- bounded work: no text makes the bot work for seconds ----------------------------------

# Seconds for reading and planning a whole body at GitHub's limit: generous for a shared
# machine (it takes milliseconds); each attack below took many seconds, or crashed, before.
BOUND = 1.0


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_a_hostile_answer_is_planned_in_milliseconds(attack: Attack) -> None:
    body = attack.body()
    assert len(body) <= GITHUB_BODY_LIMIT
    began = time.perf_counter()
    triage, desired = plan(issue_with(body), None, fast_config(), FORM, NOW)
    took = time.perf_counter() - began
    assert took < BOUND, f"{attack.name}: {took:.2f} s"
    # And it is answered: the field is named as the one to fix.
    assert attack.field in {e.field for e in triage.errors}
    assert desired.status_body is not None and len(desired.status_body) < GITHUB_BODY_LIMIT


@pytest.mark.parametrize("filler", ["\n", " \n", "\t\r\n"])
def test_a_status_comment_padded_with_blank_lines_is_read_in_milliseconds(filler: str) -> None:
    """Writers can edit the bot's comment: blank lines once took the checklist reader 30 s."""
    item = "- [x] Check cloud quotas <!-- item:cloud-quotas -->"
    padding = filler * ((GITHUB_BODY_LIMIT - 200) // len(filler))
    body = f"{MARKER}\n{padding}x\n{item}\n{padding}"
    began = time.perf_counter()
    status = read_status(body)
    took = time.perf_counter() - began
    assert took < BOUND, f"{took:.2f} s"
    assert status.ticked == {"cloud-quotas"}


def test_a_comment_of_unmatched_backtick_runs_is_read_in_milliseconds() -> None:
    """One run of each length: no run closes another, and each was searched to the end."""
    body = backtick_runs(GITHUB_BODY_LIMIT - 20) + "\n/help"
    began = time.perf_counter()
    invocations = parse_commands(body)
    took = time.perf_counter() - began
    assert took < 0.1, f"{took:.2f} s"  # a linear scan takes milliseconds
    assert [i.name for i in invocations] == ["help"]


# --- text quoted back is inline code ---------------------------------------------------------

MARKUP = "**bold** https://evil.example @someone `tick` _em_"


def rendered_outside_code(markdown: str) -> str:
    """The text a CommonMark reader shows outside code spans and code blocks."""
    parser = MarkdownIt("commonmark").enable("table")
    out: list[str] = []
    for token in parser.parse(markdown):
        for child in token.children or []:
            if child.type == "text":
                out.append(child.content)
    return "\n".join(out)


@pytest.mark.parametrize(("field", "answer"), [
    ("event_name", MARKUP), ("hub_url", MARKUP), ("start", MARKUP), ("end", MARKUP),
    ("timezone", MARKUP), ("attendees", MARKUP), ("memory_per_user", MARKUP), ("tier", MARKUP),
    ("community_rep", MARKUP.replace("@someone", "someone")),  # no handle: a note
    ("community_rep", "@someone @org/team"),  # a team is no person: a note
])
def test_a_champions_words_come_back_as_inline_code(field: str, answer: str) -> None:
    """Every answer echoed into the status comment (the name, an error, a note) shows as
    code: GitHub makes no link, emphasis or mention of it."""
    desired = plan(issue_with(form_body(**{field: answer})), None, fast_config(), FORM, NOW)[1]
    comment = desired.status_body
    assert comment is not None and ("evil.example" in comment or "org/team" in comment)
    shown = rendered_outside_code(comment)
    for word in ("evil.example", "bold", "tick", "org/team"):
        assert word not in shown, (word, shown)
    assert "someone" not in shown or "cc @someone" in shown  # a handle is mentioned on purpose
