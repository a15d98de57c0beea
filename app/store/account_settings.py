"""An account's budget and targets, edited by its admin on the Billing page.

Targets are shares in [0, 1] (``0.9`` = 90%); the budget is a non-negative
amount in the account's currency, rounded to cents. ``None`` removes a budget
or a target (its alert then never fires). The precision target (SPEC
"Reviews": how narrow accuracy's 95% Wilson interval must be, ``0.05`` = ±5
points) is 0.005 to 0.5, and the share of the reviewed sample given to a second
reviewer 0 to 1; both always have a value (``None`` keeps the stored one).
Nothing is committed here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlmodel import Session

from app.domain.access import Principal
from app.domain.errors import OverseerError
from app.domain.money import round_cents
from app.models import Account
from app.store import audit


def _share(value, what: str) -> Decimal | None:
    if value is None:
        return None
    try:
        share = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise OverseerError(f"the {what} target is not a number: {value!r}") from None
    if not share.is_finite() or not Decimal(0) <= share <= Decimal(1):
        raise OverseerError(f"the {what} target must be between 0% and 100%, got {value}")
    return share


def update_settings(
    session: Session,
    account: Account,
    *,
    actor: Principal,
    monthly_budget: Decimal | None,
    target_completion_rate: Decimal | None,
    target_accuracy: Decimal | None,
    target_precision: Decimal | None = None,
    second_review_share: Decimal | None = None,
) -> Account:
    """Set the account's monthly budget and quality targets, as ``actor`` (an admin).

    The budget and the completion and accuracy targets are set all three at once;
    ``target_precision`` and ``second_review_share`` keep their stored value when None.
    """
    actor.require_admin(account.id, "change the budget and targets")
    budget = None
    if monthly_budget is not None:
        try:
            budget = Decimal(str(monthly_budget))
        except (InvalidOperation, ValueError):
            raise OverseerError(f"the monthly budget is not a number: {monthly_budget!r}") from None
        if not budget.is_finite() or budget < 0:
            raise OverseerError(f"the monthly budget must not be negative, got {monthly_budget}")
        budget = round_cents(budget)
    completion = _share(target_completion_rate, "completion rate")
    accuracy = _share(target_accuracy, "accuracy")
    precision = _share(target_precision, "precision")
    if precision is not None and not Decimal("0.005") <= precision <= Decimal("0.5"):
        raise OverseerError(f"the precision target must be between ±0.5 and ±50 points, got ±{precision * 100:g}")
    second = _share(second_review_share, "second-review share")
    fields = ("monthly_budget", "target_completion_rate", "target_accuracy", "target_precision", "second_review_share")
    before = {f: getattr(account, f) for f in fields}
    account.monthly_budget = budget
    account.target_completion_rate = completion
    account.target_accuracy = accuracy
    if precision is not None:
        account.target_precision = precision
    if second is not None:
        account.second_review_share = second
    old, new = audit.changed(before, {f: getattr(account, f) for f in fields})
    if new:
        audit.record(session, actor, "settings", account=account, before=old, after=new)
    session.add(account)
    session.flush()
    return account
