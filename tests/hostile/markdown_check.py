"""An independent check that a piece of Markdown source cannot render as anything but text.

Written from the syntax side (CommonMark, GFM, Streamlit's directives and text replacements), not from
app.ui.format, so it can catch that helper letting something through.
"""

from __future__ import annotations

import html
import re

WJ = "\u2060"
_REFERENCE = re.compile(r"&#\d+;")
# Characters that open inline or block syntax wherever they are in the source.
_ANYWHERE = re.compile(r"[*_`\[\]<>~$|\\#\"'@&]")
_AT_START = re.compile(r"^([ \t]|[!-/:-@\[-`{-~]|\d+[.)])")
_AUTOLINK = re.compile(r"(?i)\bwww\.|[a-z]+:/")
# Streamlit's text-level replacements, which run on the decoded text.
_DECODED = [
    re.compile(r":[A-Za-z_+\-]"),  # :red[…], :material/x:, :material_x:, :streamlit:, :smile:, :+1:
    re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
    re.compile(r"\$"),
]


def triggers(source: str) -> list[str]:
    """What in ``source`` (user text as put into Markdown) could render as syntax; empty when it is inert."""
    found = []
    stripped = _REFERENCE.sub("", source)
    found += [f"literal {m.group()!r}" for m in _ANYWHERE.finditer(stripped)]
    if _AT_START.match(source) and not source.startswith("&#"):
        found.append(f"starts with {source[:3]!r}")
    found += [f"autolink {m.group()!r}" for m in _AUTOLINK.finditer(stripped)]
    if "\n" in source or "\r" in source:
        found.append("line break")
    decoded = html.unescape(source)
    for pattern in _DECODED:
        if pattern is _DECODED[2]:
            if "$" in stripped:
                found.append("literal '$'")
            continue
        found += [f"replacement {m.group()!r}" for m in pattern.finditer(decoded)]
    return found


def shown(source: str) -> str:
    """The text a reader sees for an inert ``source``: references decoded, word joiners invisible."""
    return html.unescape(source).replace(WJ, "")
