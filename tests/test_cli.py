"""The command line as operators use it: plan, check-config, serve (refusals and dry run)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.status import MARKER, read_status

from .botapp import SECRET, Clock, fast_config, running_bot
from .fakegithub import FakeGitHub
from .payloads import issues_payload
from .requests_seed import exam_body

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T10:00:00Z"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60, env=env or clean_env())


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "BOT_", "DASHBOARD_"))}


CONTRACT_KEYS = {"is_event_request", "event_type", "tier", "start", "end", "timezone",
                 "daily_hours", "attendees", "labels", "assignees", "errors", "sizing",
                 "checklist", "comment"}


# The fields each example gets wrong on purpose; every other example is a valid request.
EXAMPLE_ERRORS = {"invalid.md": {"hub_url", "start", "attendees", "tier"}}


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").glob("*.md")))
def test_plan_json_on_every_example(example: str) -> None:
    out = run("plan", f"examples/{example}", "--now", NOW, "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= CONTRACT_KEYS
    assert data["is_event_request"] is True
    for err in data["errors"]:
        assert set(err) == {"field", "message"} and err["message"]
    wrong = EXAMPLE_ERRORS.get(example, set())
    assert {err["field"] for err in data["errors"]} == wrong
    assert ("needs-info" in data["labels"]) is bool(wrong)
    if wrong:  # the table says so, not the output: no start, no rotation to assign
        assert data["start"] is None and data["assignees"] == []
    else:
        assert data["start"].endswith(("Z", "+00:00")) and data["sizing"]["nodes"] >= 1
        assert all(item["due"].endswith(("Z", "+00:00")) for item in data["checklist"])
        assert data["assignees"]


def payload_file(tmp_path: Path, **issue: object) -> Path:
    """examples/issue-opened.json with keys of its issue replaced (None: removed); a new
    file each call."""
    data = json.loads((ROOT / "examples" / "issue-opened.json").read_text())
    for key, value in issue.items():
        if value is None:
            data["issue"].pop(key, None)
        else:
            data["issue"][key] = value
    path = tmp_path / f"payload-{len(list(tmp_path.glob('payload-*.json')))}.json"
    path.write_text(json.dumps(data))
    return path


def test_plan_json_on_a_webhook_payload_uses_created_at(tmp_path: Path) -> None:
    # The exam starts 2027-03-09 19:00 UTC; --now is 8 days before it. Short notice is
    # measured from when the issue was opened, not from --now.
    now = "2027-03-01T00:00:00Z"
    out = run("plan", "examples/issue-opened.json", "--now", now, "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # opened 2026-11-23, long before
    assert data["is_event_request"] and data["event_type"] == "exam"
    assert "short-notice" not in data["labels"] and data["errors"] == []
    late = payload_file(tmp_path, created_at="2027-02-28T12:00:00Z")
    data = json.loads(run("plan", str(late), "--now", now, "--format", "json").stdout)
    assert "short-notice" in data["labels"]
    # Opened after the start: "in the past", though --now is before the start.
    after = payload_file(tmp_path, created_at="2027-03-10T00:00:00Z")
    data = json.loads(run("plan", str(after), "--now", now, "--format", "json").stdout)
    assert {"field": "start", "message": "is in the past (before this issue was opened)"} in (
        data["errors"])


@pytest.mark.parametrize("created_at", [None, "", "last tuesday", "2026-02-30T15:04:05Z"])
def test_plan_without_a_valid_created_at_reads_it_as_now(tmp_path: Path,
                                                         created_at: str | None) -> None:
    path = payload_file(tmp_path, created_at=created_at)
    if created_at is None:
        assert "created_at" not in json.loads(path.read_text())["issue"]
    now = "2027-03-01T00:00:00Z"
    out = run("plan", str(path), "--now", now, "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= CONTRACT_KEYS and data["start"] == "2027-03-09T19:00:00Z"
    assert "short-notice" in data["labels"]  # opened at --now: 8 days before the start
    assert "created_at" in out.stderr and now in out.stderr
    text = run("plan", str(path), "--now", now)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("Note: ") and "created_at" in text.stdout.splitlines()[0]


def test_plan_reads_a_created_at_without_an_offset_as_utc(tmp_path: Path) -> None:
    """As the server does (GitHub's times are UTC): no note, and the time is used."""
    path = payload_file(tmp_path, created_at="2027-02-28T12:00:00")
    out = run("plan", str(path), "--now", "2027-02-01T00:00:00Z", "--format", "json")
    assert out.returncode == 0 and "created_at" not in out.stderr
    assert "short-notice" in json.loads(out.stdout)["labels"]  # opened 9 days before


def test_plan_gives_the_daily_hours_and_shows_the_sessions(tmp_path: Path) -> None:
    body = json.loads((ROOT / "examples" / "issue-opened.json").read_text())["issue"]["body"]
    body = (body.replace("2027-03-09 13:00", "March 9, 2027").replace("2027-03-09 16:15",
                                                                      "March 11, 2027")
            .replace("### Daily active hours\n\n_No response_",
                     "### Daily active hours\n\n9am – 1pm US/Pacific"))
    data = json.loads(run("plan", str(payload_file(tmp_path, body=body)), "--now", NOW,
                          "--format", "json").stdout)
    assert data["errors"] == []
    assert data["daily_hours"] == {"start": "09:00", "end": "13:00", "timezone": "US/Pacific"}
    assert data["start"] == "2027-03-09T17:00:00Z" and data["end"] == "2027-03-11T21:00:00Z"
    assert "| **Sessions** | 3 days, 09:00–13:00 US/Pacific each day |" in data["comment"]
    plain = json.loads(run("plan", "examples/issue-opened.json", "--now", NOW,
                           "--format", "json").stdout)
    assert plain["daily_hours"] is None and "**Sessions**" not in plain["comment"]


def test_plan_labels_and_assignees_are_the_bots_own(tmp_path: Path) -> None:
    """Both lists are what the bot decides; what people set stays on the issue, unlisted."""
    path = payload_file(tmp_path, labels=[{"name": "event-request"}, {"name": "help wanted"}],
                        assignees=[{"login": "zed"}])
    out = run("plan", str(path), "--now", NOW, "--format", "json")
    data = json.loads(out.stdout)
    assert "help wanted" not in data["labels"] and "zed" not in data["assignees"]
    assert data["assignees"] and "type: exam" in data["labels"]
    # Without a readable start the rotation assigns no one, whoever people assigned.
    broken = payload_file(tmp_path, body="### Start date and time\n\nsoon",
                          assignees=[{"login": "zed"}])
    data = json.loads(run("plan", str(broken), "--now", NOW, "--format", "json").stdout)
    assert data["start"] is None and data["assignees"] == []
    text = run("plan", str(path), "--now", NOW).stdout
    assert "kept:       labels help wanted; assignees zed" in text


@pytest.mark.parametrize(("start", "prewarm_repo", "reply"), [
    # Ten days away: three checklist items are already due, so the state records them
    # (``armed``, the outbox) and a catch-up reply lists them.
    ("2026-12-03 13:00", "", "Already due"),
    # Within the pre-warm lead time: the dispatch is recorded in the same status comment.
    ("2026-11-23 05:00", "jupyter-community/infra", "The event starts in"),
])
async def test_plan_shows_the_status_comment_and_replies_the_server_posts(
        fake_github: FakeGitHub, app_key: str, tmp_path: Path, start: str, prewarm_repo: str,
        reply: str) -> None:
    """`plan` and the server's first sync of the same payload write the same comments."""
    repo = "jupyter-community/event-requests"
    fake_github.add_installation(7001, "jupyter-community")
    fake_github.add_repo(repo, 7001)
    config = fast_config()
    # A slow answer under load would record the dispatch as failed; `plan` assumes success.
    config = replace(config, github=replace(config.github, timeout_seconds=30.0))
    config_file = tmp_path / "config.yaml"
    # The operator lists the hub; the champion is a writer, so the request is confirmed.
    config_file.write_text((ROOT / "config.yaml").read_text().replace(
        'repository: ""', f'repository: "{prewarm_repo}"').replace(
        "clusters: {}", "clusters: {stat101.hubs.example.org: hubs}"))
    if prewarm_repo:
        fake_github.add_repo(prewarm_repo, 7001)
        fake_github.set_workflows(prewarm_repo, ["scale-placeholders.yaml"])
        fake_github.set_permission(repo, "champion", "write")
        config = replace(config, prewarm=replace(config.prewarm, repository=prewarm_repo,
                                                 clusters={"stat101.hubs.example.org": "hubs"}))
    number = fake_github.add_issue(
        repo, labels=["event-request"], created_at="2026-11-23T09:00:00Z",
        body=exam_body(start=start, end=start[:11] + "16:00"))
    payload = issues_payload(fake_github, repo, number, "opened")
    path = tmp_path / "opened.json"
    path.write_text(json.dumps(payload))
    async with running_bot(fake_github, app_key, config=config, clock=Clock()) as bot:
        await bot.deliver("issues", payload)
        await bot.settle()
    posted = [c["body"] for c in fake_github.comments(repo, number)]
    [status] = [b for b in posted if MARKER in b]
    replies = [b for b in posted if MARKER not in b]
    assert any(reply in r for r in replies), replies
    assert len(fake_github.dispatches) == (1 if prewarm_repo else 0)
    assert all(r.ok for r in read_status(status).state.dispatches)

    now = Clock().now.isoformat()
    args = ("plan", str(path), "--now", now, "--config", str(config_file),
            *(("--author-confirms",) if prewarm_repo else ()))
    # Under the server's secret, so the state block is signed with the server's key.
    keyed = {**clean_env(), "GITHUB_WEBHOOK_SECRET": SECRET}
    data = json.loads(run(*args, "--format", "json", env=keyed).stdout)
    assert read_status(data["comment"]).state == read_status(status).state  # a readable diff
    assert data["comment"] == status
    text = run(*args, env=keyed).stdout
    assert status in text and all(r in text for r in replies)
    assert ("dispatch:   prewarm" in text) is bool(prewarm_repo)


def test_invalid_example_names_each_field() -> None:
    data = json.loads(run("plan", "examples/invalid.md", "--now", NOW, "--format",
                          "json").stdout)
    fields = {e["field"] for e in data["errors"]}
    assert {"hub_url", "start", "attendees", "tier"} <= fields
    assert data["sizing"] is None and data["checklist"] == [] and data["start"] is None
    # The end was readable on its own (2027-06-14 17:00 in America/Denver): shown, not null.
    assert "end" not in fields and data["end"] == "2027-06-14T23:00:00Z"
    assert data["assignees"] == []


def test_plan_text_and_a_missing_file() -> None:
    out = run("plan", "examples/exam.md", "--now", NOW)
    assert out.returncode == 0 and "Status comment" in out.stdout
    missing = run("plan", "examples/nope.md")
    assert missing.returncode == 1 and "nope.md" in missing.stderr


def test_check_config(tmp_path: Path) -> None:
    assert run("check-config", "config.yaml").returncode == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("notice_days: soon\noncall: {timezone: Mars/Base, engineers: [{}]}\n"
                   "tiers: {gold: {price_usd: 10}}\n")
    out = run("check-config", str(bad))
    assert out.returncode == 1
    lines = out.stdout.strip().splitlines()
    assert any("notice_days" in line for line in lines)
    assert any("Mars/Base" in line for line in lines)
    assert any("engineers[0]" in line for line in lines)
    # The form's tier options are checked against the config's tiers.
    assert any("gold" in line for line in lines)
    assert run("check-config", str(tmp_path / "missing.yaml")).returncode == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text("tiers: [unclosed\n")
    out = run("check-config", str(broken))
    assert out.returncode == 1 and "YAML" in out.stdout


@pytest.mark.parametrize("text, said", [
    ("notice_days: 30\n", ["ok"]),
    ("team_leads: [me]\ntiers: {gold: {price_usd: 0}}\nnotice_days: 30\n",
     ["team_leads: only the deployment's config.yaml sets this; ignored",
      "tiers: only the deployment's config.yaml sets this; ignored"]),
    ("policy_url: 'javascript:alert(1)'\n",
     ["refused: .github/event-bot.yml: policy_url: 'javascript:alert(1)' is not an https:// "
      "URL"]),
    ("a: &a [1, 2]\nb: *a\n", ["refused: .github/event-bot.yml:1: uses an anchor"]),
    pytest.param("notice_days: 3\n" + "#" * 70 * 1024 + "\n",
                 ["refused: .github/event-bot.yml: is 71696 bytes; at most 65536 (64 KiB) "
                  "are read"], id="70-KiB"),
])
def test_check_config_checks_a_repository_file(tmp_path: Path, text: str,
                                               said: list[str]) -> None:
    repo_file = tmp_path / "event-bot.yml"
    repo_file.write_text(text)
    out = run("check-config", "config.yaml", "--repo-file", str(repo_file))
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len(said)
    for line, expected in zip(lines, said, strict=True):
        assert line.startswith(f"{repo_file}: ") and expected in line
    assert out.returncode == (0 if said == ["ok"] else 1)


def test_serve_refuses_to_start_without_credentials() -> None:
    out = run("serve", "--port", "0")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "GITHUB_WEBHOOK_SECRET" in out.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_dry_run_takes_webhooks_and_stops_on_sigterm() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--dry-run", "--port",
                             str(port)], cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = json.loads(r.read())
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert health["status"] == "ok" and health["queue_depth"] == 0
        payload = json.loads((ROOT / "examples" / "issue-opened.json").read_text())
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhook", data=json.dumps(payload).encode(),
            headers={"X-GitHub-Event": "issues", "X-GitHub-Delivery": "dry-1",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 202
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "would" in out  # each write it would make is logged, none made
