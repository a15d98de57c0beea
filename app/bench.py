"""``overseer bench``: what a page and an import cost as the stored outcomes grow.

Builds one account per size with the demo generator, then prints one table:

- the time to compute every figure and trend of the Overview page
  (:func:`app.store.overview.overview_figures`) for the current month, cold (the
  first call in a fresh process) and warm (median of the next five), beside
  DuckDB computing the same aggregates from the same rows;
- the time to close the last full month (:func:`app.store.closing.close_through`,
  its final invoice computed from the review history and stored), the months
  before it closed first, untimed;
- import throughput of a CSV file through ``ingest_file``, beside plain
  ``executemany`` inserting the same rows into an equivalent table of the same
  database (``sqlite3``, or ``psycopg`` on PostgreSQL);
- the peak memory (maximum resident set size) of each measured step, each run
  in a process of its own so that one step's memory does not hide another's.

Each account's outcomes carry the demo's review history (a review per judged
outcome, some with an earlier opposite "first look") and its incorrect spans, as
billing reads them. "Now" is :func:`app.core.clock.now` (``OVERSEER_NOW`` when
set); the history ends at 12:00 UTC of its day.

The database is ``DATABASE_URL`` when it is set (PostgreSQL included), else a
fresh SQLite file in the work folder.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path

from app.core import clock
from app.domain.steps import STEPS

DEFAULT_SIZES = (10_000, 100_000, 1_000_000, 5_000_000)
DEFAULT_IMPORT_ROWS = 1_000_000
HISTORY_DAYS = 180
WARM_RUNS = 5
INSERT_BATCH = 10_000
CSV_COLUMNS = ["outcome_id", "job", "started_at", "completed_at", "status", "verdict", "handoff_step", *STEPS]
# Who reviews the benchmark's outcomes; only their number matters (the draws of the demo's review writer).
REVIEWERS = ("qa.one@bench.example", "qa.two@bench.example", "qa.three@bench.example")
OUTCOME_COLUMNS = [
    "account_id", "job_id", "outcome_id", "started_at", "completed_at", "status", "verdict", "reviewed_at",
    "handoff_step", *[f"step_{s}" for s in STEPS], "updated_at",
]


# --- measured steps, each run in a fresh process -------------------------------------------------


def _peak_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_child(func, *args):
    """Run ``func(*args)`` in a fresh (spawned) process and return its result."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(func, args)


def _overview_step(url: str, slug: str, as_of_iso: str) -> dict:
    from sqlmodel import Session

    from app.core.db import make_engine
    from app.domain.access import Principal
    from app.store.accounts import get_account
    from app.store.overview import overview_figures

    operator = Principal.operator()

    as_of = datetime.fromisoformat(as_of_iso)
    engine = make_engine(url)
    start, end = as_of.date().replace(day=1), as_of.date()
    timings = []
    for _ in range(1 + WARM_RUNS):
        with Session(engine) as session:
            began = time.perf_counter()
            account = get_account(session, slug, principal=operator)
            overview_figures(session, account, start, end, as_of=as_of)
            timings.append(time.perf_counter() - began)
    engine.dispose()
    return {"cold": timings[0], "warm": statistics.median(timings[1:]), "peak_mib": _peak_mib()}


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _close_step(url: str, slug: str, now_iso: str) -> dict:
    """Close the last full month before ``now`` as an admin would (``close_through``), and time it.

    The account was created at the benchmark's "now", so every earlier month is
    a backlog month only an admin closes. The months before the last full one
    are closed first, untimed and committed, so that the measured call closes
    exactly one month: its invoice computed from the review history (spans),
    the rollups and the earlier final invoices, stored, audited and committed.
    The peak memory covers the untimed closings too (each is the same work for
    a month of its own).
    """
    from sqlmodel import Session

    from app.core.db import make_engine
    from app.domain.access import Principal
    from app.store.accounts import get_account, get_subscription
    from app.store.closing import close_through

    operator = Principal.operator()
    now = datetime.fromisoformat(now_iso)
    year, month = _previous_month(now.year, now.month)
    engine = make_engine(url)
    with Session(engine) as session:
        account = get_account(session, slug, principal=operator)
        started = get_subscription(session, account)[0].started_on
        before = _previous_month(year, month)
        if before >= (started.year, started.month):
            close_through(session, operator, account, *before, now)
            session.commit()
    with Session(engine) as session:
        began = time.perf_counter()
        account = get_account(session, slug, principal=operator)
        closed = close_through(session, operator, account, year, month, now)
        session.commit()
        seconds = time.perf_counter() - began
        if [(c.year, c.month) for c in closed] != [(year, month)]:
            raise RuntimeError(f"closing {year:04d}-{month:02d} closed {[(c.year, c.month) for c in closed]}")
    engine.dispose()
    return {"month": f"{year:04d}-{month:02d}", "seconds": seconds, "peak_mib": _peak_mib()}


_DUCKDB_QUERIES = {
    # The Overview's aggregates over the raw rows: the month's summary, its daily series,
    # the step statistics, tasks, and billed outcomes per month for the invoice.
    "summary": """
        select count(*) filter (where status = 'open'), count(*) filter (where status = 'completed'),
               count(*) filter (where status = 'escalated'), count(*) filter (where status = 'failed'),
               count(*) filter (where status = 'completed' and {no_human}),
               count(*) filter (where status = 'completed' and verdict = 'correct'),
               count(*) filter (where status = 'completed' and verdict = 'incorrect')
        from outcome where coalesce(completed_at, started_at) >= $start and coalesce(completed_at, started_at) < $stop""",
    "daily": """
        select cast(coalesce(completed_at, started_at) as date) as day, status, verdict, count(*)
        from outcome where coalesce(completed_at, started_at) >= $start and coalesce(completed_at, started_at) < $stop
        group by all""",
    "steps": "select " + ", ".join(
        f"count(*) filter (where step_{s} = 'ai'), count(*) filter (where step_{s} = 'human'), "
        f"count(*) filter (where handoff_step = '{s}')"
        for s in STEPS
    ) + " from outcome where coalesce(completed_at, started_at) >= $start and coalesce(completed_at, started_at) < $stop",
    "tasks": "select count(*) from outcome where started_at >= $start and started_at < $stop",
    "billed_by_month": """
        select date_trunc('month', completed_at), count(*) from outcome
        where status = 'completed' and verdict <> 'incorrect' and completed_at < $stop group by 1""",
}


def _duckdb_step(csv_path: str, as_of_iso: str) -> dict:
    import duckdb

    as_of = datetime.fromisoformat(as_of_iso)
    start = datetime.combine(as_of.date().replace(day=1), dtime(), tzinfo=timezone.utc)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    steps = ", ".join(f'"{s}" as step_{s}' for s in STEPS)
    con.execute(
        "create table outcome as select outcome_id, job, cast(started_at as timestamptz) as started_at, "
        f"cast(completed_at as timestamptz) as completed_at, status, verdict, handoff_step, {steps} "
        f"from read_csv('{csv_path}', header = true, all_varchar = true)"
    )
    no_human = " and ".join(f"coalesce(step_{s}, '') <> 'human'" for s in STEPS)
    params = {"start": start, "stop": as_of}
    timings = []
    for _ in range(1 + WARM_RUNS):
        began = time.perf_counter()
        for sql in _DUCKDB_QUERIES.values():
            used = {name: value for name, value in params.items() if f"${name}" in sql}
            con.execute(sql.format(no_human=no_human), used).fetchall()
        timings.append(time.perf_counter() - began)
    con.close()
    return {"cold": timings[0], "warm": statistics.median(timings[1:]), "peak_mib": _peak_mib()}


def _ingest_step(url: str, slug: str, csv_path: str) -> dict:
    from sqlmodel import Session

    from app.core.db import make_engine
    from app.domain.access import Principal
    from app.store.accounts import get_account
    from app.store.ingest import ingest_file

    # The import's commit evaluates the account's alert states, whose code (billing, projection, scipy)
    # a fresh process loads on first use, about 1.5 s: load it before timing, as a running server has.
    import app.store.alert_states  # noqa: F401

    engine = make_engine(url)
    with Session(engine) as session:
        account = get_account(session, slug, principal=Principal.operator())
        began = time.perf_counter()
        report = ingest_file(session, account, csv_path)
        seconds = time.perf_counter() - began
    engine.dispose()
    if report.rejected or not report.written:
        raise RuntimeError(f"the benchmark file was refused: {report.rejected[:3]}")
    return {"rows": report.inserted, "seconds": seconds, "peak_mib": _peak_mib()}


def _baseline_rows(csv_path: str, stamp, account_id: int, job_id: int):
    """The file's rows as ``ingest_file`` stores them for a new outcome, in :data:`OUTCOME_COLUMNS` order.

    Times go through ``stamp`` (the driver's form of an aware UTC time);
    "unreviewed" for no verdict, ``reviewed_at`` set with a verdict, the step
    columns, ``updated_at``.
    """
    now = stamp(clock.now().isoformat())
    with open(csv_path, newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            verdict = record["verdict"]
            judged = verdict in ("correct", "incorrect")
            yield (
                account_id, job_id, record["outcome_id"], stamp(record["started_at"]), stamp(record["completed_at"]),
                record["status"], verdict if judged else "unreviewed", now if judged else None,
                record["handoff_step"] or None, *[record[s] or None for s in STEPS], now,
            )


def _insert_in_batches(executemany, rows) -> int:
    """Pass ``rows`` to ``executemany`` in lists of :data:`INSERT_BATCH`; return how many there were."""
    count = 0
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= INSERT_BATCH:
            executemany(batch)
            count += len(batch)
            batch.clear()
    if batch:
        executemany(batch)
        count += len(batch)
    return count


def _executemany_step(csv_path: str, db_path: str) -> dict:
    """Plain ``sqlite3`` ``executemany`` of the import's rows into the app's own ``outcome`` table.

    The practical limit of an import for our schema: the table and its indexes
    are the app's DDL (compiled from the model for SQLite), and each row stores
    what ``ingest_file`` stores for a new outcome (:func:`_baseline_rows`), with
    no validation, no classification against stored rows, no reviews and no rollups.
    """
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    from app.models import Outcome

    table = Outcome.__table__
    dialect = sqlite_dialect.dialect()
    con = sqlite3.connect(db_path)
    con.execute("pragma journal_mode = wal")
    con.execute("pragma synchronous = normal")
    # The foreign-key clauses are kept (the DDL is the app's, unedited) but not enforced: the
    # account and job tables do not exist here. The app enforces them, so the baseline skips
    # two primary-key lookups a row that the import pays: it is, if anything, a stricter limit.
    con.execute("pragma foreign_keys = off")
    con.execute(str(CreateTable(table).compile(dialect=dialect)))
    for index in table.indexes:
        con.execute(str(CreateIndex(index).compile(dialect=dialect)))
    sql = f"insert into outcome ({', '.join(OUTCOME_COLUMNS)}) values ({', '.join('?' * len(OUTCOME_COLUMNS))})"

    # A time as SQLAlchemy stores it on SQLite (UTC, no offset, microseconds), as the import does.
    def stamp(text: str) -> str | None:
        if not text:
            return None
        return datetime.fromisoformat(text).astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")

    began = time.perf_counter()
    rows = _insert_in_batches(lambda batch: con.executemany(sql, batch), _baseline_rows(csv_path, stamp, 1, 1))
    con.commit()
    seconds = time.perf_counter() - began
    con.close()
    return {"rows": rows, "seconds": seconds, "peak_mib": _peak_mib()}


BASELINE_SCHEMA = "overseer_bench_baseline"


def _pg_executemany_step(csv_path: str, url: str, slug: str) -> dict:
    """Plain ``psycopg`` ``executemany`` of the import's rows into an equivalent PostgreSQL table.

    The PostgreSQL counterpart of :func:`_executemany_step`: the app's DDL for
    ``outcome`` (columns, keys, indexes and its foreign keys, enforced, to the
    benchmark account and job, as the import's are) in a schema of its own,
    dropped afterwards; the rows of :func:`_baseline_rows` in batches of
    :data:`INSERT_BATCH`, one commit at the end.
    """
    from sqlalchemy import MetaData, select
    from sqlalchemy.schema import CreateSchema, DropSchema

    from app.core.db import make_engine
    from app.models import Account, Job, Outcome

    engine = make_engine(url)
    metadata = MetaData()
    Account.__table__.to_metadata(metadata)
    Job.__table__.to_metadata(metadata)
    # Same name and indexes, in the baseline's schema; its foreign keys still name the app's tables.
    table = Outcome.__table__.to_metadata(metadata, schema=BASELINE_SCHEMA, referred_schema_fn=lambda *_: None)
    with engine.begin() as conn:
        conn.execute(DropSchema(BASELINE_SCHEMA, cascade=True, if_exists=True))
        conn.execute(CreateSchema(BASELINE_SCHEMA))
        table.create(conn)
        account_id, job_id = conn.execute(
            select(Account.id, Job.id).join(Job, Job.account_id == Account.id).where(Account.slug == slug)
        ).one()
    sql = (
        f"insert into {BASELINE_SCHEMA}.outcome ({', '.join(OUTCOME_COLUMNS)}) "
        f"values ({', '.join(['%s'] * len(OUTCOME_COLUMNS))})"
    )

    def stamp(value: str) -> datetime | None:
        return datetime.fromisoformat(value).astimezone(timezone.utc) if value else None

    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        began = time.perf_counter()
        with driver.cursor() as cursor:
            rows = _insert_in_batches(
                lambda batch: cursor.executemany(sql, batch), _baseline_rows(csv_path, stamp, account_id, job_id)
            )
        driver.commit()
        seconds = time.perf_counter() - began
    finally:
        raw.close()
        with engine.begin() as conn:
            conn.execute(DropSchema(BASELINE_SCHEMA, cascade=True, if_exists=True))
        engine.dispose()
    return {"rows": rows, "seconds": seconds, "peak_mib": _peak_mib()}


# --- building the data -----------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _rows(account_id: int, job_id: int, size: int, since: date, until: datetime, seed: int, prefix: str):
    """About ``size`` generated outcomes over the history, calibrated on a small draw first."""
    from app.store.demo import Profile, generate_outcomes

    profile = Profile.for_template("customer-support", id_prefix=prefix, ramp_days=0)
    end = until.date()
    probe = sum(1 for _ in generate_outcomes(job_id, account_id, start=since, end=end, daily_mean=20.0,
                                             growth=1.5, rng=random.Random(seed), profile=profile, until=until))
    mean = 20.0 * size / max(probe, 1)
    return generate_outcomes(job_id, account_id, start=since, end=end, daily_mean=mean, growth=1.5,
                             rng=random.Random(seed), profile=profile, until=until)


def _build(url: str, slug: str, size: int, since: date, until: datetime, csv_path: Path, *, insert: bool) -> tuple[int, float]:
    """Create account ``slug`` and ~``size`` outcomes; write them to ``csv_path`` (import format).

    With ``insert`` the rows are also bulk-inserted with the demo's review
    history (:func:`app.store.demo.write_reviews`), and the rollups and
    incorrect spans rebuilt, in one transaction. Returns the row count and the
    seconds spent.
    """
    from sqlalchemy import insert as sql_insert
    from sqlmodel import Session

    from app.core.db import make_engine
    from app.domain.plans import SEED_PLANS
    from app.models import Outcome
    from app.store.accounts import create_account, list_jobs
    from app.store.demo import write_reviews
    from app.store.spans import rebuild_spans

    engine = make_engine(url)
    began = time.perf_counter()
    count = 0
    with Session(engine) as session, open(csv_path, "w", newline="", encoding="utf-8") as handle:
        account = create_account(session, slug, f"Benchmark {slug}", SEED_PLANS["hybrid"], since=since,
                                 template="customer-support")
        (job,) = list_jobs(session, account)
        session.commit()
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        batch: list[dict] = []
        with _bulk_write(session, account.id) if insert else nullcontext():
            for row in _rows(account.id, job.id, size, since, until, seed=size, prefix=slug.upper()):
                writer.writerow([row["outcome_id"], job.slug, _iso(row["started_at"]), _iso(row["completed_at"]),
                                 row["status"], row["verdict"], row["handoff_step"] or "",
                                 *[row[f"step_{s}"] or "" for s in STEPS]])
                count += 1
                if insert:
                    batch.append(row)
                    if len(batch) >= INSERT_BATCH:
                        session.execute(sql_insert(Outcome.__table__), batch)
                        batch.clear()
            if batch:
                session.execute(sql_insert(Outcome.__table__), batch)
            if insert:
                # Billing reads the review history (reduced to incorrect spans), not only the
                # outcome's verdict: without it the measured pages and closings would skip that work.
                write_reviews(session, job, random.Random(f"{size}:reviews"), REVIEWERS)
                rebuild_spans(session.connection(), account.id)
        session.commit()
    engine.dispose()
    return count, time.perf_counter() - began


def _bulk_write(session, account_id: int):
    """Rollup upkeep off while the rows go in, then one rebuild of the account's rollups.

    Upkeep per batch would make building 5 million rows take far longer, and the
    build is not what is measured.
    """
    try:
        from app.store.rollups import bulk_write
    except ImportError:  # rollups not in this version
        return nullcontext()
    return bulk_write(session, [account_id])


def _delete_bench_accounts(url: str) -> None:
    from sqlmodel import Session, select

    from app.core.db import make_engine
    from app.models import Account

    engine = make_engine(url)
    with Session(engine) as session:
        for account in session.exec(select(Account).where(Account.slug.like("bench-%"))):
            session.delete(account)
        session.commit()
    engine.dispose()


# --- the table ----------------------------------------------------------------------------------


def machine() -> str:
    """One line naming the machine the figures come from."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kib = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        memory = f"{mem_kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        memory = "unknown memory"
    return f"{cpu}, {os.cpu_count()} cores, {memory}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def engine_label(engine) -> str:
    """The database the figures come from, with its version: "SQLite 3.45.1", "PostgreSQL 15.4"."""
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(engine.dialect.name, engine.dialect.name)
    if engine.dialect.name == "sqlite":
        return f"{name} {sqlite3.sqlite_version}"
    with engine.connect():  # the dialect learns the server's version on its first connection
        version = engine.dialect.server_version_info or ()
    return f"{name} {'.'.join(str(v) for v in version)}".strip()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def run(sizes=DEFAULT_SIZES, import_rows: int = DEFAULT_IMPORT_ROWS, workdir: Path | None = None,
        url: str | None = None, out=None) -> dict:
    """Run the benchmark and print its table to ``out``; return the figures.

    Parameters
    ----------
    sizes : sequence of int
        Outcomes stored in each benchmark account.
    import_rows : int
        Rows of the CSV file imported (0 skips the import measurement).
    workdir : Path, optional
        Where the SQLite database (when ``url`` is None) and the CSV files go;
        default a temporary folder removed afterwards.
    url : str, optional
        Database URL; default ``DATABASE_URL`` or a fresh SQLite file.
    """
    from app.core.db import make_engine, migrate

    out = out or sys.stdout  # looked up now, not at import, so a redirected stdout is honoured
    owned = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="overseer-bench-")) if owned else Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    url = url or os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.db'}"
    if url.startswith("sqlite:///") and not os.environ.get("DATABASE_URL"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(workdir / "bench.db") + suffix).unlink(missing_ok=True)
    engine = make_engine(url)
    migrate(engine)
    backend = engine_label(engine)
    engine.dispose()
    _delete_bench_accounts(url)

    today = clock.now().date()
    until = datetime.combine(today, dtime(12, 0), tzinfo=timezone.utc)
    since = today - timedelta(days=HISTORY_DAYS)
    results: dict = {"machine": machine(), "backend": backend, "sizes": [], "import": None}
    print(f"Overseer benchmark on {backend}; {results['machine']}", file=out, flush=True)
    try:
        for size in sizes:
            slug = f"bench-{size}"
            csv_path = workdir / f"{slug}.csv"
            rows, build_s = _build(url, slug, size, since, until, csv_path, insert=True)
            overview = _in_child(_overview_step, url, slug, until.isoformat())
            duck = _in_child(_duckdb_step, str(csv_path), until.isoformat())
            close = _in_child(_close_step, url, slug, until.isoformat())
            results["sizes"].append({"outcomes": rows, "build_s": build_s, "overview": overview, "duckdb": duck,
                                     "close": close})
            print(f"  {rows:>10,} outcomes: built in {build_s:,.1f} s; Overview cold {_ms(overview['cold'])} ms, "
                  f"warm {_ms(overview['warm'])} ms; DuckDB cold {_ms(duck['cold'])} ms, warm {_ms(duck['warm'])} ms; "
                  f"closing {close['month']} {close['seconds']:,.2f} s", file=out, flush=True)
            csv_path.unlink(missing_ok=True)
        if import_rows:
            slug = "bench-import"
            csv_path = workdir / f"{slug}.csv"
            rows, _ = _build(url, slug, import_rows, since, until, csv_path, insert=False)
            ingest = _in_child(_ingest_step, url, slug, str(csv_path))
            if url.startswith("postgresql"):
                plain = _in_child(_pg_executemany_step, str(csv_path), url, slug)
                baseline = "plain `psycopg` `executemany`"
            else:
                baseline_db = workdir / "executemany.db"
                baseline_db.unlink(missing_ok=True)
                plain = _in_child(_executemany_step, str(csv_path), str(baseline_db))
                baseline = "plain `sqlite3` `executemany`"
            results["import"] = {"rows": rows, "ingest": ingest, "executemany": plain, "baseline": baseline}
            csv_path.unlink(missing_ok=True)
    finally:
        _delete_bench_accounts(url)
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(results, out)
    return results


def print_table(results: dict, out=None) -> None:
    """The benchmark's figures as one Markdown table (as kept in the README)."""
    out = out or sys.stdout
    print(f"\nMachine: {results['machine']}. Database: {results['backend']}.\n", file=out)
    print("| step | outcomes | cold | warm | DuckDB cold | DuckDB warm | peak memory |", file=out)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |", file=out)
    for entry in results["sizes"]:
        o, d = entry["overview"], entry["duckdb"]
        print(f"| Overview figures, one month | {entry['outcomes']:,} | {_ms(o['cold'])} ms | {_ms(o['warm'])} ms "
              f"| {_ms(d['cold'])} ms | {_ms(d['warm'])} ms | {o['peak_mib']:,.0f} MiB (DuckDB {d['peak_mib']:,.0f} MiB) |",
              file=out)
    for entry in results["sizes"]:
        c = entry.get("close")
        if c:
            print(f"| Close one month | {entry['outcomes']:,} | {c['seconds']:,.2f} s | | | "
                  f"| {c['peak_mib']:,.0f} MiB |", file=out)
    imp = results.get("import")
    if imp:
        baseline = imp.get("baseline", "plain `sqlite3` `executemany`")
        for name, label in (("ingest", "Import CSV (`ingest_file`)"), ("executemany", baseline)):
            step = imp[name]
            rate = step["rows"] / step["seconds"] if step["seconds"] else 0
            print(f"| {label} | {step['rows']:,} | {step['seconds']:,.1f} s | {rate:,.0f} outcomes/s | | "
                  f"| {step['peak_mib']:,.0f} MiB |", file=out)
