"""The pure core awaits nothing and opens no URLs.

Which package may import which (the core imports nothing of the shell, no network,
sockets or processes) is import-linter's, in pyproject.toml; it sees imports, not
coroutines, and only whole external packages, so these two rules stay tests.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
# The core, and the GitHub client's pacing arithmetic (it reads no clock, sleeps on nothing).
PURE = sorted([*(BOT / "core").glob("*.py"), BOT / "github" / "pacing.py"])


def coroutines_in(source: str) -> list[str]:
    tree = ast.parse(source)
    return [n.name for n in ast.walk(tree) if isinstance(n, ast.AsyncFunctionDef)]


def opens_urls(source: str) -> bool:
    """import-linter forbids only whole external packages, and the core parses URLs with
    ``urllib.parse``: ``urllib.request`` is checked here."""
    for n in ast.walk(ast.parse(source)):
        names = ([a.name for a in n.names] if isinstance(n, ast.Import)
                 else [n.module or ""] if isinstance(n, ast.ImportFrom) else [])
        if any(x == "urllib.request" or x.startswith("urllib.request.") for x in names):
            return True
        if isinstance(n, ast.ImportFrom) and n.module == "urllib" and any(
                a.name == "request" for a in n.names):
            return True
    return False


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.stem)
def test_a_pure_module_has_no_coroutines(path: Path) -> None:
    assert coroutines_in(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", PURE, ids=lambda p: p.stem)
def test_a_pure_module_opens_no_urls(path: Path) -> None:
    assert not opens_urls(path.read_text(encoding="utf-8"))


def test_the_check_itself_sees_coroutines() -> None:
    assert len(PURE) > 10  # the glob found the core
    assert coroutines_in("async def fetch() -> None:\n    pass\n") == ["fetch"]
    assert opens_urls("import urllib.request") and opens_urls("from urllib import request")
    assert not opens_urls("from urllib.parse import urlsplit")
