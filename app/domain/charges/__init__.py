"""Charge models for the outcomes beyond the free allowance and ``included_outcomes``.

One small module per model, as Lago does: :mod:`.package` (flat ``outcome_price``
per unit), :mod:`.graduated` and :mod:`.volume` (Stripe-shaped ``tiers``). Each
returns its invoice lines, every amount already rounded to cents half-up, so a
total is always the sum of what the customer sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Line:
    """One invoice line; ``amount`` is already rounded to cents (half-up)."""

    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


# Imported after Line: the charge modules build Lines.
from app.domain.charges import graduated, package, volume  # noqa: E402


def usage_lines(plan, units: int) -> tuple[Line, ...]:
    """Lines pricing ``units`` outcomes beyond the included ones under ``plan``.

    Parameters
    ----------
    plan : PlanSpec
        ``tiers`` (graduated or volume) when set, else ``outcome_price``.
    units : int
        Outcomes to price, ``>= 0``; zero gives no line.

    Returns
    -------
    tuple of Line
    """
    if plan.tiers is None:
        return package.lines(units, plan.outcome_price)
    if plan.tiers_mode == "volume":
        return volume.lines(units, plan.tiers)
    return graduated.lines(units, plan.tiers)


def lines_total(lines: Sequence[Line]) -> Decimal:
    """Sum of the (already rounded) line amounts."""
    return sum((line.amount for line in lines), Decimal("0.00"))
