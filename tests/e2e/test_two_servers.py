"""Two app servers on one PostgreSQL: a review saved through one shows in the other.

This is how Overseer runs for many users (README, "Running for many users"):
several Streamlit processes behind a load balancer, all state in the database,
each process's caches invalidated by the database's data version.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest
from sqlalchemy import text

from app.core.db import make_engine
from tests.e2e.conftest import load_demo_into, open_page, pinned_env, require_chromium, running_app, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shared_postgres():
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set: two servers need one PostgreSQL")
    admin = make_engine(base)
    name = f"overseer_two_{uuid.uuid4().hex[:8]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _accuracy(pg) -> str:
    return pg.locator(".st-key-kpi_accuracy [data-testid='stMetricValue']").inner_text().strip()


def test_a_review_in_one_server_is_seen_in_the_other(shared_postgres, browser, tmp_path):
    require_chromium()
    env = pinned_env(DATABASE_URL=shared_postgres)
    load_demo_into(env)
    with running_app(env, tmp_path / "a.log") as server_a, running_app(env, tmp_path / "b.log") as server_b:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page_a, page_b = context.new_page(), context.new_page()
        for pg in (page_a, page_b):
            pg.set_default_timeout(30_000)
        path = "outcomes?account=Globex+Helpdesk"
        open_page(page_b, server_b, path)  # B's caches now hold the figures before the review
        open_page(page_a, server_a, path)
        before = _accuracy(page_a)
        assert _accuracy(page_b) == before

        page_a.locator("[data-testid='stSelectbox']").filter(has=page_a.get_by_text("Show", exact=True)).click()
        page_a.get_by_role("option", name="Completed (sample)").click()
        wait_idle(page_a)
        page_a.get_by_role("button", name=re.compile("Mark incorrect")).click()
        wait_idle(page_a, 800)
        after = _accuracy(page_a)
        assert after != before

        open_page(page_b, server_b, path)
        assert _accuracy(page_b) == after
        context.close()
