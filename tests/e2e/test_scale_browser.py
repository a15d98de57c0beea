"""The Overview of a one-million-outcome account in a real browser: how long until its figures show.

The target is 2 seconds (issue "Scale and speed"); the test prints the figures and
fails only far beyond it, so that a loaded CI machine cannot make it flaky. Three
figures: the first open on a server just started (its first page run also imports
pandas, plotly and the data layer), a reload, and a new visitor on the running
server (a browser with nothing cached, a new session).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, time as dtime, timedelta, timezone

import pytest

from app.bench import HISTORY_DAYS, _build
from tests.e2e.conftest import E2E_NOW, pinned_env, require_chromium, running_app, wait_idle

pytestmark = pytest.mark.e2e

OUTCOMES = int(os.environ.get("OVERSEER_SCALE_OUTCOMES", "1000000"))
TARGET_S = 2.0
FAIL_BEYOND_S = 20.0


def test_overview_of_a_million_outcomes_shows_quickly(browser, tmp_path, capsys):
    require_chromium()
    url = f"sqlite:///{tmp_path}/scale.db"
    from app.core.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    today = datetime.fromisoformat(E2E_NOW).date()
    until = datetime.combine(today, dtime(12, 0), tzinfo=timezone.utc)
    rows, build_s = _build(url, "scale", OUTCOMES, today - timedelta(days=HISTORY_DAYS), until,
                           tmp_path / "scale.csv", insert=True)
    (tmp_path / "scale.csv").unlink()
    env = pinned_env(DATABASE_URL=url)
    with running_app(env, tmp_path / "server.log") as base:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        first = _open(page, f"{base}/?account=Benchmark+scale")
        wait_idle(page)
        began = time.perf_counter()
        page.reload()
        _figures_shown(page)
        again = time.perf_counter() - began
        context.close()
        visitor = browser.new_context(viewport={"width": 1280, "height": 800})
        new_visitor = _open(visitor.new_page(), f"{base}/?account=Benchmark+scale")
        visitor.close()
    with capsys.disabled():  # the figures are the point of this test: show them even under -q
        print(f"\nOverview of {rows:,} outcomes (built in {build_s:.0f} s): figures shown after {first:.2f} s "
              f"on the first open of a just-started server, {again:.2f} s on reload, {new_visitor:.2f} s for a "
              f"new visitor of the running server (target {TARGET_S:.0f} s)")
    assert first < FAIL_BEYOND_S and again < FAIL_BEYOND_S and new_visitor < FAIL_BEYOND_S


def _figures_shown(page) -> None:
    page.locator(".st-key-kpi_accuracy [data-testid='stMetricValue']").wait_for(timeout=120_000)
    page.locator(".st-key-kpi_bill [data-testid='stMetricValue']").wait_for(timeout=120_000)


def _open(page, url: str) -> float:
    """Seconds from asking for ``url`` to the Overview's figures on screen."""
    began = time.perf_counter()
    page.goto(url)
    _figures_shown(page)
    return time.perf_counter() - began
