"""The cached data layer between the pages and the store.

Pages never open a session or import ``app.store`` themselves: they call these
functions. Every call runs as the signed-in principal (:func:`current_principal`),
which every store call takes, so a page cannot reach an account it may not see.
Reads are cached with ``st.cache_data`` keyed on that principal and small
arguments (account slug, dates, a minute-precision "as of"), and return small
picklable values (dataclasses, short frames). Every write goes through a
function here that commits and then clears every cache, so a change is visible
at once on every page.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import pandas as pd
import streamlit as st
from sqlmodel import Session

from app.core import clock
from app.core.db import get_engine, session_scope
from app.domain.access import Principal
from app.domain.errors import NotFound
from app.domain.plans import PlanSpec, StoredPlanError
from app.domain.steps import STEPS
from app.store import accounts as accounts_store

TTL = 600  # seconds; writes clear the caches at once, the TTL only bounds staleness from other processes


# --- time -------------------------------------------------------------------------------------


def now() -> datetime:
    """The app's "now": real UTC time, or ``OVERSEER_NOW`` (see :mod:`app.core.clock`)."""
    return clock.now()


def as_of_key() -> datetime:
    """The last instant of the current minute: the cache key of figures that depend on the current time.

    The end of the minute, not its start, so whatever was written this minute (a review just saved)
    counts at once; nothing stored is later than now, so the figures are those of now.
    """
    return now().replace(second=59, microsecond=999999)


def today() -> date:
    return now().date()


def day_end(d: date) -> datetime:
    """The last instant of the UTC day ``d`` that figures "as of that day" use."""
    return datetime.combine(d + timedelta(days=1), time.min, tzinfo=timezone.utc) - timedelta(microseconds=1)


# --- small views (picklable) -----------------------------------------------------------------


@dataclass(frozen=True)
class AccountInfo:
    slug: str
    name: str
    currency: str
    hourly_cost: Decimal
    monthly_budget: Decimal | None
    target_completion_rate: Decimal | None
    target_accuracy: Decimal | None
    role: str = "viewer"  # the signed-in person's role in the account
    grace_days: int = 3
    target_precision: Decimal = Decimal("0.05")
    second_review_share: Decimal = Decimal("0.10")

    @property
    def can_edit(self) -> bool:
        """Whether the signed-in person may change the account (its admins and staff)."""
        return self.role == "admin"


@dataclass(frozen=True)
class JobInfo:
    slug: str
    name: str
    outcome_unit: str
    template: str | None


@dataclass(frozen=True)
class StepInfo:
    step: str
    position: int
    description: str
    coverage: str
    manual_minutes: Decimal


@dataclass(frozen=True)
class SubscriptionInfo:
    started_on: date
    converted_on: date | None
    seats: int


@dataclass(frozen=True)
class ReviewInfo:
    reviewer: str
    reviewed_at: datetime
    verdict: str
    comment: str


@dataclass(frozen=True)
class OutcomeDetail:
    row: object  # app.store.outcomes.OutcomeRow
    job: JobInfo
    steps: list[StepInfo]
    reviews: list[ReviewInfo]


@dataclass(frozen=True)
class TrialRow:
    slug: str
    name: str
    plan: str
    started_on: date
    free_total: int
    free_used: int
    free_remaining: int
    activated_on: date | None
    activated_by: str | None


def _account_info(a) -> AccountInfo:
    return AccountInfo(
        slug=a.slug,
        name=a.name,
        currency=a.currency,
        hourly_cost=a.hourly_cost,
        monthly_budget=a.monthly_budget,
        target_completion_rate=a.target_completion_rate,
        target_accuracy=a.target_accuracy,
        role=_who().role_in(a.id) or "viewer",
        grace_days=a.grace_days,
        target_precision=a.target_precision,
        second_review_share=a.second_review_share,
    )


def _job_info(j) -> JobInfo:
    return JobInfo(slug=j.slug, name=j.name, outcome_unit=j.outcome_unit, template=j.template)


# --- who is asking ------------------------------------------------------------------------------
# Every read below runs as the signed-in principal (app/ui/auth.py puts it in the session state at
# the top of each run) and every store call takes it, so a page cannot read an account it may not
# see. The principal is part of every cache key: one person's cached figures never serve another.

PRINCIPAL_KEY = "_overseer_principal"
_current: ContextVar[Principal | None] = ContextVar("overseer_principal", default=None)


def current_principal() -> Principal:
    """The person this browser session is signed in as (set by :func:`app.ui.auth.gate`)."""
    who = st.session_state.get(PRINCIPAL_KEY)
    if not isinstance(who, Principal):
        raise NotFound("nobody is signed in")
    return who


def _who() -> Principal:
    who = _current.get()
    return who if who is not None else current_principal()


@contextmanager
def acting_as(who: Principal):
    """Run data-layer calls as ``who`` outside a page run (tests, and code that has no browser session)."""
    token = _current.set(who)
    try:
        yield who
    finally:
        _current.reset(token)


def scoped_cache(func):
    """``st.cache_data`` keyed on the current principal as well as the arguments."""

    def run_as(who: Principal, *args, **kwargs):
        token = _current.set(who)
        try:
            return func(*args, **kwargs)
        finally:
            _current.reset(token)

    # Streamlit keys a cache on the function's module, qualified name and source: give each its own.
    run_as.__module__ = func.__module__
    run_as.__qualname__ = f"{func.__qualname__}.run_as"
    cached = st.cache_data(ttl=TTL, show_spinner=False)(run_as)

    @functools.wraps(func)
    def call(*args, **kwargs):
        return cached(_who(), *args, **kwargs)

    return call


def _session() -> Session:
    return Session(get_engine(), expire_on_commit=False)


def _account(session: Session, slug: str):
    return accounts_store.get_account(session, slug, principal=_who())


def _job_id(session: Session, account, job_slug: str | None) -> int | None:
    if not job_slug:
        return None
    return accounts_store.get_job(session, account, job_slug).id


# --- reads -----------------------------------------------------------------------------------


@scoped_cache
def accounts() -> list[AccountInfo]:
    """Every account, by name."""
    with _session() as s:
        return [_account_info(a) for a in accounts_store.list_accounts(s, principal=_who())]


@scoped_cache
def account(slug: str) -> AccountInfo:
    with _session() as s:
        return _account_info(_account(s, slug))


@scoped_cache
def plan(slug: str, check: bool = True) -> tuple[SubscriptionInfo, PlanSpec]:
    """The account's subscription and plan; ``check=False`` reads a plan today's bounds refuse (to replace it)."""
    with _session() as s:
        sub, spec = accounts_store.get_subscription(s, _account(s, slug), check=check)
        return SubscriptionInfo(sub.started_on, sub.converted_on, sub.seats), spec


@scoped_cache
def jobs(slug: str) -> list[JobInfo]:
    with _session() as s:
        return [_job_info(j) for j in accounts_store.list_jobs(s, _account(s, slug))]


@scoped_cache
def job_map(slug: str, job_slug: str) -> list[StepInfo]:
    with _session() as s:
        job = accounts_store.get_job(s, _account(s, slug), job_slug)
        return [
            StepInfo(r.step, r.position, r.description, r.coverage, Decimal(r.manual_minutes))
            for r in accounts_store.job_steps(s, job)
        ]


@scoped_cache
def configured_coverage(slug: str, job_slug: str) -> Decimal:
    from app.domain.steps import configured_coverage as coverage_of

    return coverage_of([s.coverage for s in job_map(slug, job_slug)])


@scoped_cache
def summary(slug: str, start: date, end: date, job_slug: str | None = None, as_of: datetime | None = None):
    from app.store import metrics

    with _session() as s:
        acc = _account(s, slug)
        return metrics.summary(s, acc.id, start, end, job_id=_job_id(s, acc, job_slug), as_of=as_of)


@scoped_cache
def daily(slug: str, start: date, end: date, job_slug: str | None = None, as_of: datetime | None = None) -> pd.DataFrame:
    from app.store import metrics

    with _session() as s:
        acc = _account(s, slug)
        return metrics.daily(s, acc.id, start, end, job_id=_job_id(s, acc, job_slug), as_of=as_of)


@scoped_cache
def step_stats(slug: str, start: date, end: date, job_slug: str | None = None, as_of: datetime | None = None):
    from app.store import metrics

    with _session() as s:
        acc = _account(s, slug)
        return metrics.step_stats(s, acc.id, start, end, job_id=_job_id(s, acc, job_slug), as_of=as_of)


@scoped_cache
def job_summaries(slug: str, start: date, end: date, as_of: datetime | None = None) -> list[tuple[JobInfo, object]]:
    from app.store import metrics

    with _session() as s:
        acc = _account(s, slug)
        return [(_job_info(j), summ) for j, summ in metrics.job_summaries(s, acc.id, start, end, as_of=as_of)]


@scoped_cache
def billing_state(slug: str, as_of: datetime):
    from app.store import billing

    with _session() as s:
        return billing.billing_state(s, _account(s, slug), as_of=as_of)


@scoped_cache
def allowance_burndown(slug: str, as_of: datetime) -> pd.DataFrame:
    """Free outcomes left at the end of each day since the subscription began (at most the last 400 days).

    Each point is :func:`app.store.billing.billing_state` as of that day's end,
    so the curve follows the billing rules exactly. Columns ``day``, ``remaining``, ``used``.
    """
    from app.store import billing

    with _session() as s:
        acc = _account(s, slug)
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
def invoice(slug: str, year: int, month: int, as_of: datetime):
    from app.store import billing

    with _session() as s:
        return billing.invoice_for_month(s, _account(s, slug), year, month, as_of=as_of)


@scoped_cache
def invoice_history(slug: str, as_of: datetime):
    from app.store import billing

    with _session() as s:
        return billing.invoice_history(s, _account(s, slug), as_of=as_of)


@scoped_cache
def invoice_pdf_bytes(slug: str, year: int, month: int, as_of: datetime) -> bytes:
    """The month's invoice as a PDF (:func:`app.domain.invoice_pdf.invoice_pdf`), as it stands at ``as_of``.

    Cached like :func:`invoice` (``as_of`` to the minute), so a second click costs nothing.
    """
    from app.domain.invoice_pdf import invoice_pdf

    info = account(slug)
    return invoice_pdf(invoice(slug, year, month, as_of), account_name=info.name, account_slug=info.slug, as_of=as_of)


def invoice_pdf(slug: str, year: int, month: int, as_of: datetime) -> Callable[[], bytes]:
    """The month's invoice as a PDF, built when called (the download button's click), not on every page run.

    The principal is taken now: the download runs later, outside the page's run.
    """
    who = _who()

    def build() -> bytes:
        with acting_as(who):
            return invoice_pdf_bytes(slug, year, month, as_of)

    return build


def invoice_pdf_name(slug: str, inv) -> str:
    """The PDF's file name: the invoice number, or ``SLUG-YYYY-MM-draft`` (:func:`app.domain.invoice_pdf.pdf_file_name`)."""
    from app.domain.invoice_pdf import pdf_file_name

    return pdf_file_name(inv, slug)


@scoped_cache
def overview(slug: str, start: date, end: date, as_of: datetime):
    """Every figure of the Overview page in one call (:func:`app.store.overview.overview_figures`)."""
    from dataclasses import replace

    from app.store.overview import overview_figures

    with _session() as s:
        figures = overview_figures(s, _account(s, slug), start, end, as_of=as_of)
        return replace(figures, jobs=[(_job_info(j), summ) for j, summ in figures.jobs])


# outcomes


@scoped_cache
def outcomes_page(slug: str, flt, limit: int, offset: int, as_of: datetime | None = None):
    """One page of :func:`app.store.outcomes.list_outcomes`, as the outcomes stood at ``as_of`` when given."""
    from app.store import outcomes

    with _session() as s:
        return outcomes.list_outcomes(s, _account(s, slug), flt, limit=limit, offset=offset, as_of=as_of)


@scoped_cache
def outcome_status_counts(slug: str, flt, as_of: datetime | None = None) -> dict[str, int]:
    from app.store import outcomes

    with _session() as s:
        return outcomes.status_counts(s, _account(s, slug), flt, as_of=as_of)


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
):
    """The review queue as ``reviewer`` sees it (:func:`app.store.outcomes.review_queue`)."""
    from app.store import outcomes

    with _session() as s:
        return outcomes.review_queue(
            s, _account(s, slug), start, end, job_slug=job_slug, kind=kind, limit=limit, offset=offset, as_of=as_of,
            reviewer=reviewer,
        )


@scoped_cache
def queue_counts(
    slug: str, start: date, end: date, job_slug: str | None = None, as_of: datetime | None = None, reviewer: str | None = None
):
    """How many wait in ``reviewer``'s queue, by kind, with the sample plan (:func:`app.store.outcomes.queue_counts`)."""
    from app.store import outcomes

    with _session() as s:
        return outcomes.queue_counts(s, _account(s, slug), start, end, job_slug=job_slug, as_of=as_of, reviewer=reviewer)


@scoped_cache
def agreement(slug: str, start: date, end: date, as_of: datetime | None = None):
    """Cohen's kappa between reviewers over the range (:func:`app.store.reviews.agreement`)."""
    from app.store import reviews

    with _session() as s:
        return reviews.agreement(s, _account(s, slug), start, end, as_of=as_of)


def reviewer_name(typed: str | None = None) -> str:
    """Who reviews in this browser session: the signed-in person's address, or in local mode the name typed."""
    who = _who()
    if not who.local:
        return who.email
    return (typed or "").strip() or "overseer"


def claim_next(slug: str, start: date, end: date, reviewer: str, *, kind: str | None = None,
               as_of: datetime | None = None, skip: tuple[int, ...] = ()):
    """The outcome of the queue this reviewer works on, claimed for 5 minutes (:func:`app.store.claims.claim_next`).

    Not cached: claims change with every reviewer's page run. A claim writes, but changes no figure, so
    no cache is cleared.
    """
    from app.core.db import run_in_transaction
    from app.store import claims

    def work(s: Session):
        return claims.claim_next(s, _account(s, slug), reviewer, start, end, now(), kind=kind, as_of=as_of, skip=skip)

    return run_in_transaction(work)


def live_claims(slug: str) -> dict:
    """Who holds which outcome of the account's queue now (outcome pk → :class:`app.store.claims.Claim`); not cached."""
    from app.store import claims

    with _session() as s:
        return claims.live_claims(s, _account(s, slug), now())


def release_claim(slug: str, outcome_pk: int, reviewer: str) -> None:
    """Give back the reviewer's claim on an outcome (a skipped item)."""
    from app.store import claims

    with session_scope(write=True) as s:
        _account(s, slug)
        claims.release(s, outcome_pk, reviewer)


@scoped_cache
def outcome_detail(slug: str, job_slug: str, outcome_id: str) -> OutcomeDetail:
    from app.store import outcomes, reviews

    with _session() as s:
        acc = _account(s, slug)
        job = accounts_store.get_job(s, acc, job_slug)
        outcome = reviews.get_outcome(s, acc, job_slug, outcome_id)
        history = [
            ReviewInfo(r.reviewer, outcomes._utc(r.reviewed_at), r.verdict, r.comment)
            for r in reviews.review_history(s, outcome)
        ]
        steps = [
            StepInfo(r.step, r.position, r.description, r.coverage, Decimal(r.manual_minutes))
            for r in accounts_store.job_steps(s, job)
        ]
        return OutcomeDetail(row=outcomes._row(outcome, job.slug, job.name), job=_job_info(job), steps=steps, reviews=history)


def export_csv(slug: str, flt, as_of: datetime | None = None) -> Callable[[], str]:
    """Every outcome matching ``flt`` (as they stood at ``as_of`` when given) as spreadsheet-safe CSV, built when
    called (when the user clicks download).

    The principal is taken now: the download runs later, outside the page's run.
    """
    from app.domain.export import to_csv
    from app.store import outcomes

    who = _who()
    columns = ["outcome_id", "job", "status", "verdict", "started_at", "completed_at", "handoff_step", "reviewed_at", *STEPS]

    def rows():
        with _session() as s:
            acc = accounts_store.get_account(s, slug, principal=who)
            for r in outcomes.iter_outcomes(s, acc, flt, as_of=as_of):
                yield {
                    "outcome_id": r.outcome_id,
                    "job": r.job_slug,
                    "status": r.status,
                    "verdict": r.verdict,
                    "started_at": r.started_at,
                    "completed_at": r.completed_at,
                    "handoff_step": r.handoff_step,
                    "reviewed_at": r.reviewed_at,
                    **{step: r.steps.get(step) for step in STEPS},
                }

    return lambda: to_csv(rows(), columns)


# portfolio


@scoped_cache
def coverage_matrix(start: date, end: date, as_of: datetime | None = None) -> pd.DataFrame:
    from app.store import portfolio

    with _session() as s:
        return portfolio.coverage_matrix(s, _who(), start, end, as_of=as_of)


@scoped_cache
def top_handoff_steps(start: date, end: date, limit: int = 10, as_of: datetime | None = None) -> pd.DataFrame:
    from app.store import portfolio

    with _session() as s:
        return portfolio.top_handoff_steps(s, _who(), start, end, limit=limit, as_of=as_of)


@scoped_cache
def job_quality(start: date, end: date, as_of: datetime | None = None) -> pd.DataFrame:
    from app.store import portfolio

    with _session() as s:
        return portfolio.job_quality(s, _who(), start, end, as_of=as_of)


@scoped_cache
def trials(as_of: datetime) -> list[TrialRow]:
    """Every account with a free allowance: how far along it is towards the paid plan."""
    from app.store import billing

    rows = []
    with _session() as s:
        for acc in accounts_store.list_accounts(s, principal=_who()):
            sub, spec = accounts_store.get_subscription(s, acc)
            if spec.free_outcomes == 0 and sub.converted_on is None:
                continue
            state = billing.billing_state(s, acc, as_of=as_of)
            rows.append(
                TrialRow(
                    slug=acc.slug,
                    name=acc.name,
                    plan=spec.name,
                    started_on=sub.started_on,
                    free_total=state.free_total,
                    free_used=state.free_used,
                    free_remaining=state.free_remaining,
                    activated_on=state.activated_on,
                    activated_by=state.activated_by,
                )
            )
    return rows


# sales: value delivered, trial, pricing simulator


@scoped_cache
def value_months(slug: str, as_of: datetime):
    """Value delivered against the bill, month by month (:func:`app.store.value.monthly_value`)."""
    from app.store import value

    with _session() as s:
        return value.monthly_value(s, _account(s, slug), as_of=as_of)


@scoped_cache
def value_report(slug: str, start: date, end: date, as_of: datetime | None = None):
    """Hours and money saved by step and job over ``start``–``end`` (:func:`app.store.value.value_delivered`),
    nothing after ``as_of`` counting when it is given."""
    from app.store import value

    with _session() as s:
        return value.value_delivered(s, _account(s, slug), start, end, as_of=as_of)


def return_multiple(months) -> Decimal | None:
    """Value over bill across ``months`` (pure: :func:`app.store.value.return_multiple`)."""
    from app.store import value

    return value.return_multiple(months)


def summary_html(
    slug: str, start: date, end: date, as_of: datetime, *, quote: dict | None = None, link: str | None = None
) -> Callable[[], str]:
    """The account's one-page summary (:func:`app.store.summary_report.summary_html`), built when called.

    Not cached: it is built only when the user clicks download. ``quote`` is the pricing
    simulator's quote at the volume typed (``quote_for_summary``), ``link`` the account's address.
    The principal is taken now: the download runs later, outside the page's run.
    """
    from app.store import summary_report

    who = _who()

    def build() -> str:
        with _session() as s:
            acc = accounts_store.get_account(s, slug, principal=who)
            return summary_report.summary_html(s, acc, start=start, end=end, as_of=as_of, quote=quote, link=link)

    return build


@scoped_cache
def trial_status(slug: str, as_of: datetime, target: str | None = None):
    """The trial of ``slug`` (:func:`app.store.trial.trial_status`); ``target`` names a seed plan
    (:data:`app.domain.plans.SEED_PLANS`) to price the first bill on, ``None`` for the account's own plan."""
    from app.domain.plans import SEED_PLANS
    from app.store import trial

    target_plan = SEED_PLANS[target] if target is not None else None
    with _session() as s:
        return trial.trial_status(s, _account(s, slug), as_of=as_of, target_plan=target_plan)


@st.cache_data(ttl=TTL, show_spinner="Pricing every volume…")
def price_comparison(plans_json: tuple[tuple[str, str], ...], outcomes: int, seats: int, tasks_per_outcome: str, year: int, month: int):
    """Every plan priced at every volume (:func:`app.domain.simulator.compare`, pure but heavy, so cached).

    ``plans_json`` is ``((key, plan as sorted JSON), …)``, ``tasks_per_outcome`` a decimal string:
    small, hashable keys.
    """
    import json

    from app.domain.plans import parse_plan
    from app.domain.simulator import Prospect, compare

    plans = {key: parse_plan(json.loads(text)) for key, text in plans_json}
    return compare(plans, Prospect(outcomes, seats, Decimal(tasks_per_outcome)), year=year, month=month)


def templates() -> dict[str, str]:
    from app.domain.templates import TEMPLATES

    return {slug: t.name for slug, t in TEMPLATES.items()}


def sample_files() -> dict[str, bytes]:
    """The sample import files shipped under ``data/samples`` (name → content), if any."""
    from app.core.config import DATA_DIR

    found = {}
    for name in ("outcomes.csv", "outcomes.jsonl"):
        path = DATA_DIR / "samples" / name
        if path.is_file():
            found[name] = path.read_bytes()
    return found


def demo_scenarios() -> list:
    try:
        from app.store.demo import SCENARIOS
    except ImportError:
        return []
    return list(SCENARIOS)


# --- writes: each commits, then clears every cache ---------------------------------------------


def clear_caches() -> None:
    st.cache_data.clear()


_seen_version: int | None = None


def sync_with_database() -> None:
    """Clear this process's caches when any app server (or the command line) wrote since the last look.

    Caches live in one process; the database's data version is shared by all
    (:mod:`app.core.data_version`). One primary-key read per page run.
    """
    global _seen_version
    from app.core.data_version import current_version

    with _session() as s:
        version = current_version(s)
    if version != _seen_version:
        if _seen_version is not None:
            clear_caches()
        _seen_version = version


def save_review(slug: str, job_slug: str, outcome_id: str, verdict: str, reviewer: str, comment: str = "") -> bool:
    """Record a review as the signed-in admin; whether it was a blind second review. ``reviewer`` is the name
    typed in local mode; with sign-in the review carries the signed-in person's address, whatever was typed."""
    from app.store import reviews

    who = _who()
    with session_scope(write=True) as s:
        review = reviews.review_outcome(
            s, who, _account(s, slug), job_slug, outcome_id, verdict,
            reviewer=reviewer if who.local else who.email, comment=comment, at=now(),
        )
        blind = review.blind
    clear_caches()
    return blind


def save_job_map(
    slug: str, job_slug: str, *, name: str | None, outcome_unit: str | None, steps: dict[str, dict]
) -> None:
    from app.store import jobmap

    with session_scope(write=True) as s:
        jobmap.update_job_map(
            s, _account(s, slug), job_slug, actor=_who(), name=name, outcome_unit=outcome_unit, steps=steps
        )
    clear_caches()


def add_job(slug: str, template: str) -> str:
    from app.store import jobmap

    with session_scope(write=True) as s:
        job_slug = jobmap.add_job(s, _who(), _account(s, slug), template).slug
    clear_caches()
    return job_slug


def save_account_settings(
    slug: str,
    *,
    monthly_budget: Decimal | None,
    target_completion_rate: Decimal | None,
    target_accuracy: Decimal | None,
    target_precision: Decimal | None = None,
    second_review_share: Decimal | None = None,
) -> None:
    from app.store import account_settings

    with session_scope(write=True) as s:
        account_settings.update_settings(
            s,
            _account(s, slug),
            actor=_who(),
            monthly_budget=monthly_budget,
            target_completion_rate=target_completion_rate,
            target_accuracy=target_accuracy,
            target_precision=target_precision,
            second_review_share=second_review_share,
        )
    clear_caches()


@scoped_cache
def month_status(slug: str, as_of: datetime):
    """Which month is the first open one, and when it closes by itself (None: an admin closes it)."""
    from app.store import closing

    with _session() as s:
        return closing.month_status(s, _account(s, slug), as_of)


def settle_months(slug: str) -> None:
    """Close the account's months whose grace period has ended, before any figure is read.

    A read decides first, so a page takes the write lock only on the rare run that closes a month.
    Whoever views the page, the month closes the same way: the grace period closes it, not them.
    """
    from app.store import closing

    moment = now()
    with _session() as s:
        try:
            if not closing.is_due(s, _account(s, slug), moment):
                return
        except StoredPlanError:
            return  # nothing can be billed, nor closed, on a plan that cannot be used: the page says so
    with session_scope(write=True) as s:
        closed = closing.close_due(s, _account(s, slug), moment)
    if closed:
        clear_caches()


def close_months(slug: str, year: int, month: int) -> list[str]:
    """An admin closes ``year-month`` and every open month before it; returns the invoice numbers."""
    from app.store import closing

    with session_scope(write=True) as s:
        account = _account(s, slug)
        numbers = [row.number for row in closing.close_through(s, _who(), account, year, month, now())]
    clear_caches()
    return numbers


def save_grace_days(slug: str, days: int) -> None:
    from app.store import closing

    with session_scope(write=True) as s:
        closing.set_grace_days(s, _who(), _account(s, slug), days)
    clear_caches()


@scoped_cache
def plan_history(slug: str) -> list:
    """Every plan the account has been on, and any change to come (PlanPeriod, by the moment it takes effect)."""
    from app.store.accounts import get_subscription, plan_history as history

    with _session() as s:
        sub, _ = get_subscription(s, _account(s, slug), check=False)
        return history(s, sub, check=False)


def change_plan(slug: str, plan_json: str, seats: int | None = None, effective: tuple[int, int] | None = None) -> PlanSpec:
    """Put the account on the plan given as JSON (SPEC's plan shape), now or from a later month; an admin's change, audited."""
    from app.domain.plans import parse_plan_json
    from app.store import subscriptions

    spec = parse_plan_json(plan_json)
    with session_scope(write=True) as s:
        subscriptions.change_plan(s, _who(), _account(s, slug), spec, seats=seats, effective=effective)
    clear_caches()
    return spec


def check_upload_size(size: int) -> None:
    """:class:`OverseerError` for an upload of ``size`` bytes above the import limit (nothing is read)."""
    from app.store import ingest

    ingest.check_import_size(size)


def import_file(slug: str, source, *, fmt: str | None, valid_only: bool, dry_run: bool, progress=None):
    """Run :func:`app.store.ingest.ingest_file` (it commits itself when it writes)."""
    from app.store import ingest

    with _session() as s:
        report = ingest.ingest_file(
            s, _account(s, slug), source, fmt=fmt, valid_only=valid_only, dry_run=dry_run, progress=progress, actor=_who()
        )
    if not dry_run:
        clear_caches()
    return report


def load_demo(reset: bool = False) -> list[str]:
    from app.store import audit, demo

    who = _who()
    who.require_staff("load the demo data")
    with session_scope(write=True) as s:
        loaded = demo.load_demo(s, today=today(), reset=reset)
        slugs = [a.slug for a in loaded]
        audit.record(s, who, "demo", target="reset" if reset else "load", after={"accounts": slugs})
    clear_caches()
    return slugs


def save_value_inputs(slug: str, job_slug: str | None, *, minutes: dict[str, object], hourly_cost) -> None:
    """Save the manual minutes of some steps of one job and the account's hourly cost, in one transaction.

    Raises :class:`OverseerError` (nothing saved) on an unknown job or step or a value out of range.
    """
    from app.store import value

    who = _who()
    with session_scope(write=True) as s:
        acc = _account(s, slug)
        if minutes:
            value.set_manual_minutes(s, acc, job_slug, minutes, actor=who)
        value.set_hourly_cost(s, acc, hourly_cost, actor=who)
    clear_caches()


# --- people and the audit trail -------------------------------------------------------------------


@st.cache_data(ttl=60, show_spinner=False)
def principal_for(email: str, name: str = "") -> Principal:
    """The rights of the person signed in as ``email`` (cleared with every other cache on any write)."""
    from app.store import members

    with _session() as s:
        return members.principal_for(s, email, name)


def note_sign_in(email: str, name: str = "") -> None:
    """Remember that a known person signed in (at most twice a day; see :mod:`app.store.members`)."""
    from app.store import members

    with session_scope(write=True) as s:
        wrote = members.note_sign_in(s, email, name)
    if wrote:
        clear_caches()


@scoped_cache
def members(slug: str) -> list:
    from app.store import members as members_store

    with _session() as s:
        return members_store.list_members(s, _who(), _account(s, slug))


def save_member(slug: str, email: str, role: str) -> None:
    from app.store import members as members_store

    with session_scope(write=True) as s:
        members_store.set_member(s, _who(), _account(s, slug), email, role)
    clear_caches()


def remove_member(slug: str, email: str) -> None:
    from app.store import members as members_store

    with session_scope(write=True) as s:
        members_store.remove_member(s, _who(), _account(s, slug), email)
    clear_caches()


@scoped_cache
def audit_count(slug: str, action: str | None) -> int:
    """How many entries of the account's trail match ``action`` (every entry when ``None``)."""
    from app.store import audit

    with _session() as s:
        return audit.count_events(s, _who(), _account(s, slug), action=action)


@scoped_cache
def audit_events(slug: str, action: str | None, limit: int, offset: int) -> list:
    """One page of the entries matching ``action``, newest first."""
    from app.store import audit

    with _session() as s:
        return audit.list_events(s, _who(), _account(s, slug), action=action, limit=limit, offset=offset)


def audit_export(slug: str) -> Callable[[], str]:
    """The account's whole audit trail as spreadsheet-safe CSV, built when called (the download)."""
    from app.store import audit

    who = _who()

    def build() -> str:
        with _session() as s:
            return audit.export_csv(s, who, accounts_store.get_account(s, slug, principal=who))

    return build


# --- Clear answers (issue 17) ---------------------------------------------------------------------------------


@scoped_cache
def completed_before_subscription(slug: str, as_of: datetime) -> tuple[int, date]:
    """Completed outcomes stored from before the subscription began (never billed), and its first day."""
    from app.store import billing

    with _session() as s:
        return billing.completed_before_subscription(s, _account(s, slug), as_of=as_of)


@scoped_cache
def weakest_step(slug: str, start: date, end: date, as_of: datetime, job_slug: str | None = None):
    """The (job, step) of the account with the most handoffs in the range (:func:`app.domain.rankings.weakest_step`),
    among the steps of ``job_slug`` only when given."""
    from app.domain.rankings import weakest_step as pick
    from app.store import metrics

    with _session() as s:
        acc = _account(s, slug)
        per_job = [
            (j.slug, j.name, metrics.step_stats(s, acc.id, start, end, job_id=j.id, as_of=as_of))
            for j in accounts_store.list_jobs(s, acc)
            if job_slug is None or j.slug == job_slug
        ]
    return pick(per_job)


@scoped_cache
def portfolio_rankings(start: date, end: date, as_of: datetime | None = None):
    """Steps by observed AI share across accounts (lowest first) and accounts by handoffs (most first).

    Returns
    -------
    tuple of (list of StepRank, list of AccountRank)
        See :mod:`app.domain.rankings`.
    """
    from app.domain import rankings
    from app.store import portfolio

    with _session() as s:
        rows = portfolio.step_rows(s, _who(), start, end, as_of=as_of)
    return rankings.rank_steps_by_ai_share(rows), rankings.rank_accounts_by_handoffs(rows)


def portfolio_export(start: date, end: date, as_of: datetime | None, what: str) -> Callable[[], str]:
    """A Portfolio table as spreadsheet-safe CSV, built when the button is clicked.

    ``what`` is ``"steps"``, ``"accounts"`` or ``"coverage"``. Shares are numbers
    between 0 and 1 (not "72.0%" text), counts are integers, and every row carries
    the date range (``range_start``, ``range_end``, ISO days).
    """
    from app.domain.export import to_csv

    who = _who()

    def build() -> str:
        with acting_as(who):
            steps, accounts_ = portfolio_rankings(start, end, as_of)
            span = {"range_start": start.isoformat(), "range_end": end.isoformat()}
            if what == "steps":
                cols = ["rank", "step", "observed_ai_share", "ai_runs", "runs", "handoffs", "accounts", "range_start", "range_end"]
                rows = [
                    {"rank": i, "step": r.step, "observed_ai_share": r.ai_share.value, "ai_runs": r.ai_runs,
                     "runs": r.runs, "handoffs": r.handoffs, "accounts": r.accounts, **span}
                    for i, r in enumerate(steps, start=1)
                ]
            elif what == "accounts":
                cols = ["rank", "account", "account_slug", "handoffs", "top_step", "top_step_handoffs", "range_start", "range_end"]
                rows = [
                    {"rank": i, "account": a.name, "account_slug": a.slug, "handoffs": a.handoffs,
                     "top_step": a.top_step or "", "top_step_handoffs": a.top_step_handoffs, **span}
                    for i, a in enumerate(accounts_, start=1)
                ]
            else:
                matrix = coverage_matrix(start, end, as_of)
                cols = ["account", "account_slug", "job", "job_slug", "step", "coverage", "configured_weight",
                        "observed_ai_share", "runs", "range_start", "range_end"]
                rows = [
                    {"account": r.account_name, "account_slug": r.account_slug, "job": r.job_name,
                     "job_slug": r.job_slug, "step": r.step, "coverage": r.coverage,
                     "configured_weight": float(r.configured_weight),
                     "observed_ai_share": None if pd.isna(r.observed_ai_share) else float(r.observed_ai_share),
                     "runs": int(r.runs), **span}
                    for r in matrix.itertuples(index=False)
                ]
        return to_csv(rows, cols)

    return build


def portfolio_export_name(what: str, start: date, end: date) -> str:
    """``overseer-portfolio-steps-2026-11-01_2026-11-24.csv``: the date range in the file name."""
    return f"overseer-portfolio-{what}-{start.isoformat()}_{end.isoformat()}.csv"


SIM_QUOTE = "_sim_quote"


def remember_quote(slug: str | None, cmp, names: dict[str, str]) -> None:
    """Keep the pricing simulator's quote (the billing engine's totals at the volume typed) for the summary."""
    if slug is None:
        return
    st.session_state.setdefault(SIM_QUOTE, {})[slug] = {
        "outcomes": cmp.prospect.outcomes,
        "seats": cmp.prospect.seats,
        "tasks": cmp.prospect.tasks(),
        "plans": [(names[c.key], c.total, c.invoice.currency) for c in cmp.costs],
        "cheapest": [names[k] for k in cmp.cheapest],
    }


def quote_for_summary(slug: str) -> dict | None:
    """The simulator's last quote for ``slug`` in this browser session, if the seller made one."""
    return st.session_state.get(SIM_QUOTE, {}).get(slug)


# --- API keys and live pages (the API issue): reads are not cached ------------------------------
# A key's "last used" moves without a change of the data version (app.store.api_keys.note_used),
# so a cached list would go stale; the list is a few rows.


def api_keys(slug: str) -> list:
    """The account's API keys (never the keys themselves), newest first; admins only."""
    from app.store import api_keys as keys_store

    with _session() as s:
        return keys_store.list_keys(s, _who(), _account(s, slug))


def create_api_key(slug: str, scope: str, name: str) -> tuple:
    """Make an API key as the signed-in admin: ``(row, key)``; the key is shown once and never stored."""
    from app.store import api_keys as keys_store

    with session_scope(write=True) as s:
        made = keys_store.create_key(s, _who(), _account(s, slug), scope, name)
    clear_caches()
    return made


def revoke_api_key(slug: str, id_or_prefix: str):
    """Revoke one of the account's keys as the signed-in admin."""
    from app.store import api_keys as keys_store

    with session_scope(write=True) as s:
        row = keys_store.revoke_key(s, _who(), _account(s, slug), id_or_prefix)
    clear_caches()
    return row


def data_version() -> int:
    """The database's data version now (one primary-key read; not cached): what a live page polls."""
    from app.core.data_version import current_version

    with _session() as s:
        return current_version(s)
