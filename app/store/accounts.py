"""Accounts, their plans, subscriptions and jobs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal
from functools import cache

from sqlalchemy import bindparam
from sqlmodel import Session, select

from app.core.clock import stored_utc
from app.domain.access import Principal
from app.domain.errors import NotFound, OverseerError
from app.domain.plans import PlanError, PlanSpec, StoredPlanError, Tier, check_name, parse_plan, shown
from app.domain.steps import STEPS
from app.domain.templates import get_template
from app.models import Account, Job, JobStep, Plan, PlanChange, Subscription, utcnow

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def check_slug(slug: str, what: str = "account slug") -> str:
    """Return ``slug`` if it is 1-63 lowercase letters, digits and dashes, else raise."""
    # fullmatch: "$" alone would let a trailing newline through.
    if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug):
        raise OverseerError(
            f"{what} {shown(slug)} is not valid: use 1-63 lowercase letters, digits and dashes, starting with a letter or digit"
        )
    return slug


def plan_row(spec: PlanSpec) -> Plan:
    """A new :class:`Plan` row holding ``spec``."""
    data = spec.to_json()
    return Plan(
        name=spec.name,
        currency=spec.currency,
        free_outcomes=spec.free_outcomes,
        base_fee=spec.base_fee,
        included_outcomes=spec.included_outcomes,
        outcome_price=spec.outcome_price,
        tiers=data["tiers"],
        tiers_mode=spec.tiers_mode,
        seat_price=spec.seat_price,
        task_price=spec.task_price,
    )


def plan_spec(plan: Plan, *, check: bool = True) -> PlanSpec:
    """The :class:`PlanSpec` stored in a :class:`Plan` row.

    Parameters
    ----------
    plan : Plan
    check : bool
        Check the plan against today's bounds (:func:`app.domain.plans.parse_plan`).
        A plan stored before a bound existed (a base fee of 1e308, a name with a
        NUL) would make every bill overflow or differ between databases; it is
        refused with what is wrong and what to do. ``False`` reads it as it is,
        for the plan change that replaces it.

    Raises
    ------
    StoredPlanError
        ``check`` and the stored plan breaks a rule.
    """
    spec = _stored_spec(plan)
    if check:
        data = spec.to_json()
        key = json.dumps(data)
        if key in _VALID_PLANS:
            return spec
        try:
            parse_plan(data)
        except PlanError as exc:
            raise StoredPlanError(
                f"this account's plan cannot be used: {exc}. An admin can put the account on another plan "
                "on the Billing page"
            ) from None
        if len(_VALID_PLANS) >= _MAX_VALID_PLANS:
            _VALID_PLANS.clear()
        _VALID_PLANS.add(key)
    return spec


# Stored plans found valid, as the JSON text of their fields (amounts as written, so 1.0 and 1.00 stay apart):
# every figure of an account checks its plans, and parse_plan's checks are pure, so each shape is checked once.
_VALID_PLANS: set[str] = set()
_MAX_VALID_PLANS = 4096


def _stored_spec(plan: Plan) -> PlanSpec:
    return PlanSpec(
        name=plan.name,
        currency=plan.currency,
        free_outcomes=plan.free_outcomes,
        base_fee=Decimal(plan.base_fee),
        included_outcomes=plan.included_outcomes,
        outcome_price=Decimal(plan.outcome_price),
        tiers=None
        if plan.tiers is None
        else tuple(Tier(t["up_to"], Decimal(t["unit_price"]), Decimal(t.get("flat_fee") or 0)) for t in plan.tiers),
        tiers_mode=plan.tiers_mode,
        seat_price=Decimal(plan.seat_price),
        task_price=Decimal(plan.task_price),
    )


def create_job(session: Session, account: Account, template: str = "customer-support") -> Job:
    """Add a job made from ``template`` to ``account``; the job's slug is the template's."""
    tpl = get_template(template)
    existing = session.exec(select(Job).where(Job.account_id == account.id, Job.slug == tpl.slug)).first()
    if existing is not None:
        raise OverseerError(f"account {account.slug!r} already has a job {tpl.slug!r}")
    job = Job(account_id=account.id, slug=tpl.slug, name=tpl.name, outcome_unit=tpl.outcome_unit, template=tpl.slug)
    session.add(job)
    session.flush()
    for position, step in enumerate(STEPS):
        st = tpl.steps[step]
        session.add(
            JobStep(
                job_id=job.id,
                step=step,
                position=position,
                description=st.description,
                coverage=st.coverage,
                manual_minutes=Decimal(st.manual_minutes),
            )
        )
    session.flush()
    return job


def create_account(
    session: Session,
    slug: str,
    name: str,
    plan: PlanSpec | dict,
    *,
    template: str | None = "customer-support",
    since: date | None = None,
    converted_on: date | None = None,
    seats: int = 0,
    hourly_cost: Decimal | None = None,
    monthly_budget: Decimal | None = None,
    target_completion_rate: Decimal | None = None,
    target_accuracy: Decimal | None = None,
) -> Account:
    """Create an account subscribed to ``plan`` from ``since`` (default: today, UTC).

    The account's currency is the plan's. With a ``template`` the account gets
    one job made from it. Nothing is committed: the caller owns the transaction.

    Raises
    ------
    OverseerError
        Invalid slug or name, a slug already taken, an invalid plan or template.
    """
    check_slug(slug)
    if not isinstance(name, str) or not name.strip():
        raise OverseerError("an account needs a name")
    name = check_name(name, "an account name")
    spec = plan if isinstance(plan, PlanSpec) else parse_plan(plan)
    if template is not None:
        get_template(template)  # fail before writing anything
    if session.exec(select(Account).where(Account.slug == slug)).first() is not None:
        raise OverseerError(f"an account {slug!r} already exists")
    if seats < 0:
        raise OverseerError("seats must not be negative")
    account = Account(
        slug=slug,
        name=name,
        currency=spec.currency,
        hourly_cost=Decimal("40.00") if hourly_cost is None else hourly_cost,
        monthly_budget=monthly_budget,
        target_completion_rate=target_completion_rate,
        target_accuracy=target_accuracy,
    )
    session.add(account)
    plan_obj = plan_row(spec)
    session.add(plan_obj)
    session.flush()
    sub = Subscription(
        account_id=account.id,
        plan_id=plan_obj.id,
        started_on=since or utcnow().date(),
        converted_on=converted_on,
        seats=seats,
    )
    session.add(sub)
    session.flush()
    # The first plan is in force from the subscription's first day (SPEC "Billing over time").
    session.add(
        PlanChange(
            subscription_id=sub.id, plan_id=plan_obj.id, seats=seats,
            effective_at=datetime.combine(sub.started_on, time(0), tzinfo=timezone.utc), created_by="account created",
        )
    )
    if template is not None:
        create_job(session, account, template)
    session.flush()
    return account


def get_account(session: Session, slug: str, *, principal: Principal) -> Account:
    """The account called ``slug`` if ``principal`` may see it, else :class:`NotFound`.

    An account the principal may not see is reported exactly like one that does
    not exist, so a changed URL reveals nothing.
    """
    account = session.exec(select(Account).where(Account.slug == slug)).first()
    if account is None or not principal.can_read(account.id):
        raise NotFound(f"no account {shown(slug)}")
    return account


def list_accounts(session: Session, *, principal: Principal) -> list[Account]:
    """The accounts ``principal`` may see, by name."""
    query = select(Account).order_by(Account.name, Account.slug)
    ids = principal.account_ids
    if ids is not None:
        if not ids:
            return []
        query = query.where(Account.id.in_(sorted(ids)))
    return list(session.exec(query))


def get_subscription(session: Session, account: Account, *, check: bool = True) -> tuple[Subscription, PlanSpec]:
    """The account's subscription and its plan.

    Raises
    ------
    StoredPlanError
        ``check`` (the default) and the stored plan breaks a rule; see :func:`plan_spec`.
    """
    sub = session.exec(select(Subscription).where(Subscription.account_id == account.id)).first()
    if sub is None:
        raise NotFound(f"account {account.slug!r} has no subscription")
    # The plan in force now: a change scheduled for a later month is not, until then.
    now = utcnow()
    change = session.exec(
        select(PlanChange)
        .where(PlanChange.subscription_id == sub.id, PlanChange.effective_at <= now)
        .order_by(PlanChange.effective_at.desc(), PlanChange.id.desc())
        .limit(1)
    ).first()
    plan = session.get(Plan, change.plan_id if change is not None else sub.plan_id)
    return sub, plan_spec(plan, check=check)


@dataclass(frozen=True)
class PlanPeriod:
    """A plan the subscription is on from ``effective_at``, with its seats, and who set it when."""

    effective_at: datetime
    plan: PlanSpec
    seats: int
    created_at: datetime
    created_by: str


def plan_history(session: Session, sub: Subscription, *, check: bool = True) -> list[PlanPeriod]:
    """Every plan the subscription has been on, and any change to come, by the moment it takes effect.

    Two changes with the same moment: the later one recorded wins (the earlier is left out).
    """
    return _periods(session, sub, session.execute(_plan_changes_sql(), {"subscription_id": sub.id}).all(), check)


def subscription_history(session: Session, account: Account, *, check: bool = True) -> tuple[Subscription, list[PlanPeriod]]:
    """The account's subscription and its :func:`plan_history`, read in one query.

    The same as :func:`get_subscription` then :func:`plan_history`, errors
    included (the plan in force now is checked first), without reading the plan
    changes twice.

    Raises
    ------
    NotFound
        Without a subscription.
    StoredPlanError
        ``check`` and a stored plan breaks a rule; see :func:`plan_spec`.
    """
    found = session.execute(_subscription_history_sql(), {"account_id": account.id}).all()
    if not found:
        raise NotFound(f"account {account.slug!r} has no subscription")
    sub = found[0][0]
    rows = [(change, plan) for _, change, plan in found if change is not None and plan is not None]
    if check:
        # get_subscription's plan: the latest change in force now (rows are in effective_at, id order).
        now = utcnow()
        in_force = [plan for change, plan in rows if stored_utc(change.effective_at) <= now]
        plan_spec(in_force[-1] if in_force else session.get(Plan, sub.plan_id))
    return sub, _periods(session, sub, rows, check)


@cache
def _subscription_history_sql():
    # The subscription with each of its plan changes and their plans (one row with two NULLs without any).
    return (
        select(Subscription, PlanChange, Plan)
        .outerjoin(PlanChange, PlanChange.subscription_id == Subscription.id)
        .outerjoin(Plan, Plan.id == PlanChange.plan_id)
        .where(Subscription.account_id == bindparam("account_id"))
        .order_by(PlanChange.effective_at, PlanChange.id)
    )


@cache
def _plan_changes_sql():
    return (
        select(PlanChange, Plan)
        .join(Plan, Plan.id == PlanChange.plan_id)
        .where(PlanChange.subscription_id == bindparam("subscription_id"))
        .order_by(PlanChange.effective_at, PlanChange.id)
    )


def _periods(session: Session, sub: Subscription, rows, check: bool) -> list[PlanPeriod]:
    periods: list[PlanPeriod] = []
    for change, plan in rows:
        period = PlanPeriod(stored_utc(change.effective_at), plan_spec(plan, check=check), change.seats, stored_utc(change.created_at), change.created_by)
        if periods and periods[-1].effective_at == period.effective_at:
            periods[-1] = period
        else:
            periods.append(period)
    if not periods:  # a subscription from before plan history: its plan since its first day
        plan = session.get(Plan, sub.plan_id)
        start = datetime.combine(sub.started_on, time(0), tzinfo=timezone.utc)
        periods.append(PlanPeriod(start, plan_spec(plan, check=check), sub.seats, start, ""))
    return periods



def list_jobs(session: Session, account: Account) -> list[Job]:
    """The account's jobs, by name."""
    return list(session.exec(select(Job).where(Job.account_id == account.id).order_by(Job.name)))


def get_job(session: Session, account: Account, slug: str) -> Job:
    """The account's job called ``slug``, or :class:`NotFound`."""
    job = session.exec(select(Job).where(Job.account_id == account.id, Job.slug == slug)).first()
    if job is None:
        raise NotFound(f"account {account.slug!r} has no job {shown(slug)}")
    return job


def job_steps(session: Session, job: Job) -> list[JobStep]:
    """The job map's eight steps, in order."""
    return list(session.exec(select(JobStep).where(JobStep.job_id == job.id).order_by(JobStep.position)))
