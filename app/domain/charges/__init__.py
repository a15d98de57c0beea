"""Charge models for the outcomes beyond the free allowance and ``included_outcomes``, registered by name.

One small module per model, as Lago does (its ``ChargeModelFactory`` picks a
model class by the charge's name): :mod:`.package` (flat ``outcome_price``
per unit), :mod:`.graduated` and :mod:`.volume` (Stripe-shaped ``tiers``).
Every model has one signature, ``lines(plan, units) -> tuple[Line, ...]``,
and returns its invoice lines, every amount already rounded to cents
half-up, so a total is always the sum of what the customer sees.

:data:`MODELS` is the registry. A plan with ``tiers`` is priced by the model
its ``tiers_mode`` names (any model registered ``tiered``; :mod:`app.domain.plans`
accepts exactly those names), a plan without by ``package``. A new model is
its own module (exposing ``MODEL``), one entry in :data:`MODELS` and its own
test: no other module and no migration changes (``tiers_mode`` is stored as
text of up to 16 characters). ``tests/domain/test_charge_registry.py`` checks
that every module of this package is registered and tested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Line:
    """One invoice line; ``amount`` is already rounded to cents (half-up)."""

    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class ChargeModel:
    """A registered charge model.

    Attributes
    ----------
    name : str
        The registry key; a tiered model's is what a plan's ``tiers_mode`` says.
    lines : callable
        ``lines(plan, units) -> tuple[Line, ...]``: ``plan`` is anything with the
        attributes the model reads (a :class:`~app.domain.plans.PlanSpec`), ``units``
        the outcomes to price (``>= 0``; zero gives no line).
    tiered : bool
        Whether the model prices ``plan.tiers`` (chosen by ``tiers_mode``) rather than ``outcome_price``.
    """

    name: str
    lines: Callable[..., tuple[Line, ...]]
    tiered: bool


# Imported after Line and ChargeModel: the charge modules build them.
from app.domain.charges import graduated, package, volume  # noqa: E402

MODELS: dict[str, ChargeModel] = {m.name: m for m in (package.MODEL, graduated.MODEL, volume.MODEL)}

# The model of a plan without tiers.
UNTIERED = package.MODEL.name


def tiered_names() -> tuple[str, ...]:
    """Names a plan's ``tiers_mode`` may take, in registry order."""
    return tuple(name for name, model in MODELS.items() if model.tiered)


def model_for(plan) -> ChargeModel:
    """The charge model pricing ``plan``'s usage: its ``tiers_mode`` when it has tiers, else ``package``."""
    return MODELS[UNTIERED if plan.tiers is None else plan.tiers_mode]


def usage_lines(plan, units: int) -> tuple[Line, ...]:
    """Lines pricing ``units`` outcomes beyond the included ones under ``plan``.

    Parameters
    ----------
    plan : PlanSpec
        ``tiers`` (priced by the model ``tiers_mode`` names) when set, else ``outcome_price``.
    units : int
        Outcomes to price, ``>= 0``; zero gives no line.

    Returns
    -------
    tuple of Line
    """
    return model_for(plan).lines(plan, units)


def lines_total(lines: Sequence[Line]) -> Decimal:
    """Sum of the (already rounded) line amounts."""
    return sum((line.amount for line in lines), Decimal("0.00"))
