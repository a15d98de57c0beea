"""Presentation helpers: every figure shown is formatted here, the same way on every page.

Percentages have one decimal, money carries its currency, an undefined rate is "—".
These helpers only format what the domain computed; they never compute a figure.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from app.domain.money import format_money
from app.domain.stats import format_share

DASH = "—"


def money(amount: Decimal | None, currency: str | None) -> str:
    """``Decimal("1234.5"), "USD"`` → ``"1,234.50 USD"``; None → "—"."""
    return DASH if amount is None else format_money(Decimal(amount), currency)


def share(value: float | Decimal | None) -> str:
    """A share in [0, 1] as ``"87.5%"``; None → "—"."""
    return format_share(None if value is None else float(value))


def rate(rate_obj) -> str:
    """A :class:`app.domain.stats.Rate` as ``"87.5%"`` or "—"."""
    return rate_obj.format()


def rate_with_sample(rate_obj, noun: str = "reviewed") -> str:
    """``"87.5% · 35 of 40 reviewed"`` (or ``"— · none reviewed yet"``)."""
    if rate_obj.denominator == 0:
        return f"none {noun} yet"
    return f"{rate_obj.numerator:,} of {rate_obj.denominator:,} {noun}"


def interval(rate_obj) -> str:
    """The 95% Wilson interval as ``"95% CI 80.1%–92.3%"``, or "" without a sample."""
    bounds = rate_obj.wilson()
    if bounds is None:
        return ""
    low, high = bounds
    return f"95% CI {format_share(low)}–{format_share(high)}"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``plural(1, "row")`` → ``"1 row"``; ``plural(3, "row")`` → ``"3 rows"``."""
    return f"{n:,} {singular if n == 1 else (plural_form or singular + 's')}"


def count(n: int | None) -> str:
    return DASH if n is None else f"{n:,}"


def day(d: date | datetime | None) -> str:
    """``2026-11-21`` → ``"21 Nov 2026"``."""
    if d is None:
        return DASH
    return f"{d.day} {d.strftime('%b %Y')}"


def moment(t: datetime | None) -> str:
    """An aware UTC datetime as ``"21 Nov 2026, 14:05 UTC"``."""
    if t is None:
        return DASH
    return f"{t.day} {t.strftime('%b %Y, %H:%M')} UTC"


def date_range(start: date, end: date) -> str:
    if start == end:
        return day(start)
    if start.year == end.year:
        if start.month == end.month:
            return f"{start.day}–{end.day} {end.strftime('%b %Y')}"
        return f"{start.day} {start.strftime('%b')} – {end.day} {end.strftime('%b %Y')}"
    return f"{day(start)} – {day(end)}"


def month_name(year: int, month: int) -> str:
    return date(year, month, 1).strftime("%B %Y")


def step_title(step: str) -> str:
    return step.capitalize()
