"""Figures first: a session's first run draws every figure and leaves each chart's place; the next draws the charts.

In a browser the second run is asked for by the browser's timer (:mod:`app.ui.paint`), once the
figures are on screen; here it is the next ``at.run()``. The figures are the same in both runs.
"""

from __future__ import annotations

import json

from app.ui import paint, warm
from tests.ui.conftest import make_app, no_errors


def _metrics(at) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.main.metric]


def test_the_first_run_draws_the_figures_and_keeps_the_charts_places(demo_engine):
    at = make_app()
    at.run()
    no_errors(at)
    assert not at.get("plotly_chart")
    assert sum("Drawing the chart" in c.value for c in at.caption) == 2  # the daily chart and the rates
    first = _metrics(at)
    assert first and all(value for _, value in first)

    at.run()  # the run the browser asks for
    no_errors(at)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 2 and all(c["data"] for c in charts)
    assert not any("Drawing the chart" in c.value for c in at.caption)
    assert _metrics(at) == first


def test_after_the_first_run_every_page_draws_its_charts_in_line(demo_engine):
    at = make_app()
    at.run()
    at.switch_page("ui/pages/billing.py").run()
    no_errors(at)
    assert at.get("plotly_chart")
    assert not any("Drawing the chart" in c.value for c in at.caption)
    assert at.session_state[paint._RAN]


def test_the_benchmark_waits_for_the_places_this_module_leaves():
    from app import bench_browser

    assert bench_browser.PLACE_SUFFIX == paint.PLACE_SUFFIX


def test_the_warm_up_imports_what_the_pages_import():
    names = warm.page_imports()
    assert {"plotly.graph_objects", "app.ui.data", "app.ui.charts", "app.ui.paint"} <= set(names)


def test_the_server_warms_the_process_before_its_first_visitor():
    from app import background

    assert background.STARTERS[0] is warm.lifespan


def test_the_first_run_loads_the_tiles_code_first_and_only_then(demo_engine):
    at = make_app()
    at.run()
    assert [m.label for m in at.sidebar.metric] == ["Loading"]  # hidden by its style, first of the run
    at.run()
    assert not at.sidebar.metric
