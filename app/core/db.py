"""Database engine, sessions and schema migrations.

One engine per process; the schema is brought to the newest Alembic revision
before first use, so stored customer data survives upgrades.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from app.core import data_version as _data_version  # noqa: F401  (its session hooks bump the version on writes)
from app.core.config import database_url

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


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
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
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
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
