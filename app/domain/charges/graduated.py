"""Graduated tiers: each unit at the price of the tier it falls in (Stripe ``graduated``).

A tier's ``flat_fee`` is charged once, on its own line, when any unit falls in it.
"""

from __future__ import annotations

from app.domain.charges import ChargeModel, Line
from app.domain.errors import OverseerError
from app.domain.money import round_cents


def tier_label(index: int, lower: int, up_to: int | None) -> str:
    """``"Tier 2 (outcomes 6-10)"``; ``lower`` is the tier's first unit."""
    span = f"{lower}+" if up_to is None else f"{lower}-{up_to}"
    return f"Tier {index} (outcomes {span})"


def lines(plan, units: int) -> tuple[Line, ...]:
    """Lines for ``units`` outcomes priced tier by tier.

    Parameters
    ----------
    plan : PlanSpec
        Its ``tiers``: ascending, the last one unbounded.
    units : int
        Outcomes to price, ``>= 0``; zero gives no line.

    Returns
    -------
    tuple of Line
        Per tier touched: the units in it, then its flat fee when non-zero.
    """
    if units < 0:
        raise OverseerError(f"units must not be negative, got {units}")
    tiers = plan.tiers
    out: list[Line] = []
    previous = 0
    for index, tier in enumerate(tiers, start=1):
        if units <= previous:
            break
        top = units if tier.up_to is None else min(units, tier.up_to)
        count = top - previous
        label = tier_label(index, previous + 1, tier.up_to)
        out.append(Line(label, count, tier.unit_price, round_cents(tier.unit_price * count)))
        if tier.flat_fee:
            out.append(Line(f"{label} flat fee", 1, tier.flat_fee, round_cents(tier.flat_fee)))
        if tier.up_to is None:
            break
        previous = tier.up_to
    return tuple(out)


MODEL = ChargeModel("graduated", lines, tiered=True)
