"""Invoices from stored outcomes (SPEC "Billing"), aggregated in SQL.

Rules chosen where SPEC is silent (they belong in the README too):

- A billable outcome has status ``completed`` and a verdict other than
  ``incorrect``. It is billed in the calendar month (UTC) of its
  ``completed_at`` unless its latest review made it incorrect within that same
  month (``reviewed_at`` before the next month starts).
- An outcome whose latest verdict is ``incorrect`` with ``reviewed_at`` in a later
  month R was billed in its own month S and is credited in R, on a negative line
  "Credit: k outcomes of YYYY-MM reviewed incorrect" worth the usage charge of
  S's paid count minus that of the count left once the k are taken out (after
  any earlier credits to S). Only outcomes that were beyond the free allowance
  are credited: the free allowance is not given back.
- Only outcomes with ``completed_at <= as_of``, and reviews with
  ``reviewed_at <= as_of``, are taken into account; outcomes completed before the
  subscription's first day are not billed at all.
- The free allowance is consumed by billed outcomes in order of
  ``(completed_at, id)``; the first outcome it no longer covers is found by
  walking the billed outcomes per day (from the rollups) to the day the
  allowance runs out, then one ``ORDER BY ... LIMIT 1 OFFSET k`` query over
  that day's raw rows.
- Counts come from the daily rollups (:mod:`app.store.rollups`) for whole days,
  and from the raw rows of the few days that need more precision (the day of
  ``as_of``, of the cutoff, of a projection window's start, and reviews made on
  ``as_of``'s day after it), so an invoice costs the same whatever the history.
- The paid plan is active from the day of that outcome or from
  ``converted_on`` (once reached), whichever comes first; with no free
  allowance, from the subscription's ``started_on``. The activation month is
  prorated over the days from the activation date to the month's end
  inclusive; later months are full; earlier months owe nothing.
- Tasks of a month are the outcomes started in it (any status) while the plan
  is active; seats come from ``Subscription.seats``.
- Months before the subscription's start give an empty invoice; a month that
  starts after ``as_of`` has no invoice yet.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import and_, extract, func, not_, or_, select
from sqlmodel import Session

from app.domain.charges import Line
from app.domain.errors import OverseerError
from app.domain.invoice import Invoice, rate_month, usage_charge
from app.domain.plans import PlanSpec
from app.models import Account, Outcome, RollupOutcomeDay, RollupStartedDay, Subscription, utcnow
from app.store.accounts import get_subscription
from app.store.metrics import as_date

DAY = timedelta(days=1)


@dataclass(frozen=True)
class BillingState:
    """Free allowance use and plan activation of an account at one moment."""

    free_total: int
    free_used: int
    free_remaining: int
    activated_on: date | None
    activated_by: str | None  # "allowance" | "conversion" | "plan"


@dataclass(frozen=True)
class MonthUsage:
    """Everything needed to rate one month, as stored at ``as_of``.

    ``billed_before`` counts billed outcomes of earlier months only up to the
    free allowance (all that matters of them); ``cutoff`` is ``(completed_at, id)`` of the first billed outcome beyond the
    free allowance, or None; ``state`` the account's :class:`BillingState`.
    """

    plan: PlanSpec
    subscription: Subscription
    year: int
    month: int
    start: datetime
    end: datetime
    days: int
    billed_before: int
    billed: int
    free_remaining_start: int
    active_days: int
    tasks: int
    credits: tuple[Line, ...]
    state: BillingState
    cutoff: tuple[datetime, int] | None


@dataclass
class BillingContext:
    """What every month of one account shares at ``as_of``, computed once.

    ``counts`` memoises :func:`_billed_counts` per month, ``credits`` the
    table of every credit and ``days`` the billed outcomes per day of
    completion (exact at ``as_of``), so that a history runs a handful of queries.
    """

    session: Session
    account: Account
    subscription: Subscription
    plan: PlanSpec
    as_of: datetime
    state: BillingState
    cutoff: tuple[datetime, int] | None
    counts: dict = field(default_factory=dict)
    credits: dict | None = None
    days: dict = field(default_factory=dict)


def billing_context(session: Session, account: Account, *, as_of: datetime) -> BillingContext:
    """Subscription, plan, allowance use and activation of ``account`` at ``as_of``.

    Parameters
    ----------
    session : Session
    account : Account
    as_of : datetime
        Timezone-aware.

    Returns
    -------
    BillingContext

    Raises
    ------
    OverseerError
        A naive ``as_of``; :class:`app.domain.errors.NotFound` without a subscription.
    """
    as_of = aware_utc(as_of)
    sub, plan = get_subscription(session, account)
    days = billed_days(session, account, sub, as_of)
    state, cutoff = _state(session, account, sub, plan, as_of, days)
    return BillingContext(session, account, sub, plan, as_of, state, cutoff, days=days)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """``[start, end)`` of a calendar month in UTC."""
    if not (isinstance(year, int) and isinstance(month, int) and 1 <= month <= 12 and 1 <= year <= 9998):
        raise OverseerError(f"no such month: {year}-{month}")
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
    return start, end


def aware_utc(as_of: datetime) -> datetime:
    """``as_of`` in UTC; a naive or non-datetime value is an :class:`OverseerError`."""
    if not isinstance(as_of, datetime) or as_of.utcoffset() is None:
        raise OverseerError(f"as_of must be a timezone-aware datetime, got {as_of!r}")
    return as_of.astimezone(timezone.utc)


def _ym(column):
    # year * 12 + month compares months portably (SQLAlchemy renders extract() as strftime on SQLite).
    return extract("year", column) * 12 + extract("month", column)


def billed_conditions(account: Account, sub: Subscription, as_of: datetime) -> list:
    """SQL conditions selecting the outcomes billed in the month of their ``completed_at``.

    Parameters
    ----------
    account : Account
    sub : Subscription
        Outcomes completed before its first day are not billed.
    as_of : datetime
        Later completions and reviews are ignored.

    Returns
    -------
    list
        SQLAlchemy conditions for ``Outcome``, to splat into ``where()``.
    """
    incorrect_in_same_month = and_(
        Outcome.verdict == "incorrect",
        Outcome.reviewed_at.is_not(None),
        Outcome.reviewed_at <= as_of,
        _ym(Outcome.reviewed_at) <= _ym(Outcome.completed_at),
    )
    return [
        Outcome.account_id == account.id,
        Outcome.status == "completed",
        Outcome.completed_at.is_not(None),
        Outcome.completed_at >= day_start(sub.started_on),
        Outcome.completed_at <= as_of,
        not_(incorrect_in_same_month),
    ]


def _at_or_after(cutoff: tuple[datetime, int]):
    at, pk = cutoff
    return or_(Outcome.completed_at > at, and_(Outcome.completed_at == at, Outcome.id >= pk))


def _scalar(session: Session, stmt) -> int:
    return int(session.execute(stmt).scalar() or 0)


def _count(session: Session, *conditions) -> int:
    return _scalar(session, select(func.count()).select_from(Outcome).where(*conditions))


def _on_day(day: date) -> list:
    return [Outcome.completed_at >= day_start(day), Outcome.completed_at < day_start(day + DAY)]


def billed_days(session: Session, account: Account, sub: Subscription, as_of: datetime) -> dict[date, int]:
    """Billed outcomes (:func:`billed_conditions`) per UTC day of completion, exact at ``as_of``.

    Whole days before ``as_of``'s come from the rollups, where an incorrect
    verdict recorded on ``as_of``'s day counts as made by ``as_of``; the outcomes
    whose review came later that day are put back from their raw rows, and
    ``as_of``'s own day is counted from its raw rows.

    Parameters
    ----------
    session : Session
    account : Account
    sub : Subscription
    as_of : datetime
        Aware UTC.

    Returns
    -------
    dict
        ``{day: count}`` for the days with billed outcomes, in day order.
    """
    today = as_of.date()
    if sub.started_on > today:
        return {}
    r = RollupOutcomeDay
    reviewed, completed = _ym(r.incorrect_on), _ym(r.day)
    rows = session.execute(
        select(r.day, func.sum(r.outcomes))
        .where(
            r.account_id == account.id,
            r.status == "completed",
            r.day >= sub.started_on,
            r.day < today,
            not_(and_(r.incorrect_on <= today, reviewed <= completed)),
        )
        .group_by(r.day)
    ).all()
    days: dict[date, int] = defaultdict(int)
    for day, n in rows:
        days[as_date(day)] += int(n or 0)
    completed_day = func.date(Outcome.completed_at)
    late = session.execute(
        select(completed_day, func.count())
        .where(
            Outcome.account_id == account.id,
            Outcome.status == "completed",
            Outcome.verdict == "incorrect",
            Outcome.reviewed_at > as_of,
            Outcome.reviewed_at < day_start(today + DAY),
            Outcome.completed_at >= day_start(sub.started_on),
            Outcome.completed_at < day_start(today),
            _ym(Outcome.reviewed_at) <= _ym(Outcome.completed_at),
        )
        .group_by(completed_day)
    ).all()
    for day, n in late:
        days[as_date(day)] += int(n)
    days[today] += _count(session, *billed_conditions(account, sub, as_of), Outcome.completed_at >= day_start(today))
    return {day: n for day, n in sorted(days.items()) if n}


def billed_after(ctx: BillingContext, moment: datetime) -> int:
    """Billed outcomes (at ``ctx.as_of``) completed strictly after ``moment``."""
    day = moment.date()
    whole = sum(n for d, n in ctx.days.items() if d > day)
    partial = _count(
        ctx.session,
        *billed_conditions(ctx.account, ctx.subscription, ctx.as_of),
        Outcome.completed_at > moment,
        Outcome.completed_at < day_start(day + DAY),
    )
    return whole + partial


def _first_of_day(session: Session, billed: list, day: date, offset: int, *, last: bool = False):
    order = (Outcome.completed_at.desc(), Outcome.id.desc()) if last else (Outcome.completed_at, Outcome.id)
    return session.execute(
        select(Outcome.completed_at, Outcome.id).where(*billed, *_on_day(day)).order_by(*order).limit(1).offset(offset)
    ).first()


def last_billed(ctx: BillingContext) -> datetime | None:
    """``completed_at`` of the latest billed outcome at ``ctx.as_of`` (None without any)."""
    if not ctx.days:
        return None
    billed = billed_conditions(ctx.account, ctx.subscription, ctx.as_of)
    row = _first_of_day(ctx.session, billed, max(ctx.days), 0, last=True)
    return None if row is None else row[0]


def started_between(
    session: Session, account_id: int, lo: datetime, hi: datetime, *, lo_open: bool = False, hi_open: bool = False
) -> int:
    """Outcomes of the account started between ``lo`` and ``hi`` (each bound included unless ``*_open``).

    Whole days come from the rollups, the partial days at either end from their raw rows.

    Parameters
    ----------
    session : Session
    account_id : int
    lo, hi : datetime
        Aware UTC bounds; nothing is counted when ``hi`` is before ``lo``.
    lo_open, hi_open : bool
        Leave out outcomes started exactly at ``lo``, or at ``hi``.

    Returns
    -------
    int
    """
    if hi < lo:
        return 0
    lo_day, hi_day = lo.date(), hi.date()
    after_lo = Outcome.started_at > lo if lo_open else Outcome.started_at >= lo
    before_hi = Outcome.started_at < hi if hi_open else Outcome.started_at <= hi
    scope = Outcome.account_id == account_id
    first_whole = lo_day if lo == day_start(lo_day) and not lo_open else lo_day + DAY
    if hi_day < first_whole:
        return _count(session, scope, after_lo, before_hi)
    total = 0
    if first_whole > lo_day:
        total += _count(session, scope, after_lo, Outcome.started_at < day_start(first_whole))
    if first_whole < hi_day:
        r = RollupStartedDay
        total += _scalar(
            session,
            select(func.sum(r.outcomes)).where(r.account_id == account_id, r.day >= first_whole, r.day < hi_day),
        )
    if not (hi_open and hi == day_start(hi_day)):
        total += _count(session, scope, Outcome.started_at >= day_start(hi_day), before_hi)
    return total


def _state(session: Session, account: Account, sub: Subscription, plan: PlanSpec, as_of: datetime, days: dict):
    total = sum(days.values())
    used = min(plan.free_outcomes, total)
    cutoff = None
    if total > plan.free_outcomes:
        before = 0
        for day, n in days.items():
            if before + n > plan.free_outcomes:
                row = _first_of_day(session, billed_conditions(account, sub, as_of), day, plan.free_outcomes - before)
                cutoff = (row[0], row[1])
                break
            before += n
    if plan.free_outcomes == 0:
        activated_on, activated_by = sub.started_on, "plan"
    else:
        by_allowance = None if cutoff is None else cutoff[0].date()
        converted = sub.converted_on if sub.converted_on and sub.converted_on <= as_of.date() else None
        if converted is not None and (by_allowance is None or converted < by_allowance):
            activated_on, activated_by = converted, "conversion"
        elif by_allowance is not None:
            activated_on, activated_by = by_allowance, "allowance"
        else:
            activated_on, activated_by = None, None
    state = BillingState(plan.free_outcomes, used, plan.free_outcomes - used, activated_on, activated_by)
    return state, cutoff


def billing_state(session: Session, account: Account, *, as_of: datetime) -> BillingState:
    """The account's free allowance use and plan activation at ``as_of``.

    Parameters
    ----------
    session : Session
    account : Account
    as_of : datetime
        Timezone-aware; outcomes completed later are ignored.

    Returns
    -------
    BillingState
    """
    return billing_context(session, account, as_of=as_of).state


def _billed_counts(ctx: BillingContext, start: datetime, end: datetime) -> tuple[int, int]:
    """``(billed before start, capped at the free allowance; billed in [start, end))``."""
    if start in ctx.counts:
        return ctx.counts[start]
    plan = ctx.plan
    in_month = sum(n for day, n in ctx.days.items() if start.date() <= day < end.date())
    before = 0
    if plan.free_outcomes:
        # Only how much of the allowance is left matters.
        before = min(plan.free_outcomes, sum(n for day, n in ctx.days.items() if day < start.date()))
    ctx.counts[start] = before, int(in_month or 0)
    return ctx.counts[start]


def _paid_count(plan: PlanSpec, billed_before: int, billed: int) -> int:
    free_left = plan.free_outcomes - min(plan.free_outcomes, billed_before)
    return billed - min(billed, free_left)


def _credit_table(ctx: BillingContext) -> dict[tuple[int, int], int]:
    """``{(review month, billed month): outcomes}`` for every credit up to ``as_of``, in one query.

    Months are ``year * 12 + month``. Only outcomes beyond the free allowance
    (at or after the cutoff) count: the allowance is not given back.
    """
    if ctx.credits is None:
        ctx.credits = {}
        if ctx.cutoff is not None:
            ctx.credits = _credit_rows(ctx)
    return ctx.credits


def _credit_rows(ctx: BillingContext) -> dict[tuple[int, int], int]:
    session, account, as_of = ctx.session, ctx.account, ctx.as_of
    cut_day, today = ctx.cutoff[0].date(), as_of.date()
    table: dict[tuple[int, int], int] = defaultdict(int)
    # Whole days after the cutoff's and before as_of's: from the rollups, a review made on
    # as_of's day counting as made by as_of ...
    r = RollupOutcomeDay
    r_reviewed, r_completed = _ym(r.incorrect_on), _ym(r.day)
    rows = session.execute(
        select(r_reviewed, r_completed, func.sum(r.outcomes))
        .where(
            r.account_id == account.id,
            r.status == "completed",
            r.day > cut_day,
            r.day < today,
            r.incorrect_on <= today,
            r_reviewed > r_completed,
        )
        .group_by(r_reviewed, r_completed)
    ).all()
    for rv, cp, k in rows:
        table[(int(rv), int(cp))] += int(k or 0)
    reviewed, completed = _ym(Outcome.reviewed_at), _ym(Outcome.completed_at)
    incorrect = [
        Outcome.account_id == account.id,
        Outcome.status == "completed",
        Outcome.verdict == "incorrect",
        reviewed > completed,
    ]
    # ... so the reviews made later that day are taken out again, from their raw rows;
    late = session.execute(
        select(reviewed, completed, func.count())
        .where(
            *incorrect,
            Outcome.reviewed_at > as_of,
            Outcome.reviewed_at < day_start(today + DAY),
            Outcome.completed_at >= day_start(cut_day + DAY),
            Outcome.completed_at < day_start(today),
        )
        .group_by(reviewed, completed)
    ).all()
    for rv, cp, k in late:
        table[(int(rv), int(cp))] -= int(k)
    # and the cutoff's day and as_of's day are read exactly from their raw rows.
    for day in sorted({cut_day, today}):
        rows = session.execute(
            select(reviewed, completed, func.count())
            .where(
                *incorrect,
                Outcome.completed_at >= day_start(ctx.subscription.started_on),
                Outcome.completed_at <= as_of,
                Outcome.reviewed_at <= as_of,
                _at_or_after(ctx.cutoff),
                *_on_day(day),
            )
            .group_by(reviewed, completed)
        ).all()
        for rv, cp, k in rows:
            table[(int(rv), int(cp))] += int(k)
    return {key: k for key, k in table.items() if k}


def _credits(ctx: BillingContext, year: int, month: int) -> tuple[Line, ...]:
    table = _credit_table(ctx)
    review = year * 12 + month
    lines = []
    for (r, source), k in sorted(table.items()):
        if r != review:
            continue
        s_year, s_month = divmod(source - 1, 12)
        s_month += 1
        before, billed = _billed_counts(ctx, *month_bounds(s_year, s_month))
        earlier = sum(n for (r2, s2), n in table.items() if s2 == source and r2 < review)
        remaining = max(0, _paid_count(ctx.plan, before, billed) - earlier)
        usage = usage_charge(ctx.plan, remaining) - usage_charge(ctx.plan, max(0, remaining - k))
        # "or" turns Decimal("-0.00") into 0.00: a credit within the included outcomes is worth nothing.
        amount = -usage or Decimal("0.00")
        description = f"Credit: {k} outcomes of {s_year:04d}-{s_month:02d} reviewed incorrect"
        lines.append(Line(description, 1, amount, amount))
    return tuple(lines)


def active_days_in(activated_on: date | None, start: datetime, end: datetime) -> int:
    """Days of ``[start, end)`` on which a plan activated on ``activated_on`` is active.

    Parameters
    ----------
    activated_on : date or None
        None: not active.
    start, end : datetime
        Month bounds from :func:`month_bounds`.

    Returns
    -------
    int
        0 before activation, the days from ``activated_on`` to the month's end
        inclusive in the activation month, every day afterwards.
    """
    days = (end - start).days
    if activated_on is None or activated_on >= end.date():
        return 0
    if activated_on <= start.date():
        return days
    return (end.date() - activated_on).days


def month_usage(ctx: BillingContext, year: int, month: int) -> MonthUsage:
    """Counts, activation and credits of one month as stored at ``ctx.as_of``.

    Parameters
    ----------
    ctx : BillingContext
        From :func:`billing_context`.
    year, month : int

    Returns
    -------
    MonthUsage
    """
    session, account, sub, plan, as_of = ctx.session, ctx.account, ctx.subscription, ctx.plan, ctx.as_of
    state, cutoff = ctx.state, ctx.cutoff
    start, end = month_bounds(year, month)
    days = calendar.monthrange(year, month)[1]
    if end <= day_start(sub.started_on):
        return MonthUsage(plan, sub, year, month, start, end, days, 0, 0, plan.free_outcomes, 0, 0, (), state, cutoff)
    before, billed = _billed_counts(ctx, start, end)
    active = active_days_in(state.activated_on, start, end)
    tasks = 0
    if active and plan.task_price:
        lo = max(start, day_start(state.activated_on), day_start(sub.started_on))
        if as_of < end:
            tasks = started_between(session, account.id, lo, as_of)
        else:
            tasks = started_between(session, account.id, lo, end, hi_open=True)
    credits = _credits(ctx, year, month)
    free_start = plan.free_outcomes - min(plan.free_outcomes, before)
    return MonthUsage(plan, sub, year, month, start, end, days, before, billed, free_start, active, tasks, credits, state, cutoff)


def rate_usage(usage: MonthUsage) -> Invoice:
    """Rate a :class:`MonthUsage` with :func:`app.domain.invoice.rate_month`."""
    invoice = rate_month(
        usage.plan,
        billable=usage.billed,
        free_remaining=usage.free_remaining_start,
        days_in_month=usage.days,
        active_days=usage.active_days,
        seats=usage.subscription.seats,
        tasks=usage.tasks,
        credits=usage.credits,
    )
    return replace(invoice, year=usage.year, month=usage.month)


def invoice_for_month(
    session: Session, account: Account, year: int, month: int, *, as_of: datetime | None = None
) -> Invoice:
    """The invoice of one calendar month, as it stands at ``as_of``.

    Parameters
    ----------
    session : Session
    account : Account
    year, month : int
    as_of : datetime, optional
        Timezone-aware, default now. For the month containing ``as_of`` the
        invoice carries ``projected`` (see :mod:`app.store.projection`).

    Returns
    -------
    Invoice

    Raises
    ------
    OverseerError
        An impossible month, a naive ``as_of``, or a month that starts after ``as_of``.
    """
    ctx = billing_context(session, account, as_of=utcnow() if as_of is None else as_of)
    return _invoice(ctx, year, month)


def _invoice(ctx: BillingContext, year: int, month: int) -> Invoice:
    start, end = month_bounds(year, month)
    if start > ctx.as_of:
        raise OverseerError(
            f"no invoice yet for {year:04d}-{month:02d}: the month starts after {ctx.as_of.isoformat()}"
        )
    usage = month_usage(ctx, year, month)
    invoice = rate_usage(usage)
    if ctx.as_of < end:
        from app.store.projection import project_usage  # projection builds on this module

        invoice = replace(invoice, projected=project_usage(ctx, usage))
    return invoice


def invoice_history(session: Session, account: Account, *, as_of: datetime) -> list[Invoice]:
    """Invoices from the subscription's first month to the month of ``as_of``, oldest first.

    Parameters
    ----------
    session : Session
    account : Account
    as_of : datetime
        Timezone-aware.

    Returns
    -------
    list of Invoice
        Empty when the subscription starts after ``as_of``.
    """
    ctx = billing_context(session, account, as_of=as_of)
    as_of = ctx.as_of
    year, month = ctx.subscription.started_on.year, ctx.subscription.started_on.month
    invoices = []
    while (year, month) <= (as_of.year, as_of.month):
        invoices.append(_invoice(ctx, year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return invoices
