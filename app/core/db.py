"""Database engine, sessions and schema migrations.

One engine per process; the schema is brought to the newest Alembic revision
before first use, so stored customer data survives upgrades.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from app.core import data_version as _data_version  # noqa: F401  (its session hooks bump the version on writes)
from app.core.config import database_url
from app.domain.errors import OverseerError

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


class DatabaseUnusable(OverseerError):
    """The database cannot be used; the message says what is wrong and what to do, in one line."""


def _shown_url(url: str | URL) -> str:
    """The URL as a message names it: its password hidden, at most 120 characters."""
    if isinstance(url, URL) and url.get_backend_name() == "sqlite":
        text = f"{url.drivername}:///{url.database or ''}"  # rendered, a "file:" path's colon would be escaped
    elif isinstance(url, URL):
        text = url.render_as_string(hide_password=True)
    else:
        try:
            parsed = make_url(url)
        except Exception:  # noqa: BLE001 - not a URL: shown only when it cannot hold a password
            parsed = None
        if parsed is None:
            text = repr(url) if "@" not in url else url.split("://", 1)[0] + "://…"
        else:
            # As given when there is no password (SQLAlchemy would escape a "file:" path's colon).
            text = url if parsed.password is None else parsed.render_as_string(hide_password=True)
    return text if len(text) <= 120 else text[:120] + "…"


def _sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names, or None for an in-memory database.

    ``?uri=true`` makes the database part a ``file:`` URI, whose path ends at its
    own ``?``: read as a plain path it would name a folder ``file:`` that
    Overseer must never create.
    """
    database = url.database or ""
    if database in ("", ":memory:"):
        return None
    if url.query.get("uri") in ("true", "1", "True"):
        if database.startswith("file:"):
            path = unquote(urlsplit(database).path)
            return None if path in ("", ":memory:") or url.query.get("mode") == "memory" else Path(path)
        return Path(database)
    return Path(database)


def make_engine(url: str | URL | None = None) -> Engine:
    """Create an engine for ``url`` (default: :func:`app.core.config.database_url`).

    SQLite files get their parent folder created and WAL mode switched on; an
    in-memory SQLite database is shared across threads (Streamlit runs scripts
    on worker threads). A SQLite ``file:`` URI (``?uri=true``) is opened as it
    is: its folder is not created.

    Raises
    ------
    DatabaseUnusable
        ``url`` is not a database URL, names a driver that is not installed, or a
        SQLite file whose folder cannot be created.
    """
    url = url or database_url()
    shown = _shown_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseUnusable(
            f"DATABASE_URL {shown} is not a database URL: set it like postgresql://user@host/db or sqlite:///path/to/file.db"
        ) from None
    try:
        if parsed.get_backend_name() == "sqlite":
            kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
            path = _sqlite_file(parsed)
            if path is None:
                kwargs["poolclass"] = StaticPool
            elif parsed.query.get("uri") not in ("true", "1", "True"):
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise DatabaseUnusable(
                        f"the folder of the SQLite database {shown} cannot be created ({exc.strerror or exc}): "
                        "set DATABASE_URL to a file in a folder you may write"
                    ) from None
            engine = create_engine(parsed, **kwargs)
            event.listen(engine, "connect", _enable_sqlite_pragmas)
            event.listen(engine, "begin", _begin_sqlite)
            return engine
        # Day boundaries are UTC days: date(completed_at) must not follow the server's zone.
        return create_engine(parsed, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})
    except DatabaseUnusable:
        raise
    except (NoSuchModuleError, ImportError):
        raise DatabaseUnusable(
            f"DATABASE_URL {shown} needs the database driver {parsed.drivername!r}, which is not installed: "
            "use postgresql://… or sqlite:///…"
        ) from None
    except (ArgumentError, TypeError, ValueError) as exc:
        raise DatabaseUnusable(f"DATABASE_URL {shown} cannot be used ({_first_line(exc)}): check its options") from None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]


def database_problem(exc: BaseException, url: str | URL | None = None) -> str:
    """One line saying what is wrong with the database behind ``exc`` and what to do.

    Parameters
    ----------
    exc : BaseException
        What the driver, SQLAlchemy or Alembic raised.
    url : str or URL, optional
        The database's URL, named in the message (its password hidden).
    """
    where = f" {_shown_url(url)}" if url is not None else ""
    text = _first_line(exc)
    lower = text.lower()
    if "can't locate revision" in lower or "no such revision" in lower:
        return (
            f"the database{where} was migrated by a newer version of Overseer ({text}): "
            "run that version, or point DATABASE_URL at another database"
        )
    if "file is not a database" in lower or "malformed" in lower:
        return f"the database{where} is not a SQLite database, or is damaged: point DATABASE_URL at an Overseer database or a new file"
    if "readonly" in lower or "read-only" in lower:
        return f"the database{where} is read-only, and Overseer writes to it: use a database it may write"
    if "unable to open database file" in lower:
        return f"the SQLite database{where} cannot be opened: check that its folder exists and that you may write there"
    if "database is locked" in lower:
        return f"the database{where} stayed busy with another writer: try again"
    if isinstance(exc, (OperationalError, InterfaceError)) and "sqlite" not in type(getattr(exc, "orig", exc)).__module__:
        return f"cannot connect to the database{where}: {text}; check that it is running and that DATABASE_URL is right"
    return f"the database{where} cannot be used: {text}; check DATABASE_URL"


def alembic_config(engine: Engine):
    """Return an Alembic ``Config`` pointing at the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    # Alembic's options go through configparser's interpolation: a "%" (a password holding %40) must be doubled.
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the newest schema revision.

    Raises
    ------
    DatabaseUnusable
        The database is stamped with a revision this version does not know (a newer Overseer migrated it).
    """
    from alembic import command
    from alembic.util.exc import CommandError

    cfg = alembic_config(engine)
    # Alembic keeps the running migration's context in module globals: two threads migrating at once
    # (a server's first request beside its notification worker) break each other's.
    with _MIGRATING:
        try:
            with engine.begin() as connection:
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "head")
        except CommandError as exc:
            raise DatabaseUnusable(database_problem(exc, engine.url)) from None


_MIGRATING = threading.RLock()
_ENGINE: Engine | None = None
_ENGINE_LOCK = threading.Lock()


def get_engine() -> Engine:
    """Return the process-wide engine, migrated to the newest schema.

    Raises
    ------
    DatabaseUnusable
        The database cannot be opened, reached or migrated; the message says why and what to do.
    """
    global _ENGINE
    if _ENGINE is None:
        # One engine a process, made and migrated once even when threads ask at the same moment.
        with _ENGINE_LOCK:
            if _ENGINE is None:
                engine = make_engine()
                try:
                    migrate(engine)
                except DBAPIError as exc:
                    engine.dispose()
                    raise DatabaseUnusable(database_problem(exc, engine.url)) from None
                except BaseException:
                    engine.dispose()
                    raise
                _ENGINE = engine
    return _ENGINE


def set_engine(engine: Engine | None) -> None:
    """Replace the process-wide engine (tests, benchmarks)."""
    global _ENGINE
    with _ENGINE_LOCK:  # not in the middle of get_engine making one, which would then overwrite it
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
