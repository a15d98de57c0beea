"""Volume tiers: all units at the price of the tier the total falls in (Stripe ``volume``).

That tier's ``flat_fee`` is added once on its own line. Unlike graduated
pricing, a volume price can fall when a unit is added (the whole quantity
moves to a cheaper tier): that is the model, not a bug.
"""

from __future__ import annotations

from app.domain.charges import ChargeModel, Line
from app.domain.charges.graduated import tier_label
from app.domain.errors import OverseerError
from app.domain.money import round_cents


def lines(plan, units: int) -> tuple[Line, ...]:
    """Lines for ``units`` outcomes all priced at the tier ``units`` falls in.

    Parameters
    ----------
    plan : PlanSpec
        Its ``tiers``: ascending, the last one unbounded.
    units : int
        Outcomes to price, ``>= 0``; zero gives no line.

    Returns
    -------
    tuple of Line
    """
    if units < 0:
        raise OverseerError(f"units must not be negative, got {units}")
    tiers = plan.tiers
    if units == 0:
        return ()
    previous = 0
    for index, tier in enumerate(tiers, start=1):
        if tier.up_to is None or units <= tier.up_to:
            label = tier_label(index, previous + 1, tier.up_to)
            out = [Line(f"{label}, all {units} outcomes", units, tier.unit_price, round_cents(tier.unit_price * units))]
            if tier.flat_fee:
                out.append(Line(f"{label} flat fee", 1, tier.flat_fee, round_cents(tier.flat_fee)))
            return tuple(out)
        previous = tier.up_to
    raise OverseerError("tiers must end with an unbounded tier (up_to null)")


MODEL = ChargeModel("volume", lines, tiered=True)
