"""The bill to come for the current month (SPEC "Projection").

Rules chosen where SPEC is silent (they belong in the README too):

- Daily rate = billed outcomes completed in the last 14 days (or since the
  month, or the subscription, began if that is shorter; at least one day),
  counted in fractional days up to ``as_of``, divided by those days.
- Expected remaining outcomes ``lam = rate * days left`` (fractional, until the
  next month starts). Projected outcomes = billed to date + ``lam`` rounded
  half-up; the 80% range prices billed to date + the 10% and 90% Poisson
  quantiles of ``lam``.
- Each scenario is priced with the billing rules: when its outcomes exhaust
  the free allowance, the plan activates on the day the first outcome beyond
  it is expected (remaining outcomes spread evenly over the rest of the month),
  or on a conversion date later this month if that is earlier, and the base
  fee is prorated from that day. Tasks (usage-priced plans) are projected the
  same way at their own rate, counting only days the plan is active.
- ``allowance_runs_out``: the day of the first outcome beyond the allowance if
  that has happened; the day of the last free outcome if the allowance is used
  up exactly; otherwise ``as_of + remaining / rate``; None without an allowance
  or when the rate is zero.
- Counts are read like the invoice's (:mod:`app.store.billing`): the daily
  rollups, corrected to ``as_of`` by the raw rows after it on its day, and
  the raw rows of the window's first day on the shorter side of its start.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from sqlmodel import Session

from app.domain.invoice import Projection, rate_month
from app.domain.stats import poisson_quantile
from app.models import Account
from app.store.billing import (
    BillingContext,
    MonthUsage,
    active_days_in,
    billed_after,
    billing_context,
    day_start,
    last_billed,
    month_usage,
    started_between,
)

WINDOW_DAYS = 14
DAY = timedelta(days=1)


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _scenario_activation(as_of: datetime, end: datetime, free_left: int, extra: int, converted_on: date | None):
    """Activation day when ``extra`` more outcomes arrive evenly over ``[as_of, end)``."""
    candidates = []
    if extra > free_left:
        offset = (end - as_of) * ((free_left + 1) / extra)
        candidates.append(min((as_of + offset).date(), (end - DAY).date()))
    if converted_on is not None and as_of.date() < converted_on < end.date():
        candidates.append(converted_on)
    return min(candidates) if candidates else None


def project_month(session: Session, account: Account, *, as_of: datetime) -> Projection:
    """Project the bill of the month containing ``as_of``.

    Parameters
    ----------
    session : Session
    account : Account
    as_of : datetime
        Timezone-aware; the projection uses outcomes up to this moment only.

    Returns
    -------
    Projection
        Expected outcomes and total, the 80% range (``low``, ``high``) and the
        date the free allowance runs out.
    """
    ctx = billing_context(session, account, as_of=as_of)
    return project_usage(ctx, month_usage(ctx, ctx.as_of.year, ctx.as_of.month))


def project_usage(ctx: BillingContext, usage: MonthUsage) -> Projection:
    """Project the bill of the month of ``usage``, which must contain ``ctx.as_of``.

    Parameters
    ----------
    ctx : BillingContext
    usage : MonthUsage
        From :func:`app.store.billing.month_usage` for the month of ``ctx.as_of``.

    Returns
    -------
    Projection
    """
    session, account, as_of = ctx.session, ctx.account, ctx.as_of
    plan, sub, state = usage.plan, usage.subscription, usage.state
    window_start = max(as_of - WINDOW_DAYS * DAY, usage.start, day_start(sub.started_on))
    observed = max(1.0, _days(as_of - window_start))
    recent = billed_after(ctx, window_start)
    rate = recent / observed
    days_left = _days(usage.end - as_of)
    lam = rate * days_left

    task_rate = 0.0
    if plan.task_price:
        started = started_between(session, account.id, window_start, as_of, lo_open=True)
        task_rate = started / observed

    free_left = state.free_remaining

    def price(extra: int, q: float | None):
        activated = state.activated_on
        if activated is None:
            activated = _scenario_activation(as_of, usage.end, free_left, extra, sub.converted_on)
        active_days = active_days_in(activated, usage.start, usage.end)
        tasks = usage.tasks
        if task_rate and activated is not None:
            active_left = _days(usage.end - max(as_of, day_start(activated)))
            lam_t = task_rate * max(0.0, active_left)
            tasks += _round_half_up(lam_t) if q is None else poisson_quantile(q, lam_t)
        return rate_month(
            plan,
            billable=usage.billed + extra,
            free_remaining=usage.free_remaining_start,
            days_in_month=usage.days,
            active_days=active_days,
            seats=sub.seats,
            tasks=tasks,
            credits=usage.credits,
        ).total

    expected = _round_half_up(lam)
    return Projection(
        outcomes=usage.billed + expected,
        total=price(expected, None),
        low=price(poisson_quantile(0.1, lam), 0.1),
        high=price(poisson_quantile(0.9, lam), 0.9),
        allowance_runs_out=_runs_out(ctx, usage, as_of, rate),
    )


def _runs_out(ctx: BillingContext, usage, as_of: datetime, rate: float) -> date | None:
    plan, state = usage.plan, usage.state
    if plan.free_outcomes == 0:
        return None
    if usage.cutoff is not None:
        return usage.cutoff[0].date()
    if state.free_remaining == 0:
        return last_billed(ctx).date()
    if rate == 0:
        return None
    try:
        return (as_of + timedelta(days=state.free_remaining / rate)).date()
    except OverflowError:
        return None
