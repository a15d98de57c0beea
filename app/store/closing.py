"""Closing months: a month's draft invoice becomes final and is stored (SPEC "Billing over time").

Rules (also in the README):

- A month closes by itself once it has ended and the account's grace period
  (0–30 days, default 3) has passed: at ``month end + grace_days``, as of which
  its invoice is computed and with which ``closed_at`` it is stored, so whichever
  server or command closes it stores the same invoice. It closes the first
  time anything reads the account's billing after that moment.
- Months close in order, from the subscription's first month. A month that
  ended before the account was created in Overseer never closes by itself:
  its history is still being imported. An admin closes it, and every open
  month before it, with ``overseer invoice close`` or on the Billing page;
  an admin may also close an ended month before its grace period is over.
- The stored invoice carries its number (``<SLUG>-YYYY-MM``, upper case), its
  lines and totals, the free outcomes used and left, the plan it was rated
  with, and when and by whom it was closed; the closing is in the audit trail.
  Two servers closing one month at once store it once (a unique key), the
  second finding it stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.core.clock import stored_utc
from app.domain.access import Principal
from app.domain.charges import Line
from app.domain.errors import OverseerError
from app.domain.money import money_str
from app.models import Account, ClosedInvoice
from app.store import audit
from app.store.accounts import get_subscription
from app.store.outbox import emit
from app.store.billing import aware_utc, billing_context, draft_in, final_invoice, first_open_month, month_bounds

MAX_GRACE_DAYS = 30
GRACE_CLOSER = "grace period"
# Who the audit trail names for a month that closed by itself.
_GRACE = Principal(email=GRACE_CLOSER, name="Grace period", staff=True)


def _next(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def grace_ends(account: Account, year: int, month: int) -> datetime:
    """The moment the month closes by itself: its end plus the account's grace days."""
    return month_bounds(year, month)[1] + timedelta(days=account.grace_days)


def ended_before_account(account: Account, year: int, month: int) -> bool:
    """True for a month that ended before the account came to Overseer: an admin closes it."""
    return month_bounds(year, month)[1] <= aware_utc(stored_utc(account.created_at))



def invoice_number(account: Account, year: int, month: int) -> str:
    """``ACME-2026-10``: the account's slug in upper case and the month."""
    return f"{account.slug.upper()}-{year:04d}-{month:02d}"


def _line_json(line: Line) -> dict:
    return {"description": line.description, "quantity": line.quantity, "unit_price": str(line.unit_price), "amount": money_str(line.amount)}


def _store(session: Session, account: Account, year: int, month: int, as_of: datetime, closed_by: str) -> ClosedInvoice:
    """Compute the month's draft at ``as_of`` and store it, final, closed at ``as_of``."""
    ctx = billing_context(session, account, as_of=as_of)
    if (year, month) != first_open_month(ctx):
        raise OverseerError(f"{year:04d}-{month:02d} is not the first open month of {account.slug}")
    draft = draft_in(ctx, year, month)
    inv = draft.invoice
    cutoff = None if ctx.cutoff is None else [ctx.cutoff[0].isoformat(), ctx.cutoff[1]]
    row = ClosedInvoice(
        account_id=account.id, year=year, month=month, number=invoice_number(account, year, month),
        currency=inv.currency, plan=ctx.plan.to_json(), lines=[_line_json(line) for line in inv.lines],
        total=inv.total, billable=inv.billable, own_billable=draft.own, free_used=inv.free_used,
        free_remaining=inv.free_remaining, credits=draft.credits, late=[late.to_json() for late in inv.late],
        settled=draft.settled, activated_on=ctx.state.activated_on, cutoff=cutoff, closed_at=as_of, closed_by=closed_by,
    )
    savepoint = session.begin_nested()
    session.add(row)
    try:
        savepoint.commit()
    except IntegrityError:
        # Another server closed it at the same moment from the same rows: theirs stands.
        savepoint.rollback()
        raise _AlreadyClosed() from None
    # The outbox event commits with the closing itself, or not at all (see app.store.outbox).
    emit(session, account, "invoice.finalized", finalized_data(account, row), at=as_of)
    return row


def finalized_data(account: Account, row: ClosedInvoice) -> dict:
    """The ``data`` of an ``invoice.finalized`` event: the final invoice's number, month, totals and closing."""
    return {
        "account": account.slug,
        "account_name": account.name,
        "number": row.number,
        "month": f"{row.year:04d}-{row.month:02d}",
        "currency": row.currency,
        "total": money_str(row.total),
        "billable": row.billable,
        "free_used": row.free_used,
        "free_remaining": row.free_remaining,
        "lines": row.lines,
        "closed_at": stored_utc(row.closed_at).isoformat().replace("+00:00", "Z"),
        "closed_by": row.closed_by,
    }


class _AlreadyClosed(Exception):
    pass


@dataclass(frozen=True)
class MonthStatus:
    """Where an account's months stand at a moment: what is closed and what closes next, and when."""

    first_open: tuple[int, int]
    closes_at: datetime | None  # when the first open month closes by itself; None: an admin closes it
    waiting_for_admin: bool  # the first open month ended before the account was created


def _first_open(session: Session, account: Account, now: datetime) -> tuple[int, int]:
    """The first month not closed by ``now``: two primary-key-sized reads, no figures."""
    last = session.execute(
        select(ClosedInvoice.year, ClosedInvoice.month)
        .where(ClosedInvoice.account_id == account.id, ClosedInvoice.closed_at <= now)
        .order_by(ClosedInvoice.year.desc(), ClosedInvoice.month.desc())
        .limit(1)
    ).first()
    if last is not None:
        return _next(*last)
    started = get_subscription(session, account)[0].started_on
    return started.year, started.month


def month_status(session: Session, account: Account, now: datetime) -> MonthStatus:
    """The first open month at ``now`` and when it will close."""
    year, month = _first_open(session, account, aware_utc(now))
    if ended_before_account(account, year, month):
        return MonthStatus((year, month), None, True)
    return MonthStatus((year, month), grace_ends(account, year, month), False)


def is_due(session: Session, account: Account, now: datetime) -> bool:
    """Whether :func:`close_due` would close a month at ``now`` (cheap: no figures are computed)."""
    status = month_status(session, account, now)
    return status.closes_at is not None and status.closes_at <= aware_utc(now)


def close_due(session: Session, account: Account, now: datetime) -> list[ClosedInvoice]:
    """Close, in order, every month whose grace period ended by ``now`` (not those ended before the account).

    Each is computed and stored as of the moment its grace ended (or of the
    latest earlier closing, if an admin closed an earlier month after that).
    Nothing is committed here.

    Returns
    -------
    list of ClosedInvoice
        The months this call closed (none when another server closed them first).
    """
    now = aware_utc(now)
    closed: list[ClosedInvoice] = []
    ctx = billing_context(session, account, as_of=now)
    year, month = first_open_month(ctx)
    latest = max((stored_utc(c.closed_at) for c in ctx.closed.values()), default=None)
    while True:
        due = grace_ends(account, year, month)
        if due > now or ended_before_account(account, year, month):
            return closed
        at = max(due, latest) if latest else due
        try:
            row = _store(session, account, year, month, at, GRACE_CLOSER)
        except _AlreadyClosed:
            return closed
        audit.record(
            session, _GRACE, "month.close", account=account, target=row.number, at=at, after=_audit_summary(row),
        )
        closed.append(row)
        latest = at
        year, month = _next(year, month)


def close_through(session: Session, actor: Principal, account: Account, year: int, month: int, now: datetime) -> list[ClosedInvoice]:
    """An admin closes the month ``year-month`` now, and every open month before it, in order.

    Raises
    ------
    Forbidden
        ``actor`` is not an admin of the account.
    OverseerError
        The month has not ended, is already closed, or is before the subscription.
    """
    actor.require_admin(account.id, "close months")
    now = aware_utc(now)
    start, end = month_bounds(year, month)
    if end > now:
        raise OverseerError(f"{year:04d}-{month:02d} has not ended yet: a month closes after its last day")
    sub_start = get_subscription(session, account)[0].started_on
    if (year, month) < (sub_start.year, sub_start.month):
        raise OverseerError(f"{year:04d}-{month:02d} is before the subscription began ({sub_start:%Y-%m})")
    if (year, month) < _first_open(session, account, now):
        stored = session.execute(
            select(ClosedInvoice).where(
                ClosedInvoice.account_id == account.id, ClosedInvoice.year == year, ClosedInvoice.month == month
            )
        ).scalar_one()
        raise OverseerError(
            f"{year:04d}-{month:02d} is already closed on {stored_utc(stored.closed_at).isoformat()}; a final invoice never changes"
        )
    # Months whose grace period ended close as they would have by themselves, first.
    by_grace = close_due(session, account, now)
    if by_grace and (by_grace[-1].year, by_grace[-1].month) >= (year, month):
        return [row for row in by_grace if (row.year, row.month) <= (year, month)]
    ctx = billing_context(session, account, as_of=now)
    first = first_open_month(ctx)
    closed = list(by_grace)
    at = max([now] + [stored_utc(c.closed_at) for c in ctx.closed.values()])
    current = first
    who = actor.email or actor.name or "admin"
    while current <= (year, month):
        try:
            row = _store(session, account, *current, at, who)
        except _AlreadyClosed:
            raise OverseerError(f"{current[0]:04d}-{current[1]:02d} was closed by someone else just now; reload") from None
        audit.record(session, actor, "month.close", account=account, target=row.number, at=at, after=_audit_summary(row))
        closed.append(row)
        current = _next(*current)
    return closed


def _audit_summary(row: ClosedInvoice) -> dict:
    return {"number": row.number, "total": money_str(row.total), "currency": row.currency, "closed_by": row.closed_by}


def set_grace_days(session: Session, actor: Principal, account: Account, days: int) -> Account:
    """Set the account's grace period (whole days, 0–30), as an admin; recorded in the audit trail."""
    actor.require_admin(account.id, "change the grace period")
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_GRACE_DAYS:
        raise OverseerError(f"the grace period must be a whole number of days from 0 to {MAX_GRACE_DAYS}, got {days!r}")
    before = {"grace_days": account.grace_days}
    account.grace_days = days
    session.add(account)
    audit.record(session, actor, "settings", account=account, before=before, after={"grace_days": days})
    return account


__all__ = [
    "GRACE_CLOSER", "MAX_GRACE_DAYS", "MonthStatus", "close_due", "close_through", "final_invoice", "grace_ends",
    "invoice_number", "is_due", "month_status", "set_grace_days",
]
