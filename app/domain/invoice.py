"""Rating a month: the invoice lines owed under a plan (SPEC "Billing"), pure, no database.

Rules (SPEC Billing 1-6, plus the choices made where it is silent):

- Billable outcomes use the free allowance first; the rest only cost money
  while the paid plan is active, so outcomes beyond the allowance in a month
  with no active day are a contradiction and are refused.
- Base fee: full for a month active every day, else prorated like a Stripe
  proration line: ``round_cents(base_fee * active_days / days_in_month)``.
  A zero base fee gives no line.
- Outcomes beyond the allowance fill ``included_outcomes`` (not prorated),
  the rest are priced by :mod:`app.domain.charges` (``outcome_price``, or
  graduated / volume ``tiers``); a zero ``outcome_price`` without tiers gives no line.
- Seats (``seats * seat_price``) and tasks (``tasks * task_price``) are charged
  only while the plan is active, in full, and only when their price is non-zero.
- Credits (negative lines made by the store) are appended as given.
- Every line is rounded to cents half-up; the total is the sum of the lines.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from app.domain.charges import Line, lines_total, usage_lines
from app.domain.errors import OverseerError
from app.domain.money import money_str, round_cents
from app.domain.plans import MAX_COUNT, PlanSpec

__all__ = ["Line", "LateOutcomes", "Projection", "Invoice", "rate_periods", "rate_month", "quote", "usage_charge"]


@dataclass(frozen=True)
class Projection:
    """The bill to come for the current month: expected outcomes and total, an 80% range.

    ``lines`` are the invoice lines of the expected month (they add up to
    ``total`` exactly, as an invoice's do); ``low_outcomes`` and
    ``high_outcomes`` the billable outcomes each end of the range prices.
    """

    outcomes: int
    total: Decimal
    low: Decimal
    high: Decimal
    allowance_runs_out: date | None
    lines: tuple[Line, ...] = ()
    low_outcomes: int | None = None
    high_outcomes: int | None = None

    def to_json(self) -> dict:
        """Money as two-decimal strings, the date as ISO or None."""
        return {
            "outcomes": self.outcomes,
            "total": money_str(self.total),
            "low": money_str(self.low),
            "high": money_str(self.high),
            "allowance_runs_out": None if self.allowance_runs_out is None else self.allowance_runs_out.isoformat(),
        }


@dataclass(frozen=True)
class LateOutcomes:
    """Outcomes of a closed month that became billable after it closed, billed in a later invoice."""

    year: int
    month: int
    outcomes: int

    def to_json(self) -> dict:
        return {"month": f"{self.year:04d}-{self.month:02d}", "outcomes": self.outcomes}


@dataclass(frozen=True)
class Invoice:
    """A month's invoice: its lines, total and free allowance use.

    An account's invoice also says whether it is a ``"draft"`` or ``"final"``
    (``status``; None for a quote), its ``number`` and ``closed_at`` once final,
    and the ``late`` outcomes of closed months it bills.
    """

    currency: str
    lines: tuple[Line, ...]
    total: Decimal
    free_used: int
    free_remaining: int
    year: int | None = None
    month: int | None = None
    billable: int = 0
    projected: Projection | None = None
    status: str | None = None
    number: str | None = None
    closed_at: datetime | None = None
    late: tuple[LateOutcomes, ...] = ()

    def to_json(self) -> dict:
        """The invoice as exchanged in JSON.

        Returns
        -------
        dict
            Money as strings with two decimals, unit prices exactly as in the
            plan (``str(Decimal)``), plus ``projected`` when it is set.
        """
        data = {
            "currency": self.currency,
            "lines": [
                {
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": str(line.unit_price),
                    "amount": money_str(line.amount),
                }
                for line in self.lines
            ],
            "total": money_str(self.total),
            "free_used": self.free_used,
            "free_remaining": self.free_remaining,
        }
        if self.status is not None:
            data["billable"] = self.billable
            data["status"] = self.status
            data["number"] = self.number
            data["closed_at"] = None if self.closed_at is None else self.closed_at.isoformat()
            data["late"] = [late.to_json() for late in self.late]
        if self.projected is not None:
            data["projected"] = self.projected.to_json()
        return data


def _check_count(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OverseerError(f"{what} must be a whole number, got {value!r}")
    if value < 0:
        raise OverseerError(f"{what} must not be negative, got {value}")
    if value > MAX_COUNT:  # beyond it the bill's digits pass what a Decimal and the database hold
        raise OverseerError(f"{what} must be at most {MAX_COUNT:,}, got {value if value.bit_length() < 128 else 'more'}")


def usage_charge(plan: PlanSpec, paid: int) -> Decimal:
    """What ``paid`` outcomes beyond the free allowance cost in one month.

    Parameters
    ----------
    plan : PlanSpec
    paid : int
        Outcomes beyond the free allowance; the first ``included_outcomes`` are free.

    Returns
    -------
    Decimal
        The sum of the rounded usage lines (base fee, seats and tasks excluded).
    """
    return lines_total(usage_lines(plan, max(0, paid - plan.included_outcomes)))


def rate_month(
    plan: PlanSpec,
    *,
    billable: int,
    free_remaining: int,
    days_in_month: int,
    active_days: int,
    seats: int = 0,
    tasks: int = 0,
    credits: Sequence[Line] = (),
    period_days: int | None = None,
    label: str = "",
) -> Invoice:
    """Price one month, or one period of a month whose plan changed (``period_days``).

    Parameters
    ----------
    plan : PlanSpec
    billable : int
        Billable outcomes of the month.
    free_remaining : int
        Free allowance left at the start of the month (at most ``plan.free_outcomes``).
    days_in_month : int
    active_days : int
        Days of the month the paid plan is active, ``0..days_in_month``.
    seats, tasks : int
        Charged at ``seat_price`` / ``task_price`` while the plan is active.
    credits : sequence of Line
        Negative lines appended as they are.
    period_days : int, optional
        The days of the month this plan was in force, when it was not all of
        them: the base fee and seats are prorated by the days active in it, the
        included outcomes by its days (rounded down), as Lago bills an upgrade.
    label : str, optional
        Put before every line's description (the plan and period of a split month).

    Returns
    -------
    Invoice
        Without ``year``/``month``; the caller sets them.

    Raises
    ------
    OverseerError
        Negative counts, ``active_days`` out of range, a free allowance larger
        than the plan's, or outcomes beyond the allowance while the plan is not active.
    """
    for value, what in ((billable, "billable"), (free_remaining, "free_remaining"), (seats, "seats"), (tasks, "tasks")):
        _check_count(value, what)
    _check_count(days_in_month, "days_in_month")
    _check_count(active_days, "active_days")
    if not 28 <= days_in_month <= 31:
        raise OverseerError(f"days_in_month must be 28 to 31, got {days_in_month}")
    if active_days > days_in_month:
        raise OverseerError(f"active_days must be 0 to {days_in_month}, got {active_days}")
    split = period_days is not None and period_days < days_in_month
    if split and active_days > period_days:
        raise OverseerError(f"active_days must be 0 to the period's {period_days} days, got {active_days}")
    included_outcomes = plan.included_outcomes * period_days // days_in_month if split else plan.included_outcomes
    if free_remaining > plan.free_outcomes:
        raise OverseerError(
            f"free_remaining ({free_remaining}) exceeds the plan's free allowance ({plan.free_outcomes})"
        )
    free_used = min(billable, free_remaining)
    paid = billable - free_used
    if paid and not active_days:
        raise OverseerError(
            f"{paid} outcomes are beyond the free allowance, so the paid plan must be active for at least one day"
        )
    lines: list[Line] = []
    if free_used:
        lines.append(Line("Free outcomes", free_used, Decimal(0), Decimal("0.00")))
    if active_days:
        if plan.base_fee:
            if active_days == days_in_month and not split:
                lines.append(Line("Base fee", 1, plan.base_fee, round_cents(plan.base_fee)))
            else:
                lines.append(
                    Line(
                        f"Base fee, {active_days} of {days_in_month} days (prorated)",
                        1,
                        plan.base_fee,
                        round_cents(plan.base_fee * active_days / days_in_month),
                    )
                )
        included = min(paid, included_outcomes)
        if included:
            lines.append(Line("Included outcomes", included, Decimal(0), Decimal("0.00")))
        if plan.tiers is not None or plan.outcome_price:
            # A zero outcome_price (seat or usage plans) would only add a line of zeros.
            lines.extend(usage_lines(plan, paid - included))
        if seats and plan.seat_price:
            if split:
                lines.append(
                    Line(f"Seats, {active_days} of {days_in_month} days (prorated)", seats, plan.seat_price,
                         round_cents(plan.seat_price * seats * active_days / days_in_month))
                )
            else:
                lines.append(Line("Seats", seats, plan.seat_price, round_cents(plan.seat_price * seats)))
        if tasks and plan.task_price:
            lines.append(Line("Tasks", tasks, plan.task_price, round_cents(plan.task_price * tasks)))
    if label:
        lines = [replace(line, description=f"{label}{line.description}") for line in lines]
    lines.extend(credits)
    return Invoice(
        currency=plan.currency,
        lines=tuple(lines),
        total=lines_total(lines),
        free_used=free_used,
        free_remaining=free_remaining - free_used,
        billable=billable,
    )


def rate_periods(periods: Sequence[dict], *, credits: Sequence[Line] = ()) -> Invoice:
    """Price a month whose plan changed: each period by :func:`rate_month`, the credits once at the end.

    Parameters
    ----------
    periods : sequence of dict
        :func:`rate_month`'s keyword arguments for each period, in order (with
        ``plan``, ``period_days`` and ``label``).
    credits : sequence of Line

    Returns
    -------
    Invoice
        In the currency of the last period; free outcomes used summed, left as after the last.
    """
    parts = [rate_month(**period) for period in periods]
    lines = [line for part in parts for line in part.lines] + list(credits)
    return Invoice(
        currency=parts[-1].currency,
        lines=tuple(lines),
        total=lines_total(lines),
        free_used=sum(part.free_used for part in parts),
        free_remaining=parts[-1].free_remaining,
        billable=sum(part.billable for part in parts),
    )


def quote(
    plan: PlanSpec,
    outcomes: int,
    *,
    free_remaining: int | None = None,
    active_days: int | None = None,
    year: int,
    month: int,
    seats: int = 0,
    tasks: int = 0,
) -> Invoice:
    """Price ``outcomes`` billable outcomes in one month (``overseer quote``).

    Parameters
    ----------
    plan : PlanSpec
    outcomes : int
        Billable outcomes in the month.
    free_remaining : int, optional
        Free allowance left at the start of the month; default ``plan.free_outcomes``.
    active_days : int, optional
        Days the paid plan is active; default the whole month when no allowance
        is left at the start or ``outcomes`` exceeds it, else 0.
    year, month : int
        The month priced (its length drives proration).
    seats, tasks : int

    Returns
    -------
    Invoice

    Raises
    ------
    OverseerError
        Negative counts, an impossible month, ``active_days`` outside
        ``0..days_in_month``, ``free_remaining`` above the plan's allowance.
    """
    if not (isinstance(year, int) and isinstance(month, int) and 1 <= month <= 12 and 1 <= year <= 9999):
        raise OverseerError(f"no such month: {year}-{month}")
    _check_count(outcomes, "outcomes")
    days = calendar.monthrange(year, month)[1]
    if free_remaining is None:
        free_remaining = plan.free_outcomes
    _check_count(free_remaining, "free_remaining")
    if active_days is None:
        active_days = days if free_remaining == 0 or outcomes > free_remaining else 0
    invoice = rate_month(
        plan,
        billable=outcomes,
        free_remaining=free_remaining,
        days_in_month=days,
        active_days=active_days,
        seats=seats,
        tasks=tasks,
    )
    return replace(invoice, year=year, month=month)
