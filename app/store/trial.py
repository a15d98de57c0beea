"""A trial account's way to conversion: allowance used, days in trial, readiness, and the first bill after it.

Rules chosen where SPEC is silent:

- An account is *in trial* while its plan has a free allowance and the paid
  plan is not active yet (:func:`app.store.billing.billing_state`). Day 1 of the
  trial is the subscription's first day; the trial ends the day the paid plan
  becomes active.
- Readiness looks at the whole trial so far (subscription start to ``as_of``,
  or to the activation day once the trial is over): completion rate and
  accuracy (SPEC's definitions) against the account's targets. A target that is
  not set is not checked; a rate with no sample yet ("—") is not met. The
  account is *ready to convert* when every target that is set is met
  (``ready``, kept for callers); :attr:`TrialStatus.readiness` says how sure:
  "ready" only when each set target's 95% Wilson interval lies at or above it,
  "likely" when one is met but its interval still crosses it, with the
  outcomes still to add at the rate seen so far
  (:func:`app.domain.stats.more_to_clear`), "no targets" when none is set.
- The pace is the billable outcomes of the trial per day (fractional days up to
  ``as_of``, or to the end of the activation day, at least one day).
- The first bill after conversion is the first *full* calendar month on the
  paid plan: ``pace × days of that month`` outcomes (rounded half-up), the free
  outcomes still expected to be left at its start (allowance left now minus the
  pace until then, never below 0, and at most the target plan's allowance), the
  plan active every day, the subscription's seats and as many tasks as
  outcomes, priced by :func:`app.domain.invoice.quote`. The current month's
  projected bill comes from :func:`app.store.billing.invoice_for_month`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session

from app.domain.invoice import Invoice, quote
from app.domain.plans import PlanSpec
from app.domain.stats import Rate, more_to_clear
from app.models import Account
from app.store.accounts import get_subscription
from app.store.billing import aware_utc, billing_state, day_start, invoice_for_month
from app.store.metrics import summary


@dataclass(frozen=True)
class Check:
    """One conversion criterion: a rate against the account's target.

    Attributes
    ----------
    name : str
        ``"Completion rate"`` or ``"Accuracy"``.
    rate : Rate
    target : Decimal or None
        A share in [0, 1]; None when the account set none.
    """

    name: str
    rate: Rate
    target: Decimal | None

    @property
    def met(self) -> bool | None:
        """True / False against the target; None when there is no target. No sample is not met."""
        if self.target is None:
            return None
        value = self.rate.value
        return value is not None and Decimal(str(value)) >= self.target

    @property
    def confident(self) -> bool | None:
        """Whether the whole 95% Wilson interval is at or above the target; None without target or sample."""
        bounds = self.rate.wilson()
        if self.target is None or bounds is None:
            return None
        return Decimal(str(bounds[0])) >= self.target


    @property
    def more_to_be_sure(self) -> int | None:
        """Outcomes still to add to the sample, at its rate so far, before its 95% interval clears the target.

        0 when it already does; None without a target, without a sample, or
        when the rate is not above its target (no count makes it sure).
        """
        if self.target is None or self.rate.denominator == 0:
            return None
        return more_to_clear(self.rate.numerator, self.rate.denominator, float(self.target))


READINESS_STATES = ("no targets", "no outcomes", "not yet", "likely", "ready")


@dataclass(frozen=True)
class Readiness:
    """Whether a trial is ready to convert, and how sure that is.

    Attributes
    ----------
    state : str
        ``"no targets"`` (none set: nothing to judge), ``"no outcomes"`` (nothing
        delivered yet), ``"not yet"`` (a set target not met), ``"likely"`` (every set
        target met, but an interval still reaches below its target), ``"ready"``
        (every set target met with its 95% interval clear of it).
    failing : tuple of str
        The checks below target.
    unsure : tuple of (str, int or None)
        The met checks whose interval still crosses the target, with the outcomes
        still to add to clear it (None: at exactly the target, no count does).
    """

    state: str
    failing: tuple[str, ...] = ()
    unsure: tuple[tuple[str, int | None], ...] = ()


@dataclass(frozen=True)
class TrialStatus:
    """Where a trial stands at ``as_of``.

    Attributes
    ----------
    plan : PlanSpec
        The account's plan.
    target_plan : PlanSpec
        The plan the first bill after conversion is priced with.
    started_on : date
    in_trial : bool
    days_in_trial : int
        Days from the first day to ``as_of`` (or to activation), both counted.
    free_total, free_used, free_remaining : int
    activated_on : date or None
    runs_out_on : date or None
        Projected (or actual) day the free allowance runs out.
    billable : int
        Billable outcomes of the trial period.
    pace : float
        Billable outcomes per day over the trial.
    checks : tuple of Check
    this_month : Invoice
        The current month's invoice, with ``projected``.
    first_bill : Invoice
        The first full month on ``target_plan`` at the trial's pace.
    first_bill_outcomes : int
    activation_invoice : Invoice or None
        Once the paid plan is active: the actual invoice of the month it became
        active (as stored at ``as_of``), the real first bill.
    """

    plan: PlanSpec
    target_plan: PlanSpec
    started_on: date
    in_trial: bool
    days_in_trial: int
    free_total: int
    free_used: int
    free_remaining: int
    activated_on: date | None
    runs_out_on: date | None
    billable: int
    pace: float
    checks: tuple[Check, ...]
    this_month: Invoice
    first_bill: Invoice
    first_bill_outcomes: int
    activation_invoice: Invoice | None = None

    @property
    def ready(self) -> bool:
        """Every target that is set is met (and at least one outcome was delivered)."""
        return self.billable > 0 and all(c.met is not False for c in self.checks)

    @property
    def readiness(self) -> Readiness:
        """The honest verdict: "ready" only when every set target is met with its interval clear of it."""
        set_checks = [c for c in self.checks if c.target is not None]
        if not set_checks:
            return Readiness("no targets")
        if self.billable == 0:
            return Readiness("no outcomes")
        failing = tuple(c.name for c in set_checks if not c.met)
        if failing:
            return Readiness("not yet", failing=failing)
        unsure = tuple((c.name, c.more_to_be_sure) for c in set_checks if c.more_to_be_sure != 0)
        return Readiness("likely", unsure=unsure) if unsure else Readiness("ready")

    @property
    def allowance_used(self) -> Rate:
        return Rate(self.free_used, self.free_total)


def _round(value: float) -> int:
    return int(Decimal(str(value)).to_integral_value(rounding=ROUND_HALF_UP))


def trial_status(session: Session, account: Account, *, as_of: datetime, target_plan: PlanSpec | None = None) -> TrialStatus:
    """The trial of ``account`` at ``as_of``.

    Parameters
    ----------
    session : Session
    account : Account
    as_of : datetime
        Timezone-aware.
    target_plan : PlanSpec, optional
        The plan it would move to; default the account's own plan.

    Returns
    -------
    TrialStatus
        Also for an account whose trial is over (``in_trial`` False) or that has none.

    Raises
    ------
    OverseerError
        A naive ``as_of``.
    """
    as_of = aware_utc(as_of)
    sub, plan = get_subscription(session, account)
    target = plan if target_plan is None else target_plan
    state = billing_state(session, account, as_of=as_of)
    in_trial = state.free_total > 0 and state.activated_on is None
    last = as_of.date() if state.activated_on is None else min(as_of.date(), state.activated_on)
    days = max(0, (last - sub.started_on).days + 1)
    first, end = sub.started_on, max(sub.started_on, last)
    summ = summary(session, account.id, first, end, as_of=as_of) if as_of.date() >= first else None
    completion = summ.completion_rate if summ else Rate(0, 0)
    accuracy = summ.accuracy if summ else Rate(0, 0)
    billable = summ.billable if summ else 0
    checks = (
        Check("Completion rate", completion, account.target_completion_rate),
        Check("Accuracy", accuracy, account.target_accuracy),
    )
    trial_end = as_of if state.activated_on is None else min(as_of, day_start(last + timedelta(days=1)))
    elapsed = max(1.0, (trial_end - day_start(sub.started_on)).total_seconds() / 86_400)
    pace = billable / elapsed if as_of >= day_start(sub.started_on) else 0.0

    this_month = invoice_for_month(session, account, as_of.year, as_of.month, as_of=as_of)
    runs_out = this_month.projected.allowance_runs_out if this_month.projected else None
    if state.activated_on is not None and state.activated_by == "allowance":
        runs_out = state.activated_on

    year, month = (as_of.year + 1, 1) if as_of.month == 12 else (as_of.year, as_of.month + 1)
    next_start = date(year, month, 1)
    days_next = calendar.monthrange(year, month)[1]
    until_next = (day_start(next_start) - as_of).total_seconds() / 86_400
    free_left = max(0, state.free_remaining - _round(pace * until_next))
    free_left = min(free_left, target.free_outcomes)
    outcomes = _round(pace * days_next)
    first_bill = quote(
        target, outcomes, free_remaining=free_left, active_days=days_next, year=year, month=month,
        seats=sub.seats, tasks=outcomes,
    )
    activation_invoice = None
    if state.activated_on is not None:
        on = state.activated_on
        activation_invoice = (
            this_month if (on.year, on.month) == (as_of.year, as_of.month)
            else invoice_for_month(session, account, on.year, on.month, as_of=as_of)
        )
    return TrialStatus(
        plan=plan,
        target_plan=target,
        started_on=sub.started_on,
        in_trial=in_trial,
        days_in_trial=days,
        free_total=state.free_total,
        free_used=state.free_used,
        free_remaining=state.free_remaining,
        activated_on=state.activated_on,
        runs_out_on=runs_out,
        billable=billable,
        pace=pace,
        checks=checks,
        this_month=this_month,
        first_bill=first_bill,
        first_bill_outcomes=outcomes,
        activation_invoice=activation_invoice,
    )


__all__ = ["Check", "Readiness", "TrialStatus", "trial_status"]
