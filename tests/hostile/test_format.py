"""app.ui.format's user-text helpers against every corpus string: inert, and nothing lost."""

from __future__ import annotations

import html
import unicodedata

import pytest

from app.ui import format as fmt
from tests.hostile.corpus import ITEMS, syntax_bearing
from tests.hostile.markdown_check import WJ, shown, triggers


def test_the_checker_sees_raw_markdown():
    # The page tests rely on this checker: it must flag what Streamlit would render.
    flagged = [i for i in syntax_bearing() if triggers(i.text)]
    assert len(flagged) == len(syntax_bearing())
    for raw in ("**bold**", "[x](javascript:alert(1))", ":red[x]", "a -> b", "# h", "1. x", "www.x.com", "<b>", "$x$"):
        assert triggers(raw), raw
    assert triggers(html.escape("**bold**"))  # HTML escaping alone does not stop Markdown


@pytest.mark.parametrize("item", ITEMS, ids=str)
def test_text_is_inert_and_shows_the_same_characters(item):
    out = fmt.text(item.text)
    assert triggers(out) == [], (item, out)
    assert shown(out) == fmt.plain(item.text).replace(WJ, "")


BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _as_shown(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    if unicodedata.category(ch) in ("Cc", "Cs"):
        return "\ufffd"
    return "" if ch in BIDI else ch


@pytest.mark.parametrize("item", ITEMS, ids=str)
def test_plain_keeps_every_visible_character(item):
    out = fmt.plain(item.text)
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in out)
    assert not set(out) & BIDI
    assert out == "".join(_as_shown(ch) for ch in item.text)


def test_control_characters_become_visible_symbols():
    assert fmt.plain("a\x00b\nc\x7fd\x85") == "a\u2400b\u240ac\u2421d\ufffd"
    assert fmt.plain("abc\u202egnp.exe") == "abcgnp.exe"
    assert fmt.plain("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"
    assert fmt.plain(None) == ""


@pytest.mark.parametrize("item", ITEMS, ids=str)
def test_chart_text_is_inert_for_plotly(item):
    out = fmt.chart_text(item.text)
    assert "<" not in out and ">" not in out and "%{" not in out
    assert html.unescape(out) == fmt.plain(item.text)


def test_plain_text_stays_readable():
    # Ids, file names and messages keep their look in the page source (and in AppTest values).
    assert fmt.text("T-1042") == "T-1042"
    assert fmt.text("outcomes.csv") == "outcomes.csv"
    assert fmt.text("the job's name must not be empty") == "the job&#39;s name must not be empty"
