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
- Counts come from the daily rollups (:mod:`app.store.rollups`), made exact at
  ``as_of`` by the raw rows of ``as_of``'s day *after* ``as_of`` (outcomes
  completed, and incorrect verdicts recorded, later that day: usually none);
  only the cutoff's day and a projection window's first day read more raw rows,
  each bounded to that one day. Every raw read has exactly one lower and one
  upper bound on one indexed time column (``(account_id, completed_at)``,
  ``(account_id, reviewed_at)`` or ``(account_id, started_at)``): SQLite's
  planner takes the first bound it meets, so a second, wider bound on the same
  column (the subscription's start) would make it scan the whole history.
  An invoice therefore costs the same whatever the history.
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
from itertools import groupby
from dataclasses import dataclass, field, replace
from functools import cache
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import Integer, String, bindparam, extract, func, not_, or_, select, type_coerce
from sqlmodel import Session

from app.core.clock import stored_utc
from app.domain import projection, verdicts
from app.domain.charges import Line
from app.domain.errors import OverseerError
from app.domain.invoice import Invoice, LateOutcomes, Projection, rate_month, rate_periods, usage_charge
from app.domain.plans import PlanSpec
from app.models import Account, ClosedInvoice, IncorrectSpan, Outcome, RollupOutcomeDay, RollupStartedDay, Subscription, utcnow
from app.store.accounts import get_subscription, subscription_history
from app.store.metrics import as_date
from app.store.outcome_sql import utc_day
from app.store import prepared

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
    seats: int = 0
    periods: tuple[dict, ...] = ()  # rate_month's arguments per period, when the plan changed in the month


@dataclass
class BillingContext:
    """What every month of one account shares at ``as_of``, computed once.

    ``counts`` memoises :func:`_billed_counts` per month, ``credits`` the
    table of every credit, ``days`` the billed outcomes per day of completion
    and ``completed`` the completed outcomes per day of completion and month of
    their incorrect verdict (both exact at ``as_of``, see
    :func:`completed_by_day`), so that a history runs a handful of queries.
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
    verdicts: "VerdictEffects | None" = None
    closed: dict[tuple[int, int], ClosedInvoice] = field(default_factory=dict)
    carry: "Carry | None" = None
    free_credits: dict = field(default_factory=dict)  # credits of outcomes the allowance covered: counted, worth nothing
    periods: list = field(default_factory=list)  # every plan the subscription has been on (PlanPeriod)


def billing_context(
    session: Session, account: Account, *, as_of: datetime
) -> BillingContext:
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
    sub, periods = subscription_history(session, account)
    current = next((p for p in reversed(periods) if p.effective_at <= as_of), periods[0]).plan
    effects = verdict_effects(session, account, sub, as_of)
    days = _units_per_day(completed_by_day(session, account, sub, as_of), effects)
    ctx = BillingContext(
        session, account, sub, current, as_of, None, None, days=days, verdicts=effects,
        closed=closed_months(session, account, as_of), periods=periods,
    )
    ctx.carry = _carry(ctx)
    ctx.state, ctx.cutoff = _state(ctx)
    return ctx


def closed_months(session: Session, account: Account, as_of: datetime) -> dict[tuple[int, int], ClosedInvoice]:
    """The account's final invoices closed by ``as_of``, by ``(year, month)`` in month order."""
    rows = session.execute(_closed_sql(), {"account_id": account.id, "as_of": as_of}).scalars()
    return {(row.year, row.month): row for row in rows}


@cache
def _closed_sql():
    account_id, as_of = prepared.params("account_id", "as_of")
    return (
        select(ClosedInvoice)
        .where(ClosedInvoice.account_id == account_id, ClosedInvoice.closed_at <= as_of)
        .order_by(ClosedInvoice.year, ClosedInvoice.month)
    )


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


def billed_conditions(
    account: Account,
    sub: Subscription,
    as_of: datetime,
    *,
    lo: datetime,
    hi: datetime,
    lo_open: bool = False,
    hi_open: bool = False,
) -> list:
    """SQL conditions selecting the outcomes billed in their own month, completed from ``lo`` to ``hi``.

    ``lo`` and ``hi`` lie in one calendar month (every caller reads one day), so
    "the month's end, or ``as_of`` if earlier" is one moment: an outcome is
    billed unless an incorrect span (:mod:`app.domain.verdicts`) covers it.

    Parameters
    ----------
    account : Account
    sub : Subscription
        Outcomes completed before its first day are not billed.
    as_of : datetime
        Later completions and reviews are ignored.
    lo, hi : datetime
        Only outcomes completed from ``lo`` to ``hi`` (each included unless
        ``*_open``); merged with the subscription's start and ``as_of`` into a
        single range, which the ``(account_id, completed_at)`` index serves.

    Returns
    -------
    list
        SQLAlchemy conditions for ``Outcome``, to splat into ``where()``.
    """
    (lower_open, upper_open), values = _billed_bounds(account, sub, as_of, lo, hi, lo_open, hi_open)
    return _billed_where(
        values["account_id"], values["as_of"], values["month_end"], values["lower"], values["upper"], lower_open, upper_open
    )


def _billed_bounds(
    account: Account, sub: Subscription, as_of: datetime, lo: datetime, hi: datetime, lo_open: bool, hi_open: bool
) -> tuple[tuple[bool, bool], dict]:
    """The shape (which bounds are open) and the values of :func:`billed_conditions`' conditions."""
    lower, lower_open = day_start(sub.started_on), False
    if lo > lower or (lo == lower and lo_open):
        lower, lower_open = lo, lo_open
    upper, upper_open = as_of, False
    if hi < upper or (hi == upper and hi_open):
        upper, upper_open = hi, hi_open
    values = {
        "account_id": account.id, "as_of": as_of, "month_end": month_bounds(lo.year, lo.month)[1],
        "lower": lower, "upper": upper,
    }
    return (lower_open, upper_open), values


def _billed_where(account_id, as_of, month_end, lower, upper, lower_open: bool, upper_open: bool) -> list:
    covered = (
        select(IncorrectSpan.id)
        .where(
            IncorrectSpan.outcome_pk == Outcome.id,
            IncorrectSpan.started_at <= as_of,
            IncorrectSpan.started_at < month_end,
            or_(IncorrectSpan.ended_at.is_(None), IncorrectSpan.ended_at > as_of, IncorrectSpan.ended_at >= month_end),
        )
        .exists()
    )
    return [
        Outcome.account_id == account_id,
        Outcome.status == "completed",
        *_between(Outcome.completed_at, lower, upper, lower_open, upper_open),
        not_(covered),
    ]


@cache
def _billed_count_sql(lower_open: bool, upper_open: bool):
    where = _billed_where(*prepared.params("account_id", "as_of", "month_end", "lower", "upper"), lower_open, upper_open)
    return select(func.count()).select_from(Outcome).where(*where)


@cache
def _billed_first_sql(lower_open: bool, upper_open: bool, last: bool):
    where = _billed_where(*prepared.params("account_id", "as_of", "month_end", "lower", "upper"), lower_open, upper_open)
    order = (Outcome.completed_at.desc(), Outcome.id.desc()) if last else (Outcome.completed_at, Outcome.id)
    return select(Outcome.completed_at, Outcome.id).where(*where).order_by(*order).limit(1).offset(
        bindparam("offset", type_=Integer)
    )


def _billed_count(
    ctx: BillingContext, lo: datetime, hi: datetime, *, lo_open: bool = False, hi_open: bool = False
) -> int:
    """How many outcomes :func:`billed_conditions` selects (one statement built once per shape)."""
    shape, values = _billed_bounds(ctx.account, ctx.subscription, ctx.as_of, lo, hi, lo_open, hi_open)
    return int(prepared.rows(ctx.session, _billed_count_sql(*shape), **values).scalar() or 0)


def _between(column, lo: datetime, hi: datetime, lo_open: bool = False, hi_open: bool = False) -> list:
    # One bound each way: given two lower bounds, SQLite may range-scan from the wider one.
    return [column > lo if lo_open else column >= lo, column < hi if hi_open else column <= hi]


def _empty(lo: datetime, hi: datetime, lo_open: bool, hi_open: bool) -> bool:
    return hi < lo or (hi == lo and (lo_open or hi_open))


def _not_before(cutoff: tuple[datetime, int]):
    # With completed_at >= the cutoff's time already required: the cutoff and the outcomes after it.
    # Written without a second bound on completed_at, which SQLite could take for the range.
    at, pk = cutoff
    return or_(Outcome.completed_at != at, Outcome.id >= pk)


def _scalar(session: Session, stmt) -> int:
    return int(session.execute(stmt).scalar() or 0)


def _count(session: Session, *conditions) -> int:
    return _scalar(session, select(func.count()).select_from(Outcome).where(*conditions))


def _ym_of(day: date) -> int:
    return day.year * 12 + day.month


def completed_by_day(session: Session, account: Account, sub: Subscription, as_of: datetime) -> dict[date, int]:
    """Completed outcomes per UTC day of completion, from the subscription's first day, exact at ``as_of``.

    The rollups give every day up to ``as_of``'s; the outcomes completed later
    that day are taken out from their raw rows (one index range scan within the
    rest of that one day, usually empty).
    """
    today = as_of.date()
    if sub.started_on > today:
        return {}
    tomorrow = day_start(today + DAY)
    table: dict[date, int] = defaultdict(int)
    for day, n in prepared.rows(session, _completed_per_day_sql(), account_id=account.id, first=sub.started_on, last=today):
        table[as_date(day)] += int(n or 0)
    later = prepared.rows(session, _completed_later_sql(), account_id=account.id, lo=as_of, hi=tomorrow).scalar()
    table[today] -= int(later or 0)
    return {day: n for day, n in sorted(table.items()) if n}


@cache
def _completed_per_day_sql():
    r = RollupOutcomeDay
    account_id, first, last = prepared.params("account_id", "first", "last")
    return (
        select(r.day, func.sum(r.outcomes))
        .where(r.account_id == account_id, r.status == "completed", r.day >= first, r.day <= last)
        .group_by(r.day)
    )


@cache
def _completed_later_sql():
    account_id, lo, hi = prepared.params("account_id", "lo", "hi")
    return select(func.count()).select_from(Outcome).where(
        Outcome.account_id == account_id, Outcome.status == "completed", *_between(Outcome.completed_at, lo, hi, True, True)
    )


@dataclass
class VerdictEffects:
    """What the review history does to billing at ``as_of``, from the incorrect spans.

    ``unbilled`` counts, per day of completion, the completed outcomes not
    billed in their own month; ``charges`` the charges per day they happen;
    ``credits`` lists every credit as ``(credit month, source month, key)``,
    ``key`` being ``(completed_at, id)`` of an outcome billed in its own month
    or ``(charge time, 0)`` of one whose bill was a later charge, to tell free
    from paid against the allowance's cutoff.
    """

    unbilled: dict[date, int]
    charges: dict[date, int]
    credits: list[tuple[int, int, tuple[datetime, int]]]
    outcomes: list = field(default_factory=list)  # (completed_at, id, Billing) of each outcome credited or charged after its own month


def verdict_effects(session: Session, account: Account, sub: Subscription, as_of: datetime) -> VerdictEffects:
    """What the incorrect spans of the account's completed outcomes do to billing at ``as_of``.

    The same as applying :func:`app.domain.verdicts.billing_of` to every
    outcome with a span, read in two parts from the spans alone (each keeps its
    outcome's completion time). SQL counts, per day of completion, the outcomes
    a span keeps from being billed in their own month: most outcomes ever
    reviewed incorrect were reviewed so in their month and stayed so. Only the
    few credited or charged after their own month are read row by row and
    judged in Python, since their events need their times and keys.
    """
    if sub.started_on > as_of.date():
        return VerdictEffects({}, {}, [])
    lo = day_start(sub.started_on)
    unbilled = {as_date(day): int(n) for day, n in _covered_per_day(session, account, lo, as_of)}
    charges: dict[date, int] = defaultdict(int)
    credits: list[tuple[int, int, tuple[datetime, int]]] = []
    outcomes = []
    for pk, completed_at, spans in _spans_of_eventful(session, account, lo, as_of):
        billing = verdicts.billing_of(completed_at, spans, as_of)
        outcomes.append((completed_at, pk, billing))
        for event, key in keyed_events(completed_at, pk, billing):
            if event.sign > 0:
                charges[event.at.date()] += 1
            else:
                credits.append((event.month, event.source, key))
    return VerdictEffects(unbilled, dict(charges), credits, outcomes)


def keyed_events(completed_at: datetime, pk: int, billing: verdicts.Billing):
    """Each credit or charge of an outcome with the key that places its bill against the allowance's cutoff.

    The key is ``(completed_at, id)`` while the outcome's bill is its own month's, and ``(charge time, 0)``
    after a charge: a credit that follows takes back that later bill.
    """
    key = (completed_at, pk)
    for event in billing.events:
        if event.sign > 0:
            key = (event.at, 0)
        yield event, key


def _paid(ctx: BillingContext, key: tuple[datetime, int]) -> bool:
    """Whether the bill ``key`` places was beyond the free allowance (its credit is worth money)."""
    return ctx.cutoff is not None and key >= ctx.cutoff


def _covering(as_of: datetime, span=IncorrectSpan):
    """SQL twin of ``billing_of``'s "covered": ``span`` keeps its outcome from being billed in its own month."""
    own = _ym(span.completed_at)
    return (
        (span.started_at <= as_of)
        & (_ym(span.started_at) <= own)
        & or_(span.ended_at.is_(None), span.ended_at > as_of, _ym(span.ended_at) > own)
    )


def _eventful(as_of: datetime, span=IncorrectSpan):
    """SQL twin of ``billing_of``'s events: ``span`` credits or charges its outcome after its own month by ``as_of``."""
    own = _ym(span.completed_at)
    return (span.started_at <= as_of) & or_(
        _ym(span.started_at) > own, (span.ended_at <= as_of) & (_ym(span.ended_at) > own)
    )


def _spans_completed(account_id, lo, as_of, span=IncorrectSpan) -> list:
    return [span.account_id == account_id, *_between(span.completed_at, lo, as_of)]


def _covered_per_day(session: Session, account: Account, lo: datetime, as_of: datetime):
    """Per UTC day of completion, the outcomes completed from ``lo`` to ``as_of`` that a span covers.

    A covering span is open across its own month's end (or ``as_of``), and an
    outcome's spans never overlap, so an outcome has at most one: counting
    spans counts outcomes.
    """
    return prepared.rows(session, _covered_per_day_sql(), account_id=account.id, lo=lo, as_of=as_of).all()


@cache
def _covered_per_day_sql():
    day = utc_day(IncorrectSpan.completed_at)
    account_id, lo, as_of = prepared.params("account_id", "lo", "as_of")
    return select(day, func.count()).where(*_spans_completed(account_id, lo, as_of), _covering(as_of)).group_by(day)


_IN_CHUNK = 500  # bound parameters per IN list: far below SQLite's and PostgreSQL's limits


def _spans_of_eventful(session: Session, account: Account, lo: datetime, as_of: datetime):
    """``(id, completed_at, spans)`` of each outcome completed from ``lo`` to ``as_of`` with a credit or charge by then.

    On SQLite the times come back as text and are parsed here by
    ``datetime.fromisoformat`` (C), a tenth of the column type's own conversion.
    """
    raw = session.get_bind().dialect.name == "sqlite"
    # Two steps, as the eventful outcomes are a few among the spans: find them in one pass, then read
    # their spans by outcome.
    pks = sorted(set(prepared.rows(session, _eventful_sql(), account_id=account.id, lo=lo, as_of=as_of).scalars()))
    rows = []
    for i in range(0, len(pks), _IN_CHUNK):
        rows += prepared.rows(session, _spans_of_sql(raw), pks=pks[i : i + _IN_CHUNK], as_of=as_of).all()
    parse = _text_time if raw else stored_utc
    for (pk, completed_at), group in groupby(rows, key=lambda row: (row[0], row[1])):
        spans = [verdicts.Span(parse(start), None if end is None else parse(end)) for _, _, start, end in group]
        yield pk, parse(completed_at), spans


@cache
def _eventful_sql():
    account_id, lo, as_of = prepared.params("account_id", "lo", "as_of")
    return select(IncorrectSpan.outcome_pk).where(*_spans_completed(account_id, lo, as_of), _eventful(as_of))


@cache
def _spans_of_sql(raw: bool):
    def col(column):
        return type_coerce(column, String) if raw else column

    span = IncorrectSpan
    return (
        select(span.outcome_pk, col(span.completed_at), col(span.started_at), col(span.ended_at))
        .where(span.outcome_pk.in_(bindparam("pks", expanding=True)), span.started_at <= bindparam("as_of"))
        .order_by(span.outcome_pk, span.started_at)
    )


def _text_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)



def _units_per_day(completed: dict[date, int], effects: VerdictEffects) -> dict[date, int]:
    """Billing units per day: outcomes billed in their own month by day of completion, plus charges by their day."""
    days: dict[date, int] = defaultdict(int)
    for day, n in completed.items():
        days[day] += n - effects.unbilled.get(day, 0)
    for day, n in effects.charges.items():
        days[day] += n
    return {day: n for day, n in sorted(days.items()) if n}


def billed_days(session: Session, account: Account, sub: Subscription, as_of: datetime) -> dict[date, int]:
    """Billing units per UTC day (:func:`_units_per_day`), exact at ``as_of``.

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
    effects = verdict_effects(session, account, sub, as_of)
    return _units_per_day(completed_by_day(session, account, sub, as_of), effects)


def billed_after(ctx: BillingContext, moment: datetime, *, inclusive: bool = False) -> int:
    """Billed outcomes (at ``ctx.as_of``) completed after ``moment``, or at it when ``inclusive``.

    Whole days come from ``ctx.days``; on ``moment``'s own day the raw rows of
    the shorter side of ``moment`` are counted (and taken from that day's total
    when they are the ones before it). The projection's window is closed at
    its start (``inclusive``): a date-only export stamps a whole day at 00:00.
    """
    day = moment.date()
    whole = sum(n for d, n in ctx.days.items() if d > day)
    on_day = ctx.days.get(day, 0)
    if not on_day:
        return whole
    d0, d1 = day_start(day), day_start(day + DAY)
    if moment - d0 < d1 - moment:
        return whole + on_day - _billed_count(ctx, d0, moment, hi_open=inclusive)
    return whole + _billed_count(ctx, moment, d1, lo_open=not inclusive, hi_open=True)


def _first_of_day(ctx: BillingContext, day: date, offset: int, *, last: bool = False):
    shape, values = _billed_bounds(
        ctx.account, ctx.subscription, ctx.as_of, day_start(day), day_start(day + DAY), False, True
    )
    return prepared.rows(ctx.session, _billed_first_sql(*shape, last), offset=offset, **values).first()


def last_billed(ctx: BillingContext) -> datetime | None:
    """``completed_at`` of the latest billed outcome at ``ctx.as_of`` (None without any)."""
    if not ctx.days:
        return None
    row = _first_of_day(ctx, max(ctx.days), 0, last=True)
    return None if row is None else row[0]


def _started_raw(session: Session, account_id: int, lo: datetime, hi: datetime, lo_open: bool, hi_open: bool) -> int:
    if _empty(lo, hi, lo_open, hi_open):
        return 0
    return int(prepared.rows(session, _started_raw_sql(lo_open, hi_open), account_id=account_id, lo=lo, hi=hi).scalar() or 0)


@cache
def _started_raw_sql(lo_open: bool, hi_open: bool):
    account_id, lo, hi = prepared.params("account_id", "lo", "hi")
    return select(func.count()).select_from(Outcome).where(
        Outcome.account_id == account_id, *_between(Outcome.started_at, lo, hi, lo_open, hi_open)
    )


@cache
def _started_per_day_sql():
    r = RollupStartedDay
    account_id, first, last = prepared.params("account_id", "first", "last")
    return select(r.day, func.sum(r.outcomes)).where(r.account_id == account_id, r.day >= first, r.day <= last).group_by(r.day)


def _started_within_day(
    session: Session, account_id: int, whole: int, lo: datetime, hi: datetime, lo_open: bool, hi_open: bool
) -> int:
    """Outcomes started between ``lo`` and ``hi``, both within one day of ``whole`` outcomes started.

    The raw rows read are those of the shorter of the span itself and the rest of the day.
    """
    if _empty(lo, hi, lo_open, hi_open) or not whole:
        return 0
    d0 = day_start(lo.date())
    d1 = d0 + DAY
    if hi - lo <= (d1 - d0) / 2:
        return _started_raw(session, account_id, lo, hi, lo_open, hi_open)
    before = _started_raw(session, account_id, d0, lo, False, not lo_open)
    after = _started_raw(session, account_id, hi, d1, not hi_open, True)
    return whole - before - after


def started_between(
    session: Session, account_id: int, lo: datetime, hi: datetime, *, lo_open: bool = False, hi_open: bool = False
) -> int:
    """Outcomes of the account started between ``lo`` and ``hi`` (each bound included unless ``*_open``).

    Whole days come from the rollups; of the partial days at either end, the raw
    rows of the shorter side of the bound are read.

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
    per_day: dict[date, int] = defaultdict(int)
    for day, n in prepared.rows(session, _started_per_day_sql(), account_id=account_id, first=lo_day, last=hi_day):
        per_day[as_date(day)] += int(n or 0)
    if lo_day == hi_day:
        return _started_within_day(session, account_id, per_day[lo_day], lo, hi, lo_open, hi_open)
    total = sum(n for day, n in per_day.items() if lo_day < day < hi_day)
    total += _started_within_day(session, account_id, per_day[lo_day], lo, day_start(lo_day + DAY), lo_open, True)
    total += _started_within_day(session, account_id, per_day[hi_day], day_start(hi_day), hi, False, hi_open)
    return total


def _ym_key(ym: int) -> str:
    year, month = divmod(ym - 1, 12)
    return f"{year:04d}-{month + 1:02d}"


def _key_ym(key: str) -> int:
    year, month = key.split("-")
    return int(year) * 12 + int(month)


@dataclass
class Carry:
    """What the months closed at ``as_of`` hand to the first open one.

    A closed month's invoice never changes, so the allowance left, the plan's
    activation and the cutoff are taken from the last one as stored, and
    whatever its months bill now beyond what was billed for them goes to the
    first open month: ``late`` outcomes (counted with its own), and outcomes
    ``lost`` since (credited there, by month).
    """

    first_open: tuple[int, int]
    start: datetime
    remaining: int | None  # free outcomes left after the last closed month; None without one
    activated_on: date | None
    cutoff: tuple[datetime, int] | None
    late: tuple[LateOutcomes, ...]
    late_units: int
    lost: dict[int, int]
    units: dict[int, int]  # what changed in each closed month's units since it closed (for ``settled``)


def _carry(ctx: BillingContext) -> Carry:
    sub = ctx.subscription
    if not ctx.closed:
        first = (sub.started_on.year, sub.started_on.month)
        return Carry(first, month_bounds(*first)[0], None, None, None, (), 0, {}, {})
    first = first_open_month(ctx)
    start = month_bounds(*first)[0]
    last = ctx.closed[max(ctx.closed)]
    late, lost, units = [], {}, {}
    for (year, month), stored in ctx.closed.items():
        key = _month_key(year, month)
        lo, hi = month_bounds(year, month)
        now = sum(n for day, n in ctx.days.items() if lo.date() <= day < hi.date())
        accounted = stored.own_billable + sum(
            int(later.settled[key].get("outcomes", 0)) for later in ctx.closed.values() if key in later.settled
        )
        delta = now - accounted
        if delta:
            units[year * 12 + month] = delta
        if delta > 0:
            late.append(LateOutcomes(year, month, delta))
        elif delta < 0:
            lost[year * 12 + month] = -delta
    cutoff = None
    if last.cutoff:
        cutoff = (stored_utc(datetime.fromisoformat(last.cutoff[0])), int(last.cutoff[1]))
    return Carry(
        first, start, last.free_remaining, last.activated_on, cutoff, tuple(late), sum(n for n in units.values() if n > 0),
        lost, units,
    )


def plan_on(ctx: BillingContext, day: date) -> PlanSpec:
    """The plan in force on ``day`` (from its first instant; the first plan before the subscription began)."""
    plan = ctx.periods[0].plan
    for period in ctx.periods:
        if period.effective_at.date() <= day:
            plan = period.plan
    return plan


def _state(ctx: BillingContext) -> tuple[BillingState, tuple[datetime, int] | None]:
    """Allowance use, cutoff and activation at ``as_of``, walking the billing units day by day.

    The free allowance belongs to the account: on each day the plan in force
    gives its ``free_outcomes``, less those already used. A plan with none is
    active from the day it takes effect (or the subscription's first day).
    """
    sub, as_of, carry = ctx.subscription, ctx.as_of, ctx.carry
    # The open months' units, in order; late outcomes of closed months count first in the first open one.
    walk = [(day, n) for day, n in ctx.days.items() if day >= carry.start.date()]
    used = 0
    if carry.remaining is not None:
        last = ctx.closed[max(ctx.closed)]
        used = max(0, int(last.plan.get("free_outcomes", 0)) - carry.remaining)
    cutoff = carry.cutoff
    if cutoff is None and carry.late_units:
        left = max(0, plan_on(ctx, carry.start.date()).free_outcomes - used)
        if carry.late_units > left:
            cutoff = (carry.start, 0)
        used += min(carry.late_units, left)
    for day, n in walk:
        left = max(0, plan_on(ctx, day).free_outcomes - used)
        if cutoff is None and n > left:
            # A day's own outcomes come first, by completion; its charges (changed verdicts) after them.
            row = _first_of_day(ctx, day, left) if left < n - ctx.verdicts.charges.get(day, 0) else None
            cutoff = (row[0], row[1]) if row is not None else (day_start(day + DAY) - timedelta(microseconds=1), 0)
        used += min(n, left)
    now_plan = plan_on(ctx, as_of.date())
    candidates = []
    if carry.activated_on is not None:
        candidates.append((carry.activated_on, "allowance"))
    if cutoff is not None:
        candidates.append((cutoff[0].date(), "allowance"))
    for period in ctx.periods:
        if period.plan.free_outcomes == 0 and period.effective_at <= as_of:
            candidates.append((max(period.effective_at.date(), sub.started_on), "plan"))
    if sub.converted_on and sub.converted_on <= as_of.date():
        candidates.append((sub.converted_on, "conversion"))
    activated_on, activated_by = min(candidates) if candidates else (None, None)
    free = now_plan.free_outcomes
    state = BillingState(free, min(free, used), max(0, free - used), activated_on, activated_by)
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
    """``(billing units before start, as far as the free allowance is concerned; units in [start, end))``.

    A closed month's counts are those it was closed with; the first open month
    also bills the late outcomes of closed months. The first count says how much
    of the allowance was used before the month, whatever plan is in force in it.
    """
    if start in ctx.counts:
        return ctx.counts[start]
    carry = ctx.carry
    stored = ctx.closed.get((start.year, start.month))
    if stored is not None:
        left_at_start = stored.free_remaining + stored.free_used
        ctx.counts[start] = max(0, int(stored.plan.get("free_outcomes", 0)) - left_at_start), stored.billable
        return ctx.counts[start]
    in_month = sum(n for day, n in ctx.days.items() if start.date() <= day < end.date())
    if start == carry.start:
        in_month += carry.late_units
    used = 0
    if carry.remaining is not None:
        last = ctx.closed[max(ctx.closed)]
        used = max(0, int(last.plan.get("free_outcomes", 0)) - carry.remaining)
    before = used + sum(n for day, n in ctx.days.items() if carry.start.date() <= day < start.date())
    if start > carry.start:
        before += carry.late_units
    ctx.counts[start] = before, int(in_month or 0)
    return ctx.counts[start]


def _paid_count(plan: PlanSpec, billed_before: int, billed: int) -> int:
    free_left = plan.free_outcomes - min(plan.free_outcomes, billed_before)
    return billed - min(billed, free_left)


def _credit_table(ctx: BillingContext) -> dict[tuple[int, int], int]:
    """``{(credit month, source month): outcomes}`` for every credit up to ``as_of``.

    Months are ``year * 12 + month``. Only outcomes beyond the free allowance
    (at or after the cutoff) count: the allowance is not given back.
    """
    if ctx.credits is None:
        table: dict[tuple[int, int], int] = defaultdict(int)
        free: dict[tuple[int, int], int] = defaultdict(int)
        for month, source, key in ctx.verdicts.credits:
            if _paid(ctx, key):
                table[(month, source)] += 1
            else:
                free[(month, source)] += 1
        ctx.credits = dict(sorted(table.items()))
        ctx.free_credits = dict(sorted(free.items()))
    return ctx.credits


def moved_credits(ctx: BillingContext) -> dict[int, dict[int, int]]:
    """Credits made in closed months since they closed: ``{closed month: {source month: k}}`` (months as ``year * 12 + month``).

    What a closed month credits now beyond what it credited at closing (and
    what later invoices already credited for it) is credited in the first open month.
    """
    table = _credit_table(ctx)
    moved: dict[int, dict[int, int]] = {}
    for (year, month), stored in ctx.closed.items():
        ym, key = year * 12 + month, _month_key(year, month)
        accounted: dict[int, int] = defaultdict(int)
        for source, k in stored.credits.items():
            accounted[_key_ym(source)] += int(k)
        for later in ctx.closed.values():
            for source, k in later.settled.get(key, {}).get("credits", {}).items():
                accounted[_key_ym(source)] += int(k)
        delta = {src: table.get((ym, src), 0) - accounted.get(src, 0) for src in {s for (r, s) in table if r == ym} | set(accounted)}
        delta = {src: k for src, k in delta.items() if k}
        if delta:
            moved[ym] = delta
    return moved


def _credits(ctx: BillingContext, year: int, month: int) -> tuple[Line, ...]:
    table = _credit_table(ctx)
    review = year * 12 + month
    wanted: dict[int, int] = defaultdict(int)
    free: dict[int, int] = defaultdict(int)
    for (r, source), k in table.items():
        if r == review:
            wanted[source] += k
    for (r, source), k in ctx.free_credits.items():
        if r == review:
            free[source] += k
    lost: dict[int, int] = {}
    if ctx.closed and (year, month) == ctx.carry.first_open:
        for changes in moved_credits(ctx).values():
            for source, k in changes.items():
                wanted[source] += k
        lost = ctx.carry.lost
    lines = []
    for source in sorted(set(wanted) | set(free)):
        paid, gratis = max(0, wanted.get(source, 0)), free.get(source, 0)
        if paid or gratis:
            lines.append(_credit_line(ctx, table, review, source, paid, "reviewed incorrect", free=gratis))
    for source, k in sorted(lost.items()):
        lines.append(_credit_line(ctx, table, review, source, k, "no longer billable"))
    return tuple(lines)


def _credit_line(ctx: BillingContext, table: dict, review: int, source: int, k: int, why: str, *, free: int = 0) -> Line:
    """A credit of ``k`` outcomes billed in ``source``: what they added to its usage charge, taken back.

    ``free`` more outcomes that the allowance covered are counted in it but worth
    nothing: the free allowance is not given back.
    """
    s_year, s_month = divmod(source - 1, 12)
    s_month += 1
    before, billed = _billed_counts(ctx, *month_bounds(s_year, s_month))
    earlier = sum(n for (r2, s2), n in table.items() if s2 == source and r2 < review)
    remaining = max(0, _paid_count(ctx.plan, before, billed) - earlier)
    usage = usage_charge(ctx.plan, remaining) - usage_charge(ctx.plan, max(0, remaining - k))
    # "or" turns Decimal("-0.00") into 0.00: a credit within the included outcomes is worth nothing.
    amount = -usage or Decimal("0.00")
    note = f" ({free} free: the allowance is not given back)" if free else ""
    return Line(f"Credit: {k + free} outcomes of {s_year:04d}-{s_month:02d} {why}{note}", 1, amount, amount)


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
    session, account, sub, as_of = ctx.session, ctx.account, ctx.subscription, ctx.as_of
    state, cutoff = ctx.state, ctx.cutoff
    start, end = month_bounds(year, month)
    days = calendar.monthrange(year, month)[1]
    # The month is rated with the plans in force in it, never with a later one.
    segments = _segments(ctx, start, end)
    plan, seats = segments[0][0].plan, segments[0][0].seats
    if end <= day_start(sub.started_on):
        return MonthUsage(plan, sub, year, month, start, end, days, 0, 0, plan.free_outcomes, 0, 0, (), state, cutoff, seats=seats)
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
    periods: tuple[dict, ...] = ()
    if len(segments) > 1:
        periods = _period_arguments(ctx, segments, start, end, days, before, billed)
    return MonthUsage(
        plan, sub, year, month, start, end, days, before, billed, free_start, active, tasks, credits, state, cutoff,
        seats=seats, periods=periods,
    )


def _segments(ctx: BillingContext, start: datetime, end: datetime) -> list[tuple]:
    """The plans in force in ``[start, end)``: ``(PlanPeriod, lo, hi)`` each, in order.

    The first plan's period begins with the month whatever day the subscription began.
    """
    segments = []
    periods = ctx.periods
    for i, period in enumerate(periods):
        hi = min(end, periods[i + 1].effective_at) if i + 1 < len(periods) else end
        lo = max(start, period.effective_at)
        if lo < hi:
            segments.append((period, lo, hi))
    if not segments:
        segments = [(periods[0], start, end)]
    if segments[0][1] > start and segments[0][0] is periods[0]:
        segments[0] = (segments[0][0], start, segments[0][2])
    return segments


def _units_between(ctx: BillingContext, lo: datetime, hi: datetime) -> int:
    """Billing units from ``lo`` (included) to ``hi`` (excluded), up to ``as_of``."""
    if lo > ctx.as_of:
        return 0
    upto = 0 if hi > ctx.as_of else billed_after(ctx, hi, inclusive=True)
    return billed_after(ctx, lo, inclusive=True) - upto


def _period_arguments(ctx, segments, start, end, days, before, billed) -> tuple[dict, ...]:
    """rate_month's arguments for each plan in force in a month whose plan changed (SPEC "Billing over time").

    Each period's base fee and seats are prorated by its days, its included
    outcomes by its days rounded down, and the outcomes completed in it are
    priced under its plan, tiers counted within it. The free allowance is the
    account's: the plan in force gives ``free_outcomes``, less those used.
    """
    state, sub = ctx.state, ctx.subscription
    counted = 0
    used = before
    arguments = []
    for n, (period, lo, hi) in enumerate(segments):
        plan = period.plan
        units = billed - counted if n == len(segments) - 1 else _units_between(ctx, lo, hi)
        if n == 0 and ctx.carry.late_units and start == ctx.carry.start:
            units += ctx.carry.late_units
        counted += units
        lo_day, hi_day = lo.date(), (hi.date() if hi.time() == time(0) else hi.date() + DAY)
        if hi.time() != time(0) and n + 1 < len(segments):
            hi_day = hi.date()  # the day of a change belongs to the plan that starts on it
        period_days = (hi_day - lo_day).days
        free_left = max(0, plan.free_outcomes - used)
        if plan.free_outcomes == 0:
            active_from = max(lo_day, sub.started_on)
        else:
            active_from = state.activated_on if state.activated_on is not None else None
        active = 0 if active_from is None else max(0, (hi_day - max(lo_day, active_from)).days)
        paid = units - min(units, free_left)
        if paid and not active:
            active = period_days  # outcomes beyond the allowance make the plan active for the period
        tasks = 0
        if active and plan.task_price:
            tasks = started_between(ctx.session, ctx.account.id, lo, min(hi, ctx.as_of), hi_open=hi <= ctx.as_of)
        label = f"{plan.name}, {lo_day.day}–{(hi_day - DAY).day} {lo_day:%b}: "
        arguments.append(dict(
            plan=plan, billable=units, free_remaining=free_left, days_in_month=days, active_days=active,
            seats=period.seats, tasks=tasks, period_days=period_days, label=label,
        ))
        used += min(units, free_left)
    return tuple(arguments)


def rate_usage(usage: MonthUsage) -> Invoice:
    """Rate a :class:`MonthUsage` with :func:`app.domain.invoice.rate_month`, in periods if its plan changed."""
    if usage.periods:
        invoice = rate_periods(usage.periods, credits=usage.credits)
        return replace(invoice, year=usage.year, month=usage.month)
    invoice = rate_month(
        usage.plan,
        billable=usage.billed,
        free_remaining=usage.free_remaining_start,
        days_in_month=usage.days,
        active_days=usage.active_days,
        seats=usage.seats,
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
    return invoice_in(ctx, year, month)


def invoice_in(ctx: BillingContext, year: int, month: int) -> Invoice:
    """The invoice of one calendar month within an existing :class:`BillingContext`.

    Lets a page that also shows ``ctx.state`` read the rollups once; otherwise
    the same as :func:`invoice_for_month` at ``ctx.as_of``. A month closed by
    ``ctx.as_of`` is its stored final invoice; an open one a draft.
    """
    start, end = month_bounds(year, month)
    if start > ctx.as_of:
        raise OverseerError(
            f"no invoice yet for {year:04d}-{month:02d}: the month starts after {ctx.as_of.isoformat()}"
        )
    stored = ctx.closed.get((year, month))
    if stored is not None:
        return final_invoice(stored)
    draft = draft_in(ctx, year, month)
    invoice = draft.invoice
    if ctx.as_of < end:
        usage = draft.usage
        if not usage.periods:
            return replace(invoice, projected=project_usage(ctx, usage))
        # A month split by a plan change: the rest of it at the plan in force now, on top of the bill to date.
        last = usage.periods[-1]
        single = replace(usage, plan=last["plan"], seats=last["seats"], periods=())
        projected = project_usage(ctx, single)
        single_to_date = rate_usage(single)
        shift = invoice.total - single_to_date.total
        # The lines: the bill to date as its periods rate it, plus what the rest of the month adds at today's plan,
        # so the projection still adds up line by line.
        rest = Line(
            f"Rest of the month at {last['plan'].name}: about {projected.outcomes - usage.billed:,} more billable outcomes",
            projected.outcomes - usage.billed,
            None,
            projected.total - single_to_date.total,
        )
        invoice = replace(
            invoice,
            projected=replace(
                projected, total=projected.total + shift, low=projected.low + shift, high=projected.high + shift,
                lines=invoice.lines + (rest,),
            ),
        )
    return invoice


@dataclass(frozen=True)
class Draft:
    """An open month's invoice and what closing it would store beside it.

    ``own`` counts the month's own billing units (without late outcomes);
    ``credits`` its credits by source month; ``settled`` what it bills for
    closed months that changed (``{"YYYY-MM": {"outcomes": n, "credits": {...}}}``).
    """

    usage: MonthUsage
    invoice: Invoice
    own: int
    credits: dict
    settled: dict


def _month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def first_open_month(ctx: BillingContext) -> tuple[int, int]:
    """The earliest month not closed at ``ctx.as_of`` (months close in order, from the subscription's first)."""
    if not ctx.closed:
        return ctx.subscription.started_on.year, ctx.subscription.started_on.month
    year, month = max(ctx.closed)
    return (year + 1, 1) if month == 12 else (year, month + 1)


def draft_in(ctx: BillingContext, year: int, month: int) -> Draft:
    """The draft of an open month at ``ctx.as_of``.

    The first open month also bills what changed in closed months since they
    closed: their late outcomes among its own (free allowance, included
    outcomes and tiers alike), and credits for what they billed that is no
    longer billable. The invoice says how many outcomes came late, and from which months.
    """
    usage = month_usage(ctx, year, month)
    invoice = replace(rate_usage(usage), status="draft")
    ym = year * 12 + month
    credits = {_ym_key(src): k for (r, src), k in _credit_table(ctx).items() if r == ym}
    first = bool(ctx.closed) and (year, month) == ctx.carry.first_open
    own, settled = usage.billed, {}
    if first:
        own -= ctx.carry.late_units
        invoice = replace(invoice, late=ctx.carry.late, billable=usage.billed)
        moved = moved_credits(ctx)
        for m in sorted(set(ctx.carry.units) | set(moved)):
            entry = {"outcomes": ctx.carry.units.get(m, 0)}
            if m in moved:
                entry["credits"] = {_ym_key(src): k for src, k in moved[m].items()}
            settled[_ym_key(m)] = entry
    return Draft(usage, invoice, own, credits, settled)


def final_invoice(stored: ClosedInvoice) -> Invoice:
    """The stored final invoice of a closed month, exactly as it was closed."""
    lines = tuple(
        Line(line["description"], int(line["quantity"]), Decimal(line["unit_price"]), Decimal(line["amount"]))
        for line in stored.lines
    )
    late = tuple(LateOutcomes(*map(int, item["month"].split("-")), int(item["outcomes"])) for item in stored.late)
    closed_at = stored.closed_at if stored.closed_at.tzinfo else stored.closed_at.replace(tzinfo=timezone.utc)
    return Invoice(
        stored.currency, lines, Decimal(stored.total), stored.free_used, stored.free_remaining, stored.year,
        stored.month, billable=stored.billable, status="final", number=stored.number, closed_at=closed_at, late=late,
    )


def project_usage(ctx: BillingContext, usage: MonthUsage) -> Projection:
    """The projection of the month of ``usage``, which must contain ``ctx.as_of``.

    Reads the pace window's counts (:func:`app.domain.projection.window_start`)
    and hands them, with ``usage``, to :func:`app.domain.projection.project`.
    """
    as_of, plan, sub, state = ctx.as_of, usage.plan, usage.subscription, usage.state
    start = projection.window_start(as_of, day_start(sub.started_on))
    t = projection.window_days(start, as_of)
    tasks = None
    if plan.task_price:
        tasks = projection.Pace(started_between(ctx.session, ctx.account.id, start, as_of), t)
    used_up_on = None
    if usage.cutoff is not None:
        used_up_on = usage.cutoff[0].date()
    elif plan.free_outcomes and state.free_remaining == 0:
        # Used up exactly, with no paid outcome yet: it ran out with the last free one.
        last = last_billed(ctx)
        used_up_on = None if last is None else last.date()
    month = projection.MonthSoFar(
        plan=plan,
        start=usage.start,
        end=usage.end,
        billed=usage.billed,
        free_remaining_start=usage.free_remaining_start,
        free_left=state.free_remaining,
        activated_on=state.activated_on,
        converted_on=sub.converted_on,
        seats=usage.seats,
        tasks=usage.tasks,
        credits=usage.credits,
    )
    outcomes = projection.Pace(billed_after(ctx, start, inclusive=True), t)
    return projection.project(month, as_of=as_of, outcomes=outcomes, tasks=tasks, used_up_on=used_up_on)


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
        invoices.append(invoice_in(ctx, year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return invoices


@dataclass(frozen=True)
class OwnMonthCounts:
    """A month's own billed outcomes on its invoice, and what later reviews did to them (SPEC "One billable count").

    ``billed`` is the outcomes completed in the month that its invoice (draft
    or final) bills as its own: the invoice's ``billable`` less the charges
    made in the month for outcomes of other months and the late outcomes of
    closed months it carries. ``credited`` and ``charged`` count this month's
    outcomes credited, or charged (again, or for the first time when the month
    did not bill them), by a review in a later month, by ``(year, month)``;
    ``free`` those reviewed incorrect later that were free (not credited: the
    allowance is not given back). ``late`` counts this closed month's outcomes
    that became billable after it closed, billed in ``late_in``.
    """

    year: int
    month: int
    billed: int
    credited: dict[tuple[int, int], int]
    charged: dict[tuple[int, int], int]
    free: dict[tuple[int, int], int]
    late: int = 0
    late_in: tuple[int, int] | None = None


def own_month_counts(ctx: BillingContext, year: int, month: int) -> OwnMonthCounts:
    """The own billed outcomes of one month at ``ctx.as_of`` and their later credits and charges.

    Reads the incorrect spans of the month's completed outcomes only (one range
    on ``completed_at``) and applies :func:`app.domain.verdicts.billing_of`,
    as :func:`verdict_effects` does for the whole account; a credit counts as
    credited when the outcome was beyond the free allowance, as on the invoices
    (:func:`_credit_table`).

    Parameters
    ----------
    ctx : BillingContext
        From :func:`billing_context`.
    year, month : int
        A month that starts by ``ctx.as_of``.

    Returns
    -------
    OwnMonthCounts

    Raises
    ------
    OverseerError
        A month that starts after ``ctx.as_of``.
    """
    start, end = month_bounds(year, month)
    if start > ctx.as_of:
        raise OverseerError(f"no invoice yet for {year:04d}-{month:02d}: the month starts after {ctx.as_of.isoformat()}")
    charges_in = sum(n for day, n in ctx.verdicts.charges.items() if start.date() <= day < end.date())
    stored = ctx.closed.get((year, month))
    late, late_in = 0, None
    if stored is not None:
        billed = stored.own_billable - charges_in
        late = sum(item.outcomes for item in ctx.carry.late if (item.year, item.month) == (year, month))
        late_in = ctx.carry.first_open if late else None
    else:
        units = sum(n for day, n in ctx.days.items() if start.date() <= day < end.date())
        billed = units - charges_in
    credited: dict[tuple[int, int], int] = defaultdict(int)
    charged: dict[tuple[int, int], int] = defaultdict(int)
    free: dict[tuple[int, int], int] = defaultdict(int)
    # Only outcomes credited or charged after their own month have events, and the context judged each of them.
    for completed_at, pk, billing in ctx.verdicts.outcomes:
        if not start <= completed_at < end:
            continue
        for event, key in keyed_events(completed_at, pk, billing):
            when = divmod(event.month - 1, 12)
            when = (when[0], when[1] + 1)
            if event.sign > 0:
                charged[when] += 1
            elif _paid(ctx, key):
                credited[when] += 1
            else:
                free[when] += 1
    return OwnMonthCounts(
        year, month, billed, dict(sorted(credited.items())), dict(sorted(charged.items())), dict(sorted(free.items())),
        late, late_in,
    )


def completed_before_subscription(session: Session, account: Account, *, as_of: datetime) -> tuple[int, date]:
    """Completed outcomes of ``account`` from before its subscription started: stored, never billed.

    Parameters
    ----------
    session : Session
    account : Account
    as_of : datetime
        Aware; outcomes completed after it are left out, as everywhere.

    Returns
    -------
    tuple of (int, date)
        The count (one index range scan of ``(account_id, completed_at, …)``)
        and the subscription's first day. SPEC "Billing": outcomes completed
        before the subscription started are not billed, whatever their verdict.
    """
    as_of = aware_utc(as_of)
    sub, _plan = get_subscription(session, account, check=False)
    start = min(day_start(sub.started_on), as_of)
    n = _count(
        session,
        Outcome.account_id == account.id,
        Outcome.status == "completed",
        Outcome.completed_at < start,
    )
    return n, sub.started_on
