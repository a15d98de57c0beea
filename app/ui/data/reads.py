"""Cached reads of one account's figures, run as the signed-in principal (:func:`scoped_cache`).

Keyed on the principal and small arguments (account slug, dates, a minute-precision "as of"); each
returns a small picklable value (a view, a store dataclass, a short frame).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st
from sqlmodel import Session

from app.core import clock
from app.domain.access import Principal
from app.domain.agreement import Agreement
from app.domain.invoice import Invoice
from app.domain.plans import SEED_PLANS, PlanSpec
from app.domain.rankings import WeakestStep
from app.domain.rankings import weakest_step as pick_weakest_step
from app.domain.steps import configured_coverage as coverage_of
from app.domain.summary import StepStat, Summary
from app.models import Account
from app.notify.mailer import smtp_settings
from app.notify.sender import allow_private
from app.store import (
    accounts as accounts_store,
    alert_states,
    api_keys as keys_store,
    audit,
    billing,
    closing,
    members as members_store,
    metrics,
    outbox,
    outcomes,
    reviews,
    trial,
    value,
)
from app.store.accounts import PlanPeriod
from app.store.api_keys import KeyRow
from app.store.audit import AuditRow
from app.store.billing import BillingState
from app.store.closing import MonthStatus
from app.store.members import Member
from app.store.outcomes import OutcomeFilter, OutcomePage, QueueCounts
from app.store.overview import OverviewFigures, overview_figures
from app.store.trial import TrialStatus
from app.store.value import MonthValue, ValueReport
from app.ui.data.cache import scoped_cache
from app.ui.data.principal import who
from app.ui.data.session import account_session, open_session
from app.ui.data.times import day_end
from app.ui.data.views import (
    AccountInfo,
    JobInfo,
    NotificationsView,
    OutcomeDetail,
    ReviewInfo,
    StepInfo,
    SubscriptionInfo,
)


def _job_id(session: Session, account: Account, job_slug: str | None) -> int | None:
    if not job_slug:
        return None
    return accounts_store.get_job(session, account, job_slug).id


def _account_info(a: Account) -> AccountInfo:
    return AccountInfo.of(a, who().role_in(a.id) or "viewer")


# --- accounts, plans and jobs -------------------------------------------------------------------


@scoped_cache
def accounts() -> list[AccountInfo]:
    """Every account, by name."""
    with open_session() as s:
        return [_account_info(a) for a in accounts_store.list_accounts(s, principal=who())]


@scoped_cache
def account(slug: str) -> AccountInfo:
    with account_session(slug) as (_, acc):
        return _account_info(acc)


@scoped_cache
def plan(slug: str, check: bool = True) -> tuple[SubscriptionInfo, PlanSpec]:
    """The account's subscription and plan; ``check=False`` reads a plan today's bounds refuse (to replace it)."""
    with account_session(slug) as (s, acc):
        sub, spec = accounts_store.get_subscription(s, acc, check=check)
        return SubscriptionInfo(sub.started_on, sub.converted_on, sub.seats), spec


@scoped_cache
def plan_history(slug: str) -> list[PlanPeriod]:
    """Every plan the account has been on, and any change to come (PlanPeriod, by the moment it takes effect)."""
    with account_session(slug) as (s, acc):
        sub, _ = accounts_store.get_subscription(s, acc, check=False)
        return accounts_store.plan_history(s, sub, check=False)


@scoped_cache
def jobs(slug: str) -> list[JobInfo]:
    with account_session(slug) as (s, acc):
        return [JobInfo.of(j) for j in accounts_store.list_jobs(s, acc)]


@scoped_cache
def job_map(slug: str, job_slug: str) -> list[StepInfo]:
    with account_session(slug) as (s, acc):
        job = accounts_store.get_job(s, acc, job_slug)
        return [StepInfo.of(r) for r in accounts_store.job_steps(s, job)]


@scoped_cache
def configured_coverage(slug: str, job_slug: str) -> Decimal:
    return coverage_of([s.coverage for s in job_map(slug, job_slug)])


# --- figures ------------------------------------------------------------------------------------


@scoped_cache
def summary(slug: str, start: date, end: date, job_slug: str | None = None, as_of: datetime | None = None) -> Summary:
    with account_session(slug) as (s, acc):
        return metrics.summary(s, acc.id, start, end, job_id=_job_id(s, acc, job_slug), as_of=as_of)


@scoped_cache
def daily(slug: str, start: date, end: date, job_slug: str | None = None, as_of: datetime | None = None) -> pd.DataFrame:
    with account_session(slug) as (s, acc):
        return metrics.daily(s, acc.id, start, end, job_id=_job_id(s, acc, job_slug), as_of=as_of)


@scoped_cache
def step_stats(
    slug: str, start: date, end: date, job_slug: str | None = None, as_of: datetime | None = None
) -> list[StepStat]:
    with account_session(slug) as (s, acc):
        return metrics.step_stats(s, acc.id, start, end, job_id=_job_id(s, acc, job_slug), as_of=as_of)


@scoped_cache
def job_summaries(slug: str, start: date, end: date, as_of: datetime | None = None) -> list[tuple[JobInfo, Summary]]:
    with account_session(slug) as (s, acc):
        return [(JobInfo.of(j), summ) for j, summ in metrics.job_summaries(s, acc.id, start, end, as_of=as_of)]


@scoped_cache
def overview(slug: str, start: date, end: date, as_of: datetime) -> OverviewFigures:
    """Every figure of the Overview page in one call (:func:`app.store.overview.overview_figures`)."""
    with account_session(slug) as (s, acc):
        figures = overview_figures(s, acc, start, end, as_of=as_of)
        return replace(figures, jobs=[(JobInfo.of(j), summ) for j, summ in figures.jobs])


@scoped_cache
def weakest_step(
    slug: str, start: date, end: date, as_of: datetime, job_slug: str | None = None
) -> WeakestStep | None:
    """The (job, step) of the account with the most handoffs in the range (:func:`app.domain.rankings.weakest_step`),
    among the steps of ``job_slug`` only when given."""
    with account_session(slug) as (s, acc):
        per_job = [
            (j.slug, j.name, metrics.step_stats(s, acc.id, start, end, job_id=j.id, as_of=as_of))
            for j in accounts_store.list_jobs(s, acc)
            if job_slug is None or j.slug == job_slug
        ]
    return pick_weakest_step(per_job)


# --- billing ------------------------------------------------------------------------------------


@scoped_cache
def billing_state(slug: str, as_of: datetime) -> BillingState:
    with account_session(slug) as (s, acc):
        return billing.billing_state(s, acc, as_of=as_of)


@scoped_cache
def allowance_burndown(slug: str, as_of: datetime) -> pd.DataFrame:
    """Free outcomes left at the end of each day since the subscription began (at most the last 400 days).

    Each point is :func:`app.store.billing.billing_state` as of that day's end,
    so the curve follows the billing rules exactly. Columns ``day``, ``remaining``, ``used``.
    """
    with account_session(slug) as (s, acc):
        sub, spec = accounts_store.get_subscription(s, acc)
        if spec.free_outcomes == 0:
            return pd.DataFrame(columns=["day", "remaining", "used"])
        first = max(sub.started_on, as_of.date() - timedelta(days=399))
        if first > as_of.date():
            return pd.DataFrame(columns=["day", "remaining", "used"])
        records = []
        d = first - timedelta(days=1) if first > sub.started_on else first
        while d <= as_of.date():
            moment = min(day_end(d), as_of)
            if d < sub.started_on:
                state_remaining, state_used = spec.free_outcomes, 0
            else:
                st_ = billing.billing_state(s, acc, as_of=moment)
                state_remaining, state_used = st_.free_remaining, st_.free_used
            records.append({"day": d, "remaining": state_remaining, "used": state_used})
            if state_remaining == 0:
                # Once used up the allowance never comes back: the rest of the curve is flat.
                d += timedelta(days=1)
                while d <= as_of.date():
                    records.append({"day": d, "remaining": 0, "used": spec.free_outcomes})
                    d += timedelta(days=1)
                break
            d += timedelta(days=1)
        return pd.DataFrame.from_records(records)


@scoped_cache
def invoice(slug: str, year: int, month: int, as_of: datetime) -> Invoice:
    with account_session(slug) as (s, acc):
        return billing.invoice_for_month(s, acc, year, month, as_of=as_of)


@scoped_cache
def invoice_history(slug: str, as_of: datetime) -> list[Invoice]:
    with account_session(slug) as (s, acc):
        return billing.invoice_history(s, acc, as_of=as_of)


@scoped_cache
def month_status(slug: str, as_of: datetime) -> MonthStatus:
    """Which month is the first open one, and when it closes by itself (None: an admin closes it)."""
    with account_session(slug) as (s, acc):
        return closing.month_status(s, acc, as_of)


@scoped_cache
def completed_before_subscription(slug: str, as_of: datetime) -> tuple[int, date]:
    """Completed outcomes stored from before the subscription began (never billed), and its first day."""
    with account_session(slug) as (s, acc):
        return billing.completed_before_subscription(s, acc, as_of=as_of)


# --- outcomes and reviews -----------------------------------------------------------------------


@scoped_cache
def outcomes_page(
    slug: str, flt: OutcomeFilter, limit: int, offset: int, as_of: datetime | None = None
) -> OutcomePage:
    """One page of :func:`app.store.outcomes.list_outcomes`, as the outcomes stood at ``as_of`` when given."""
    with account_session(slug) as (s, acc):
        return outcomes.list_outcomes(s, acc, flt, limit=limit, offset=offset, as_of=as_of)


@scoped_cache
def outcome_status_counts(slug: str, flt: OutcomeFilter, as_of: datetime | None = None) -> dict[str, int]:
    with account_session(slug) as (s, acc):
        return outcomes.status_counts(s, acc, flt, as_of=as_of)


@scoped_cache
def review_queue(
    slug: str,
    start: date,
    end: date,
    job_slug: str | None,
    kind: str | None,
    limit: int,
    offset: int,
    as_of: datetime | None = None,
    reviewer: str | None = None,
) -> OutcomePage:
    """The review queue as ``reviewer`` sees it (:func:`app.store.outcomes.review_queue`)."""
    with account_session(slug) as (s, acc):
        return outcomes.review_queue(
            s, acc, start, end, job_slug=job_slug, kind=kind, limit=limit, offset=offset, as_of=as_of,
            reviewer=reviewer,
        )


@scoped_cache
def queue_counts(
    slug: str, start: date, end: date, job_slug: str | None = None, as_of: datetime | None = None, reviewer: str | None = None
) -> QueueCounts:
    """How many wait in ``reviewer``'s queue, by kind, with the sample plan (:func:`app.store.outcomes.queue_counts`)."""
    with account_session(slug) as (s, acc):
        return outcomes.queue_counts(s, acc, start, end, job_slug=job_slug, as_of=as_of, reviewer=reviewer)


@scoped_cache
def agreement(slug: str, start: date, end: date, as_of: datetime | None = None) -> Agreement:
    """Cohen's kappa between reviewers over the range (:func:`app.store.reviews.agreement`)."""
    with account_session(slug) as (s, acc):
        return reviews.agreement(s, acc, start, end, as_of=as_of)


@scoped_cache
def outcome_detail(slug: str, job_slug: str, outcome_id: str) -> OutcomeDetail:
    with account_session(slug) as (s, acc):
        job = accounts_store.get_job(s, acc, job_slug)
        outcome = reviews.get_outcome(s, acc, job_slug, outcome_id)
        history = [
            ReviewInfo(r.reviewer, clock.stored_utc(r.reviewed_at), r.verdict, r.comment)
            for r in reviews.review_history(s, outcome)
        ]
        steps = [StepInfo.of(r) for r in accounts_store.job_steps(s, job)]
        return OutcomeDetail(
            row=outcomes.outcome_row(outcome, job.slug, job.name), job=JobInfo.of(job), steps=steps, reviews=history
        )


# --- value and trial ----------------------------------------------------------------------------


@scoped_cache
def value_months(slug: str, as_of: datetime) -> list[MonthValue]:
    """Value delivered against the bill, month by month (:func:`app.store.value.monthly_value`)."""
    with account_session(slug) as (s, acc):
        return value.monthly_value(s, acc, as_of=as_of)


@scoped_cache
def value_report(slug: str, start: date, end: date, as_of: datetime | None = None) -> ValueReport:
    """Hours and money saved by step and job over ``start``–``end`` (:func:`app.store.value.value_delivered`),
    nothing after ``as_of`` counting when it is given."""
    with account_session(slug) as (s, acc):
        return value.value_delivered(s, acc, start, end, as_of=as_of)


def return_multiple(months: list[MonthValue]) -> Decimal | None:
    """Value over bill across ``months`` (pure: :func:`app.store.value.return_multiple`)."""
    return value.return_multiple(months)


@scoped_cache
def trial_status(slug: str, as_of: datetime, target: str | None = None) -> TrialStatus:
    """The trial of ``slug`` (:func:`app.store.trial.trial_status`); ``target`` names a seed plan
    (:data:`app.domain.plans.SEED_PLANS`) to price the first bill on, ``None`` for the account's own plan."""
    target_plan = SEED_PLANS[target] if target is not None else None
    with account_session(slug) as (s, acc):
        return trial.trial_status(s, acc, as_of=as_of, target_plan=target_plan)


# --- people, the audit trail, notifications and API keys ----------------------------------------


@st.cache_data(ttl=60, show_spinner=False)
def principal_for(email: str, name: str = "") -> Principal:
    """The rights of the person signed in as ``email`` (cleared with every other cache on any write)."""
    with open_session() as s:
        return members_store.principal_for(s, email, name)


@scoped_cache
def members(slug: str) -> list[Member]:
    with account_session(slug) as (s, acc):
        return members_store.list_members(s, who(), acc)


@scoped_cache
def audit_count(slug: str, action: str | None) -> int:
    """How many entries of the account's trail match ``action`` (every entry when ``None``)."""
    with account_session(slug) as (s, acc):
        return audit.count_events(s, who(), acc, action=action)


@scoped_cache
def audit_events(slug: str, action: str | None, limit: int, offset: int) -> list[AuditRow]:
    """One page of the entries matching ``action``, newest first."""
    with account_session(slug) as (s, acc):
        return audit.list_events(s, who(), acc, action=action, limit=limit, offset=offset)


@scoped_cache
def notifications(slug: str) -> NotificationsView:
    """Everything the Notifications page shows of the account: states, history, channels, deliveries, attempts."""
    with account_session(slug) as (s, acc):
        principal = who()
        return NotificationsView(
            states=alert_states.list_states(s, principal, acc),
            events=alert_states.list_alert_events(s, principal, acc, limit=200),
            channels=outbox.list_channels(s, principal, acc),
            deliveries=outbox.list_deliveries(s, principal, acc, limit=100),
            attempts=outbox.list_attempts(s, principal, acc, limit=100),
            allow_private=allow_private(),
            smtp_configured=smtp_settings() is not None,
        )


# A key's "last used" moves without a change of the data version (app.store.api_keys.note_used),
# so a cached list would go stale; the list is a few rows.
def api_keys(slug: str) -> list[KeyRow]:
    """The account's API keys (never the keys themselves), newest first; admins only. Not cached."""
    with account_session(slug) as (s, acc):
        return keys_store.list_keys(s, who(), acc)
