"""Changing an account's plan and seats: an admin's change, recorded in the audit trail.

A change takes effect at a moment: now, or the first instant of a later month
(SPEC "Billing over time"). The subscription keeps every plan it has been on
(:class:`app.models.PlanChange`); a month is rated with the plans in force in
it, in periods when one changed during it, so no change re-rates the past. A
new change replaces any change still to come.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, update
from sqlmodel import Session

from app.domain.access import Principal
from app.domain.errors import OverseerError
from app.domain.plans import MAX_SEATS, PlanError, PlanSpec, parse_plan
from app.models import Account, PlanChange, utcnow
from app.store import audit
from app.store.accounts import get_subscription, plan_history, plan_row


def _unusable(plan: PlanSpec) -> bool:
    try:
        parse_plan(plan.to_json())
    except (PlanError, ValueError, ArithmeticError):
        return True
    return False


def _repair(session: Session, actor: Principal, account: Account, sub, old: PlanSpec, spec: PlanSpec, seats: int | None) -> PlanSpec:
    """Replace a stored plan that cannot be used (stored before today's bounds) wherever it was in force.

    It never billed anything (no month can be rated with it), so the new plan
    takes its place from the moment it took effect, not from now.
    """
    row = plan_row(spec)
    session.add(row)
    session.flush()
    bad = sub.plan_id
    session.execute(
        update(PlanChange).where(PlanChange.subscription_id == sub.id, PlanChange.plan_id == bad).values(plan_id=row.id)
    )
    sub.plan_id = row.id
    if seats is not None:
        sub.seats = seats
    session.add(sub)
    audit.record(
        session, actor, "plan", account=account, target=spec.name,
        before={"plan": old.to_json()}, after={"plan": spec.to_json(), "replaces": "a plan that could not be used"},
    )
    session.flush()
    return spec


def change_plan(
    session: Session,
    actor: Principal,
    account: Account,
    spec: PlanSpec,
    *,
    seats: int | None = None,
    effective: tuple[int, int] | None = None,
) -> PlanSpec:
    """Put the account on ``spec`` (and ``seats`` seats, when given) now, or from the first day of a later month.

    Parameters
    ----------
    effective : (int, int), optional
        ``(year, month)`` of a later month; default now.

    Raises
    ------
    Forbidden
        ``actor`` is not an admin of the account.
    OverseerError
        A plan in another currency than the account's, seats out of range, or a
        month that is not after the current one. Nothing is changed.
    """
    actor.require_admin(account.id, "change the plan")
    if spec.currency != account.currency:
        raise OverseerError(
            f"the plan is priced in {spec.currency} but the account is billed in {account.currency}; "
            "use a plan in the account's currency"
        )
    if seats is not None and (isinstance(seats, bool) or not isinstance(seats, int) or not 0 <= seats <= MAX_SEATS):
        raise OverseerError(f"seats must be a whole number from 0 to {MAX_SEATS:,}, got {seats!r}")
    now = utcnow()
    if effective is None:
        at = now
    else:
        year, month = effective
        if (year, month) <= (now.year, now.month):
            raise OverseerError(
                f"a plan change takes effect now or on the first day of a later month, not in {year:04d}-{month:02d}"
            )
        at = datetime(year, month, 1, tzinfo=timezone.utc)
    # Unchecked: a stored plan that today's bounds refuse is exactly what this change repairs.
    sub, old = get_subscription(session, account, check=False)
    if _unusable(old):
        return _repair(session, actor, account, sub, old, spec, seats)
    in_force = plan_history(session, sub, check=False)
    current = [p for p in in_force if p.effective_at <= now][-1]
    before = {"plan": old.to_json(), "seats": current.seats}
    after = {"plan": spec.to_json(), "seats": current.seats if seats is None else seats}
    old_values, new_values = audit.changed(before, after)
    pending = [p for p in in_force if p.effective_at > now]
    if not new_values and not pending:
        return old
    row = plan_row(spec)
    session.add(row)
    session.flush()
    # A new change replaces any change still to come.
    session.execute(delete(PlanChange).where(PlanChange.subscription_id == sub.id, PlanChange.effective_at > now))
    session.add(PlanChange(subscription_id=sub.id, plan_id=row.id, seats=after["seats"], effective_at=at, created_by=actor.email))
    if effective is None:
        sub.plan_id = row.id
        sub.seats = after["seats"]
        session.add(sub)
    audit.record(
        session, actor, "plan", account=account, target=spec.name,
        before=old_values, after={**new_values, "effective": at.isoformat()},
    )
    session.flush()
    return spec
