"""The Overview of a one-million-outcome account in a real browser: how long until its figures show.

The target is 2 seconds (issue "Scale and speed"); the test prints the figure and
fails only far beyond it, so that a loaded CI machine cannot make it flaky.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, time as dtime, timedelta, timezone

import pytest

from app.bench import HISTORY_DAYS, _build
from tests.e2e.conftest import REPO, require_chromium, running_app, wait_idle

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
    today = datetime.now(timezone.utc).date()
    until = datetime.combine(today, dtime(12, 0), tzinfo=timezone.utc)
    rows, build_s = _build(url, "scale", OUTCOMES, today - timedelta(days=HISTORY_DAYS), until,
                           tmp_path / "scale.csv", insert=True)
    (tmp_path / "scale.csv").unlink()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO)}
    env.pop("OVERSEER_NOW", None)
    with running_app(env, tmp_path / "server.log") as base:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        began = time.perf_counter()
        page.goto(f"{base}/?account=Benchmark+scale")
        page.locator(".st-key-kpi_accuracy [data-testid='stMetricValue']").wait_for(timeout=120_000)
        page.locator(".st-key-kpi_bill [data-testid='stMetricValue']").wait_for(timeout=120_000)
        first = time.perf_counter() - began
        wait_idle(page)
        began = time.perf_counter()
        page.reload()
        page.locator(".st-key-kpi_bill [data-testid='stMetricValue']").wait_for(timeout=120_000)
        again = time.perf_counter() - began
        context.close()
    with capsys.disabled():  # the figure is the point of this test: show it even under -q
        print(f"\nOverview of {rows:,} outcomes (built in {build_s:.0f} s): figures shown after {first:.2f} s "
              f"on first open, {again:.2f} s on reload (target {TARGET_S:.0f} s)")
    assert first < FAIL_BEYOND_S and again < FAIL_BEYOND_S
