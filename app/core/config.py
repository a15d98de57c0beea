"""Runtime settings, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
DEFAULT_SQLITE_PATH = DATA_DIR / "overseer.db"


def database_url() -> str:
    """Return the database URL: ``DATABASE_URL`` or the embedded SQLite file under ``data/``."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        # Heroku-style URLs name the dialect "postgres"; SQLAlchemy needs the driver spelled out.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"
