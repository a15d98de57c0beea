"""Import outcomes from CSV or JSON Lines (SPEC "Data in").

The file is streamed line by line and written in batches, inside one
savepoint: either every valid row is written and committed, or nothing is
(any rejected row without ``valid_only``, a dry run, a refused file).
Outcomes are upserted by ``(account, job, outcome_id)``, so importing a file
twice changes nothing; an import never reopens a closed outcome, never
clears a stored review and never forgets a step it was not told about.

Rows are written per batch (:data:`BATCH_SIZE`) on the session's connection
(``executemany``; ``COPY`` for new rows on PostgreSQL), not as ORM objects.
That bypasses the session's rollup hooks, so the import keeps the daily
rollups itself: it sums each changed row's old contribution (negative) and new
one in Python and writes the sums once, before the commit, in the same
savepoint; a refused or failed import leaves them exactly as it found them. On
SQLite a writing import takes the database's write lock first; on PostgreSQL
it locks the rows it reads and one import per account runs at a time. A clash
with another writer rolls the import back whole and, when the source can be
read again, retries it.

The file is read and checked on a worker thread, a bounded two batches ahead,
while the caller's thread classifies and writes the previous batch: the
database works with the GIL released, so the two overlap. Only the caller's
thread touches the session and calls ``progress``.
"""

from __future__ import annotations

import bisect
import functools
import queue
import random
import threading
import time
from collections import defaultdict, namedtuple
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from datetime import time as dtime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from app.core import data_version
from app.core.config import max_import_mb
from app.core.db import claim_write_lock, is_write_conflict
from app.domain import bounded_json
from app.domain.access import Principal

from app.domain.errors import OverseerError
from app.domain.import_files import (
    FORMATS,  # noqa: F401 - part of this module's interface (the Import page names the formats)
    MAX_JSONL_LINE,  # noqa: F401 - as FORMATS
    Counter,
    Line,
    Refused,
    csv_rows,
    format_of,
    jsonl_rows,
    open_source,
    physical_lines,
)
from app.domain.ingest_rows import Duplicates, OutcomeRecord, RowError, parse_row
from app.domain.outcome_merge import MUTABLE, ROW, merge, new_outcome
from app.domain.outcome_rules import autonomous, billable_now, outcome_day
from app.domain.steps import STEPS
from app.domain.storable import check_storable
from app.models import (
    NEVER_REVIEWED,
    Account,
    Job,
    Outcome,
    Review,
    RollupOutcomeDay,
    RollupStartedDay,
    RollupStepDay,
    utcnow,
)
from app.store import audit
from app.store.accounts import get_subscription, list_jobs
from app.store.reviews import MAX_REVIEWER, last_imported_reviews
from app.store.spans import refresh_spans, sync_completion

BATCH_SIZE = 5000
# Key space of the advisory lock that lets one import at a time write into an account (PostgreSQL).
_IMPORT_LOCK = 0x0F5EE


@dataclass
class ImportReport:
    """What an import did, or would do.

    The counts classify the valid rows against what was stored before the
    import (``updated`` includes rows whose only change is a new verdict). A
    dry run counts what the import would do; a file refused whole (a rejected
    row without ``valid_only``) counts zero, since nothing was written.
    ``written`` says whether rows were stored. Rejected rows are sorted by line.
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    # Valid rows completed before the account's subscription started: stored, but never billed (SPEC "Billing").
    before_subscription: int = 0
    subscription_start: date | None = None

    def to_json(self) -> dict:
        """The report as a JSON-ready dict."""
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [e.to_json() for e in self.rejected],
            "written": self.written,
            "dry_run": self.dry_run,
            "before_subscription": self.before_subscription,
        }


_OUTCOME = Outcome.__table__
_REVIEW = Review.__table__
# What an import may change in a stored outcome, and what it reads to decide.
_MUTABLE = MUTABLE
_STORED = [_OUTCOME.c.id, _OUTCOME.c.outcome_id, *(_OUTCOME.c[c] for c in _MUTABLE)]
_STORED_NAMES = ("id", "outcome_id", *_MUTABLE)
_StoredRow = namedtuple("_StoredRow", _STORED_NAMES)
# The PostgreSQL reads of a batch's outcomes (see _Batches._pg_among): one probe of the
# (job_id, outcome_id) index per id. The planner's statistics predate the rows an import adds, so
# given "job_id = x AND outcome_id = ANY(ids)" it trusted them, took the job for a few hundred rows
# and scanned all of it for every batch (170 ms a batch at 750,000 rows, growing); a lateral
# subquery that cannot be flattened (OFFSET 0) leaves it nothing to choose but the probe.
# An outcome id never holds a control character (app.domain.ingest_rows refuses them), so the
# ids travel joined by U+001F, one text parameter.
_ID_SEPARATOR = "\x1f"


def _probe_sql(columns: Sequence[str], *, lock: bool) -> str:
    inner = (
        f"SELECT {', '.join(columns)} FROM {_OUTCOME.name} "
        "WHERE job_id = %(job_id)s AND outcome_id = wanted.outcome_id OFFSET 0"
    )
    return (
        f"SELECT {', '.join('o.' + c for c in columns)} "
        "FROM unnest(string_to_array(%(ids)s, chr(31))) AS wanted(outcome_id) "
        f"CROSS JOIN LATERAL ({inner}{' FOR UPDATE' if lock else ''}) AS o"
    )


_STORED_SQL = _probe_sql(_STORED_NAMES, lock=False)
_STORED_LOCKED_SQL = _probe_sql(_STORED_NAMES, lock=True)
_JUDGED_SQL = _probe_sql(("id", "outcome_id", "verdict"), lock=False)
_REVIEW_COPIED = ("outcome_pk", "reviewer", "reviewed_at", "verdict", "comment", "source")
# PostgreSQL's name for each SQL type a binary COPY of the import's columns meets.
_PG_COPY_TYPES = {"INTEGER": "int4", "VARCHAR": "varchar", "TIMESTAMP WITH TIME ZONE": "timestamptz"}


@functools.cache
def _pg_copy_types(table: Table, columns: tuple[str, ...]) -> list[str]:
    """The PostgreSQL type of each of ``columns``, named as a binary COPY must be told them."""
    dialect = postgresql.dialect()
    names = []
    for column in columns:
        sql_type = table.c[column].type.compile(dialect=dialect).split("(")[0]
        if sql_type not in _PG_COPY_TYPES:
            raise TypeError(f"no binary COPY type known for {table.name}.{column} ({sql_type})")
        names.append(_PG_COPY_TYPES[sql_type])
    return names


_UPDATE = (
    update(_OUTCOME)
    .where(_OUTCOME.c.id == bindparam("pk"))
    .values({c: bindparam(f"v_{c}") for c in (*_MUTABLE, "updated_at")})
)


class _RollupDelta:
    """What an import changes in the daily rollups, summed in Python and written once, at the end.

    Summing here costs a few microseconds a row, where recomputing each batch
    in SQL (:func:`app.store.rollups.add_outcomes`) cost tens; and writing the
    sums at the end, sorted by key, keeps the rollup rows locked only from then
    until the commit, after every outcome row the import locks (PostgreSQL), so a
    review, which locks its outcome and then its rollup rows, cannot deadlock with it.

    It mirrors the definitions of :mod:`app.store.rollups`: the day of an outcome,
    autonomy and "billable now" are the same rules (:mod:`app.domain.outcome_rules`,
    the Python twins of the SQL the rollups use); the day of an incorrect
    verdict and the per-step counts are written out here.
    ``tests/store/test_rollups.py`` checks, after random imports, re-imports and reviews, that the stored rollups equal
    :func:`app.store.rollups.rebuild_rollups`' recomputation, which catches the two drifting apart.
    The sums take one entry per rollup row touched, not per outcome.
    """

    def __init__(self, account_id: int):
        self.account_id = account_id
        self.outcome_day: dict[tuple, int] = defaultdict(int)
        self.started_day: dict[tuple, int] = defaultdict(int)
        self.step_day: dict[tuple, list[int]] = {}
        # Outcomes tallied by what their contribution depends on (days, not times); most rows of a
        # batch share a handful of such keys, so the per-step arithmetic runs once per key, not per row.
        self._pending: dict[tuple, int] = defaultdict(int)

    def count(self, job_id: int, o: Sequence, sign: int) -> None:
        """Add (``sign`` 1) or take out (-1) the contribution of outcome ``o``, its values in :data:`_ROW` order.

        Tallied until :meth:`settle` (after each batch, and by :meth:`write`).
        """
        started, completed, status, verdict, reviewed, handoff = o[:6]
        incorrect_on = reviewed.date() if verdict == "incorrect" and reviewed is not None else NEVER_REVIEWED
        day = outcome_day(completed, started)
        self._pending[(job_id, day, started.date(), status, verdict, incorrect_on, handoff, *o[6:])] += sign

    def settle(self) -> None:
        """Spread the tallied outcomes over the rollup sums (once per batch, so the tally stays small)."""
        step_day = self.step_day
        for (job_id, day, started_on, status, verdict, incorrect_on, handoff, *performers), sign in self._pending.items():
            if not sign:
                continue
            self.outcome_day[(day, job_id, status, verdict, int(autonomous(status, handoff, performers)), incorrect_on)] += sign
            self.started_day[(started_on, job_id)] += sign
            billable = billable_now(status, verdict)
            for step, who in zip(STEPS, performers):
                ai = who == "ai"
                human = who == "human"
                handed_off = handoff == step
                if ai or human or handed_off:
                    counts = step_day.get((day, job_id, step))
                    if counts is None:
                        counts = step_day[(day, job_id, step)] = [0, 0, 0, 0, 0]
                    counts[0] += sign * ai
                    counts[1] += sign * human
                    counts[2] += sign
                    counts[3] += sign * handed_off
                    counts[4] += sign * (ai and billable)
        self._pending.clear()

    def write(self, conn) -> None:
        """Add the sums to the rollup tables, then delete the rows they emptied."""
        self.settle()
        tables = (
            (RollupOutcomeDay.__table__, {k: (v,) for k, v in self.outcome_day.items()}),
            (RollupStepDay.__table__, self.step_day),
            (RollupStartedDay.__table__, {k: (v,) for k, v in self.started_day.items()}),
        )
        for table, sums in tables:
            keys = [c.name for c in table.primary_key.columns]
            counts = [c.name for c in table.columns if c.name not in keys]
            rows, emptied = [], []
            # Sorted by key, as app.store.rollups writes them, so writers lock rollup rows in one order.
            for key in sorted(sums):
                values = sums[key]
                if not any(values):
                    continue
                row = dict(zip(keys, (self.account_id, *key)))
                if any(v < 0 for v in values):
                    emptied.append({f"k_{k}": v for k, v in row.items()})
                row.update(zip(counts, values))
                rows.append(row)
            if not rows:
                continue
            conn.execute(_upsert(conn.dialect.name, table), rows)
            if emptied:
                # A row is empty when its outcome count (steps: outcomes that reached it) is 0.
                empty = "reached" if table is RollupStepDay.__table__ else "outcomes"
                conn.execute(
                    delete(table).where(table.c[empty] == 0, *(table.c[k] == bindparam(f"k_{k}") for k in keys)),
                    emptied,
                )


@functools.cache
def _upsert(dialect: str, table: Table):
    """``INSERT ... ON CONFLICT DO UPDATE`` adding to a rollup table's counts, built once per dialect and table.

    Building the statement cost more than running it for a small write (an API request of one outcome).
    """
    keys = [c.name for c in table.primary_key.columns]
    counts = [c.name for c in table.columns if c.name not in keys]
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return stmt.on_conflict_do_update(index_elements=keys, set_={c: table.c[c] + stmt.excluded[c] for c in counts})


_ROW = ROW
_INSERTED = ("account_id", "job_id", "outcome_id", *_MUTABLE, "updated_at")
_TIMES = frozenset({"started_at", "completed_at", "reviewed_at", "updated_at"})


def _time_binder(dialect) -> Callable[[datetime | None], object]:
    """How an aware UTC time is passed to the driver, as SQLAlchemy's column type would pass it.

    New rows go to the driver without SQLAlchemy's per-value processing, which
    cost more than the insert itself. SQLite stores UTC text without an offset;
    psycopg takes the datetime. The result is checked against the column type's
    own processor for this dialect (the one a Core or ORM insert uses), and that
    processor is used instead should they ever differ.
    """
    column_type = _OUTCOME.c.started_at.type
    # The dialect's own implementation: the type's generic processor would hand SQLite the
    # aware datetime, which sqlite3 then stores with a "+00:00" no other write produces.
    reference = column_type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
    if dialect.name == "sqlite":

        def bind(moment: datetime | None, _iso=datetime.isoformat) -> object:
            return None if moment is None else _iso(moment.replace(tzinfo=None), " ", "microseconds")

    else:

        def bind(moment: datetime | None) -> object:
            return moment

    probes = [
        datetime(2026, 11, 3, 14, 5, tzinfo=timezone.utc),
        datetime(2026, 1, 1, 0, 0, 0, 7, tzinfo=timezone.utc),
        datetime.fromisoformat("2026-05-28T07:01:50Z"),
    ]
    if any(bind(p) != reference(p) for p in probes):
        return lambda moment: None if moment is None else reference(moment)
    return bind


class _Batches:
    """Classifies batches of valid rows against the stored outcomes and writes them.

    New rows and their reviews go straight to the driver, one ``executemany``
    per batch on SQLite and one ``COPY`` on PostgreSQL; changed ones through one
    Core ``executemany`` UPDATE: no ORM objects. Writes through
    the bare connection bypass the session's rollup hooks, so the import keeps
    the rollups itself (:class:`_RollupDelta`).
    """

    def __init__(self, session: Session, account: Account, job_ids: dict[str, int], reviewer: str, now: datetime):
        self.session = session
        self.conn = session.connection()
        dialect = self.conn.dialect
        self.dialect = dialect.name
        self.account_id = account.id
        self.job_ids = job_ids
        self.reviewer = reviewer
        # Requests of several API keys written together (ingest_requests): each record's own reviewer, by line.
        self.reviewer_by_line: dict[int, str] | None = None
        self.now = now
        self.subscription_start: datetime | None = None  # set by the import: rows completed before it are never billed
        self.wrote = False
        self.rollups = _RollupDelta(account.id)
        self.bind_time = _time_binder(dialect)
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        self.insert_sql = (
            f"INSERT INTO {_OUTCOME.name} ({', '.join(_INSERTED)}) VALUES ({', '.join([marker] * len(_INSERTED))})"
        )

    def _stored(self, job_id: int, outcome_ids: list[str], lock: bool) -> dict[str, tuple]:
        """The stored outcomes of ``job_id`` among ``outcome_ids``, by outcome id (rows of :data:`_STORED_NAMES`)."""
        if self.dialect == "postgresql":
            # Hold the rows, in one order (of the sorted ids) for every writer, so a concurrent review
            # or import cannot slip between read and write, nor lock them the other way round.
            sql = _STORED_LOCKED_SQL if lock else _STORED_SQL
            return {row.outcome_id: row for row in self._pg_among(sql, job_id, sorted(outcome_ids), _StoredRow)}
        # Rendering a 5,000-value IN list through SQLAlchemy costs more than the query itself: ask
        # the driver which ids are stored, and read those in full only (a first import: none).
        marks = ", ".join("?" * len(outcome_ids))
        found = self.conn.exec_driver_sql(
            f"SELECT outcome_id FROM {_OUTCOME.name} WHERE job_id = ? AND outcome_id IN ({marks})",
            (job_id, *outcome_ids),
        )
        outcome_ids = [row[0] for row in found]
        if not outcome_ids:
            return {}
        stmt = select(*_STORED).where(_OUTCOME.c.job_id == job_id, _OUTCOME.c.outcome_id.in_(outcome_ids))
        return {row.outcome_id: _StoredRow(*row) for row in self.conn.execute(stmt)}

    def _pg_among(self, sql: str, job_id: int, outcome_ids: list[str], row_type=None) -> list:
        """Run one of the probes of :func:`_probe_sql` on PostgreSQL, unprepared.

        psycopg prepares a statement once its text has run five times, and
        PostgreSQL may then reuse one generic plan for every later batch.
        Unprepared, each batch is planned with its own values.
        """
        with self.conn.connection.driver_connection.cursor() as cursor:
            cursor.execute(sql, {"job_id": job_id, "ids": _ID_SEPARATOR.join(outcome_ids)}, prepare=False)
            rows = cursor.fetchall()
        return rows if row_type is None else [row_type(*row) for row in rows]

    def _copy(self, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Append ``rows`` to ``table`` with a binary ``COPY ... FROM STDIN`` (PostgreSQL), in the session's transaction.

        Several times faster than an ``executemany`` of INSERTs (binary: about a
        third of the text format's cost a row); constraints, indexes and foreign
        keys are checked as for an INSERT.
        """
        with self.conn.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_pg_copy_types(table, columns))
                write = copy.write_row
                for row in rows:
                    write(row)

    def apply(
        self, batch: list[OutcomeRecord], report: ImportReport, *, write: bool, statuses: dict[int, str] | None = None
    ) -> None:
        """Count ``batch`` into ``report`` and, if ``write``, store it.

        ``statuses``, when given, receives each record's fate by its ``line``:
        ``inserted``, ``updated``, ``unchanged`` or ``invalid`` (the API answers per item).
        """
        by_job: dict[int, list[OutcomeRecord]] = defaultdict(list)
        for rec in batch:
            by_job[self.job_ids[rec.job]].append(rec)
        for job_id, recs in by_job.items():
            self._apply_job(job_id, recs, report, write, statuses)
        self.rollups.settle()
        if self.subscription_start is not None:
            cutoff = self.subscription_start
            report.before_subscription += sum(
                1 for rec in batch if rec.completed_at is not None and rec.completed_at < cutoff
            )

    def _apply_job(
        self, job_id: int, recs: list[OutcomeRecord], report: ImportReport, write: bool, statuses: dict | None
    ) -> None:
        now = self.now
        stored = self._stored(job_id, [r.outcome_id for r in recs], lock=write)
        # A file repeats its source's verdict on every re-import; only a verdict the source changed
        # may override a person's later review in Overseer.
        imported = last_imported_reviews(self.session, [row.id for row in stored.values() if row.reviewed_at is not None])
        inserts: list[tuple] = []
        judged: dict[str, tuple[datetime, str]] = {}
        updates: list[dict] = []
        reviews: list[dict] = []
        count = self.rollups.count
        bind = self.bind_time
        account_id = self.account_id
        bound_now = bind(now)
        for rec in recs:
            current = stored.get(rec.outcome_id)
            if current is None:
                report.inserted += 1
                if statuses is not None:
                    statuses[rec.line] = "inserted"
                if write:
                    # The verdict goes in with the row, so the rollups count the row once, as it ends up.
                    values, at = new_outcome(rec)
                    count(job_id, values[: len(_ROW)], 1)
                    inserts.append(
                        (
                            account_id, job_id, rec.outcome_id, bind(values[0]), bind(values[1]),
                            values[2], values[3], bind(at), *values[5:],
                            bound_now,
                        )
                    )
                    if at is not None:
                        judged[rec.outcome_id] = (at, self._reviewer_of(rec))
                continue
            old = current._asdict()
            decision = merge(old, rec, imported.get(current.id, (None, None)), now)
            if isinstance(decision, RowError):
                report.rejected.append(decision)
                if statuses is not None:
                    statuses[rec.line] = "invalid"
                continue
            if decision is None:
                report.unchanged += 1
                if statuses is not None:
                    statuses[rec.line] = "unchanged"
                continue
            report.updated += 1
            if statuses is not None:
                statuses[rec.line] = "updated"
            if not write:
                continue
            if decision.review is not None:
                verdict, at = decision.review
                reviews.append(
                    {"outcome_pk": current.id, "verdict": verdict, "reviewed_at": at, "reviewer": self._reviewer_of(rec)}
                )
            if decision.values is not None:
                count(job_id, tuple(old[col] for col in _ROW), -1)
                count(job_id, tuple(decision.values[col] for col in _ROW), 1)
                values = {f"v_{col}": value for col, value in decision.values.items()}
                values["pk"] = current.id
                values["v_updated_at"] = now
                updates.append(values)
        if write and (inserts or updates or reviews):
            self._write(job_id, inserts, judged, updates, reviews)

    def _reviewer_of(self, rec: OutcomeRecord) -> str:
        return self.reviewer if self.reviewer_by_line is None else self.reviewer_by_line[rec.line]

    def _write(
        self, job_id: int, inserts: list[tuple], judged: dict[str, tuple[datetime, str]], updates: list[dict],
        reviews: list[dict],
    ) -> None:
        conn = self.conn
        postgres = self.dialect == "postgresql"
        if updates:
            conn.execute(_UPDATE, updates)
            sync_completion(conn, [u["pk"] for u in updates])
        if inserts:
            if postgres:
                self._copy(_OUTCOME, _INSERTED, inserts)
            else:
                conn.exec_driver_sql(self.insert_sql, inserts)
            if judged:
                if postgres:
                    found = self._pg_among(_JUDGED_SQL, job_id, list(judged))
                else:
                    found = conn.execute(
                        select(_OUTCOME.c.id, _OUTCOME.c.outcome_id, _OUTCOME.c.verdict).where(
                            _OUTCOME.c.job_id == job_id, _OUTCOME.c.outcome_id.in_(judged)
                        )
                    )
                reviews += [
                    {"outcome_pk": pk, "verdict": verdict, "reviewed_at": judged[outcome_id][0],
                     "reviewer": judged[outcome_id][1]}
                    for pk, outcome_id, verdict in found
                ]
        if reviews:
            if postgres:
                self._copy(
                    _REVIEW, _REVIEW_COPIED,
                    [(r["outcome_pk"], r["reviewer"], r["reviewed_at"], r["verdict"], "", "import") for r in reviews],
                )
            else:
                common = {"comment": "", "source": "import"}
                conn.execute(insert(_REVIEW), [{**common, **r} for r in reviews])
            refresh_spans(conn, [r["outcome_pk"] for r in reviews])
        self.wrote = True

    def finish(self) -> None:
        """Write the import's change to the rollups (before the commit, in the same transaction)."""
        self.rollups.write(self.conn)




def check_import_size(size: int) -> None:
    """Refuse a file of ``size`` bytes above :func:`app.core.config.max_import_mb`, before anything is read.

    The one check behind the Import page (on the upload's size) and ``ingest_file`` (on the file's).

    Raises
    ------
    OverseerError
        The file is too large; the message says the limit and what to do.
    """
    limit = max_import_mb()
    if size > limit * 1024 * 1024:
        raise OverseerError(
            f"the file is {size / (1024 * 1024):,.1f} MB; imports are limited to {limit:,} MB "
            "(OVERSEER_MAX_IMPORT_MB): split it into smaller files"
        )


def ingest_file(
    session: Session,
    account: Account,
    source: str | Path | BinaryIO,
    *,
    fmt: str | None = None,
    valid_only: bool = False,
    dry_run: bool = False,
    reviewer: str = "import",
    progress: Callable[[int, int], None] | None = None,
    actor: Principal | None = None,
) -> ImportReport:
    """Import the outcomes in a CSV or JSON Lines file into ``account``.

    Parameters
    ----------
    session : Session
        Committed by this function when it writes; otherwise only the import's
        own savepoint is rolled back, and the caller's pending work is kept.
        On SQLite a writing import first makes the session's transaction the
        database's writer (:func:`app.core.db.claim_write_lock`), so it waits
        for another writer rather than failing half-way.
    account : Account
    source : str, Path or binary file
        A path, or an open binary stream (an upload); read line by line.
    fmt : {"csv", "jsonl"}, optional
        Default: from the file name (``.csv``, ``.jsonl``, ``.ndjson``).
    valid_only : bool
        Write the valid rows even when others are rejected.
    dry_run : bool
        Validate and count, write nothing.
    reviewer : str
        Reviewer of the reviews recorded for verdicts in the file.
    progress : callable, optional
        Called as ``progress(bytes_read, total_bytes)`` after each batch
        (``total_bytes`` is 0 when the size is unknown).
    actor : Principal, optional
        Who imports: an admin of the account. Recorded in the audit trail with
        the file name and the counts, in the import's own transaction. Default:
        the command line (:meth:`Principal.operator`).

    Returns
    -------
    ImportReport
        Counts, every rejected row, and whether anything was written. A file
        refused for a rejected row, or that cannot be read as a whole (missing header column, invalid UTF-8
        in a CSV) comes back with its errors and zero counts.

    Raises
    ------
    Forbidden
        ``actor`` is a viewer of the account.
    OverseerError
        Unknown format, unreadable path, a file above the size limit
        (:func:`app.core.config.max_import_mb`), an empty or over-long reviewer (or one with a control character), or a
        clash with concurrent writers to the same outcomes that retrying did
        not clear (nothing was written; try again).
    """
    actor = actor or Principal.operator()
    actor.require_admin(account.id, "import outcomes")
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise OverseerError("an import needs a reviewer name for the verdicts it records")
    if len(reviewer) > MAX_REVIEWER:
        raise OverseerError(f"reviewer has {len(reviewer)} characters; at most {MAX_REVIEWER} are allowed")
    check_storable(reviewer, "the reviewer")
    with ExitStack() as stack:
        stream, name, total = open_source(source, stack)
        check_import_size(total)
        kind = format_of(fmt, name)
        start = _start_of(stream)
        if not dry_run:
            try:
                claim_write_lock(session)
            except DBAPIError as exc:
                if not is_write_conflict(exc):
                    raise
                raise OverseerError(_BUSY) from None
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return _ingest_once(
                    session, account, stream, total, kind, valid_only=valid_only, dry_run=dry_run,
                    reviewer=reviewer, progress=progress, actor=actor, file_name=name,
                )
            except _Clash as clash:
                # Only PostgreSQL gets here (SQLite writers wait for the lock): the savepoint is rolled
                # back, so the caller's transaction is usable and nothing of the import remains.
                if attempt == ATTEMPTS or start is None:
                    raise OverseerError(clash.message) from None
                stream.seek(start)
                time.sleep(0.05 * attempt * (1 + random.random()))
    raise AssertionError("unreachable")


_BUSY = "the database stayed busy with another write; nothing was imported, try again"
ATTEMPTS = 3


class _Clash(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _roll_back(session: Session, savepoint) -> None:
    """Undo the import after an error: its savepoint, or the whole transaction if the commit itself failed."""
    if savepoint.is_active:
        savepoint.rollback()
    elif session.in_transaction():
        session.rollback()


def _start_of(stream) -> int | None:
    """Where the stream starts, to read it again; None when it cannot be rewound."""
    try:
        return stream.tell() if stream.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def _valid_batches(
    rows: Iterator[Line], jobs: Collection[str], rejected: list[RowError], counter: Counter
) -> Iterator[tuple[list[OutcomeRecord], int, bool]]:
    """The file's valid rows in batches of :data:`BATCH_SIZE`, its bad ones appended to ``rejected``.

    Yields each batch with the bytes read so far and whether any row was
    rejected by then. A repeated outcome is rejected, naming its first line.
    """
    # Keys seen so far, to name the first line of a repeated outcome (keys only, not rows).
    seen = Duplicates()
    batch: list[OutcomeRecord] = []
    for line, values, errors in rows:
        if values is None:
            rejected.extend(errors)
            continue
        parsed = parse_row(values, line, jobs)
        if errors:  # missing JSON keys: say so once, not again as "empty"
            missing = {e.column for e in errors}
            rejected.extend(errors)
            if isinstance(parsed, list):
                rejected.extend(e for e in parsed if e.column not in missing)
            continue
        if isinstance(parsed, list):
            rejected.extend(parsed)
            continue
        repeated = seen.check(parsed)
        if repeated is not None:
            rejected.append(repeated)
            continue
        batch.append(parsed)
        if len(batch) >= BATCH_SIZE:
            yield batch, counter.read, bool(rejected)
            batch = []
    if batch:
        yield batch, counter.read, bool(rejected)


class _Prefetch:
    """Runs an iterator on a worker thread, at most ``depth`` items ahead of the caller.

    The bound keeps memory flat whatever the file's size. An exception raised
    by the iterator is raised again on the caller's thread, in its place.
    :meth:`close` must be called (it stops and joins the worker), so the
    source is no longer read when the caller goes on, for instance to rewind it.
    """

    _ITEM, _DONE, _FAILED = range(3)

    def __init__(self, items: Iterator, depth: int = 2):
        self._queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(items,), name="overseer-import-reader", daemon=True)
        self._thread.start()

    def _run(self, items: Iterator) -> None:
        try:
            for item in items:
                if not self._put((self._ITEM, item)):
                    return
            self._put((self._DONE, None))
        except BaseException as exc:  # handed to the caller, who decides
            self._put((self._FAILED, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def _put(self, entry: tuple) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator:
        while True:
            kind, value = self._queue.get()
            if kind == self._DONE:
                return
            if kind == self._FAILED:
                try:
                    raise value
                finally:
                    value = None  # no reference cycle through the traceback
            yield value

    def close(self) -> None:
        """Stop the worker and wait for it."""
        self._stop.set()
        self._thread.join()


def _ingest_once(
    session: Session,
    account: Account,
    stream,
    total: int,
    kind: str,
    *,
    valid_only: bool,
    dry_run: bool,
    reviewer: str,
    progress: Callable[[int, int], None] | None,
    actor: Principal,
    file_name: str | None,
) -> ImportReport:
    report = ImportReport(dry_run=dry_run)
    counter = Counter(total)
    lines = physical_lines(stream, counter)
    rows = csv_rows(lines) if kind == "csv" else jsonl_rows(lines)
    savepoint = session.begin_nested()
    try:
        job_ids = {job.slug: job.id for job in list_jobs(session, account)}
        if not dry_run and session.get_bind().dialect.name == "postgresql":
            # One import per account at a time: two would lock shared outcome rows batch by batch in
            # crossing orders (deadlock) or insert the same new ones; the second waits for the first to commit.
            session.connection().execute(select(func.pg_advisory_xact_lock(_IMPORT_LOCK, account.id)))
        writer = _Batches(session, account, job_ids, reviewer, utcnow())
        sub, _plan = get_subscription(session, account, check=False)
        report.subscription_start = sub.started_on
        writer.subscription_start = datetime.combine(sub.started_on, dtime(0), tzinfo=timezone.utc)
        # Reading and checking the file runs on a worker thread while this one writes the previous
        # batch: sqlite3 and psycopg let go of the GIL while the database works. The session, the
        # report and the progress callback stay on this thread.
        parse_errors: list[RowError] = []
        reader = _Prefetch(_valid_batches(rows, job_ids.keys(), parse_errors, counter))
        try:
            for batch, bytes_read, any_rejected in reader:
                # Once the import is doomed (a rejected row, not valid_only) writing more is wasted work.
                write = not dry_run and (valid_only or not (any_rejected or report.rejected))
                writer.apply(batch, report, write=write)
                if progress is not None:
                    progress(bytes_read, counter.total)
        finally:
            reader.close()
        report.rejected.extend(parse_errors)
        report.rejected.sort(key=lambda e: e.line)
        if dry_run or (report.rejected and not valid_only):
            savepoint.rollback()
            if not dry_run:
                # Refused whole: nothing was inserted or updated, whatever the valid rows would have done.
                report = ImportReport(rejected=report.rejected, dry_run=False)
        elif not (report.inserted or report.updated or report.unchanged):
            # No row at all (a CSV header alone, an empty JSON Lines file): nothing happened, so
            # nothing is written, not even an audit entry for an import that imported nothing.
            savepoint.rollback()
        else:
            if writer.wrote:
                writer.finish()
                # The writes went through the bare connection, unseen by the session's data-version hook.
                data_version.bump(session.connection())
            audit.record(
                session, actor, "import", account=account, target=file_name or "uploaded file",
                after={
                    "inserted": report.inserted,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "rejected": len(report.rejected),
                },
            )
            savepoint.commit()
            session.commit()
            report.written = True
    except Refused as exc:
        savepoint.rollback()
        return ImportReport(rejected=exc.errors, dry_run=dry_run)
    except IntegrityError:
        _roll_back(session, savepoint)
        raise _Clash(
            "another import wrote some of these outcomes at the same time; nothing was imported, try again"
        ) from None
    except DBAPIError as exc:
        _roll_back(session, savepoint)
        if is_write_conflict(exc):
            raise _Clash(_BUSY) from None
        raise
    except BaseException:
        _roll_back(session, savepoint)
        raise
    if report.written and writer.wrote:
        # Outcomes the session had loaded may have changed under it.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, Outcome) and obj.account_id == account.id:
                session.expire(obj)
    if progress is not None:
        progress(counter.read, counter.total)
    return report


@dataclass
class ItemsReport:
    """What ``POST /api/v1/outcomes`` did: each item's fate, and the counts.

    ``results`` holds, per item in order, ``(status, errors)`` with status
    ``inserted``, ``updated``, ``unchanged`` or ``invalid``. ``written`` is False
    when nothing was stored (an atomic batch with an invalid item, or no valid item).
    """

    results: list[tuple[str, list[RowError]]]
    written: bool = False

    def count(self, status: str) -> int:
        return sum(1 for s, _ in self.results if s == status)


@dataclass(frozen=True)
class ItemsRequest:
    """One ``POST /api/v1/outcomes``: its items, who sends them, and whether the batch is all or nothing."""

    items: Sequence[object]
    actor: Principal
    reviewer: str
    atomic: bool = False


def ingest_items(
    session: Session, account: Account, items: Sequence[object], *, actor: Principal, reviewer: str, atomic: bool = False
) -> ItemsReport:
    """Upsert the outcomes of an API request, by the rules of the file import.

    Each item is checked as an import row (:func:`app.domain.ingest_rows.check_items`)
    and merged by :mod:`app.domain.outcome_merge`, through the import's own writer,
    so the rollups, reviews, spans, the audit trail and the data version change in
    the caller's transaction, which the caller commits (nothing is committed here, so
    the API may write several requests in one transaction). The caller retries the
    whole call on a write conflict (it reads nothing before).

    Parameters
    ----------
    items : sequence
        The request's ``outcomes``: JSON objects (anything else is an invalid item).
    actor : Principal
        An admin of the account (a write key): recorded in the audit trail.
    reviewer : str
        Reviewer of the reviews recorded for the items' verdicts.
    atomic : bool
        Any invalid item (including one that would reopen a closed outcome)
        writes nothing.

    Returns
    -------
    ItemsReport
    """
    return ingest_requests(session, account, [ItemsRequest(items, actor, reviewer, atomic)])[0]


def ingest_requests(session: Session, account: Account, requests: Sequence[ItemsRequest]) -> list[ItemsReport]:
    """Upsert the outcomes of several API requests of one account, as if each came after the one before.

    The API's writer (:mod:`app.api.write_groups`) hands over the requests that
    arrived together, so that 16 clients sending one outcome each cost one pass
    of the writer (one lookup of the stored rows, one write of the rollups)
    instead of 16. Each request keeps what :func:`ingest_items` gives it: its own
    checks (an outcome twice in one request is invalid), its own results, and its
    own audit entry naming its key; a verdict's review names its own request's
    reviewer.

    Requests are written in passes. A pass takes the following requests until
    one names an outcome the pass already holds (that one starts the next pass,
    so it updates what the earlier request wrote); an atomic request is a pass
    of its own, rolled back alone when any of its items is invalid.

    Returns
    -------
    list of ItemsReport
        One per request, in order.
    """
    from app.domain.ingest_rows import check_items

    for request in requests:
        request.actor.require_admin(account.id, "send outcomes")
    claim_write_lock(session)
    if session.get_bind().dialect.name == "postgresql":
        # As the file import: one writer per account, so overlapping batches neither deadlock nor clash.
        session.connection().execute(select(func.pg_advisory_xact_lock(_IMPORT_LOCK, account.id)))
    # Slugs and ids only (not the ORM objects list_jobs loads): this runs once per API write.
    job_ids = dict(session.execute(select(Job.slug, Job.id).where(Job.account_id == account.id)).all())
    now = utcnow()
    checked = [check_items(request.items, job_ids.keys(), now) for request in requests]
    reports = [
        ItemsReport([("invalid", outcome) if isinstance(outcome, list) else ("", []) for outcome in outcomes])
        for outcomes in checked
    ]
    wrote = False
    for members in _passes(requests, checked):
        wrote |= _write_pass(session, account, job_ids, now, [(requests[i], checked[i], reports[i]) for i in members])
    if wrote:
        data_version.bump(session.connection())
        # Outcomes the session had loaded may have changed under it (the writes went through the connection).
        for obj in list(session.identity_map.values()):
            if isinstance(obj, Outcome) and obj.account_id == account.id:
                session.expire(obj)
    return reports


def _passes(requests: Sequence[ItemsRequest], checked: Sequence[list]) -> list[list[int]]:
    """The requests' indexes grouped into passes (see :func:`ingest_requests`)."""
    passes: list[list[int]] = []
    keys: set[tuple[str, str]] = set()
    closed = True  # the last pass takes no more requests (none yet, or an atomic one)
    for index, (request, outcomes) in enumerate(zip(requests, checked)):
        mine = {(o.job, o.outcome_id) for o in outcomes if not isinstance(o, list)}
        if closed or request.atomic or keys & mine:
            passes.append([])
            keys = set()
        passes[-1].append(index)
        keys |= mine
        closed = request.atomic
    return passes


def _write_pass(
    session: Session, account: Account, job_ids: dict[str, int], now: datetime,
    members: list[tuple[ItemsRequest, list, ItemsReport]],
) -> bool:
    """Write one pass of :func:`ingest_requests`, filling in each member's report; whether anything was written."""
    valid: list[OutcomeRecord] = []
    owner: list[int] = []  # per record of ``valid``: its member
    offsets: list[int] = []
    reviewers: dict[int, str] = {}
    offset = 0
    for number, (request, outcomes, _report) in enumerate(members):
        offsets.append(offset)
        for outcome in outcomes:
            if not isinstance(outcome, list):
                # Lines run on across the pass's requests, so each record's fate and reviewer can be found again.
                record = outcome._replace(line=offset + outcome.line)
                valid.append(record)
                owner.append(number)
                reviewers[record.line] = request.reviewer
        offset += len(outcomes)
    if not valid:
        return False
    atomic = len(members) == 1 and members[0][0].atomic
    # An atomic batch already refused still says what each valid item would have been (nothing is written).
    write = not (atomic and len(valid) < len(members[0][1]))
    savepoint = session.begin_nested()
    writer = _Batches(session, account, job_ids, members[0][0].reviewer, now)
    if len(members) > 1:
        writer.reviewer_by_line = reviewers
    combined = ImportReport()
    statuses: dict[int, str] = {}
    writer.apply(valid, combined, write=write, statuses=statuses)
    for error in combined.rejected:
        number = owner[_index_of(valid, error.line)]
        local = error.line - offsets[number]
        members[number][2].results[local] = ("invalid", [replace(error, line=local)])
    for record, number in zip(valid, owner):
        status = statuses.get(record.line)
        if status is not None and status != "invalid":
            members[number][2].results[record.line - offsets[number]] = (status, [])
    if not write or (atomic and combined.rejected):
        savepoint.rollback()
        return False
    if writer.wrote:
        writer.finish()
    for request, _outcomes, report in members:
        inserted, updated = report.count("inserted"), report.count("updated")
        report.written = writer.wrote and bool(inserted or updated)
        if inserted or updated:
            audit.record(
                session, request.actor, "import", account=account, target="API: POST /api/v1/outcomes",
                after={"inserted": inserted, "updated": updated, "unchanged": report.count("unchanged"),
                       "rejected": report.count("invalid")},
            )
    savepoint.commit()
    return writer.wrote


def _index_of(records: list[OutcomeRecord], line: int) -> int:
    """Where the record of ``line`` is in ``records`` (sorted by line)."""
    return bisect.bisect_left(records, line, key=lambda r: r.line)
