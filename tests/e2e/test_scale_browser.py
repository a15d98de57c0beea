"""The Overview of a one-million-outcome account in a real browser: how long until its figures show.

The test prints the figures and fails only on an error or a blank page, never on a time:
times on a shared machine are noisy, and the targets (issue "Pages on screen almost as fast
as a bare Streamlit page") are judged from ``overseer bench --browser``, which takes the
median of five beside a bare page. Timed from the browser's side by the benchmark's probe
(:func:`app.bench_browser.measure`): the first open on a server just started the way
``overseer start`` starts it (``app/server.py``, whose lifespan warms the process), a
reload, a new visitor on the running server (a browser with nothing cached, a new session),
and a bare one-``st.metric`` page for scale.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, time as dtime, timedelta, timezone

import pytest

from app.bench import HISTORY_DAYS, _build
from app.bench_browser import BARE_SCRIPT, measure
from tests.e2e.conftest import E2E_NOW, pinned_env, require_chromium, running_app, wait_idle

pytestmark = pytest.mark.e2e

OUTCOMES = int(os.environ.get("OVERSEER_SCALE_OUTCOMES", "1000000"))


def test_overview_of_a_million_outcomes_shows_its_figures(browser, tmp_path, capsys):
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
    overview = "?account=Benchmark+scale"
    with running_app(env, tmp_path / "server.log", script="app/server.py") as base:
        first = measure(browser, f"{base}/{overview}")  # raises on an exception or no figures
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{base}/{overview}")
        _figures_shown(page)
        wait_idle(page)
        began = time.perf_counter()
        page.reload()
        _figures_shown(page)
        again = time.perf_counter() - began
        context.close()
        visitor = measure(browser, f"{base}/{overview}")
    bare_script = tmp_path / "bare_metric.py"
    bare_script.write_text(BARE_SCRIPT)
    with running_app(env, tmp_path / "bare.log", script=bare_script) as bare_base:
        bare = measure(browser, bare_base)
    with capsys.disabled():  # the figures are the point of this test: show them even under -q
        print(f"\nOverview of {rows:,} outcomes (built in {build_s:.0f} s): figures shown after {first.headline:.2f} s "
              f"on the first open of a just-started server (charts complete {_s(first.charts)}), "
              f"{again:.2f} s on reload, {visitor.headline:.2f} s for a new visitor of the running server "
              f"(charts complete {_s(visitor.charts)}); a bare one-st.metric page: {bare.headline:.2f} s "
              f"({visitor.headline / bare.headline:.2f}×)")


def _s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f} s"


def _figures_shown(page) -> None:
    page.locator(".st-key-kpi_accuracy [data-testid='stMetricValue']").wait_for(timeout=120_000)
    page.locator(".st-key-kpi_bill [data-testid='stMetricValue']").wait_for(timeout=120_000)
