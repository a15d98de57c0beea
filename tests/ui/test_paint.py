"""Figures first: a browser session's first run draws the page's headline and leaves the charts' and the rest's
places; the next run draws the whole page.

In a browser the second run is asked for by the browser's timer (:mod:`app.ui.paint`), once the
figures are on screen; here it is the next ``at.run()``, with a browser faked (AppTest has none, and
a session without one gets whole pages). The figures are the same in both runs.
"""

from __future__ import annotations

import ast
import json
from datetime import date

import pytest

from app.ui import paint, warm
from app.ui.warm import ENTRY, PAGES
from tests.ui.conftest import make_app, no_errors

REST = "Loading the rest of the page"


def _charts(at) -> list:
    """Every chart the run drew: plotly's, and the Overview's Altair charts (Vega-Lite)."""
    return [*at.get("plotly_chart"), *at.get("vega_lite_chart")]


def _as_a_new_session(at) -> None:
    """The next ``at.run()`` as a new session's first run of the page open now (AppTest opens the default
    page first): its "has run" and the first page's pending ask for the next run (AppTest never ticks)
    are taken back."""
    at.session_state[paint._RAN] = False
    at.session_state[paint._ASKED] = False


@pytest.fixture
def browser(monkeypatch):
    """A browser behind the session, as far as app.ui.paint can tell (AppTest runs the script in this process)."""
    monkeypatch.setattr(paint, "_browser", lambda: True)


def _metrics(at) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.main.metric]


def test_the_first_run_draws_the_figures_and_keeps_the_charts_places(demo_engine, browser):
    at = make_app()
    at.run()
    no_errors(at)
    assert not _charts(at)
    assert sum("Drawing the chart" in c.value for c in at.caption) == 2  # the daily chart and the rates
    first = _metrics(at)
    assert first and all(value for _, value in first)

    at.run()  # the run the browser asks for
    no_errors(at)
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2 and all(c.proto.datasets for c in charts)
    assert [json.loads(c.proto.spec)["title"]["text"] for c in charts] == [
        "Outcomes per day, by status", "Completion rate and accuracy per week"]
    assert not any("Drawing the chart" in c.value for c in at.caption)
    assert _metrics(at) == first


def test_after_the_first_run_every_page_draws_its_charts_in_line(demo_engine):
    at = make_app()
    at.run()
    at.switch_page("ui/pages/billing.py").run()
    no_errors(at)
    assert _charts(at)
    assert not any("Drawing the chart" in c.value for c in at.caption)
    assert at.session_state[paint._RAN]


def test_the_benchmark_waits_for_the_places_this_module_leaves():
    from app import bench_browser

    assert bench_browser.PLACE_SUFFIX == paint.PLACE_SUFFIX


def test_the_warm_up_imports_what_the_pages_import():
    names = warm.page_imports()
    assert {"plotly.graph_objects", "app.ui.data", "app.ui.charts", "app.ui.paint"} <= set(names)


def test_the_warm_up_builds_a_chart_of_each_kind_and_reads_the_database(engine, caplog):
    # lifespan() logs a failed warm-up and carries on, so nothing else would notice one that broke.
    assert "app.ui.overview_charts" in warm.page_imports()
    with caplog.at_level("INFO", logger="overseer.ui"):
        took = warm.warm()
    assert took > 0 and any("warmed the process" in r.getMessage() for r in caplog.records)


def test_the_server_warms_the_process_before_its_first_visitor():
    from app import background

    assert background.STARTERS[0] is warm.lifespan


def test_the_first_run_loads_the_tiles_code_first_and_only_then(demo_engine, browser):
    at = make_app()
    at.run()
    assert [m.label for m in at.sidebar.metric] == ["Loading"]  # hidden by its style, first of the run
    at.run()
    assert not at.sidebar.metric


def test_the_overviews_first_run_loads_its_page_links_code_with_the_tiles(demo_engine, browser):
    at = make_app()
    at.run()
    assert [link.proto.label for link in at.main.get("page_link")] == ["Open the Job map"]  # the weakest step's
    assert [link.proto.label for link in at.sidebar.get("page_link")] == ["Overview"]  # hidden, beside the tile
    at.run()
    assert not at.sidebar.get("page_link")
    at.switch_page("ui/pages/billing.py").run()
    _as_a_new_session(at)
    at.run()
    assert [m.label for m in at.sidebar.metric] == ["Loading"] and not at.sidebar.get("page_link")


def _url_paths() -> dict[str, str]:
    """Page file name → its URL path, as the entry script's navigation lists them."""
    by_file = {}
    for node in ast.walk(ast.parse(ENTRY.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_page":
            file, _title, _icon, url = (a.value for a in node.args[:4])
            by_file[file] = url
    return by_file


def test_the_link_first_pages_are_those_whose_headline_holds_a_page_link():
    # paint.LINK_FIRST names by URL the pages with an st.page_link before paint.rest(): a link added to
    # another page's headline would hold its tiles back until the link's code arrived.
    by_file = _url_paths()
    linking = set()
    for p in PAGES.glob("*.py"):
        text = p.read_text(encoding="utf-8")
        if "paint.rest(" in text and "page_link(" in text.split("paint.rest(")[0]:
            linking.add(by_file[p.name])
    assert linking == set(paint.LINK_FIRST)


# Each page's headline tile, and something only the rest of the page has.
def _subheader(text):
    return lambda at: text in [h.value for h in at.subheader]


HEADLINES = {
    "billing.py": ("Bill so far", _subheader("Invoice history")),
    "job_map.py": ("Configured coverage", lambda at: "Edit this job map" in [e.label for e in at.expander]),
    "outcomes.py": ("Accuracy", lambda at: bool(at.get("button_group"))),  # the Review queue / All outcomes switch
    "portfolio.py": ("Accounts", _subheader("Trials and conversion")),
}


@pytest.mark.parametrize("page", sorted(HEADLINES))
def test_a_first_run_stops_after_the_headline_and_the_next_draws_the_rest(demo_engine, browser, page):
    tile, has_rest = HEADLINES[page]
    at = make_app()
    at.run()
    at.switch_page(f"ui/pages/{page}").run()
    assert has_rest(at)
    _as_a_new_session(at)
    at.run()
    no_errors(at)
    first = [(m.label, m.value) for m in at.main.metric]
    assert tile in [label for label, _ in first] and all(value for _, value in first)
    assert sum(REST in c.value for c in at.caption) == 1
    assert not at.get("arrow_data_frame") and not _charts(at) and not has_rest(at)

    at.run()  # the run the browser asks for
    no_errors(at)
    assert not any(REST in c.value for c in at.caption)
    assert [(m.label, m.value) for m in at.main.metric][: len(first)] == first
    assert has_rest(at)


def test_without_a_browser_the_first_run_draws_the_whole_page(demo_engine):
    # Nothing would ask for a second run: AppTest, like any session with no browser, gets whole pages.
    at = make_app()
    at.run()
    no_errors(at)
    assert len(_charts(at)) == 2
    assert not any("Drawing the chart" in c.value or REST in c.value for c in at.caption)


def test_a_first_run_shows_the_pickers_values_as_text_and_the_next_draws_the_pickers(demo_engine, browser):
    at = make_app(account="Globex Helpdesk")
    at.run()
    no_errors(at)
    assert not at.sidebar.selectbox and not at.sidebar.date_input
    said = [m.value for m in at.sidebar.markdown]
    assert "**Globex Helpdesk**" in said and "**2026-11-01 – 2026-11-24**" in said
    first = [(m.label, m.value) for m in at.main.metric]

    at.run()  # the run the browser asks for
    no_errors(at)
    assert at.sidebar.selectbox(key="account").value == "converted-freemium"  # Globex Helpdesk's slug
    assert tuple(at.sidebar.date_input(key="range").value) == (date(2026, 11, 1), date(2026, 11, 24))
    assert [(m.label, m.value) for m in at.main.metric][: len(first)] == first


def test_a_range_in_the_address_is_read_by_its_picker_even_in_a_first_run(demo_engine, browser):
    at = make_app(account="Globex Helpdesk", range=["2026-11-10", "2026-11-12"])
    at.run()
    no_errors(at)
    assert tuple(at.sidebar.date_input(key="range").value) == (date(2026, 11, 10), date(2026, 11, 12))
    assert "10–12 Nov 2026" in at.caption[0].value


def test_the_job_maps_first_run_names_the_first_job_as_its_picker_would(demo_engine, browser):
    at = make_app()
    at.run()
    at.switch_page("ui/pages/job_map.py").run()
    picked = at.selectbox(key="job")
    assert picked.index == 0  # a new session without ?job= gets the first job
    _as_a_new_session(at)
    at.run()
    no_errors(at)
    assert not [s for s in at.main.selectbox if s.key == "job"]
    assert f"**{picked.options[0]}**" in [m.value for m in at.main.markdown]


def test_a_first_run_that_stops_still_gets_its_next_run(engine, browser):
    # No account yet: the Overview says so and stops (paint.stop); the fragment that asks for the
    # next run was armed before the page ran, so the pickers, shown as text, still come.
    at = make_app()
    at.run()
    no_errors(at)
    assert not at.sidebar.date_input
    assert "**2026-11-01 – 2026-11-24**" in [m.value for m in at.sidebar.markdown]

    at.run()  # the run the browser asks for
    no_errors(at)
    assert tuple(at.sidebar.date_input(key="range").value) == (date(2026, 11, 1), date(2026, 11, 24))


def test_only_the_figures_first_pages_show_the_pickers_as_text(demo_engine, browser):
    at = make_app()
    at.run()
    at.switch_page("ui/pages/import_data.py").run()
    _as_a_new_session(at)
    at.run()
    no_errors(at)
    assert at.sidebar.date_input(key="range")  # the Import page stops when no file is chosen


def test_the_figures_first_pages_are_those_that_end_their_headline():
    # paint.FIGURES_FIRST (read by the entry script before the page runs) names by URL the pages that call
    # paint.rest(); a page added to one and not the other would keep text pickers or stop its first run.
    by_file = _url_paths()
    calling_rest = {by_file[p.name] for p in PAGES.glob("*.py") if "paint.rest(" in p.read_text(encoding="utf-8")}
    assert calling_rest == set(paint.FIGURES_FIRST)


@pytest.mark.parametrize("page", ["demo.py", "import_data.py", "overview.py"])
def test_a_first_run_that_stops_is_the_sessions_only_first_run(engine, browser, page):
    # On an empty database each of these pages stops. The session's "has run" used to be written at the
    # end of a run, and a run ended by st.stop() refused it (Streamlit raises StopException at every
    # later write of session state): every run of the Demo page was a first run, arming the fragment
    # again, and the browser reran the page twice a second for ever (a click on "Start the demo" was
    # lost among those reruns in CI).
    at = make_app()
    at.run()
    at.switch_page(f"ui/pages/{page}").run()
    _as_a_new_session(at)
    at.run()
    no_errors(at)
    assert [m.label for m in at.sidebar.metric] == ["Loading"]  # a first run: it arms the next run

    at.run()  # the run the browser asks for
    no_errors(at)
    assert not at.sidebar.metric  # not a first run: nothing asks for another
    at.run()
    assert not at.sidebar.metric

