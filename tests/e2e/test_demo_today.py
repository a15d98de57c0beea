"""The demo, loaded today, opens on every page without an error and shows figures.

The one browser test on the real clock: every other one runs at a fixed moment
(``E2E_NOW``). It must pass on every day of the year, so it asserts only what
holds on any day: every page of every demo account opens, and the Overview's and
Billing page's figures are drawn. CI runs it once more under several awkward
dates by setting ``OVERSEER_NOW`` for the whole run (see ``.ci/run``).
"""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e.conftest import REPO, load_demo_into, no_failure, open_page, require_chromium, running_app

pytestmark = pytest.mark.e2e

PAGES = ["", "outcomes", "job-map", "billing", "value", "trial"]


@pytest.fixture(scope="module")
def today_app(tmp_path_factory):
    """The app on a fresh demo database, on the real clock (or the OVERSEER_NOW this run was given)."""
    require_chromium()
    workdir = tmp_path_factory.mktemp("e2e-today")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir}/today.db", "PYTHONPATH": str(REPO)}
    load_demo_into(env)
    with running_app(env, workdir / "server.log") as base:
        yield base


def _demo_accounts(pg, base: str) -> list[str]:
    open_page(pg, base)
    pg.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
    names = [o.inner_text().strip() for o in pg.get_by_role("option").all()]
    pg.keyboard.press("Escape")
    return names


def _figure(pg, key: str) -> str:
    return pg.locator(f".st-key-{key} [data-testid='stMetricValue']").first.inner_text().strip()


def test_the_demo_loaded_today_opens_and_shows_figures(browser, today_app):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    try:
        names = _demo_accounts(pg, today_app)
        assert len(names) == 4, names
        for name in names:
            account = name.replace(" ", "+")
            for path in PAGES:
                open_page(pg, today_app, f"{path}?account={account}")
                no_failure(pg)
                caption = pg.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first.inner_text()
                assert name in caption, (path, caption)
            open_page(pg, today_app, f"?account={account}")
            # The bill is a sum of money on any day, the first instant of a month included.
            assert re.fullmatch(r"-?[\d,]+\.\d\d [A-Z]{3}", _figure(pg, "kpi_bill")), _figure(pg, "kpi_bill")
            assert re.fullmatch(r"[\d,]+", _figure(pg, "kpi_billable")), _figure(pg, "kpi_billable")
    finally:
        context.close()
