"""Daily rollups of outcomes: what every figure is read from.

Every figure is read from daily rollups maintained in the same transaction as
every write; ``overseer rollups rebuild`` recomputes them.

Three tables (:mod:`app.models`), keyed by account, UTC day and job:

- ``rollup_outcome_day`` — outcomes by status, verdict, autonomy and the day
  an incorrect verdict was recorded, dated by the day an outcome belongs to;
- ``rollup_step_day`` — per step: AI runs, human runs, outcomes that reached
  it, hand-offs, and AI runs of outcomes billable now (value delivered);
- ``rollup_started_day`` — outcomes started (the tasks of usage pricing).

Autonomy, "billable now" and the day an outcome belongs to are the rules of
:mod:`app.domain.outcome_rules`, here in their SQL form (:mod:`app.store.outcome_sql`).

How they stay right:

- Every change to the ``outcome`` table made through a session's unit of work
  (an import batch, a review, any ``session.add``) is applied as a delta at
  flush time, in set-based statements over the flushed rows: before the flush
  the stored rows' contributions are subtracted, after it the new ones are
  added (``INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE``), all in
  the flush's own transaction, so a rolled-back import or review leaves the
  rollups as they were. Rows that fall to zero are deleted, so the tables
  always equal :func:`rebuild_rollups`' result.
- Bulk statements on ``outcome`` run through ``session.execute`` (``insert``,
  including upserts, ``update``, ``delete``) are kept right by a
  ``do_orm_execute`` hook: the rows they are about to change are subtracted
  before, and the rows they wrote added after, by key, per statement.
- A whole account written or deleted at once (the demo) uses
  :func:`bulk_write`: the upkeep is off inside, and the account's rollups are
  recomputed once at the end, in the same transaction.
- Only writes through a bare ``Connection`` bypass all this; they must call
  :func:`subtract_outcomes`/:func:`add_outcomes`, or :func:`rebuild_rollups`.
- Figures that need more than whole days (an ``as_of`` in the middle of a day,
  the free-allowance cutoff within its day) read the rollups for the whole days
  and the raw rows of those single days only, through the ``(account_id,
  completed_at)``, ``(account_id, started_at)`` and ``(account_id,
  reviewed_at)`` indexes, so a page's cost does not grow with the history.
  Each such read bounds one time column once each way (see
  :mod:`app.store.billing`), and where it can, reads the rest of a day rather
  than its start: a day up to ``as_of`` is that day's rollup less what came
  after ``as_of``, usually nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import (
    Date,
    String,
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from app.domain.steps import STEPS, step_column
from app.models import NEVER_REVIEWED, Outcome, RollupOutcomeDay, RollupStartedDay, RollupStepDay
from app.store.outcome_sql import autonomous, billable_now, outcome_day, utc_day

OUTCOME_DAY = RollupOutcomeDay.__table__
STEP_DAY = RollupStepDay.__table__
STARTED_DAY = RollupStartedDay.__table__
TABLES = (OUTCOME_DAY, STEP_DAY, STARTED_DAY)

_KEYS = {
    OUTCOME_DAY: ("account_id", "day", "job_id", "status", "verdict", "autonomous", "incorrect_on"),
    STEP_DAY: ("account_id", "day", "job_id", "step"),
    STARTED_DAY: ("account_id", "day", "job_id"),
}
_COUNTS = {
    OUTCOME_DAY: ("outcomes",),
    STEP_DAY: ("ai_runs", "human_runs", "reached", "handoffs", "billable_ai_runs"),
    STARTED_DAY: ("outcomes",),
}
# A row whose count here is 0 holds nothing (every other count is part of it).
_EMPTY_WHEN_ZERO = {OUTCOME_DAY: "outcomes", STEP_DAY: "reached", STARTED_DAY: "outcomes"}

_SESSION_KEY = "overseer_rollup_readd"
_SUSPENDED_KEY = "overseer_rollups_suspended"


def _flag(condition):
    return case((condition, 1), else_=0)


def _outcome_select(where: list, sign: int):
    inner = select(
        Outcome.account_id.label("account_id"),
        outcome_day().label("day"),
        Outcome.job_id.label("job_id"),
        Outcome.status.label("status"),
        Outcome.verdict.label("verdict"),
        _flag(autonomous()).label("autonomous"),
        case(
            (and_(Outcome.verdict == "incorrect", Outcome.reviewed_at.is_not(None)), utc_day(Outcome.reviewed_at)),
            else_=literal(NEVER_REVIEWED, Date),
        ).label("incorrect_on"),
    ).where(*where).subquery()
    keys = [inner.c[k] for k in _KEYS[OUTCOME_DAY]]
    return select(*keys, (func.count() * sign).label("outcomes")).group_by(*keys).order_by(*keys)


def _step_select(where: list, sign: int):
    # One pass over the outcomes, joined to the eight steps, rather than eight passes.
    steps = union_all(*(select(literal_column(f"'{step}'", String).label("step")) for step in STEPS)).subquery("steps")
    performer = case(*((steps.c.step == step, getattr(Outcome, step_column(step))) for step in STEPS))
    handed_off = Outcome.handoff_step == steps.c.step
    performed = performer.in_(("ai", "human"))
    inner = (
        select(
            Outcome.account_id.label("account_id"),
            outcome_day().label("day"),
            Outcome.job_id.label("job_id"),
            steps.c.step.label("step"),
            _flag(performer == "ai").label("ai_runs"),
            _flag(performer == "human").label("human_runs"),
            _flag(or_(performed, handed_off)).label("reached"),
            _flag(handed_off).label("handoffs"),
            _flag(and_(performer == "ai", billable_now())).label("billable_ai_runs"),
        )
        .select_from(Outcome)
        .join(steps, or_(performed, handed_off))
        .where(*where)
        .subquery()
    )
    keys = [inner.c[k] for k in _KEYS[STEP_DAY]]
    counts = ((func.sum(inner.c[c]) * sign).label(c) for c in _COUNTS[STEP_DAY])
    return select(*keys, *counts).group_by(*keys).order_by(*keys)


def _started_select(where: list, sign: int):
    inner = select(
        Outcome.account_id.label("account_id"),
        utc_day(Outcome.started_at).label("day"),
        Outcome.job_id.label("job_id"),
    ).where(*where).subquery()
    keys = [inner.c[k] for k in _KEYS[STARTED_DAY]]
    return select(*keys, (func.count() * sign).label("outcomes")).group_by(*keys).order_by(*keys)


_SELECTS = {OUTCOME_DAY: _outcome_select, STEP_DAY: _step_select, STARTED_DAY: _started_select}


def _upsert(conn: Connection, table, source) -> None:
    """Add the rows of ``source`` (keys then counts) into ``table``, summing counts on existing keys.

    ``source`` is ordered by the key, so concurrent writers lock rollup rows in
    the same order and cannot deadlock each other.
    """
    conn.execute(_upsert_statement(conn.dialect.name, table, source))


def _upsert_statement(dialect: str, table, source):
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    columns = list(_KEYS[table]) + list(_COUNTS[table])
    stmt = dialect_insert(table).from_select(columns, source)
    return stmt.on_conflict_do_update(
        index_elements=list(_KEYS[table]),
        set_={c: table.c[c] + stmt.excluded[c] for c in _COUNTS[table]},
    )


def _apply(conn: Connection, where: list, sign: int) -> None:
    """Add (``sign`` 1) or subtract (-1) the contribution of the outcomes selected by ``where``."""
    for table, build in _SELECTS.items():
        _upsert(conn, table, build(where, sign))


_IDS = [Outcome.id.in_(bindparam("ids", expanding=True))]
# Built once per backend and sign: building the eight-way UNION costs more than running it on a batch.
_BY_IDS: dict[tuple[str, int], list] = {}


def _by_ids(dialect: str, sign: int) -> list:
    key = (dialect, sign)
    if key not in _BY_IDS:
        statements = [_upsert_statement(dialect, table, build(_IDS, sign)) for table, build in _SELECTS.items()]
        if sign < 0:
            statements += _drop_empty_statements(_IDS)
        _BY_IDS[key] = statements
    return _BY_IDS[key]


def _drop_empty_statements(where: list) -> list:
    """Deletes of the rows emptied by a subtraction, only on the days of the outcomes selected by ``where``.

    Run before the outcomes change, while ``where`` still finds their stored days.
    """
    accounts = select(Outcome.account_id).where(*where).distinct()
    statements = []
    for table in TABLES:
        day_of = utc_day(Outcome.started_at) if table is STARTED_DAY else outcome_day()
        days = select(day_of).where(*where).distinct()
        statements.append(
            delete(table).where(
                table.c[_EMPTY_WHEN_ZERO[table]] == 0,
                table.c.account_id.in_(accounts),
                table.c.day.in_(days),
            )
        )
    return statements


def _chunks(ids: list[int], size: int = 1000) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def add_outcomes(conn: Connection, outcome_pks: list[int]) -> None:
    """Add the stored outcomes ``outcome_pks`` to the rollups (set-based, per 1,000)."""
    for chunk in _chunks(sorted(set(outcome_pks))):
        for stmt in _by_ids(conn.dialect.name, 1):
            conn.execute(stmt, {"ids": chunk})


def subtract_outcomes(conn: Connection, outcome_pks: list[int]) -> None:
    """Take the stored outcomes ``outcome_pks`` out of the rollups, deleting rows left empty."""
    for chunk in _chunks(sorted(set(outcome_pks))):
        if conn.dialect.name == "postgresql":
            # Hold the rows until commit: what is subtracted now is what the write will replace.
            conn.execute(select(Outcome.id).where(Outcome.id.in_(chunk)).order_by(Outcome.id).with_for_update())
        for stmt in _by_ids(conn.dialect.name, -1):
            conn.execute(stmt, {"ids": chunk})


def delete_rollups(session: Session, account_ids: list[int] | None = None) -> None:
    """Delete the rollups of ``account_ids`` (every account when None). Nothing is committed."""
    conn = session.connection()
    for table in TABLES:
        stmt = delete(table)
        if account_ids is not None:
            stmt = stmt.where(table.c.account_id.in_(account_ids))
        conn.execute(stmt)


@contextmanager
def bulk_write(session: Session, account_ids: list[int]) -> Iterator[None]:
    """Write many outcomes of ``account_ids`` with bulk statements, then recompute their rollups once.

    Inside the block the per-statement upkeep of bulk ``session.execute``
    statements is off; on leaving it the accounts' rollups are rebuilt from
    their rows (deleted ones simply have none left). Cheaper than upkeep per
    batch when a whole account is written or deleted at once, as the demo does.
    The block must only touch outcomes of ``account_ids``.
    """
    session.flush()
    session.info[_SUSPENDED_KEY] = True
    try:
        yield
    finally:
        session.info.pop(_SUSPENDED_KEY, None)
    session.flush()
    delete_rollups(session, account_ids)
    conn = session.connection()
    for chunk in _chunks(sorted(set(account_ids))):
        _apply(conn, [Outcome.account_id.in_(chunk)], 1)


def rebuild_rollups(session: Session, account_id: int | None = None) -> None:
    """Recompute the rollups of one account (or all) from the raw outcome rows, in SQL.

    Pending ORM changes are flushed first; nothing is committed (the caller
    owns the transaction).

    Parameters
    ----------
    session : Session
    account_id : int, optional
        Only this account's rollups; default every account's.
    """
    from app.store.spans import rebuild_spans  # spans are kept beside the rollups, from the same rows

    session.flush()
    delete_rollups(session, None if account_id is None else [account_id])
    where = [] if account_id is None else [Outcome.account_id == account_id]
    _apply(session.connection(), where, 1)
    rebuild_spans(session.connection(), account_id)


# --- Unit-of-work hooks ------------------------------------------------------------------------


def _changed_outcomes(session: OrmSession) -> tuple[list[int], list[int]]:
    """Stored outcomes about to be updated, and about to be deleted, by this flush."""
    updated = [
        o.id
        for o in session.dirty
        if isinstance(o, Outcome) and o.id is not None and session.is_modified(o, include_collections=False)
    ]
    deleted = [o.id for o in session.deleted if isinstance(o, Outcome) and o.id is not None]
    return updated, deleted


@event.listens_for(OrmSession, "before_flush")
def _before_flush(session: OrmSession, _context, _instances) -> None:
    updated, deleted = _changed_outcomes(session)
    if updated or deleted:
        # The rows still hold their stored values: subtract what they contributed.
        subtract_outcomes(session.connection(), updated + deleted)
    session.info[_SESSION_KEY] = updated


@event.listens_for(OrmSession, "after_flush")
def _after_flush(session: OrmSession, _context) -> None:
    readd = session.info.pop(_SESSION_KEY, [])
    new = [o.id for o in session.new if isinstance(o, Outcome) and o.id is not None]
    if readd or new:
        add_outcomes(session.connection(), readd + new)


def _param_rows(state) -> list[dict]:
    params = state.parameters
    if isinstance(params, dict):
        return [params]
    return list(params or [])


def _insert_keys(state) -> dict[int, list[str]] | None:
    """``{job_id: [outcome_id, ...]}`` an INSERT writes; None when the statement does not say."""
    rows = _param_rows(state)
    values = getattr(state.statement, "_multi_values", None)
    if not rows and values:
        rows = [{getattr(k, "key", k): v for k, v in row.items()} for group in values for row in group]
    elif not rows and getattr(state.statement, "_values", None):
        rows = [{getattr(k, "key", k): getattr(v, "value", v) for k, v in state.statement._values.items()}]
    if not rows or any("job_id" not in r or "outcome_id" not in r for r in rows):
        return None
    by_job: dict[int, list[str]] = {}
    for r in rows:
        by_job.setdefault(r["job_id"], []).append(r["outcome_id"])
    return by_job


def _ids_of(conn: Connection, keys: dict[int, list[str]]) -> list[int]:
    ids: list[int] = []
    for job_id, outcome_ids in keys.items():
        for chunk in range(0, len(outcome_ids), 1000):
            among = Outcome.outcome_id.in_(outcome_ids[chunk : chunk + 1000])
            ids += conn.execute(select(Outcome.id).where(Outcome.job_id == job_id, among)).scalars()
    return ids


@event.listens_for(OrmSession, "do_orm_execute")
def _on_execute(state):
    """Keep the rollups right through bulk statements on ``outcome`` run by ``session.execute``.

    Inserts add the rows they wrote; updates and deletes subtract the rows they
    are about to change (found with their own WHERE clause) and updates add them
    back afterwards, all set-based and on the statement's own transaction.
    """
    if not (state.is_insert or state.is_update or state.is_delete) or state.session.info.get(_SUSPENDED_KEY):
        return None
    table = getattr(state.statement, "table", None)
    # An ORM statement carries an annotated copy of the table: compare what it stands for.
    if table is None or table._deannotate() is not Outcome.__table__:
        return None
    session = state.session
    # Pending ORM changes go first, through the flush hooks, so that nothing is counted twice.
    session.flush()
    conn = session.connection()
    if state.is_insert:
        keys = _insert_keys(state)
        if keys is None:
            # An INSERT ... SELECT or a statement without its keys: recompute, slowly but right.
            result = state.invoke_statement()
            delete_rollups(session)
            _apply(conn, [], 1)
            return result
        # An upsert ("ON CONFLICT DO UPDATE") may rewrite stored rows: take those out first.
        subtract_outcomes(conn, _ids_of(conn, keys))
        result = state.invoke_statement()
        add_outcomes(conn, _ids_of(conn, keys))
        return result
    where = state.statement.whereclause
    rows = _param_rows(state)
    if where is None and rows and all("id" in r for r in rows):
        ids = [r["id"] for r in rows]  # an ORM bulk UPDATE by primary key
    else:
        ids = list(conn.execute(select(Outcome.id).where(*([] if where is None else [where]))).scalars())
    subtract_outcomes(conn, ids)
    result = state.invoke_statement()
    if state.is_update:
        add_outcomes(conn, ids)
    return result


__all__ = ["add_outcomes", "bulk_write", "delete_rollups", "rebuild_rollups", "subtract_outcomes"]
