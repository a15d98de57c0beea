"""The one "now" of Overseer: the real UTC time, or ``OVERSEER_NOW`` when it is set.

Every moment Overseer records (review and import times, audit entries, closing
times) and every "as of now" figure reads :func:`now`, so a demo or a test that
sets ``OVERSEER_NOW`` runs entirely at its own moment, pages, command line and
store alike.

An ``OVERSEER_NOW`` that cannot be read is an error, never a silent fallback to
the real time: a demo that believes it runs on 1 March while it runs today would
show figures nobody can explain.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from app.domain.errors import OverseerError

ENV = "OVERSEER_NOW"
# The years every date of Overseer lives in (imports refuse others); a "now" outside them would
# put months, windows and day ends past what dates can hold.
FIRST_YEAR = 1970
LAST_YEAR = 2100


class ClockError(OverseerError):
    """``OVERSEER_NOW`` is set but is not a usable moment."""


def parse_moment(text: str, what: str = ENV) -> datetime:
    """The moment ``text`` names, as an aware UTC datetime between 1970 and 2100.

    Parameters
    ----------
    text : str
        ISO 8601, e.g. ``2026-11-24T12:00:00Z``; a time without an offset is UTC,
        a date alone is its midnight.
    what : str
        What ``text`` is, for the message (``OVERSEER_NOW``, ``--as-of``).

    Raises
    ------
    ClockError
        When ``text`` is not ISO 8601 or lies outside :data:`FIRST_YEAR`–:data:`LAST_YEAR`.
    """
    stripped = text.strip()
    shown = repr(stripped) if len(stripped) <= 60 else f"{stripped[:60]!r}…"
    try:
        moment = datetime.fromisoformat(stripped.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ClockError(f"{what} must be an ISO 8601 time such as 2026-11-24T12:00:00Z, got {shown}") from None
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
    try:
        moment = moment.astimezone(timezone.utc)
    except OverflowError:
        moment = None
    if moment is None or not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ClockError(f"{what} must lie between {FIRST_YEAR} and {LAST_YEAR}, got {shown}")
    return moment


def parse_now(text: str) -> datetime:
    """The moment ``OVERSEER_NOW``'s ``text`` names; see :func:`parse_moment`.

    Raises
    ------
    ClockError
        When ``text`` is not ISO 8601 or lies outside 1970–2100.
    """
    return parse_moment(text, ENV)


def check_year(year: int, what: str) -> int:
    """``year`` if it lies within :data:`FIRST_YEAR`–:data:`LAST_YEAR`, else :class:`ClockError` naming ``what``."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ClockError(f"{what} must lie between {FIRST_YEAR} and {LAST_YEAR}, got the year {year}")
    return year


def now() -> datetime:
    """The current moment (aware, UTC): ``OVERSEER_NOW`` when set, else the real time.

    Raises
    ------
    ClockError
        When ``OVERSEER_NOW`` is set but unreadable.
    """
    text = os.environ.get(ENV, "").strip()
    if text:
        return parse_now(text)
    return datetime.now(timezone.utc)


def stored_utc(moment: datetime) -> datetime:
    """A time read back from the database, aware and in UTC (SQLite hands times back naive; they were stored as UTC)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def check() -> None:
    """Raise :class:`ClockError` now, at start-up, if ``OVERSEER_NOW`` is unusable."""
    now()
