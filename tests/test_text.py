"""People's text put into the bot's comments cannot ping, inject markup or forge state."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.core import text


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


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("a`b", "``a`b``"),
        ("``x``", "``` ``x`` ```"),  # a backtick at either end: padded, as GitHub strips one
        (" a ", "`a`"),
        ("**bold** https://evil.example @someone", "`**bold** https://evil.example @someone`"),
        ("two\nlines", "`two lines`"),
        ("\x1b", ""), ("\u202e \x00", ""),  # nothing printable: nothing to show, no crash
    ],
)
def test_code_is_one_span_that_text_cannot_end(written: str, shown: str) -> None:
    assert text.code(written) == shown


# What a champion might write to make an error message link, shout, ping or break out.
HOSTILE = [
    "**bold** and _em_", "https://evil.example/login", "@someone and @org/team", "a`b",
    "`", "``x``", "` a `", "x ``` y ` z ````", "[link](https://evil.example)",
    "![img](https://evil.example/x.png)", "<img src=x onerror=alert(1)>", "<b>hi</b>",
    "line one\n\nline two\r\n- [x] item", "\\`escaped\\`", "x" * 500, "  ` padded `  ",
    "&amp; &#64;someone", "~~strike~~ <https://evil.example>",
]


@pytest.mark.parametrize("written", HOSTILE)
def test_quoted_text_renders_as_one_code_span_holding_it(written: str) -> None:
    """A CommonMark parser reads the quote back as one code span of the text, flattened."""
    shown = text.quote(written)
    [paragraph] = [t for t in MarkdownIt("commonmark").parse(f"Got {shown} here")
                   if t.type == "inline"]
    kinds = [t.type for t in paragraph.children or []]
    assert kinds == ["text", "code_inline", "text"], (shown, kinds)
    content = (paragraph.children or [])[1].content
    flat = " ".join(written.split())
    if len(flat) > 80:
        assert content == flat[:79] + "…"
    else:
        assert content == flat


@given(st.text(max_size=300))
def test_quoted_text_is_always_one_code_span(written: str) -> None:
    shown = text.quote(written)
    tokens = MarkdownIt("commonmark").parseInline(f"Got {shown} here")[0].children or []
    assert [t.type for t in tokens] == ["text", "code_inline", "text"] or shown == '""', shown
    assert "\n" not in shown and "<!--" not in shown and len(shown) < 200


@pytest.mark.parametrize("written", ["\u202e", "\u202e\u202c", "\x00", " \t "])
def test_text_with_nothing_printable_is_shown_as_nothing(written: str) -> None:
    assert text.code(written) == ""
