"""Views for the product team, across every account: coverage, hand-offs, quality.

Built on the rollup building blocks of :mod:`app.store.metrics`, so a figure here
always equals the same figure on a customer's own dashboard, and read from the
daily rollups (:mod:`app.store.rollups`), never from the raw outcomes. Queries
return one aggregate row per job and step; only the pivot to the job's eight
steps happens in Python.

Undefined rates (no denominator) are None in object-dtype columns, never NaN,
0 or 1, so that :func:`app.domain.stats.format_share` shows them as "—".
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import and_, select
from sqlmodel import Session

from app.domain.errors import OverseerError
from app.domain.stats import Rate
from app.domain.steps import STEPS
from app.domain.access import Principal
from app.models import Account, Job, JobStep, RollupOutcomeDay, RollupStepDay
from app.store.metrics import (
    as_of_correction,
    corrected,
    last_day_counted,
    rollup_status_counts,
    rollup_step_rows,
    step_stats_from_row,
)

COVERAGE_WEIGHT: dict[str, float] = {"automated": 1.0, "assisted": 0.5, "manual": 0.0}

COVERAGE_COLUMNS: tuple[str, ...] = (
    "account_slug",
    "account_name",
    "job_slug",
    "job_name",
    "step",
    "position",
    "coverage",
    "configured_weight",
    "observed_ai_share",
    "runs",
)
HANDOFF_COLUMNS: tuple[str, ...] = ("account_slug", "job_slug", "step", "handoffs", "reached", "handoff_rate")
QUALITY_COLUMNS: tuple[str, ...] = (
    "account_slug",
    "job_slug",
    "job_name",
    "closed",
    "completion_rate",
    "accuracy",
    "accuracy_n",
    "completed",
    "accuracy_low",
    "accuracy_high",
)
_SHARE_COLUMNS = ("observed_ai_share", "handoff_rate", "completion_rate", "accuracy", "accuracy_low", "accuracy_high")


def _frame(records: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(columns))
    for name in columns:
        if name in _SHARE_COLUMNS:
            # pandas would turn None into NaN in a float column; NaN formats as "nan%", not "—".
            frame[name] = pd.Series([r[name] for r in records], dtype=object)
    return frame


def _as_of_deltas(session: Session, start: date, end: date, as_of: datetime | None) -> tuple[dict, dict]:
    """``(counts, steps)`` to add per job so that the rollups are exact at ``as_of``.

    One :func:`app.store.metrics.as_of_correction` per account, so each raw read
    stays one index range of one account; empty without ``as_of``.
    """
    counts: dict[int, dict[str, int]] = {}
    steps: dict[int, dict[str, int]] = {}
    if as_of is None:
        return counts, steps
    for (account_id,) in session.execute(select(Account.id)):
        fix = as_of_correction(session, account_id, start, end, as_of)
        for table, into in ((fix.counts, counts), (fix.steps, steps)):
            for (_day, job_id), row in table.items():
                into[job_id] = corrected(into.get(job_id, {}), row)
    return counts, steps


def _step_rows(session: Session, start: date, end: date, as_of: datetime | None) -> dict[int, dict]:
    """Step counts per job with outcomes in the range (labelled as :func:`app.store.metrics.step_counts`)."""
    last = last_day_counted(start, end, as_of)
    rows = rollup_step_rows(session, [RollupStepDay.day >= start, RollupStepDay.day <= last], by=(RollupStepDay.job_id,))
    by_job = {job_id: row for (job_id,), row in rows.items()}
    for job_id, delta in _as_of_deltas(session, start, end, as_of)[1].items():
        by_job[job_id] = corrected(by_job.get(job_id, {}), delta)
    return by_job


def _step_rows_by_job(session: Session, start: date, end: date, as_of: datetime | None = None) -> dict[int, list]:
    """Per job with outcomes in the range: its eight :class:`~app.domain.summary.StepStat`."""
    return {job_id: step_stats_from_row(row) for job_id, row in _step_rows(session, start, end, as_of).items()}


def coverage_matrix(
    session: Session, principal: Principal, start: date, end: date, *, as_of: datetime | None = None
) -> pd.DataFrame:
    """Configured coverage against the AI share observed, per account, job and step.

    Parameters
    ----------
    session : Session
    start, end : date
        Inclusive UTC days; an outcome is dated by its ``completed_at``, else ``started_at``.
    as_of : datetime, optional
        Aware; nothing after it counts (:mod:`app.store.metrics`).

    Returns
    -------
    pandas.DataFrame
        One row per (account, job, step), ordered by account slug, job slug and step position:
        ``account_slug, account_name, job_slug, job_name, step, position, coverage,
        configured_weight`` (1, 0.5 or 0), ``observed_ai_share`` (AI runs / runs, None
        without runs) and ``runs`` (outcomes in which the step was performed at all).
    """
    principal.require_staff("compare accounts")
    observed = _step_rows_by_job(session, start, end, as_of)
    stmt = (
        select(Account.slug, Account.name, Job.id, Job.slug, Job.name, JobStep.step, JobStep.position, JobStep.coverage)
        .join(Job, Job.account_id == Account.id)
        .join(JobStep, JobStep.job_id == Job.id)
        .order_by(Account.slug, Job.slug, JobStep.position)
    )
    records = []
    for account_slug, account_name, job_id, job_slug, job_name, step, position, coverage in session.execute(stmt):
        stat = observed[job_id][STEPS.index(step)] if job_id in observed and step in STEPS else None
        records.append(
            {
                "account_slug": account_slug,
                "account_name": account_name,
                "job_slug": job_slug,
                "job_name": job_name,
                "step": step,
                "position": position,
                "coverage": coverage,
                "configured_weight": COVERAGE_WEIGHT.get(coverage, 0.0),
                "observed_ai_share": None if stat is None else stat.ai_share.value,
                "runs": 0 if stat is None else stat.runs,
            }
        )
    return _frame(records, COVERAGE_COLUMNS)


def top_handoff_steps(
    session: Session,
    principal: Principal,
    start: date,
    end: date,
    limit: int = 10,
    *,
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """The (account, job, step) triples where outcomes are most often handed off to a human.

    Parameters
    ----------
    limit : int
        How many rows at most (1 or more).
    as_of : datetime, optional
        Aware; nothing after it counts.

    Returns
    -------
    pandas.DataFrame
        ``account_slug, job_slug, step, handoffs, reached, handoff_rate``; only steps some
        outcome reached; highest rate first, ties by more hand-offs, then by account, job
        and step order (so the list is stable).

    Raises
    ------
    OverseerError
        When ``limit`` is below 1.
    """
    principal.require_staff("compare accounts")
    if limit < 1:
        raise OverseerError(f"the list needs room for at least one step, asked for {limit}")
    per_job = {(job_id,): row for job_id, row in _step_rows(session, start, end, as_of).items()}
    slugs = {}
    if per_job:
        slugs = {
            job_id: (account_slug, job_slug)
            for job_id, account_slug, job_slug in session.execute(
                select(Job.id, Account.slug, Job.slug)
                .join(Account, Account.id == Job.account_id)
                .where(Job.id.in_([job_id for (job_id,) in per_job]))
            )
        }
    records = []
    for (job_id,), row in per_job.items():
        if job_id not in slugs:
            continue
        account_slug, job_slug = slugs[job_id]
        for position, stat in enumerate(step_stats_from_row(row)):
            if stat.reached == 0:
                continue
            records.append(
                {
                    "account_slug": account_slug,
                    "job_slug": job_slug,
                    "step": stat.step,
                    "handoffs": stat.handoffs,
                    "reached": stat.reached,
                    "handoff_rate": stat.handoff_rate.value,
                    "_position": position,
                }
            )
    records.sort(
        key=lambda r: (-r["handoff_rate"], -r["handoffs"], r["account_slug"], r["job_slug"], r["_position"])
    )
    for r in records:
        del r["_position"]
    return _frame(records[:limit], HANDOFF_COLUMNS)


def job_quality(
    session: Session, principal: Principal, start: date, end: date, *, as_of: datetime | None = None
) -> pd.DataFrame:
    """Completion rate and accuracy of every job of every account over ``[start, end]``.

    Returns
    -------
    pandas.DataFrame
        One row per job, by account slug then job slug: ``account_slug, job_slug, job_name,
        closed, completion_rate`` (completed / closed), ``accuracy`` (correct / reviewed
        completed), ``accuracy_n`` (that denominator), then ``completed`` and the 95% Wilson
        interval of the accuracy, ``accuracy_low, accuracy_high``. Rates without a
        denominator are None; jobs without outcomes are listed with zeros. With ``as_of``
        (aware), nothing after it counts.
    """
    principal.require_staff("compare accounts")
    last = last_day_counted(start, end, as_of)
    deltas = _as_of_deltas(session, start, end, as_of)[0]
    counts = {c.name: c for c in rollup_status_counts()}
    stmt = (
        select(
            Job.id,
            Account.slug,
            Job.slug,
            Job.name,
            counts["closed"],
            counts["completed"],
            counts["correct"],
            counts["incorrect"],
        )
        .select_from(Job)
        .join(Account, Account.id == Job.account_id)
        # The range goes in the join, not the WHERE, so jobs without outcomes in it still get a row.
        .outerjoin(
            RollupOutcomeDay, and_(RollupOutcomeDay.job_id == Job.id, RollupOutcomeDay.day >= start, RollupOutcomeDay.day <= last)
        )
        .group_by(Job.id, Account.slug, Job.slug, Job.name)
        .order_by(Account.slug, Job.slug)
    )
    records = []
    for job_id, account_slug, job_slug, job_name, closed, completed, correct, incorrect in session.execute(stmt):
        row = corrected(
            {"closed": closed, "completed": completed, "correct": correct, "incorrect": incorrect}, deltas.get(job_id, {})
        )
        closed, completed, correct, incorrect = (row.get(k, 0) for k in ("closed", "completed", "correct", "incorrect"))
        accuracy = Rate(correct, correct + incorrect)
        interval = accuracy.wilson()
        records.append(
            {
                "account_slug": account_slug,
                "job_slug": job_slug,
                "job_name": job_name,
                "closed": closed,
                "completion_rate": Rate(completed, closed).value,
                "accuracy": accuracy.value,
                "accuracy_n": accuracy.denominator,
                "completed": completed,
                "accuracy_low": None if interval is None else interval[0],
                "accuracy_high": None if interval is None else interval[1],
            }
        )
    return _frame(records, QUALITY_COLUMNS)


def step_rows(
    session: Session, principal: Principal, start: date, end: date, *, as_of: datetime | None = None
) -> list[dict]:
    """Per account, job and step with outcomes in the range: AI runs, runs and handoffs (for the rankings).

    Returns
    -------
    list of dict
        ``account_id, account_slug, account_name, job_slug, step, ai_runs, runs, handoffs``,
        from the same daily rollups as :func:`coverage_matrix`; ranked by
        :mod:`app.domain.rankings`.
    """
    principal.require_staff("compare accounts")
    observed = _step_rows_by_job(session, start, end, as_of)
    if not observed:
        return []
    jobs = session.execute(
        select(Job.id, Account.id, Account.slug, Account.name, Job.slug)
        .join(Account, Account.id == Job.account_id)
        .where(Job.id.in_(list(observed)))
        .order_by(Account.slug, Job.slug)
    )
    return [
        {
            "account_id": account_id, "account_slug": account_slug, "account_name": account_name,
            "job_slug": job_slug, "step": stat.step, "ai_runs": stat.ai_runs, "runs": stat.runs,
            "handoffs": stat.handoffs,
        }
        for job_id, account_id, account_slug, account_name, job_slug in jobs
        for stat in observed[job_id]
    ]
