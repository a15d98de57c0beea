"""Changing an account's plan and seats: an admin's change, recorded in the audit trail.

Invoices are computed from the plan the account is on now, so a plan change
re-rates every month Overseer shows, the current one included; invoices already
sent stay as they were in the billing system that sent them (README, Rules).
"""

from __future__ import annotations

from sqlmodel import Session

from app.domain.access import Principal
from app.domain.errors import OverseerError
from app.domain.plans import MAX_SEATS, PlanSpec
from app.models import Account
from app.store import audit
from app.store.accounts import get_subscription, plan_row


def change_plan(session: Session, actor: Principal, account: Account, spec: PlanSpec, *, seats: int | None = None) -> PlanSpec:
    """Put the account on ``spec`` (and ``seats`` seats, when given); nothing is committed.

    Raises
    ------
    Forbidden
        ``actor`` is not an admin of the account.
    OverseerError
        A plan in another currency than the account's, or seats out of range.
    """
    actor.require_admin(account.id, "change the plan")
    if spec.currency != account.currency:
        raise OverseerError(
            f"the plan is priced in {spec.currency} but the account is billed in {account.currency}; "
            "use a plan in the account's currency"
        )
    if seats is not None and (isinstance(seats, bool) or not isinstance(seats, int) or not 0 <= seats <= MAX_SEATS):
        raise OverseerError(f"seats must be a whole number from 0 to {MAX_SEATS:,}, got {seats!r}")
    # Unchecked: a stored plan that today's bounds refuse is exactly what this change repairs.
    sub, old = get_subscription(session, account, check=False)
    before = {"plan": old.to_json(), "seats": sub.seats}
    after = {"plan": spec.to_json(), "seats": sub.seats if seats is None else seats}
    old_values, new_values = audit.changed(before, after)
    if not new_values:
        return old
    if "plan" in new_values:
        row = plan_row(spec)
        session.add(row)
        session.flush()
        sub.plan_id = row.id
    sub.seats = after["seats"]
    session.add(sub)
    audit.record(session, actor, "plan", account=account, target=spec.name, before=old_values, after=new_values)
    session.flush()
    return spec
