"""The API in the real server, watched by a real browser.

One server (``app/server.py``: dashboard and API on one port) on a copy of the demo database: a key
made with the command line, 100 outcomes POSTed with httpx, and the Overview open in Chromium shows
the new count without a reload (its Live mark polls the data version). Also screenshots of the API
keys page at desktop and phone widths (written to the test's folder; the test prints where).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from tests.e2e.conftest import REPO, no_failure, open_page, pinned_env, running_app, wait_idle

pytestmark = pytest.mark.e2e

BILLABLE = ".st-key-kpi_billable [data-testid='stMetricValue']"


@pytest.fixture
def api_server(demo_database, tmp_path):
    """A server of app/server.py on a copy of the demo (this test writes), with the copy's path."""
    path = tmp_path / "api.db"
    shutil.copy(demo_database, path)
    env = pinned_env(DATABASE_URL=f"sqlite:///{path}")
    with running_app(env, tmp_path / "server.log", script="app/server.py") as base:
        yield base, env, path


def _account(path) -> tuple[str, str, str]:
    """Slug, name and first job of the demo's first account."""
    with sqlite3.connect(path) as db:
        slug, name, account_id = db.execute("SELECT slug, name, id FROM account ORDER BY id LIMIT 1").fetchone()
        job = db.execute("SELECT slug FROM job WHERE account_id = ? ORDER BY id LIMIT 1", (account_id,)).fetchone()[0]
    return slug, name, job


def _create_key(env, slug: str) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "app", "key", "create", "--account", slug, "--scope", "write", "--name", "e2e", "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)["key"]


def _count(pg) -> int:
    return int(pg.locator(BILLABLE).first.inner_text().strip().replace(",", ""))


def test_outcomes_posted_through_the_api_show_on_the_open_overview(api_server, chromium_browser):
    base, env, path = api_server
    slug, name, job = _account(path)
    key = _create_key(env, slug)
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    try:
        open_page(pg, base, f"?account={name.replace(' ', '+')}")
        no_failure(pg)
        assert "Live" in pg.locator(".st-key-live_mark").first.inner_text()
        before = _count(pg)
        # A mark that a reload would wipe out.
        pg.evaluate("window.__overseer_no_reload = 1")
        items = [
            {"outcome_id": f"API-{n}", "job": job, "started_at": "2026-11-24T09:00:00Z",
             "completed_at": "2026-11-24T10:00:00Z", "status": "completed", "verdict": "", "handoff_step": ""}
            for n in range(100)
        ]
        response = httpx.post(f"{base}/api/v1/outcomes", json={"outcomes": items},
                              headers={"Authorization": f"Bearer {key}"}, timeout=60)
        assert response.status_code == 200, response.text
        assert response.json()["inserted"] == 100
        assert response.headers["x-request-id"]
        deadline = time.monotonic() + 30  # the page polls every 5 s; SPEC-level promise is 10 s
        while _count(pg) != before + 100:
            assert time.monotonic() < deadline, f"the Overview still shows {_count(pg)}, expected {before + 100}"
            pg.wait_for_timeout(500)
        assert pg.evaluate("window.__overseer_no_reload") == 1
        no_failure(pg)
        # Through the real server (uvicorn decodes a path once): an id with "%" and "/" reads back.
        odd = dict(items[0], outcome_id="50%card/x ü")
        headers = {"Authorization": f"Bearer {key}"}
        assert httpx.post(f"{base}/api/v1/outcomes", json={"outcomes": [odd]}, headers=headers).json()["inserted"] == 1
        got = httpx.get(f"{base}/api/v1/outcomes/{job}/50%25card%2Fx%20%C3%BC", headers=headers)
        assert got.status_code == 200 and got.json()["outcome_id"] == "50%card/x ü", got.text
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_api_keys_page_screenshots(api_server, chromium_browser, tmp_path, width, height):
    base, env, path = api_server
    slug, name, _ = _account(path)
    _create_key(env, slug)
    context = chromium_browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    try:
        open_page(pg, base, f"api-keys?account={name.replace(' ', '+')}")
        no_failure(pg)
        # A phone opens on the page (the sidebar starts collapsed on narrow screens, tests/e2e/test_phone.py).
        assert pg.locator("h1").first.inner_text().strip() == "API keys"
        pg.get_by_label("Name").fill("support bot")
        pg.get_by_role("button", name="Create key").click()
        pg.get_by_text("it is shown only this once", exact=False).first.wait_for()
        wait_idle(pg, 800)
        assert pg.locator("[data-testid='stCode']").first.inner_text().strip().startswith("ovs_")
        shot = tmp_path / f"api-keys-{width}x{height}.png"
        pg.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        no_failure(pg)
    finally:
        context.close()
