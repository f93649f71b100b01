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
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T10:00:00Z"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=60, env=env or clean_env())


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "BOT_", "DASHBOARD_"))}


CONTRACT_KEYS = {"is_event_request", "event_type", "tier", "start", "end", "timezone",
                 "attendees", "labels", "assignees", "errors", "sizing", "checklist", "comment"}


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "examples").glob("*.md")))
def test_plan_json_on_every_example(example: str) -> None:
    out = run("plan", f"examples/{example}", "--now", NOW, "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= CONTRACT_KEYS
    assert data["is_event_request"] is True
    if data["errors"]:
        assert "needs-info" in data["labels"]
        assert data["assignees"] == [] or data["start"] is not None
        for err in data["errors"]:
            assert set(err) == {"field", "message"} and err["message"]
    else:
        assert data["start"].endswith(("Z", "+00:00")) and data["sizing"]["nodes"] >= 1
        assert all(item["due"].endswith(("Z", "+00:00")) for item in data["checklist"])
        assert data["assignees"]


def test_plan_json_on_a_webhook_payload_uses_created_at() -> None:
    out = run("plan", "examples/issue-opened.json", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["is_event_request"] and data["event_type"] == "exam"


def test_invalid_example_names_each_field() -> None:
    data = json.loads(run("plan", "examples/invalid.md", "--now", NOW, "--format",
                          "json").stdout)
    fields = {e["field"] for e in data["errors"]}
    assert {"hub_url", "start", "attendees", "tier"} <= fields
    assert data["sizing"] is None and data["checklist"] == [] and data["start"] is None


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
