"""check-config for a first deployment: what would otherwise be found in production."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli_check import check_config
from bot.core.config import parse_config
from bot.core.deploy_check import rotation_problems

from .fakegithub import FakeGitHub

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 12, 4)


def away(*spans: tuple[str, str]) -> list[dict[str, str]]:
    return [{"from": a, "to": b} for a, b in spans]


@pytest.mark.parametrize(("engineers", "words"), [
    (None, "nobody is on the rotation"),
    ([{"login": "a", "away": away(("2026-12-01", "2027-01-31"))},
      {"login": "b", "away": away(("2026-11-01", "2026-12-31"))}],
     "away for the next 21 days"),
    ([{"login": "a", "away": away(("2026-12-10", "2026-12-12"))},
      {"login": "b", "away": away(("2026-12-11", "2026-12-20"))}],
     "away on 2026-12-11 to 2026-12-12"),
    ([{"login": "a", "away": away(("2026-12-10", "2026-12-12"))}, "b"], None),
    ([{"login": "a", "away": away(("2027-02-01", "2027-02-12"))}], None),  # after 21 days
])
def test_the_rotation_is_checked_for_the_coming_weeks(engineers: Any, words: str | None
                                                      ) -> None:
    raw = {"oncall": {"engineers": engineers}} if engineers is not None else {}
    problems = rotation_problems(parse_config(raw), TODAY)
    if words is None:
        assert problems == []
    else:
        [line] = problems
        assert line.startswith("oncall.engineers: ") and words in line, line


def write_config(tmp_path: Path, **changes: Any) -> Path:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw.update(changes)
    raw["form"] = str(ROOT / "issue_templates" / "event-request.yml")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(("changes", "lines"), [
    ({}, []),
    ({"oncall": {"start": "2026-01-07", "timezone": "UTC"}}, ["oncall.engineers: nobody"]),
    ({"tiers": {"standard": {"requires_approval": False},
                "enhanced": {"price_usd": 500}, "premium": {"price_per_hour_usd": 90}}},
     ["tiers.standard: offered by event-request.yml but has no price"]),
])
def test_check_config_names_each_first_deployment_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, Any],
        lines: list[str]) -> None:
    code = check_config(str(write_config(tmp_path, **changes)), None, env={}, today=TODAY)
    out = capsys.readouterr().out.splitlines()
    assert code == (1 if lines else 0), out
    if lines:
        assert len(out) == len(lines)
        assert all(o.startswith(want) for o, want in zip(out, lines, strict=True)), out


@pytest.mark.parametrize(("installed", "workflows", "words"), [
    (False, [], "prewarm.repository: the App is not installed on 2i2c-org/infrastructure"),
    (True, ["deploy-hubs.yaml"], "prewarm.workflow: 'scale-placeholders.yaml' does not exist"),
    (True, ["scale-placeholders.yaml"], None),
])
async def test_check_config_checks_the_prewarm_repository_and_workflow(
        fake_github: FakeGitHub, app_env: dict[str, str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str], installed: bool, workflows: list[str],
        words: str | None) -> None:
    repo = "2i2c-org/infrastructure"
    if installed:
        fake_github.add_installation(8001, "2i2c-org")
        fake_github.add_repo(repo, 8001)
        fake_github.set_workflows(repo, workflows)
    path = write_config(tmp_path, prewarm={"repository": repo,
                                           "workflow": "scale-placeholders.yaml"})
    code = await asyncio.to_thread(check_config, str(path), None, app_env, TODAY)
    out = capsys.readouterr().out
    if words is None:
        assert code == 0 and "ok" in out, out
    else:
        assert code == 1 and words in out, out
        assert "GitHub App: the permissions" not in out  # the problems come first
