"""Start-up and run-time failures of serve, clock and tick: one ``error:`` line, a clear exit.

Bad settings (an App id that is not a number, a key that does not parse, a ``PORT`` that
is not a port) exit 2 before anything starts, like missing credentials; a failure at run
time (GitHub unreachable for ``tick``, the port taken) exits 1; ``clock`` lives through a
failed pass. Also what keeps a deploy to one scheduler (the Procfile and the README's
deploy section) and what ``.ci/run`` installs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import bot.service.serve
import bot.wiring
from bot.cli import build_parser

from .test_cli import ROOT, clean_env, run


def closed_url() -> str:
    """A loopback URL nothing listens on: GitHub unreachable, refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def fast_config(tmp_path: Path) -> Path:
    """The shipped config with one quick retry, so a dead GitHub fails in milliseconds."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["github"] = {"timeout_seconds": 3, "retries": 1, "backoff_base_seconds": 0.01,
                     "backoff_max_seconds": 0.05}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.fixture
def unreachable_env(app_key: str, fast_config: Path) -> dict[str, str]:
    return {**clean_env(), "GITHUB_APP_ID": "4242", "GITHUB_PRIVATE_KEY": app_key,
            "GITHUB_WEBHOOK_SECRET": "s3cret-value", "GITHUB_API_URL": closed_url(),
            "BOT_CONFIG": str(fast_config)}


def error_lines(out: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in out.stdout + out.stderr, out.stdout + out.stderr
    return [line for line in out.stderr.splitlines() if line.startswith("error:")]


# --- run-time failures: exit 1, one line ------------------------------------


def test_tick_with_github_unreachable_says_so_in_one_line(
        unreachable_env: dict[str, str]) -> None:
    out = run("tick", env=unreachable_env)
    assert out.returncode == 1, out.stderr
    lines = error_lines(out)
    assert len(lines) == 1, out.stderr
    assert unreachable_env["GITHUB_API_URL"] in lines[0] and "tick" in lines[0]


def test_serve_on_a_port_in_use_says_so_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = run("serve", "--dry-run", "--port", str(port))
    assert out.returncode == 1, out.stderr
    lines = error_lines(out)
    assert len(lines) == 1, out.stderr
    assert str(port) in lines[0] and "in use" in lines[0].lower()


def test_clock_keeps_running_through_a_failed_pass(unreachable_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    log = tmp_path / "clock.log"
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "clock"], cwd=ROOT,
                                env=unreachable_env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "scheduler pass failed" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(1.0)
        assert proc.poll() is None, log.read_text()  # still looping, to try again
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "clock stopped" in log.read_text()


# --- bad settings: exit 2, one line, before anything starts -----------------


@pytest.mark.parametrize(("env_port", "arg"), [("abc", None), ("80x", None), ("70000", None),
                                               (None, "70000"), (None, "-1")])
def test_serve_refuses_a_port_that_is_not_a_port(env_port: str | None,
                                                 arg: str | None) -> None:
    env = clean_env()
    env.pop("PORT", None)
    if env_port is not None:
        env["PORT"] = env_port
    out = run("serve", "--dry-run", *(["--port", arg] if arg is not None else []), env=env)
    assert out.returncode == 2, out.stderr
    lines = error_lines(out)
    assert len(lines) == 1, out.stderr
    assert ("PORT" if env_port is not None else "--port") in lines[0]


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs: no logging set-up, the repository as cwd, no server or scheduler."""
    monkeypatch.setattr(bot.service.serve, "setup_logging", lambda *a, **k: None)
    monkeypatch.setattr(bot.wiring, "setup_logging", lambda *a, **k: None)
    monkeypatch.chdir(ROOT)

    def started(*args: object, **kwargs: object) -> None:
        pytest.fail("serve started although its settings are unusable")

    async def scheduled(*args: object, **kwargs: object) -> int:
        pytest.fail("the scheduler started although its settings are unusable")

    monkeypatch.setattr(bot.wiring.web, "run_app", started)
    monkeypatch.setattr(bot.service.serve, "_run_scheduler", scheduled)


def bad_setting(command: str, env: dict[str, str], config: Path) -> int:
    if command == "serve":
        args = build_parser().parse_args(["serve", "--port", "0", "--config", str(config)])
        return bot.wiring.serve(args, env)
    runner = bot.service.serve.tick if command == "tick" else bot.service.serve.clock
    return runner(argparse.Namespace(config=str(config)), env)


@pytest.mark.parametrize("command", ["serve", "tick", "clock"])
@pytest.mark.parametrize("app_id", ["abc", "0", "-3", "1.5", "12ab", "4242 x", "١٢"])
def test_an_app_id_that_is_not_a_whole_positive_number_is_refused(
        quiet: None, capsys: pytest.CaptureFixture[str], unreachable_env: dict[str, str],
        fast_config: Path, command: str, app_id: str) -> None:
    env = {**unreachable_env, "GITHUB_APP_ID": app_id}
    assert bad_setting(command, env, fast_config) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: GITHUB_APP_ID")
    assert "PRIVATE KEY" not in err and "s3cret-value" not in err


@pytest.mark.parametrize("command", ["serve", "tick", "clock"])
@pytest.mark.parametrize(("name", "value", "named"), [
    ("GITHUB_APP_ID", "   ", "GITHUB_APP_ID"),
    ("GITHUB_PRIVATE_KEY", "not a key at all", "GITHUB_PRIVATE_KEY"),
    ("GITHUB_API_URL", "not a url", "GITHUB_API_URL"),
    ("GITHUB_API_URL", "http://[::1", "GITHUB_API_URL"),
])
def test_other_unusable_settings_are_refused_at_start_up(
        quiet: None, capsys: pytest.CaptureFixture[str], unreachable_env: dict[str, str],
        fast_config: Path, command: str, name: str, value: str, named: str) -> None:
    env = {**unreachable_env, name: value}
    assert bad_setting(command, env, fast_config) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error:") and named in err


def test_a_whole_app_id_with_spaces_around_is_accepted(app_key: str) -> None:
    creds = bot.service.serve._credentials({"GITHUB_APP_ID": " 4242 ",
                                            "GITHUB_PRIVATE_KEY": app_key})
    assert creds is not None and creds.app_id == "4242"


# --- one scheduler per deploy -------------------------------------------------

_PROCESS = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+?)\s*$")


def processes(text: str) -> dict[str, str]:
    """Procfile lines: process type -> command (comments and blank lines skipped)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _PROCESS.match(line)
        if match and not line.lstrip().startswith("#"):
            found[match[1]] = match[2]
    return found


def schedulers(procs: dict[str, str]) -> int:
    """How many schedulers run with one process of each declared type."""
    count = 0
    for command in procs.values():
        words = command.split()
        sub = words[3] if words[:3] == ["python", "-m", "bot"] and len(words) > 3 else None
        if sub == "clock" or (sub == "serve" and "--no-scheduler" not in words):
            count += 1
    return count


def test_the_shipped_procfile_runs_exactly_one_scheduler() -> None:
    procs = processes((ROOT / "Procfile").read_text(encoding="utf-8"))
    assert procs.get("web", "").split()[:4] == ["python", "-m", "bot", "serve"], procs
    assert schedulers(procs) == 1, procs
    if "clock" in procs:
        assert "--no-scheduler" in procs["web"].split(), procs


def test_the_readme_deploy_section_agrees() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    shipped = (ROOT / "Procfile").read_text(encoding="utf-8").strip()
    assert f"`Procfile` (`{shipped}`)" in section
    blocks = re.findall(r"```[a-z]*\n(.*?)```", section, re.DOTALL)
    scaled = [processes(b) for b in blocks if "clock:" in b]
    assert scaled, "the deploy section shows the web + clock Procfile"
    for procs in scaled:
        assert schedulers(procs) == 1 and "--no-scheduler" in procs["web"].split(), procs


@pytest.mark.parametrize(("text", "count"), [
    ("web: python -m bot serve\nclock: python -m bot clock\n", 2),
    ("web: python -m bot serve --no-scheduler\nclock: python -m bot clock\n", 1),
    ("web: python -m bot serve\n# clock: python -m bot clock\n", 1),
])
def test_schedulers_counts_what_a_procfile_runs(text: str, count: int) -> None:
    assert schedulers(processes(text)) == count


# --- .ci/run installs what the tests need -------------------------------------


def stub(directory: Path, name: str, body: str = "exit 0") -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


@pytest.mark.parametrize(("present", "installed"), [
    ({"chromium", "redis-server"}, ["nodejs", "npm"]),
    ({"npm", "redis-server"}, ["chromium"]),
    ({"chromium", "npm"}, ["redis-server"]),
    (set(), ["chromium", "nodejs", "npm", "redis-server"]),
    ({"chromium", "npm", "redis-server"}, None),
])
def test_ci_installs_the_missing_system_packages_once(tmp_path: Path, present: set[str],
                                                      installed: list[str] | None) -> None:
    bash, dirname = shutil.which("bash"), shutil.which("dirname")
    assert bash and dirname
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt_log = tmp_path / "apt.log"
    # Only stubs on PATH: CI runs as root with apt-get; nothing here installs or tests.
    (bin_dir / "dirname").symlink_to(dirname)
    stub(bin_dir, "id", "echo 0")
    stub(bin_dir, "apt-get", f'echo "$*" >> "{apt_log}"')
    for name in ("python", "bash", "ruff", "mypy", "lint-imports", *present):
        stub(bin_dir, name)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "CI": "true"}
    out = subprocess.run([bash, str(ROOT / ".ci" / "run")], env=env, text=True,
                         capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    calls = apt_log.read_text().splitlines() if apt_log.exists() else []
    if installed is None:
        assert calls == []
        return
    assert [c for c in calls if c.startswith("update")] == ["update -qq"], calls
    install = [c.split() for c in calls if c.startswith("install")]
    assert len(install) == 1, calls
    assert sorted(w for w in install[0] if not w.startswith("-") and w != "install") \
        == installed
