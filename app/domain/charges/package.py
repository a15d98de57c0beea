"""Package (flat per-unit) charge: every outcome at ``outcome_price``."""

from __future__ import annotations

from app.domain.charges import ChargeModel, Line
from app.domain.errors import OverseerError
from app.domain.money import round_cents


def lines(plan, units: int) -> tuple[Line, ...]:
    """One line for ``units`` outcomes at ``plan.outcome_price``, or none for zero units.

    Parameters
    ----------
    plan : PlanSpec
        Its ``outcome_price`` (``Decimal``, as given in the plan) is the price per outcome.
    units : int
        Outcomes to price, ``>= 0``.

    Returns
    -------
    tuple of Line
    """
    if units < 0:
        raise OverseerError(f"units must not be negative, got {units}")
    if units == 0:
        return ()
    unit_price = plan.outcome_price
    return (Line("Outcomes", units, unit_price, round_cents(unit_price * units)),)


MODEL = ChargeModel("package", lines, tiered=False)
