"""Database engine, sessions and schema migrations.

One engine per process; the schema is brought to the newest Alembic revision
before first use, so stored customer data survives upgrades.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from app.core import data_version as _data_version  # noqa: F401  (its session hooks bump the version on writes)
from app.core.config import database_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
T = TypeVar("T")
# Connection execution option: on SQLite, begin the transaction as the database's writer.
_IMMEDIATE = "overseer_begin_immediate"
# SQLSTATEs of PostgreSQL conflicts that a retry of the whole transaction may clear:
# serialization failure, deadlock detected, lock not available.
_PG_CONFLICTS = frozenset({"40001", "40P01", "55P03"})


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite opens transactions lazily and lets reads run outside them; take over
    # (the "begin" listener below emits BEGIN) so an import is one real transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while an import writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_IMMEDIATE) else "BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for ``url`` (default: :func:`app.core.config.database_url`).

    SQLite files get their parent folder created and WAL mode switched on; an
    in-memory SQLite database is shared across threads (Streamlit runs scripts
    on worker threads).
    """
    url = url or database_url()
    if url.startswith("sqlite"):
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        path = url.split("///", 1)[1] if "///" in url else ""
        if path in ("", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    # Day boundaries are UTC days: date(completed_at) must not follow the server's zone.
    return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})


def alembic_config(engine: Engine):
    """Return an Alembic ``Config`` pointing at the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the newest schema revision."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


_ENGINE: Engine | None = None


def get_engine() -> Engine:
    """Return the process-wide engine, migrated to the newest schema."""
    global _ENGINE
    if _ENGINE is None:
        engine = make_engine()
        migrate(engine)
        _ENGINE = engine
    return _ENGINE


def set_engine(engine: Engine | None) -> None:
    """Replace the process-wide engine (tests, benchmarks)."""
    global _ENGINE
    _ENGINE = engine


@contextmanager
def session_scope(engine: Engine | None = None, *, write: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error.

    Parameters
    ----------
    engine : Engine, optional
        Default: the process-wide engine.
    write : bool
        The unit of work writes: on SQLite its transaction takes the write lock
        before its first read (see :func:`claim_write_lock`), so it waits for
        another writer instead of failing on its first write.
    """
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            if write:
                claim_write_lock(session)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_write_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a clash with a concurrent writer that a retry of the transaction may clear.

    SQLite: "database is locked" (``SQLITE_BUSY``, including a stale read
    snapshot, and ``SQLITE_LOCKED``). PostgreSQL: serialization failure,
    deadlock, lock not available.
    """
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED and their extended codes
    return getattr(orig, "sqlstate", None) in _PG_CONFLICTS


def claim_write_lock(session: Session) -> None:
    """Make the session's transaction the database's writer now, waiting for the current one (SQLite).

    SQLite lets one transaction write at a time, and one that has read cannot
    wait for its turn to write: if another transaction is writing, or has
    committed since the read began, its first write fails at once with
    "database is locked", whatever the busy timeout. A transaction that takes
    the lock before anything else waits up to the busy timeout instead.

    Pending changes are flushed first (holding the lock already if they wrote
    anything). A transaction that has only read and cannot take the lock is
    rolled back and begun again as the writer: it had nothing to lose, and the
    session's objects reload on their next access. On PostgreSQL (row locks,
    no database lock) this does nothing.

    Raises
    ------
    sqlalchemy.exc.OperationalError
        The lock was not free within the busy timeout (see :func:`is_write_conflict`).
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if not session.in_transaction():
        session.connection(execution_options={_IMMEDIATE: True})
        return
    session.flush()
    try:
        # Deletes nothing, but a write statement takes the write lock, or fails if it cannot.
        session.connection().exec_driver_sql("DELETE FROM data_version WHERE 0")
    except DBAPIError as exc:
        if not is_write_conflict(exc):
            raise
        session.rollback()
        session.connection(execution_options={_IMMEDIATE: True})


def run_in_transaction(
    work: Callable[[Session], T], engine: Engine | None = None, *, attempts: int = 5, pause: float = 0.05
) -> T:
    """Run ``work(session)`` as one unit of work, again from the start when it clashes with another writer.

    Each attempt gets a fresh session whose transaction is the writer from the
    start on SQLite (:func:`claim_write_lock`); an attempt that fails with a
    write conflict (:func:`is_write_conflict`) is rolled back whole and
    retried after a short random pause. ``work`` must therefore read what it
    needs inside, and have no effects outside the database.

    Returns
    -------
    Whatever ``work`` returns, once committed.

    Raises
    ------
    sqlalchemy.exc.DBAPIError
        The last attempt's conflict, when every attempt clashed (nothing was written).
    """
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(engine, write=True) as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == attempts or not is_write_conflict(exc):
                raise
        time.sleep(pause * attempt * (1 + random.random()))
    raise AssertionError("unreachable")
