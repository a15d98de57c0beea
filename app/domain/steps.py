"""The eight universal job-map steps and their coverage levels."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

STEPS: tuple[str, ...] = (
    "define",
    "locate",
    "prepare",
    "confirm",
    "execute",
    "monitor",
    "modify",
    "conclude",
)

COVERAGE_LEVELS: tuple[str, ...] = ("automated", "assisted", "manual")
PERFORMERS: tuple[str, ...] = ("ai", "human")
STATUSES: tuple[str, ...] = ("open", "completed", "escalated", "failed")
CLOSED_STATUSES: tuple[str, ...] = ("completed", "escalated", "failed")
VERDICTS: tuple[str, ...] = ("correct", "incorrect", "unreviewed")

_COVERAGE_WEIGHT = {"automated": Decimal(1), "assisted": Decimal("0.5"), "manual": Decimal(0)}


def step_column(step: str) -> str:
    """Name of the outcome column that records who performed ``step``."""
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")
    return f"step_{step}"


def configured_coverage(levels: Iterable[str]) -> Decimal:
    """Configured coverage of a job map: (automated + 0.5 x assisted) / 8.

    Parameters
    ----------
    levels : iterable of str
        The coverage level of each of the eight steps.

    Returns
    -------
    Decimal
        A share between 0 and 1.
    """
    levels = list(levels)
    if len(levels) != len(STEPS):
        raise ValueError(f"a job map has {len(STEPS)} steps, got {len(levels)}")
    unknown = [lvl for lvl in levels if lvl not in _COVERAGE_WEIGHT]
    if unknown:
        raise ValueError(f"unknown coverage level {unknown[0]!r}; expected one of {', '.join(COVERAGE_LEVELS)}")
    return sum((_COVERAGE_WEIGHT[lvl] for lvl in levels), Decimal(0)) / len(STEPS)
