"""AppTest fixtures: the app runs against the test database of ``tests/conftest.py``'s ``engine``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app" / "streamlit_app.py")
NOW = "2026-11-24T12:00:00+00:00"
TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def _local_user():
    """Data-layer calls made by a test itself (not by a page) run as the local user, as the app does
    without sign-in; the pages get their principal from the sign-in gate."""
    from app.domain.access import Principal
    from app.ui import data

    with data.acting_as(Principal.local_user()):
        yield


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch):
    """A fixed "now" so the demo history and every figure are the same on each run."""
    monkeypatch.setenv("OVERSEER_NOW", NOW)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, sqlite_template):
    """A SQLite file with the demo loaded once per session (loading it takes a few seconds)."""
    import shutil

    from app.core.db import make_engine
    from app.store.demo import load_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine, expire_on_commit=False) as s:
        load_demo(s, today=TODAY)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def demo_engine(engine, tmp_path, demo_template):
    """An engine holding the demo data (SQLite: a copy of the session's demo file; PostgreSQL: loaded afresh)."""
    import shutil

    from app.core import db as core_db
    from app.core.db import make_engine

    if engine.dialect.name == "sqlite":
        engine.dispose()
        path = tmp_path / "demo-copy.db"
        shutil.copy(demo_template, path)
        engine = make_engine(f"sqlite:///{path}")
        core_db.set_engine(engine)
    else:
        from app.store.demo import load_demo

        with Session(engine, expire_on_commit=False) as s:
            load_demo(s, today=TODAY)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_slugs():
    from app.store.demo import SCENARIOS

    return [s.slug for s in SCENARIOS]


def make_app(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    return at


GENERIC_ERROR = "Something went wrong"


def no_errors(at: AppTest) -> None:
    """No exception reached the page: no exception element, no "something went wrong" box.

    Error boxes that are alerts (SPEC's critical alerts use ``st.error``) are allowed.
    """
    assert not at.exception, [e.value for e in at.exception]
    assert not [e.value for e in at.error if GENERIC_ERROR in e.value], [e.value for e in at.error]
