"""Runtime settings, read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

from app.domain.errors import OverseerError

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
DEFAULT_SQLITE_PATH = DATA_DIR / "overseer.db"


class SettingError(OverseerError):
    """An environment setting cannot be used; the message names it and says what to do."""


def database_url() -> str:
    """Return the database URL: ``DATABASE_URL`` or the embedded SQLite file under ``data/``.

    Raises
    ------
    SettingError
        ``DATABASE_URL`` holds bytes that are not UTF-8, or a control character.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 arrive as lone surrogates
        raise SettingError("DATABASE_URL is not valid UTF-8: set it again, percent-encoding any special character") from None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise SettingError("DATABASE_URL holds a control character: set it again, percent-encoding any special character")
    if url:
        # Heroku-style URLs name the dialect "postgres"; SQLAlchemy needs the driver spelled out.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


DEFAULT_MAX_IMPORT_MB = 200
MAX_IMPORT_MB_LIMIT = 1_000_000


def max_import_mb() -> int:
    """The largest file an import accepts, in MB: ``OVERSEER_MAX_IMPORT_MB`` (a whole number 1..1,000,000), else 200.

    One setting for the Import page's uploader and for ``overseer ingest``; an unusable
    value falls back to the default rather than lifting the limit.
    """
    text = os.environ.get("OVERSEER_MAX_IMPORT_MB", "").strip()
    # ASCII digits only (int() also reads "١٠" and "1_0"), and no more than a terabyte.
    if not (text.isascii() and text.isdigit() and len(text) <= 7):
        return DEFAULT_MAX_IMPORT_MB
    value = int(text)
    return value if 1 <= value <= MAX_IMPORT_MB_LIMIT else DEFAULT_MAX_IMPORT_MB


def public_url() -> str | None:
    """The address people open Overseer at, for links it shares: ``OVERSEER_PUBLIC_URL``, or None when unset.

    Raises
    ------
    SettingError
        A value that is not an ``http://`` or ``https://`` address with a host, or holds a
        control character or white space: shared links would not open.
    """
    text = os.environ.get("OVERSEER_PUBLIC_URL", "").strip()
    if not text:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(text) if text.isprintable() and " " not in text else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingError(
            "OVERSEER_PUBLIC_URL must be the address people open Overseer at, such as https://overseer.example.com "
            f"(http or https, no query); got {text[:200]!r}"
        )
    return text.rstrip("/")


def api_rate() -> tuple[float, int]:
    """Requests per second and burst allowed to one API key: ``OVERSEER_API_RATE`` and ``OVERSEER_API_BURST``.

    Default 20 requests a second with bursts of 40. Each must be a whole number from 1 to
    100,000; another value means the default (as for the import limit, never "no limit").
    """
    def whole(name: str, default: int) -> int:
        text = os.environ.get(name, "").strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 6) or not 1 <= int(text) <= 100_000:
            return default
        return int(text)

    return float(whole("OVERSEER_API_RATE", 20)), whole("OVERSEER_API_BURST", 40)
