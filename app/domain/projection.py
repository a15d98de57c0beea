"""The bill to come for the current month (SPEC "Projection"), from counts already read.

Pure arithmetic: :mod:`app.store.billing` reads the counts of the window and
the month so far, this module turns them into a :class:`Projection`.

Rules (SPEC, and where SPEC is silent):

- The pace window is the last ``WINDOW_DAYS`` days up to ``as_of``, closed at
  both ends (an outcome completed exactly at its first instant counts),
  shortened only by the subscription's start, never by the month's: a month
  boundary does not change the AI's throughput. ``t`` is its length in days,
  fractional, at least 1 (so the first hours of a subscription do not read as
  a whole day's pace multiplied).
- ``k`` billable outcomes in ``t`` days; ``d`` days left in the month. The
  projected outcomes are to date + ``k * d / t``, rounded half-up.
- The 80% range: the 10% and 90% quantiles of the predictive count of the
  remaining outcomes. With the rate's posterior Gamma(k, t), that count is
  negative binomial, NB(n=k, p=t/(t+d)) (``scipy.stats.nbinom``), mean
  ``k * d / t``; it is wider than a Poisson count of the same mean because
  the rate itself is uncertain. With ``k = 0`` nothing more is expected and
  both ends price the month so far.
- Every scenario is priced with the bill's own rules
  (:func:`app.domain.invoice.rate_month`): when its outcomes exhaust the free
  allowance, the plan activates on the day the first outcome beyond it is
  expected (the remaining outcomes spread evenly over the rest of the month),
  or on a conversion date later this month if that is earlier, and the base
  fee is prorated from that day.
- Tasks (usage-priced plans) are projected the same way, with their own ``k``
  (outcomes started in the same window) and the days the plan is active for
  ``d``; each end of the range takes the same quantile of both counts.
- The allowance runs out on the day it was used up, if it has been;
  otherwise on ``as_of + free left / rate``; never without an allowance or a
  pace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from scipy.stats import nbinom

from app.domain.charges import Line
from app.domain.invoice import Invoice, Projection, rate_month
from app.domain.plans import PlanSpec

__all__ = [
    "LOW",
    "HIGH",
    "WINDOW_DAYS",
    "MonthSoFar",
    "Pace",
    "allowance_runs_out",
    "expected_remaining",
    "predictive_range",
    "project",
    "remaining_quantile",
    "scenario_activation",
    "window_days",
    "window_start",
]

WINDOW_DAYS = 14
LOW, HIGH = 0.1, 0.9  # the 80% range
DAY = timedelta(days=1)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def window_start(as_of: datetime, subscription_start: datetime) -> datetime:
    """The first instant of the pace window ending at ``as_of``.

    Parameters
    ----------
    as_of : datetime
        Aware; the window's last instant.
    subscription_start : datetime
        Aware; the window never reaches before it.

    Returns
    -------
    datetime
        ``as_of - WINDOW_DAYS days``, or ``subscription_start`` when later. The
        month's start plays no part: at 1 Oct 06:00 the window opens on
        17 Sep 06:00.
    """
    return max(as_of - WINDOW_DAYS * DAY, subscription_start)


def window_days(start: datetime, as_of: datetime) -> float:
    """``t``: the window's length in fractional days, at least 1."""
    return max(1.0, _days(as_of - start))


@dataclass(frozen=True)
class Pace:
    """``k`` events counted over ``t`` days: the evidence for a rate.

    Attributes
    ----------
    k : int
        Events in the window (billable outcomes, or outcomes started).
    t : float
        The window's length in days, at least 1.
    """

    k: int
    t: float

    @property
    def rate(self) -> float:
        """Events per day, ``k / t``."""
        return self.k / self.t

    def expected(self, d: float) -> int:
        """Expected events in the next ``d`` days, ``k * d / t`` rounded half-up."""
        return expected_remaining(self.k, self.t, d)

    def quantile(self, q: float, d: float) -> int:
        """The ``q`` quantile of the events in the next ``d`` days (see :func:`remaining_quantile`)."""
        return remaining_quantile(q, self.k, self.t, d)


def expected_remaining(k: int, t: float, d: float) -> int:
    """Expected remaining count ``k * d / t``, rounded half-up; 0 when ``d <= 0``."""
    if d <= 0 or k == 0:
        return 0
    return _round_half_up(k * d / t)


def remaining_quantile(q: float, k: int, t: float, d: float) -> int:
    """Quantile of the predictive count of events in the next ``d`` days.

    Parameters
    ----------
    q : float
        In (0, 1).
    k : int
        Events seen over ``t`` days, ``k >= 0``.
    t : float
        Days observed, ``t > 0``.
    d : float
        Days to come.

    Returns
    -------
    int
        ``scipy.stats.nbinom.ppf(q, k, t / (t + d))``: the count is negative
        binomial when the rate has the posterior Gamma(k, t). 0 when ``k = 0``
        or ``d <= 0`` (nothing seen, or nothing left: nothing to come).
    """
    if not 0 < q < 1:
        raise ValueError(f"q must lie strictly between 0 and 1, got {q}")
    if k < 0 or t <= 0:
        raise ValueError(f"need k >= 0 and t > 0, got k={k}, t={t}")
    if k == 0 or d <= 0:
        return 0
    return int(nbinom.ppf(q, k, t / (t + d)))


def predictive_range(k: int, t: float, d: float) -> tuple[int, int]:
    """``(low, high)``: the 10% and 90% quantiles of :func:`remaining_quantile`."""
    return remaining_quantile(LOW, k, t, d), remaining_quantile(HIGH, k, t, d)


def scenario_activation(
    as_of: datetime, end: datetime, free_left: int, extra: int, converted_on: date | None
) -> date | None:
    """The day the paid plan activates if ``extra`` more outcomes arrive evenly over ``[as_of, end)``.

    Parameters
    ----------
    as_of, end : datetime
        Now, and the month's end (exclusive).
    free_left : int
        Free outcomes left at ``as_of``.
    extra : int
        Outcomes still to come this month in the scenario.
    converted_on : date, optional
        A conversion date; counts when it falls after ``as_of``'s day and within the month.

    Returns
    -------
    date or None
        The earlier of the day the first outcome beyond the allowance is
        expected and the conversion date; None when neither happens this month.
    """
    candidates = []
    if extra > free_left:
        offset = (end - as_of) * ((free_left + 1) / extra)
        candidates.append(min((as_of + offset).date(), (end - DAY).date()))
    if converted_on is not None and as_of.date() < converted_on < end.date():
        candidates.append(converted_on)
    return min(candidates) if candidates else None


def allowance_runs_out(
    free_total: int, free_left: int, used_up_on: date | None, as_of: datetime, rate: float
) -> date | None:
    """The day the free allowance runs out.

    Parameters
    ----------
    free_total : int
        The plan's free outcomes; 0 means there is nothing to run out.
    free_left : int
        Left at ``as_of``.
    used_up_on : date, optional
        When it has run out already: the day of the first paid outcome, or of
        the last free one if none has come.
    as_of : datetime
    rate : float
        Billable outcomes per day.

    Returns
    -------
    date or None
        ``used_up_on`` when set, else ``as_of + free_left / rate``; None
        without an allowance or with no pace.
    """
    if free_total == 0:
        return None
    if used_up_on is not None:
        return used_up_on
    if rate == 0:
        return None
    try:
        return (as_of + timedelta(days=free_left / rate)).date()
    except OverflowError:
        return None


@dataclass(frozen=True)
class MonthSoFar:
    """The month containing ``as_of``, as billed at ``as_of``: where a projection starts.

    Attributes
    ----------
    plan : PlanSpec
    start, end : datetime
        The month's ``[start, end)`` in UTC.
    billed : int
        Billable outcomes of the month so far.
    free_remaining_start : int
        Free outcomes left when the month began.
    free_left : int
        Free outcomes left at ``as_of``.
    activated_on : date, optional
        The paid plan's activation, if it has happened.
    converted_on : date, optional
        The subscription's conversion date, if any.
    seats : int
    tasks : int
        Tasks billed so far this month.
    credits : tuple of Line
        Credit lines of the month.
    """

    plan: PlanSpec
    start: datetime
    end: datetime
    billed: int
    free_remaining_start: int
    free_left: int
    activated_on: date | None
    converted_on: date | None
    seats: int
    tasks: int
    credits: tuple[Line, ...] = ()


def _active_days(activated_on: date | None, start: datetime, end: datetime) -> int:
    # The same rule as app.store.billing.active_days_in, which rates the invoice.
    if activated_on is None or activated_on >= end.date():
        return 0
    if activated_on <= start.date():
        return (end - start).days
    return (end.date() - activated_on).days


def project(
    month: MonthSoFar, *, as_of: datetime, outcomes: Pace, tasks: Pace | None = None, used_up_on: date | None = None
) -> Projection:
    """Project the bill of ``month`` from the pace of its window.

    Parameters
    ----------
    month : MonthSoFar
        The month containing ``as_of``.
    as_of : datetime
        Aware; ``month.start <= as_of < month.end``.
    outcomes : Pace
        Billable outcomes in the window.
    tasks : Pace, optional
        Outcomes started in the window; only for plans that price tasks.
    used_up_on : date, optional
        The day the free allowance ran out, if it has (see :func:`allowance_runs_out`).

    Returns
    -------
    Projection
        Expected outcomes and total, the 80% range priced by the bill's rules,
        and the day the free allowance runs out.
    """
    plan = month.plan
    days_left = _days(month.end - as_of)

    def price(extra: int, q: float | None) -> Invoice:
        activated = month.activated_on
        if activated is None:
            activated = scenario_activation(as_of, month.end, month.free_left, extra, month.converted_on)
        billed_tasks = month.tasks
        if tasks is not None and plan.task_price and activated is not None:
            activated_at = datetime.combine(activated, time(0), tzinfo=timezone.utc)
            active_left = max(0.0, _days(month.end - max(as_of, activated_at)))
            billed_tasks += tasks.expected(active_left) if q is None else tasks.quantile(q, active_left)
        return rate_month(
            plan,
            billable=month.billed + extra,
            free_remaining=month.free_remaining_start,
            days_in_month=(month.end - month.start).days,
            active_days=_active_days(activated, month.start, month.end),
            seats=month.seats,
            tasks=billed_tasks,
            credits=month.credits,
        )

    expected = outcomes.expected(days_left)
    low, high = outcomes.quantile(LOW, days_left), outcomes.quantile(HIGH, days_left)
    bill = price(expected, None)
    return Projection(
        outcomes=month.billed + expected,
        total=bill.total,
        low=price(low, LOW).total,
        high=price(high, HIGH).total,
        allowance_runs_out=allowance_runs_out(plan.free_outcomes, month.free_left, used_up_on, as_of, outcomes.rate),
        # The expected month's own lines, so the page can show how the total is made up.
        lines=bill.lines,
        low_outcomes=month.billed + low,
        high_outcomes=month.billed + high,
    )
