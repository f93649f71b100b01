"""People's text put into the bot's comments cannot ping, inject markup or forge state."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import text


@pytest.mark.parametrize(
    "raw",
    ["@everyone", "hi @org/team", "x\n- [x] fake item <!-- item:debrief -->",
     "<!-- event-support-bot:state e30= -->", "**bold** [link](http://x) `code`",
     "\u202eevil", "a\r\nb"],
)
def test_inline_is_inert(raw: str) -> None:
    out = text.inline(raw)
    assert "\n" not in out and "\r" not in out
    assert "@e" not in out and "@o" not in out
    assert "<!--" not in out and "-->" not in out.replace("\\>", "")
    assert "\u202e" not in out


@given(st.text(max_size=500))
def test_inline_never_breaks_lines_or_mentions(raw: str) -> None:
    out = text.inline(raw, 200)
    assert "\n" not in out
    assert "<!--" not in out
    assert len(out) <= 200 * 2 + 2  # escaping at most doubles


@pytest.mark.parametrize(("login", "expected"), [
    ("alice", "@alice"), ("@bob", "@bob"), ("a-b-c", "@a-b-c"), ("bad login!", "bad login\\!"),
    ("everyone here", "everyone here"),
])
def test_mention(login: str, expected: str) -> None:
    assert text.mention(login) == expected


def test_code_cannot_escape_backticks() -> None:
    assert text.code("a`b") == "`a'b`"
