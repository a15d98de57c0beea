"""Shared fixtures.

``engine`` (and ``session``) run every database test on SQLite, and again on
PostgreSQL when ``TEST_DATABASE_URL`` is set. Each test starts from an empty,
fully migrated database.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from app.core import db as core_db
from app.core.db import make_engine, migrate

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _pg_url(base: str, dbname: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base)
    return url.set(database=dbname).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database_url():
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"overseer_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(base.replace("postgresql://", "postgresql+psycopg://", 1) if base.startswith("postgresql://") else base)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(base, name)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fresh_engine(backend: str, request, tmp_path):
    """An empty, migrated engine for ``backend``."""
    if backend == "sqlite":
        path = tmp_path / "overseer.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return make_engine(f"sqlite:///{path}")
    url = request.getfixturevalue("pg_database_url")
    engine = make_engine(url)
    # data_version holds one row the migration made: the version may move on, the row must stay.
    tables = ", ".join(t.name for t in SQLModel.metadata.sorted_tables if t.name != "data_version")
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    engine = fresh_engine(request.param, request, tmp_path)
    core_db.set_engine(engine)
    yield engine
    core_db.set_engine(None)
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s
