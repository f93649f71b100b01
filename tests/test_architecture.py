"""The pure core does no I/O: it imports nothing of the shell and awaits nothing.

DESIGN.md's split (parse, classify, size, schedule, plan, render in a pure core; the
GitHub client, server and scheduler in a thin shell) kept by a test, so a shortcut
through the core fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

PURE = ("forms", "dates", "request", "sizing", "oncall", "checklist", "status", "render",
        "text", "plan", "lifecycle", "outbox", "commands", "prewarm", "pacing", "model",
        "form_check", "mentions")
# Libraries and modules that talk to the network, the clock's sleep, or processes; and
# the shell's own modules.
FORBIDDEN = {"aiohttp", "asyncio", "gidgethub", "socket", "subprocess", "requests",
             "urllib.request", "http", "bot.github", "bot.app", "bot.server", "bot.apply",
             "bot.scheduler", "bot.dispatching", "bot.commanding", "bot.handback",
             "bot.serve", "bot.repo_config", "bot.labels_sync", "bot.report"}


def imports_of(module: str) -> set[str]:
    tree = ast.parse((BOT / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from .github import X -> bot.github
                base = "bot" + (f".{base}" if base else "")
                found.update(f"{base}.{alias.name}" if not node.module else base
                             for alias in node.names)
            else:
                found.add(base)
    return found


def forbidden_in(names: set[str]) -> list[str]:
    return sorted(n for n in names
                  if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))


@pytest.mark.parametrize("module", PURE)
def test_a_core_module_imports_nothing_of_the_shell(module: str) -> None:
    assert forbidden_in(imports_of(module)) == []


@pytest.mark.parametrize("module", PURE)
def test_a_core_module_has_no_coroutines(module: str) -> None:
    tree = ast.parse((BOT / f"{module}.py").read_text(encoding="utf-8"))
    coroutines = [n.name for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef)]
    assert coroutines == []


def test_the_check_itself_sees_shell_imports() -> None:
    assert forbidden_in(imports_of("handback")) != []  # it imports asyncio
    assert forbidden_in({"bot.github", "aiohttp.web", "bot.text"}) == ["aiohttp.web",
                                                                      "bot.github"]
