"""Alerts an overseer should see, most urgent first (SPEC "Projection"), from figures already computed.

Rules chosen where SPEC is silent:

- allowance alerts fire at 80% of the free outcomes used, and at 100% in the
  month the allowance ran out (an account that converted months ago is not
  alarmed about it forever);
- quality alerts compare the last ``QUALITY_WINDOW_DAYS`` days (up to
  ``as_of``) with the account's targets, so that they do not go quiet on the
  first day of a month; a rate with no denominator raises nothing;
- the budget alert compares the current month's projected bill with the
  account's monthly budget.

The figures are read by :mod:`app.store.alerts`; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from app.domain.invoice import Projection
from app.domain.money import format_money
from app.domain.stats import format_share
from app.domain.summary import Summary

__all__ = ["Alert", "QUALITY_WINDOW_DAYS", "SEVERITY_ORDER", "evaluate_alerts"]

SEVERITY_ORDER = {"critical": 0, "warning": 1}
QUALITY_WINDOW_DAYS = 30


class AlertTargets(Protocol):
    """What the alerts read of an account (``app.models.Account`` has it)."""

    currency: str
    monthly_budget: Decimal | None
    target_accuracy: Decimal | None
    target_completion_rate: Decimal | None


class AllowanceState(Protocol):
    """What the alerts read of the allowance (``app.store.billing.BillingState`` has it)."""

    free_total: int
    free_used: int
    free_remaining: int
    activated_on: date | None


@dataclass(frozen=True)
class Alert:
    """One alert: ``severity`` is ``critical`` or ``warning``; ``code`` is stable for tests and links."""

    severity: str
    code: str
    message: str


def evaluate_alerts(
    account: AlertTargets, *, state: AllowanceState, projection: Projection, recent: Summary, as_of: datetime
) -> list[Alert]:
    """The alerts implied by figures already computed.

    Parameters
    ----------
    account : AlertTargets
        Its budget, targets and currency.
    state : AllowanceState
        The free allowance's use and the plan's activation at ``as_of``.
    projection : Projection
        The current month's projection.
    recent : Summary
        The last ``QUALITY_WINDOW_DAYS`` days up to ``as_of``.
    as_of : datetime

    Returns
    -------
    list of Alert
        Critical before warning; within a severity, budget, allowance, accuracy, completion.
    """
    alerts: list[Alert] = []
    if account.monthly_budget is not None and projection.total > account.monthly_budget:
        alerts.append(
            Alert(
                "critical",
                "budget",
                f"The projected bill for this month, {format_money(projection.total, account.currency)}, "
                f"is above the budget of {format_money(account.monthly_budget, account.currency)}.",
            )
        )

    if state.free_total > 0:
        used_share = state.free_used / state.free_total
        ran_out_now = state.activated_on is None or (state.activated_on.year, state.activated_on.month) == (
            as_of.year,
            as_of.month,
        )
        if state.free_remaining == 0 and ran_out_now:
            then = (
                f"the paid plan is active since {state.activated_on.isoformat()}"
                if state.activated_on
                else "the next billable outcome starts the paid plan"
            )
            alerts.append(
                Alert("critical", "allowance-100", f"All {state.free_total} free outcomes are used; {then}.")
            )
        elif state.free_remaining > 0 and used_share >= 0.8:
            runs_out = (
                f" At the current pace they run out on {projection.allowance_runs_out.isoformat()}."
                if projection.allowance_runs_out
                else ""
            )
            alerts.append(
                Alert(
                    "warning",
                    "allowance-80",
                    f"{state.free_used} of {state.free_total} free outcomes used ({format_share(used_share)}).{runs_out}",
                )
            )

    accuracy = recent.accuracy
    if account.target_accuracy is not None and accuracy.value is not None and accuracy.value < account.target_accuracy:
        alerts.append(
            Alert(
                "critical",
                "accuracy",
                f"Accuracy over the last {QUALITY_WINDOW_DAYS} days is {accuracy.format()} "
                f"({accuracy.numerator} of {accuracy.denominator} reviewed outcomes correct), "
                f"below the target of {format_share(float(account.target_accuracy))}.",
            )
        )
    completion = recent.completion_rate
    if (
        account.target_completion_rate is not None
        and completion.value is not None
        and completion.value < account.target_completion_rate
    ):
        alerts.append(
            Alert(
                "warning",
                "completion",
                f"Completion rate over the last {QUALITY_WINDOW_DAYS} days is {completion.format()} "
                f"({completion.numerator} of {completion.denominator} closed outcomes), "
                f"below the target of {format_share(float(account.target_completion_rate))}.",
            )
        )
    alerts.sort(key=lambda a: SEVERITY_ORDER[a.severity])
    return alerts
