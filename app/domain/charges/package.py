"""Package (flat per-unit) charge: every outcome at ``outcome_price``."""

from __future__ import annotations

from decimal import Decimal

from app.domain.charges import Line
from app.domain.errors import OverseerError
from app.domain.money import round_cents


def lines(units: int, unit_price: Decimal) -> tuple[Line, ...]:
    """One line for ``units`` outcomes at ``unit_price``, or none for zero units.

    Parameters
    ----------
    units : int
        Outcomes to price, ``>= 0``.
    unit_price : Decimal
        Price per outcome, as given in the plan.

    Returns
    -------
    tuple of Line
    """
    if units < 0:
        raise OverseerError(f"units must not be negative, got {units}")
    if units == 0:
        return ()
    return (Line("Outcomes", units, unit_price, round_cents(unit_price * units)),)
