"""A page opened at its own address (``/billing``) finds the server at once: no 404 on the way (app.ui.page_shell).

Streamlit's frontend guessed ``/billing`` to be the app's base, asked ``/billing/_stcore/health``, got a
404 and tried ``/`` next: about 0.12 s of every direct visit to a page but the Overview.
"""

from __future__ import annotations

import shutil

import pytest

from tests.e2e.conftest import no_failure, open_page, pinned_env, running_app

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(demo_database, tmp_path_factory):
    """app/server.py (as ``overseer start`` runs it) on a copy of the demo."""
    folder = tmp_path_factory.mktemp("shell")
    path = folder / "shell.db"
    shutil.copy(demo_database, path)
    with running_app(pinned_env(DATABASE_URL=f"sqlite:///{path}"), folder / "server.log", script="app/server.py") as base:
        yield base


@pytest.mark.parametrize(("path", "title"), [("billing", "Billing"), ("outcomes", "Outcomes"), ("job-map", "Job map")])
def test_a_page_opened_at_its_address_asks_the_right_base_first(chromium_browser, server, path, title):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        pg = context.new_page()
        failed, health = [], []
        pg.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        pg.on("request", lambda r: health.append(r.url) if r.url.endswith("/_stcore/health") else None)
        open_page(pg, server, path)
        assert pg.locator("h1").first.inner_text().strip() == title
        no_failure(pg)
        assert failed == []
        assert health and set(health) == {f"{server}/_stcore/health"}, health
        assert pg.evaluate("window.__streamlit.BACKEND_BASE_URL") == f"{server}/"
    finally:
        context.close()
