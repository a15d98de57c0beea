"""The hostile corpus (``corpus.json``, ``files/``) and what SPEC says happens to each string.

Every test under ``tests/hostile`` takes its inputs from here, so a string added to the corpus is tried
through import, every page and every export at once.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
MAX_OUTCOME_ID = 200  # app.domain.ingest_rows.MAX_OUTCOME_ID


@dataclass(frozen=True)
class Item:
    kind: str
    name: str
    text: str

    def __str__(self) -> str:  # pytest ids
        return f"{self.kind}:{self.name}"


def load() -> list[Item]:
    data = json.loads((HERE / "corpus.json").read_text(encoding="utf-8"))
    return [Item(i["kind"], i["name"], i["text"]) for i in data["items"]]


ITEMS = load()


def has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def as_outcome_id(text: str) -> tuple[str | None, str | None]:
    """``(stored, None)`` for an acceptable outcome id, or ``(None, why)`` for one an import refuses.

    SPEC/README: an id is trimmed (Python's ``str.strip``: Unicode white space), must not be empty,
    has at most 200 characters and no control character. Everything else is stored as it is.
    """
    stored = text.strip()
    if not stored:
        return None, "empty"
    if len(stored) > MAX_OUTCOME_ID:
        return None, "characters"
    if has_control(stored):
        return None, "control character"
    return stored, None


def syntax_bearing(min_len: int = 4) -> list[Item]:
    """Items whose text would be interpreted by Markdown, HTML or Streamlit if shown raw."""
    triggers = set("*_[]<>&~$|:#`\\")
    return [i for i in ITEMS if len(i.text.strip()) >= min_len and triggers & set(i.text)]
