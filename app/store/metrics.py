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
  human) or when it was handed off there;
- nothing after ``as_of`` counts (SPEC "Billing over time"): with ``as_of``
  given, days after its day are left out, and on its day the outcomes dated
  after it (completed after it, or started after it while open) and the tasks
  started after it are taken out of that day's rollup, from their raw rows
  (one bounded index range scan each, usually empty). The store keeps no
  history of statuses, so an outcome completed after ``as_of`` is left out
  whole rather than shown as open;
- a completed outcome whose latest review came after ``as_of`` counts with the
  verdict in force at ``as_of`` (its latest review made at or before it, else
  unreviewed), wherever in the range it lies: those outcomes are read through
  the ``(account_id, reviewed_at)`` index (reviews after ``as_of``: none when
  ``as_of`` is now).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from functools import cache
from datetime import date, datetime, time, timedelta, timezone

import pandas as pd
from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlmodel import Session

from app.core.clock import stored_utc
from app.domain.errors import OverseerError
from app.domain.outcome_rules import autonomous as is_autonomous
from app.domain.steps import STEPS, step_column
from app.domain.summary import StepStat, Summary
from app.models import Job, JobStep, Outcome, Review, RollupOutcomeDay, RollupStartedDay, RollupStepDay
from app.store import prepared
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



# --- Nothing after as_of: the edge day's raw rows and later reviews ------------------------------



def _aware(as_of: datetime) -> datetime:
    if not isinstance(as_of, datetime) or as_of.utcoffset() is None:
        raise OverseerError(f"as_of must be a timezone-aware datetime, got {as_of!r}")
    return as_of.astimezone(timezone.utc)


def last_day_counted(start: date, end: date, as_of: datetime | None) -> date:
    """The last day of ``[start, end]`` whose rollups count at ``as_of`` (may fall before ``start``).

    Raises
    ------
    OverseerError
        When ``end`` is before ``start``.
    """
    day_bounds(start, end)  # the same refusal of a reversed range everywhere
    return end if as_of is None else min(end, as_of.date())


def _counts_of(status: str, verdict: str, autonomous: bool) -> dict[str, int]:
    """The Python twin of :func:`status_counts` for one outcome (``tasks`` apart)."""
    completed = status == "completed"
    return {
        "outcomes": 1,
        "open": int(status == "open"),
        "closed": int(status in ("completed", "escalated", "failed")),
        "completed": int(completed),
        "escalated": int(status == "escalated"),
        "failed": int(status == "failed"),
        "autonomous": int(completed and autonomous),
        "reviewed": int(completed and verdict in ("correct", "incorrect")),
        "correct": int(completed and verdict == "correct"),
        "incorrect": int(completed and verdict == "incorrect"),
        "billable": int(completed and verdict != "incorrect"),
    }


class _AsOfCorrection:
    """What the rollups of ``[start, last]`` hold beyond what stood at ``as_of``, by ``(day, job_id)``.

    ``counts`` are deltas of the :class:`Summary` fields (``tasks`` included) to
    add to the rollups' sums; ``steps`` deltas of the step counts, labelled as
    :func:`step_counts`; ``billable_ai`` deltas of the AI runs per step among
    billable outcomes (the rollups' ``billable_ai_runs``, what value delivered
    counts), labelled by step.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[date, int], dict[str, int]] = {}
        self.steps: dict[tuple[date, int], dict[str, int]] = {}
        self.billable_ai: dict[tuple[date, int], dict[str, int]] = {}

    def add(self, table: dict, key: tuple[date, int], values: Mapping[str, int], sign: int) -> None:
        row = table.setdefault(key, {})
        for name, n in values.items():
            if n:
                row[name] = row.get(name, 0) + sign * n

    def total(self, table: dict, where=lambda day, job: True) -> dict[str, int]:
        out: dict[str, int] = {}
        for (day, job), row in table.items():
            if where(day, job):
                for name, n in row.items():
                    out[name] = out.get(name, 0) + n
        return out


# Every stored time lies within 1970–2100 (README "Plans, arguments and databases"): the upper bound
# of the later-review read, which SQLite needs to range-scan the (account_id, reviewed_at) index.
_NO_LATER_THAN = datetime(2101, 1, 1, tzinfo=timezone.utc)
_STEP_COLUMNS = tuple(step_column(s) for s in STEPS)


def _ai_runs(performers: tuple) -> dict[str, int]:
    return {step: int(performer == "ai") for step, performer in zip(STEPS, performers)}


def _step_values(performers: tuple, handoff: str | None) -> dict[str, int]:
    values = {}
    for step, performer in zip(STEPS, performers):
        values[f"{step}_ai"] = int(performer == "ai")
        values[f"{step}_human"] = int(performer == "human")
        values[f"{step}_reached"] = int(performer in ("ai", "human") or handoff == step)
        values[f"{step}_handoffs"] = int(handoff == step)
    return values


def as_of_correction(
    session: Session, account_id: int, start: date, end: date, as_of: datetime, *, job_id: int | None = None
) -> _AsOfCorrection:
    """Deltas that make the rollups of ``[start, min(end, as_of's day)]`` exact at ``as_of``.

    Three bounded raw reads: the outcomes dated on ``as_of``'s day after it
    (taken out whole), the outcomes started on that day after it (taken out of
    the tasks), and the completed outcomes whose latest review is after
    ``as_of`` (their verdict set back to the one in force at ``as_of``).
    """
    as_of = _aware(as_of)
    fix = _AsOfCorrection()
    today = as_of.date()
    last = last_day_counted(start, end, as_of)
    if last < start:
        return fix
    sql = _correction_sql(job_id is not None)
    scope = {"account_id": account_id} if job_id is None else {"account_id": account_id, "job_id": job_id}
    tomorrow = datetime.combine(today + timedelta(days=1), time.min, tzinfo=timezone.utc)
    if last == today:
        for stmt in sql.later:
            for job, status, verdict, handoff, *performers in prepared.rows(session, stmt, **scope, as_of=as_of, tomorrow=tomorrow):
                counts = _counts_of(status, verdict, is_autonomous(status, handoff, performers))
                fix.add(fix.counts, (today, job), counts, -1)
                fix.add(fix.steps, (today, job), _step_values(tuple(performers), handoff), -1)
                if counts["billable"]:
                    fix.add(fix.billable_ai, (today, job), _ai_runs(tuple(performers)), -1)
        for job, n in prepared.rows(session, sql.started_later, **scope, as_of=as_of, tomorrow=tomorrow):
            fix.add(fix.counts, (today, job), {"tasks": int(n)}, -1)
    lo = datetime.combine(start, time.min, tzinfo=timezone.utc)
    changed = {}
    for pk, job, completed_at, verdict, handoff, *performers in prepared.rows(session, sql.reviewed_later, **scope, as_of=as_of):
        completed_at = stored_utc(completed_at)
        # Within the days counted only: the callers add these deltas up without looking at their day.
        if lo <= completed_at <= as_of and completed_at.date() <= last:
            changed[pk] = (job, completed_at, verdict, handoff, tuple(performers))
    if not changed:
        return fix
    # The verdict in force at as_of: the latest review at or before it (the one recorded last on a tie).
    then: dict[int, str] = {}
    for pk, verdict in prepared.rows(session, sql.reviews_then, pks=list(changed), as_of=as_of):
        then[pk] = verdict
    for pk, (job, completed_at, verdict, handoff, performers) in changed.items():
        verdict_then = then.get(pk, "unreviewed")
        if verdict_then != verdict:
            key = (completed_at.date(), job)
            alone = is_autonomous("completed", handoff, performers)
            now_counts = _counts_of("completed", verdict, alone)
            then_counts = _counts_of("completed", verdict_then, alone)
            fix.add(fix.counts, key, now_counts, -1)
            fix.add(fix.counts, key, then_counts, 1)
            if now_counts["billable"] != then_counts["billable"]:
                fix.add(fix.billable_ai, key, _ai_runs(performers), then_counts["billable"] - now_counts["billable"])
    return fix


class _CorrectionSql:
    """The statements of :func:`as_of_correction`, built once per scope (account, or account and job)."""

    def __init__(self, by_job: bool) -> None:
        account_id, job_id, as_of, tomorrow = prepared.params("account_id", "job_id", "as_of", "tomorrow")
        scope = [Outcome.account_id == account_id] + ([Outcome.job_id == job_id] if by_job else [])
        columns = (Outcome.job_id, Outcome.status, Outcome.verdict, Outcome.handoff_step, *(getattr(Outcome, c) for c in _STEP_COLUMNS))
        # Each read bounds one indexed time column once each way (see app.store.billing).
        self.later = tuple(
            select(*columns).where(*scope, condition)
            for condition in (
                and_(Outcome.completed_at > as_of, Outcome.completed_at < tomorrow),
                and_(Outcome.completed_at.is_(None), Outcome.started_at > as_of, Outcome.started_at < tomorrow),
            )
        )
        self.started_later = (
            select(Outcome.job_id, func.count())
            .where(*scope, Outcome.started_at > as_of, Outcome.started_at < tomorrow)
            .group_by(Outcome.job_id)
        )
        self.reviewed_later = select(
            Outcome.id,
            Outcome.job_id,
            Outcome.completed_at,
            Outcome.verdict,
            Outcome.handoff_step,
            *(getattr(Outcome, c) for c in _STEP_COLUMNS),
        ).where(*scope, Outcome.reviewed_at > as_of, Outcome.reviewed_at < _NO_LATER_THAN, Outcome.status == "completed")
        self.reviews_then = (
            select(Review.outcome_pk, Review.verdict)
            .where(Review.outcome_pk.in_(bindparam("pks", expanding=True)), Review.reviewed_at <= as_of)
            .order_by(Review.outcome_pk, Review.reviewed_at, Review.id)
        )


@cache
def _correction_sql(by_job: bool) -> _CorrectionSql:
    return _CorrectionSql(by_job)


_COUNT_NAMES = frozenset(_SUMMARY_FIELDS) | {f"{s}_{k}" for s in STEPS for k in ("ai", "human", "reached", "handoffs")}


def corrected(values: Mapping, delta: Mapping[str, int]) -> dict[str, int]:
    """The counts of ``values`` (a row's other columns dropped) plus ``delta``."""
    return {name: _int(values.get(name)) + delta.get(name, 0) for name in (set(values) | set(delta)) & _COUNT_NAMES}


# --- Public queries ---------------------------------------------------------------------------


def summary(
    session: Session, account_id: int, start: date, end: date, *, job_id: int | None = None, as_of: datetime | None = None
) -> Summary:
    """Counts and rates of the account's (or one job's) outcomes over ``[start, end]``.

    Parameters
    ----------
    session : Session
    account_id : int
    start, end : date
        Inclusive UTC days.
    job_id : int, optional
        Restrict to one job of the account.
    as_of : datetime, optional
        Aware; nothing after it counts (see the module's rules). None: every stored row.

    Returns
    -------
    Summary

    Raises
    ------
    OverseerError
        When ``end`` is before ``start``.
    """
    last = last_day_counted(start, end, as_of)
    values = {"account_id": account_id, "first": start, "last": last}
    if job_id is not None:
        values["job_id"] = job_id
    row = prepared.rows(session, _summary_sql(job_id is not None), **values).mappings().first()
    if as_of is None:
        return summary_from_row(row)
    fix = as_of_correction(session, account_id, start, end, as_of, job_id=job_id)
    values = {} if row is None else dict(row)
    return summary_from_row(corrected(values, fix.total(fix.counts)))


@cache
def _summary_sql(by_job: bool):
    """:func:`summary`'s statement, built once per scope; its values are bound by name."""
    account_id, job_id, first, last = prepared.params("account_id", "job_id", "first", "last")
    started = RollupStartedDay
    tasks = (
        select(func.sum(started.outcomes))
        .where(*_rollup_scope(started, account_id, job_id if by_job else None), started.day >= first, started.day <= last)
        .scalar_subquery()
    )
    return select(*rollup_status_counts(), tasks.label("tasks")).where(
        *_rollup_scope(RollupOutcomeDay, account_id, job_id if by_job else None),
        RollupOutcomeDay.day >= first,
        RollupOutcomeDay.day <= last,
    )


def daily(
    session: Session, account_id: int, start: date, end: date, *, job_id: int | None = None, as_of: datetime | None = None
) -> pd.DataFrame:
    """Per-day outcome counts over ``[start, end]``, one row per day, days without outcomes as zeros.

    Parameters
    ----------
    as_of : datetime, optional
        Aware; nothing after it counts: days after its day are all zeros.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DAILY_COLUMNS`: ``day`` (:class:`datetime.date`) then integer counts
        ``open, completed, escalated, failed, closed, autonomous, correct, incorrect, billable``.
    """
    last = last_day_counted(start, end, as_of)
    day = RollupOutcomeDay.day.label("day")
    counts = {c.name: c for c in rollup_status_counts()}
    stmt = (
        select(day, *(counts[name] for name in DAILY_COLUMNS[1:]))
        .where(*_rollup_scope(RollupOutcomeDay, account_id, job_id), RollupOutcomeDay.day >= start, RollupOutcomeDay.day <= last)
        .group_by(RollupOutcomeDay.day)
    )
    found = {as_date(row["day"]): dict(row) for row in session.execute(stmt).mappings()}
    if as_of is not None:
        fix = as_of_correction(session, account_id, start, end, as_of, job_id=job_id)
        for d in {d for d, _ in fix.counts}:
            found[d] = corrected(found.get(d, {}), fix.total(fix.counts, lambda day, job, d=d: day == d))
    records = []
    for offset in range((end - start).days + 1):
        d = start + timedelta(days=offset)
        row = found.get(d)
        records.append({"day": d, **{name: 0 if row is None else _int(row.get(name)) for name in DAILY_COLUMNS[1:]}})
    frame = pd.DataFrame.from_records(records, columns=list(DAILY_COLUMNS))
    # Keep plain dates (object dtype): pandas would otherwise be free to turn them into Timestamps.
    frame["day"] = pd.Series([r["day"] for r in records], dtype=object)
    return frame.astype({name: "int64" for name in DAILY_COLUMNS[1:]})


def step_stats(
    session: Session,
    account_id: int,
    start: date,
    end: date,
    *,
    job_id: int | None = None,
    as_of: datetime | None = None,
) -> list[StepStat]:
    """AI share and hand-offs of each of the eight steps over ``[start, end]``, in job-map order.

    Parameters
    ----------
    job_id : int, optional
        Restrict to one job; its configured coverage then fills ``StepStat.coverage``
        (None otherwise, as coverage is set per job).
    as_of : datetime, optional
        Aware; nothing after it counts.
    """
    last = last_day_counted(start, end, as_of)
    where = [*_rollup_scope(RollupStepDay, account_id, job_id), RollupStepDay.day >= start, RollupStepDay.day <= last]
    row = rollup_step_rows(session, where).get(())
    if as_of is not None:
        fix = as_of_correction(session, account_id, start, end, as_of, job_id=job_id)
        delta = fix.total(fix.steps)
        if delta:
            row = corrected(row or {}, delta)
    coverage: dict[str, str] = {}
    if job_id is not None:
        coverage = dict(session.execute(select(JobStep.step, JobStep.coverage).where(JobStep.job_id == job_id)).all())
    return step_stats_from_row(row, coverage)


def job_summaries(
    session: Session, account_id: int, start: date, end: date, *, as_of: datetime | None = None
) -> list[tuple[Job, Summary]]:
    """Every job of the account with its :class:`Summary` over ``[start, end]``, by job name.

    One grouped query; jobs without outcomes in the range get an all-zero summary.
    With ``as_of`` (aware), nothing after it counts.
    """
    last = last_day_counted(start, end, as_of)
    r, started = RollupOutcomeDay, RollupStartedDay
    per_job = (
        select(r.job_id.label("job_id"), *rollup_status_counts())
        .where(r.account_id == account_id, r.day >= start, r.day <= last)
        .group_by(r.job_id)
        .subquery()
    )
    tasks = (
        select(started.job_id.label("job_id"), func.sum(started.outcomes).label("tasks"))
        .where(started.account_id == account_id, started.day >= start, started.day <= last)
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
    rows = [(row[0], dict(row._mapping)) for row in session.execute(stmt)]
    if as_of is None:
        return [(job, summary_from_row(values)) for job, values in rows]
    fix = as_of_correction(session, account_id, start, end, as_of)
    return [
        (job, summary_from_row(corrected(values, fix.total(fix.counts, lambda day, j, job_id=job.id: j == job_id))))
        for job, values in rows
    ]
