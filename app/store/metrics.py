"""Outcome metrics of an account or a job over a date range (SPEC "Metrics").

Every figure is aggregated in the database from the daily rollups of
:mod:`app.store.rollups` (``sum(case ...)``/``group by`` over one row per day
and combination of dimensions), never from the raw outcomes, so a page's cost
follows the days it shows, not the outcomes stored; only small aggregate rows
come back to Python. The raw-row building blocks (:func:`status_counts`,
:func:`step_counts`, :func:`dated_in`) stay for queries that list outcomes.

Rules chosen where SPEC is silent:

- an outcome belongs to a day by its ``completed_at``, or its ``started_at``
  while it has none (open outcomes; :func:`app.domain.outcome_rules.outcome_day`)
  — the same rule as the outcome listing, so a
  count on the dashboard matches the rows it links to; a range ``[start, end]``
  holds both of its days, in UTC;
- ``tasks`` (what usage-based pricing charges for) counts outcomes *started* in
  the range, whatever their status or completion date;
- step statistics count every outcome dated in the range, open ones included: a
  hand-off happens, and is worth seeing, before the outcome closes;
- an outcome *reached* a step when the step was performed (by the AI or a
  human) or when it was handed off there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import date, datetime, time, timedelta, timezone

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from app.domain.errors import OverseerError
from app.domain.steps import STEPS, step_column
from app.domain.summary import StepStat, Summary
from app.models import Job, JobStep, Outcome, RollupOutcomeDay, RollupStartedDay, RollupStepDay
from app.store.outcome_sql import autonomous, billable_now, dated_between

DAILY_COLUMNS: tuple[str, ...] = (
    "day",
    "open",
    "completed",
    "escalated",
    "failed",
    "closed",
    "autonomous",
    "correct",
    "incorrect",
    "billable",
)


_SUMMARY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Summary))


# --- SQL building blocks, shared with app.store.portfolio -------------------------------------


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Half-open UTC bounds ``[start 00:00, end+1 00:00)`` of the inclusive range ``[start, end]``.

    Raises
    ------
    OverseerError
        When ``end`` is before ``start``.
    """
    if end < start:
        raise OverseerError(f"the date range ends ({end}) before it starts ({start})")
    return (
        datetime.combine(start, time.min, tzinfo=timezone.utc),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.utc),
    )


def dated_in(start: date, end: date):
    """SQL condition: the outcome's day (completed_at, else started_at) lies in ``[start, end]``.

    Raises
    ------
    OverseerError
        When ``end`` is before ``start``.
    """
    return dated_between(*day_bounds(start, end))


def _count(condition):
    # sum() over no rows is NULL; callers read it through _int, which maps that to 0.
    return func.sum(case((condition, 1), else_=0))


def status_counts() -> list:
    """Labelled aggregate columns counting the outcomes a query selects, by status and verdict.

    The date range belongs in the query's WHERE (or an outer join's ON) clause,
    where the indexes can serve it. Labels: ``outcomes, open, closed, completed,
    escalated, failed, autonomous, reviewed, correct, incorrect, billable``.
    """
    completed = Outcome.status == "completed"
    return [
        # count(id), not count(*): an outer join's unmatched row must count as no outcome.
        func.count(Outcome.id).label("outcomes"),
        _count(Outcome.status == "open").label("open"),
        _count(Outcome.status.in_(("completed", "escalated", "failed"))).label("closed"),
        _count(completed).label("completed"),
        _count(Outcome.status == "escalated").label("escalated"),
        _count(Outcome.status == "failed").label("failed"),
        _count(autonomous()).label("autonomous"),
        _count(and_(completed, Outcome.verdict.in_(("correct", "incorrect")))).label("reviewed"),
        _count(and_(completed, Outcome.verdict == "correct")).label("correct"),
        _count(and_(completed, Outcome.verdict == "incorrect")).label("incorrect"),
        _count(billable_now()).label("billable"),
    ]


def summary_from_row(row: Mapping | None) -> Summary:
    """A :class:`Summary` from a row labelled as :func:`status_counts` plus ``tasks`` (None → all zero)."""
    if row is None:
        return Summary()
    return Summary(**{name: _int(row[name]) for name in _SUMMARY_FIELDS})


def step_counts() -> list:
    """Labelled columns ``<step>_ai, <step>_human, <step>_reached, <step>_handoffs`` for every step."""
    columns = []
    for step in STEPS:
        performer = getattr(Outcome, step_column(step))
        handed_off = Outcome.handoff_step == step
        columns += [
            _count(performer == "ai").label(f"{step}_ai"),
            _count(performer == "human").label(f"{step}_human"),
            _count(or_(performer.in_(("ai", "human")), handed_off)).label(f"{step}_reached"),
            _count(handed_off).label(f"{step}_handoffs"),
        ]
    return columns


def step_stats_from_row(row: Mapping | None, coverage: Mapping[str, str] | None = None) -> list[StepStat]:
    """The eight :class:`StepStat` of a row labelled as in :func:`step_counts` (None → all zero)."""
    coverage = coverage or {}

    def get(label: str) -> int:
        return 0 if row is None else _int(row[label])

    return [
        StepStat(
            step=step,
            coverage=coverage.get(step),
            ai_runs=get(f"{step}_ai"),
            human_runs=get(f"{step}_human"),
            reached=get(f"{step}_reached"),
            handoffs=get(f"{step}_handoffs"),
        )
        for step in STEPS
    ]


# --- The same figures from the daily rollups ----------------------------------------------------


def _rollup_count(condition):
    return func.sum(case((condition, RollupOutcomeDay.outcomes), else_=0))


def rollup_status_counts() -> list:
    """Labelled aggregate columns over :class:`~app.models.RollupOutcomeDay` rows, labelled as :func:`status_counts`.

    The date range belongs in the query's WHERE (or an outer join's ON) clause, on ``RollupOutcomeDay.day``.
    """
    r = RollupOutcomeDay
    completed = r.status == "completed"
    return [
        func.sum(r.outcomes).label("outcomes"),
        _rollup_count(r.status == "open").label("open"),
        _rollup_count(r.status.in_(("completed", "escalated", "failed"))).label("closed"),
        _rollup_count(completed).label("completed"),
        _rollup_count(r.status == "escalated").label("escalated"),
        _rollup_count(r.status == "failed").label("failed"),
        _rollup_count(and_(completed, r.autonomous == 1)).label("autonomous"),
        _rollup_count(and_(completed, r.verdict.in_(("correct", "incorrect")))).label("reviewed"),
        _rollup_count(and_(completed, r.verdict == "correct")).label("correct"),
        _rollup_count(and_(completed, r.verdict == "incorrect")).label("incorrect"),
        _rollup_count(billable_now(r.status, r.verdict)).label("billable"),
    ]


def rollup_days(column, start: date, end: date):
    """SQL condition: a rollup's ``day`` column lies in ``[start, end]``.

    Raises
    ------
    OverseerError
        When ``end`` is before ``start``.
    """
    day_bounds(start, end)  # the same refusal of a reversed range as the raw queries
    return and_(column >= start, column <= end)


def rollup_step_rows(session: Session, where: list, by: tuple = ()) -> dict:
    """Step counts from :class:`~app.models.RollupStepDay`, as rows labelled like :func:`step_counts`.

    Parameters
    ----------
    where : list
        Conditions on ``RollupStepDay``.
    by : tuple of columns
        Group by these (besides the step); the result is keyed by their values
        (a tuple, ``()`` without grouping).

    Returns
    -------
    dict
        ``{key: {"<step>_ai": n, "<step>_human": n, "<step>_reached": n, "<step>_handoffs": n}}``
        for the keys with any step reached.
    """
    r = RollupStepDay
    stmt = (
        select(*by, r.step, func.sum(r.ai_runs), func.sum(r.human_runs), func.sum(r.reached), func.sum(r.handoffs))
        .where(*where)
        .group_by(*by, r.step)
    )
    rows: dict = {}
    for row in session.execute(stmt):
        key, (step, ai, human, reached, handoffs) = tuple(row[: len(by)]), row[len(by) :]
        if step not in STEPS:
            continue
        labelled = rows.setdefault(key, {f"{s}_{k}": 0 for s in STEPS for k in ("ai", "human", "reached", "handoffs")})
        labelled.update(
            {
                f"{step}_ai": _int(ai),
                f"{step}_human": _int(human),
                f"{step}_reached": _int(reached),
                f"{step}_handoffs": _int(handoffs),
            }
        )
    return rows


def _rollup_scope(table, account_id: int, job_id: int | None) -> list:
    conditions = [table.account_id == account_id]
    if job_id is not None:
        conditions.append(table.job_id == job_id)
    return conditions


def _int(value) -> int:
    # PostgreSQL returns sum() of integers as a numeric/bigint, and NULL over no rows.
    return 0 if value is None else int(value)


def as_date(value) -> date:
    """A ``date(...)`` result as a :class:`datetime.date` (PostgreSQL returns a date, SQLite a string)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- Public queries ---------------------------------------------------------------------------


def summary(session: Session, account_id: int, start: date, end: date, *, job_id: int | None = None) -> Summary:
    """Counts and rates of the account's (or one job's) outcomes over ``[start, end]``.

    Parameters
    ----------
    session : Session
    account_id : int
    start, end : date
        Inclusive UTC days.
    job_id : int, optional
        Restrict to one job of the account.

    Returns
    -------
    Summary

    Raises
    ------
    OverseerError
        When ``end`` is before ``start``.
    """
    started = RollupStartedDay
    tasks = (
        select(func.sum(started.outcomes))
        .where(*_rollup_scope(started, account_id, job_id), rollup_days(started.day, start, end))
        .scalar_subquery()
    )
    stmt = select(*rollup_status_counts(), tasks.label("tasks")).where(
        *_rollup_scope(RollupOutcomeDay, account_id, job_id), rollup_days(RollupOutcomeDay.day, start, end)
    )
    return summary_from_row(session.execute(stmt).mappings().first())


def daily(session: Session, account_id: int, start: date, end: date, *, job_id: int | None = None) -> pd.DataFrame:
    """Per-day outcome counts over ``[start, end]``, one row per day, days without outcomes as zeros.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DAILY_COLUMNS`: ``day`` (:class:`datetime.date`) then integer counts
        ``open, completed, escalated, failed, closed, autonomous, correct, incorrect, billable``.
    """
    day = RollupOutcomeDay.day.label("day")
    counts = {c.name: c for c in rollup_status_counts()}
    stmt = (
        select(day, *(counts[name] for name in DAILY_COLUMNS[1:]))
        .where(*_rollup_scope(RollupOutcomeDay, account_id, job_id), rollup_days(RollupOutcomeDay.day, start, end))
        .group_by(RollupOutcomeDay.day)
    )
    found = {as_date(row["day"]): row for row in session.execute(stmt).mappings()}
    records = []
    for offset in range((end - start).days + 1):
        d = start + timedelta(days=offset)
        row = found.get(d)
        records.append({"day": d, **{name: 0 if row is None else _int(row[name]) for name in DAILY_COLUMNS[1:]}})
    frame = pd.DataFrame.from_records(records, columns=list(DAILY_COLUMNS))
    # Keep plain dates (object dtype): pandas would otherwise be free to turn them into Timestamps.
    frame["day"] = pd.Series([r["day"] for r in records], dtype=object)
    return frame.astype({name: "int64" for name in DAILY_COLUMNS[1:]})


def step_stats(
    session: Session, account_id: int, start: date, end: date, *, job_id: int | None = None
) -> list[StepStat]:
    """AI share and hand-offs of each of the eight steps over ``[start, end]``, in job-map order.

    Parameters
    ----------
    job_id : int, optional
        Restrict to one job; its configured coverage then fills ``StepStat.coverage``
        (None otherwise, as coverage is set per job).
    """
    where = [*_rollup_scope(RollupStepDay, account_id, job_id), rollup_days(RollupStepDay.day, start, end)]
    row = rollup_step_rows(session, where).get(())
    coverage: dict[str, str] = {}
    if job_id is not None:
        coverage = dict(session.execute(select(JobStep.step, JobStep.coverage).where(JobStep.job_id == job_id)).all())
    return step_stats_from_row(row, coverage)


def job_summaries(session: Session, account_id: int, start: date, end: date) -> list[tuple[Job, Summary]]:
    """Every job of the account with its :class:`Summary` over ``[start, end]``, by job name.

    One grouped query; jobs without outcomes in the range get an all-zero summary.
    """
    r, started = RollupOutcomeDay, RollupStartedDay
    per_job = (
        select(r.job_id.label("job_id"), *rollup_status_counts())
        .where(r.account_id == account_id, rollup_days(r.day, start, end))
        .group_by(r.job_id)
        .subquery()
    )
    tasks = (
        select(started.job_id.label("job_id"), func.sum(started.outcomes).label("tasks"))
        .where(started.account_id == account_id, rollup_days(started.day, start, end))
        .group_by(started.job_id)
        .subquery()
    )
    stmt = (
        select(Job, *(per_job.c[name] for name in _SUMMARY_FIELDS if name != "tasks"), tasks.c.tasks)
        .outerjoin(per_job, per_job.c.job_id == Job.id)
        .outerjoin(tasks, tasks.c.job_id == Job.id)
        .where(Job.account_id == account_id)
        .order_by(Job.name, Job.id)
    )
    return [(row[0], summary_from_row(row._mapping)) for row in session.execute(stmt)]
