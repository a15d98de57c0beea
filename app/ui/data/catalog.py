"""What ships with Overseer rather than lives in the database: job templates, sample files, demo scenarios."""

from __future__ import annotations

from app.core.config import DATA_DIR
from app.domain.templates import TEMPLATES
from app.store.demo import SCENARIOS, Scenario


def templates() -> dict[str, str]:
    """Every job template, slug → name."""
    return {slug: t.name for slug, t in TEMPLATES.items()}


def sample_files() -> dict[str, bytes]:
    """The sample import files shipped under ``data/samples`` (name → content), if any."""
    found = {}
    for name in ("outcomes.csv", "outcomes.jsonl"):
        path = DATA_DIR / "samples" / name
        if path.is_file():
            found[name] = path.read_bytes()
    return found


def demo_scenarios() -> list[Scenario]:
    """The demo's accounts, in the order the Demo page shows them."""
    return list(SCENARIOS)
