"""Pricing models side by side for a prospect's monthly volume (the sales pricing simulator).

Every amount comes from :func:`app.domain.invoice.quote`, the engine behind
``overseer quote``; this module only chooses what to quote and compares totals.

Rules chosen where SPEC is silent:

- The simulator prices a *steady month*: the free allowance is already used up
  (``free_remaining=0``) and the paid plan is active every day of the month, so
  a freemium plan shows what the prospect pays once the trial is over. The
  figures equal ``overseer quote --plan P --outcomes N --free-remaining 0
  --seats S --tasks T --month YYYY-MM``.
- The prospect's outcomes are billable outcomes. Tasks (what usage-based
  pricing charges: every outcome *started*, whatever its status) are
  ``outcomes × tasks per outcome`` rounded half-up to a whole task.
- Seats are charged by every plan with a ``seat_price``; tasks by every plan
  with a ``task_price``: a plan is quoted with the same seats and tasks as the others.
- A break-even volume of two plans is the smallest whole number of outcomes at
  which the cheaper of the two changes: from it on (until the next break-even)
  the other plan costs no more. Equal costs over a stretch count from the
  stretch's first volume; touching without swapping order is no break-even.
  Volumes are scanned one by one over ``0..max_volume``, each quoted exactly,
  so rounding, tiers (graduated or volume) and flat fees are all taken into account.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.domain.errors import OverseerError
from app.domain.invoice import Invoice, quote
from app.domain.plans import PlanSpec

MAX_VOLUME = 20_000
MAX_SEATS = 100_000
MAX_CHART_POINTS = 400


@dataclass(frozen=True)
class Prospect:
    """What a prospect does in a month.

    Attributes
    ----------
    outcomes : int
        Billable outcomes per month.
    seats : int
        People who would hold a seat.
    tasks_per_outcome : Decimal
        Outcomes started per billable outcome (escalated, failed and open
        ones are tasks too), so usually at least 1.
    """

    outcomes: int
    seats: int = 0
    tasks_per_outcome: Decimal = Decimal(1)

    def __post_init__(self):
        _check_count(self.outcomes, "monthly outcomes", MAX_VOLUME)
        _check_count(self.seats, "seats", MAX_SEATS)
        try:
            tpo = Decimal(str(self.tasks_per_outcome))
        except (InvalidOperation, ValueError):
            raise OverseerError(f"tasks per outcome is not a number: {self.tasks_per_outcome!r}") from None
        if not tpo.is_finite() or tpo < 0 or tpo > 100:
            raise OverseerError(f"tasks per outcome must be between 0 and 100, got {self.tasks_per_outcome}")
        object.__setattr__(self, "tasks_per_outcome", tpo)

    def tasks(self, outcomes: int | None = None) -> int:
        """Tasks started for ``outcomes`` billable outcomes (default the prospect's), rounded half-up."""
        n = self.outcomes if outcomes is None else outcomes
        return int((self.tasks_per_outcome * n).to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class PlanCost:
    """One plan's quote for the prospect's month."""

    key: str
    plan: PlanSpec
    invoice: Invoice

    @property
    def total(self) -> Decimal:
        return self.invoice.total


@dataclass(frozen=True)
class BreakEven:
    """Where two plans' costs cross.

    Attributes
    ----------
    a, b : str
        Plan keys, in the order the plans were given.
    volume : int
        The smallest whole number of monthly outcomes from which ``cheaper_above`` costs no more.
    cheaper_below, cheaper_above : str
        The key of the cheaper plan just below ``volume`` and from ``volume`` on.
    cost_a, cost_b : Decimal
        Both plans' totals at ``volume`` (from :func:`quote`).
    """

    a: str
    b: str
    volume: int
    cheaper_below: str
    cheaper_above: str
    cost_a: Decimal
    cost_b: Decimal


@dataclass(frozen=True)
class CheapestChange:
    """A volume from which another plan is the cheapest of all.

    Attributes
    ----------
    volume : int
        The first whole volume from which ``after`` costs no more than any plan
        (a stretch of ties counts from its start).
    before, after : str
        The key of the single cheapest plan below ``volume``, and from it on.
    """

    volume: int
    before: str
    after: str


@dataclass(frozen=True)
class Comparison:
    """The simulator's answer.

    Attributes
    ----------
    prospect : Prospect
    year, month : int
        The month quoted (its length matters only for proration, which a steady month has none of).
    costs : tuple of PlanCost
        One per plan, in the order given.
    cheapest : tuple of str
        Keys of the plans with the lowest total at the prospect's volume (ties give several).
    curves : dict
        ``{key: ((volume, total), ...)}`` over ``0..max_volume``, at most about
        :data:`MAX_CHART_POINTS` points plus every volume where a plan's
        price changes slope and every break-even; every total from :func:`quote`.
    break_evens : tuple of BreakEven
        Every crossing of every pair of plans within ``0..max_volume``, by volume.
    max_volume : int
    changes : tuple of CheapestChange
        The break-evens at which the cheapest plan of all changes, by volume.
    """

    prospect: Prospect
    year: int
    month: int
    costs: tuple[PlanCost, ...]
    cheapest: tuple[str, ...]
    curves: dict[str, tuple[tuple[int, Decimal], ...]]
    break_evens: tuple[BreakEven, ...]
    max_volume: int
    changes: tuple[CheapestChange, ...] = ()

    def change_above(self, volume: int | None = None) -> CheapestChange | None:
        """The first change of the cheapest plan above ``volume`` (default the prospect's), if any in range."""
        v = self.prospect.outcomes if volume is None else volume
        return next((c for c in self.changes if c.volume > v), None)

    def change_at_or_below(self, volume: int | None = None) -> CheapestChange | None:
        """The last change of the cheapest plan at or below ``volume`` (default the prospect's), if any."""
        v = self.prospect.outcomes if volume is None else volume
        found = [c for c in self.changes if c.volume <= v]
        return found[-1] if found else None

    def cost(self, key: str) -> PlanCost:
        """The :class:`PlanCost` of plan ``key``."""
        for c in self.costs:
            if c.key == key:
                return c
        raise KeyError(key)


def _check_count(value, what: str, limit: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OverseerError(f"{what} must be a whole number, got {value!r}")
    if value < 0:
        raise OverseerError(f"{what} must not be negative, got {value}")
    if value > limit:
        raise OverseerError(f"{what} must be at most {limit:,}, got {value:,}")


def steady_quote(plan: PlanSpec, prospect: Prospect, *, outcomes: int | None = None, year: int, month: int) -> Invoice:
    """Quote one steady month (free allowance used up, plan active all month) for the prospect.

    Parameters
    ----------
    plan : PlanSpec
    prospect : Prospect
    outcomes : int, optional
        Volume to quote instead of ``prospect.outcomes`` (tasks follow it).
    year, month : int

    Returns
    -------
    Invoice
        Exactly what ``overseer quote --free-remaining 0`` prints for the same inputs.
    """
    n = prospect.outcomes if outcomes is None else outcomes
    return quote(plan, n, free_remaining=0, year=year, month=month, seats=prospect.seats, tasks=prospect.tasks(n))


def default_max_volume(outcomes: int) -> int:
    """The chart's range for a prospect volume: about twice the volume, on a round number, at least 500."""
    target = max(500, 2 * outcomes)
    for step in (50, 100, 250, 500, 1000, 2500, 5000, 10_000):
        if target <= step * 10:
            return min(-(-target // step) * step, 2 * MAX_VOLUME)
    return min(-(-target // 10_000) * 10_000, 2 * MAX_VOLUME)


def _kinks(plan: PlanSpec) -> set[int]:
    """Volumes where the plan's price per extra outcome may change (the chart must not skip them)."""
    points = {plan.included_outcomes}
    if plan.tiers is not None:
        for tier in plan.tiers:
            if tier.up_to is not None:
                points.add(plan.included_outcomes + tier.up_to)
                points.add(plan.included_outcomes + tier.up_to + 1)
    return points


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def break_evens(keys: Sequence[str], totals: Mapping[str, Sequence[Decimal]]) -> list[BreakEven]:
    """Every volume where two plans swap order, from their totals at every volume ``0..n``.

    Parameters
    ----------
    keys : sequence of str
        Plan keys, in display order; pairs are taken in this order.
    totals : mapping
        ``{key: [total at volume 0, total at 1, ...]}``, all the same length.

    Returns
    -------
    list of BreakEven
        By volume, then by pair order.
    """
    found: list[BreakEven] = []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            ta, tb = totals[a], totals[b]
            last = 0  # sign of (a - b) before the current stretch of ties
            tie_start: int | None = None
            for v in range(len(ta)):
                s = _sign(ta[v] - tb[v])
                if s == 0:
                    if tie_start is None:
                        tie_start = v
                    continue
                if last and s != last:
                    at = v if tie_start is None else tie_start
                    found.append(
                        BreakEven(
                            a, b, at,
                            cheaper_below=b if last > 0 else a,
                            cheaper_above=a if last > 0 else b,
                            cost_a=ta[at], cost_b=tb[at],
                        )
                    )
                last, tie_start = s, None
    keys_order = {k: i for i, k in enumerate(keys)}
    found.sort(key=lambda e: (e.volume, keys_order[e.a], keys_order[e.b]))
    return found


def cheapest_changes(keys: Sequence[str], totals: Mapping[str, Sequence[Decimal]]) -> list[CheapestChange]:
    """Volumes from which a different plan is the single cheapest, from every plan's totals at ``0..n``.

    Ties between plans are stretches in which no plan is the single cheapest:
    a change is dated from the start of the tie stretch that precedes it, and a
    tie that ends with the same winner is no change.
    """
    out: list[CheapestChange] = []
    last: str | None = None
    tie_start: int | None = None
    n = len(totals[keys[0]]) if keys else 0
    for v in range(n):
        values = [totals[k][v] for k in keys]
        low = min(values)
        winners = [k for k, t in zip(keys, values, strict=True) if t == low]
        if len(winners) > 1:
            if tie_start is None:
                tie_start = v
            continue
        winner = winners[0]
        if last is not None and winner != last:
            out.append(CheapestChange(v if tie_start is None else tie_start, last, winner))
        last, tie_start = winner, None
    return out


def compare(
    plans: Mapping[str, PlanSpec],
    prospect: Prospect,
    *,
    year: int,
    month: int,
    max_volume: int | None = None,
) -> Comparison:
    """Quote every plan for the prospect, draw each plan's cost over volume and find the break-evens.

    Parameters
    ----------
    plans : mapping of str to PlanSpec
        Keyed as the caller likes (e.g. ``seat, usage, freemium, hybrid``), in display order.
    prospect : Prospect
    year, month : int
        The month quoted.
    max_volume : int, optional
        The curves and the break-even search cover ``0..max_volume`` outcomes;
        default :func:`default_max_volume`. Never below the prospect's volume.

    Returns
    -------
    Comparison

    Raises
    ------
    OverseerError
        No plan, plans in different currencies, a range beyond ``2 × MAX_VOLUME``,
        or anything :func:`quote` refuses.
    """
    if not plans:
        raise OverseerError("compare at least one plan")
    currencies = {p.currency for p in plans.values()}
    if len(currencies) > 1:
        raise OverseerError(f"plans compared side by side must share a currency, got {', '.join(sorted(currencies))}")
    if max_volume is None:
        max_volume = default_max_volume(prospect.outcomes)
    _check_count(max_volume, "the chart's largest volume", 2 * MAX_VOLUME)
    max_volume = max(max_volume, prospect.outcomes, 1)
    keys = list(plans)
    costs = tuple(
        PlanCost(k, plans[k], steady_quote(plans[k], prospect, year=year, month=month)) for k in keys
    )
    low = min(c.total for c in costs)
    cheapest = tuple(c.key for c in costs if c.total == low)
    totals = {
        k: [steady_quote(plans[k], prospect, outcomes=v, year=year, month=month).total for v in range(max_volume + 1)]
        for k in keys
    }
    crossings = break_evens(keys, totals)
    changes = cheapest_changes(keys, totals)
    step = max(1, max_volume // MAX_CHART_POINTS)
    points = set(range(0, max_volume + 1, step)) | {max_volume, prospect.outcomes}
    for plan in plans.values():
        points |= {p for p in _kinks(plan) if 0 <= p <= max_volume}
    for e in crossings:
        points |= {e.volume, max(0, e.volume - 1)}
    volumes = sorted(points)
    curves = {k: tuple((v, totals[k][v]) for v in volumes) for k in keys}
    return Comparison(prospect, year, month, costs, cheapest, curves, tuple(crossings), max_volume, tuple(changes))


__all__ = [
    "MAX_VOLUME",
    "BreakEven",
    "CheapestChange",
    "Comparison",
    "PlanCost",
    "Prospect",
    "break_evens",
    "cheapest_changes",
    "compare",
    "default_max_volume",
    "steady_quote",
]
