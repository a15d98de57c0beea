"""Pages under hostile ``OVERSEER_NOW`` values, page addresses, stored plans and databases.

Each may only end in a page that draws, or in one plain message saying what is wrong: never an
exception, never the generic "something went wrong".
"""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from app.core import db as core_db
from app.domain.plans import SEED_PLANS
from app.models import Job, Plan, Subscription
from app.store.accounts import create_account
from tests.factories import add_outcomes
from tests.hostile.extremes import NOWS
from tests.ui.conftest import make_app, no_errors

PAGES = ["overview.py", "outcomes.py", "job_map.py", "billing.py", "value.py", "trial.py", "pricing.py", "audit.py"]
NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


@pytest.fixture
def acme(engine):
    with Session(engine, expire_on_commit=False) as s:
        acc = create_account(s, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 10, 1))
        s.flush()
        job = s.exec(select(Job).where(Job.account_id == acc.id)).one()
        add_outcomes(s, acc, job, [NOW - timedelta(days=d, hours=1) for d in range(0, 50, 2)])
        s.commit()
    return acc


def _errors(at) -> list[str]:
    # As the reader sees them: app.ui.format.text escapes Markdown with entities and word joiners.
    return [html.unescape(e.value).replace("\u2060", "") for e in at.error]


@pytest.mark.parametrize("now", NOWS[:5] + ["9" * 5000])
def test_an_unusable_overseer_now_is_said_on_the_first_page(acme, monkeypatch, now):
    monkeypatch.setenv("OVERSEER_NOW", now)
    at = make_app()
    at.run()
    no_errors(at)
    assert any("OVERSEER_NOW" in e for e in _errors(at)), _errors(at)
    assert all(len(e) < 600 for e in _errors(at))


@pytest.mark.parametrize("now", ["1970-01-01T00:00:00Z", "2100-12-31T23:59:59Z"])
def test_every_page_draws_at_the_edges_of_the_years(acme, monkeypatch, now):
    monkeypatch.setenv("OVERSEER_NOW", now)
    at = make_app()
    at.run()
    no_errors(at)
    for page in PAGES:
        at.switch_page(f"ui/pages/{page}").run()
        no_errors(at)


ADDRESSES = [
    {"range": ["0001-01-01", "9999-12-31"]},
    {"range": ["9999-12-31"]},
    {"range": ["1969-12-31", "2101-01-01"]},
    {"range": ["not a date", "2026-13-45"]},
    {"range": ["2026-11-01", "2026-11-02", "2026-11-03"]},
    {"account": "x" * 100_000},
    {"account": "\x00"},
    {"account": "\u0085Acme"},
    {"view": "All outcomes", "q": "\x00" * 10 + "%_" * 500, "status": ["\x00", "²"], "verdict": "<script>"},
    {"view": "\u0085", "queue": "x" * 10_000, "handoff": "\u0085execute", "filter_job": "../../etc"},
    {"job": "\x00"},
]


@pytest.mark.parametrize("query", ADDRESSES, ids=[str(i) for i in range(len(ADDRESSES))])
def test_hostile_page_addresses_are_ignored_or_refused_plainly(acme, query):
    at = make_app(**query)
    at.run()
    no_errors(at)
    for page in ("outcomes.py", "job_map.py", "billing.py"):
        at.switch_page(f"ui/pages/{page}").run()
        no_errors(at)


def _store_plan_beyond_bounds(engine, **values) -> None:
    """Write a plan the bounds refuse straight into the database, as an older Overseer could."""
    with Session(engine) as s:
        sub = s.exec(select(Subscription)).one()
        plan = s.get(Plan, sub.plan_id)
        for key, value in values.items():
            setattr(plan, key, value)
        s.add(plan)
        s.commit()


# Values both databases store (NUMERIC(18, 6), integer), beyond today's bounds.
STORED = [
    {"base_fee": 999_999_999_999},
    {"free_outcomes": 2_000_000_000},
    {"name": "x" * 5000},
    {"tiers": [{"up_to": None, "unit_price": "1e40", "flat_fee": "0"}]},
]


@pytest.mark.parametrize("values", STORED, ids=[next(iter(v)) for v in STORED])
def test_an_account_on_a_plan_beyond_the_bounds_still_opens_and_an_admin_can_replace_it(acme, engine, values):
    if "name" in values and engine.dialect.name == "postgresql":
        values = {"free_outcomes": -5}  # PostgreSQL's VARCHAR(200) refuses the long name itself
    _store_plan_beyond_bounds(engine, **values)
    at = make_app()
    at.run()
    no_errors(at)
    for page in PAGES:
        at.switch_page(f"ui/pages/{page}").run()
        no_errors(at)
    at.switch_page("ui/pages/billing.py").run()
    assert any("this account's plan cannot be used" in e and "Billing page" in e for e in _errors(at)), _errors(at)
    at.selectbox(key="plan_start").set_value("hybrid").run()
    at.checkbox(key="plan_sure").check()
    at.button(key="plan_save").click().run()
    no_errors(at)
    assert not any("cannot be used" in e for e in _errors(at)), _errors(at)
    assert any("Hybrid" in v for v in [m.value for m in at.markdown] + [m.value for m in at.success]), "the new plan"


def test_an_unusable_database_is_said_on_the_first_page(acme, monkeypatch, tmp_path):
    (tmp_path / "not-a-database.db").write_text("hello\n" * 100)
    for url, words in ((f"sqlite:///{tmp_path}/not-a-database.db", "not a SQLite database"),
                       ("not a url", "not a database URL"),
                       ("postgresql://postgres@127.0.0.1:1/overseer", "cannot connect")):
        core_db.set_engine(None)
        monkeypatch.setenv("DATABASE_URL", url)
        at = make_app()
        at.run()
        no_errors(at)
        assert any(words in e for e in _errors(at)), (url, _errors(at))


def test_a_database_from_a_newer_overseer_is_said_on_the_first_page(acme, engine, monkeypatch):
    with engine.begin() as conn:
        known = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    try:
        core_db.set_engine(None)
        monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
        at = make_app()
        at.run()
        no_errors(at)
        assert any("newer version of Overseer" in e for e in _errors(at)), _errors(at)
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": known})


def test_a_database_lost_after_start_up_is_said_plainly(acme, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.ui import data

    def gone(*a, **k):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(data, "overview", gone)
    at = make_app()
    at.run()
    no_errors(at)
    assert any("cannot connect to the database" in e and "check that it is running" in e for e in _errors(at)), _errors(at)
