"""The UI's moments, all from the one "now" of :func:`app.core.clock.now` (``OVERSEER_NOW`` when set)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from app.core import clock


def now() -> datetime:
    """The app's "now": real UTC time, or ``OVERSEER_NOW`` (see :mod:`app.core.clock`)."""
    return clock.now()


def as_of_key() -> datetime:
    """The last instant of the current minute: the cache key of figures that depend on the current time.

    The end of the minute, not its start, so whatever was written this minute (a review just saved)
    counts at once; nothing stored is later than now, so the figures are those of now.
    """
    return now().replace(second=59, microsecond=999999)


def today() -> date:
    return now().date()


def day_end(d: date) -> datetime:
    """The last instant of the UTC day ``d`` that figures "as of that day" use."""
    return datetime.combine(d + timedelta(days=1), time.min, tzinfo=timezone.utc) - timedelta(microseconds=1)
