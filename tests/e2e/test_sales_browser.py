"""The sales demo in a real headless Chromium: start it from an empty database, reach every scenario, share and reset.

The shared ``app_server`` fixture loads the demo before starting; the demo must
start from nothing here, so this module runs its own app on an empty database.
"""

from __future__ import annotations


import pytest

from tests.e2e.conftest import no_failure, pinned_env, require_chromium, running_app, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def empty_app(tmp_path_factory):
    """Base URL of the app on a fresh, empty SQLite database (no demo loaded)."""
    require_chromium()
    workdir = tmp_path_factory.mktemp("e2e-sales")
    env = pinned_env(DATABASE_URL=f"sqlite:///{workdir}/empty.db")
    with running_app(env, workdir / "server.log") as base:
        yield base


@pytest.fixture
def tab(browser, empty_app):
    # The shared session-wide Chromium (tests/e2e/conftest.py): one sync Playwright per process.
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def _open(pg, url: str) -> None:
    pg.goto(url)
    pg.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    wait_idle(pg, 800)


def _title(pg) -> str:
    return pg.locator("[data-testid='stMain'] h1").first.inner_text().strip()


def _sidebar_account(pg) -> str:
    """The account the sidebar's picker shows (its input carries the selected label as its value)."""
    return pg.locator("[data-testid='stSidebar'] [data-testid='stSelectbox'] input").first.input_value()


def test_start_the_demo_from_an_empty_database_and_reach_each_scenario(tab, empty_app):
    from app.store.demo import SCENARIOS

    _open(tab, f"{empty_app}/demo")
    assert _title(tab) == "Demo"
    main = tab.locator("[data-testid='stMain']")
    assert main.get_by_text("Start the demo", exact=True).count() >= 1
    tab.get_by_role("button", name="Start the demo").click()
    tab.get_by_text("The demo is ready: pick a scenario.").first.wait_for(timeout=120_000)
    wait_idle(tab, 800)
    no_failure(tab)
    for scenario in SCENARIOS:
        assert main.get_by_text(scenario.name, exact=True).count() >= 1, scenario.name

    for scenario in SCENARIOS:
        _open(tab, f"{empty_app}/demo")
        card = tab.locator(f".st-key-demo_card_{scenario.slug}")
        card.get_by_role("button", name="Open the overview").click()
        # (the URL drops ?account= for the picker's default account, so wait for the page, not the URL)
        tab.wait_for_function("() => document.querySelector(\"[data-testid='stMain'] h1\")?.innerText.trim() === 'Overview'")
        wait_idle(tab, 800)
        no_failure(tab)
        assert scenario.name in _sidebar_account(tab)
        assert scenario.name in tab.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first.inner_text()


def test_each_scenarios_shared_link_opens_its_account(tab, empty_app):
    from app.store.demo import SCENARIOS

    _open(tab, f"{empty_app}/demo")
    if tab.get_by_role("button", name="Start the demo").count():
        tab.get_by_role("button", name="Start the demo").click()
        tab.get_by_text("The demo is ready: pick a scenario.").first.wait_for(timeout=120_000)
        wait_idle(tab, 800)
    codes = tab.locator("[data-testid='stMain'] [data-testid='stCode'] code")
    codes.nth(len(SCENARIOS) - 1).wait_for(timeout=60_000)  # the cards may still be arriving on a busy machine
    links = [c.inner_text().strip() for c in codes.all()]
    assert len(links) == len(SCENARIOS)
    for scenario, link in zip(SCENARIOS, links, strict=True):
        assert link.startswith(f"{empty_app}/?account=")
        _open(tab, link)  # a fresh page load, as the prospect opening the link would
        no_failure(tab)
        assert _title(tab) == "Overview"
        assert scenario.name in _sidebar_account(tab)


def test_sales_pages_and_reset_in_the_browser(tab, empty_app):
    _open(tab, f"{empty_app}/demo")
    if tab.get_by_role("button", name="Start the demo").count():
        tab.get_by_role("button", name="Start the demo").click()
        tab.get_by_text("The demo is ready: pick a scenario.").first.wait_for(timeout=120_000)
        wait_idle(tab, 800)
    for path, title in (("pricing", "Pricing simulator"), ("value", "Value delivered"), ("trial", "Trial")):
        _open(tab, f"{empty_app}/{path}?account=Initech+Analytics")
        no_failure(tab)
        assert _title(tab) == title
    _open(tab, f"{empty_app}/demo")
    tab.get_by_role("button", name="Reset the demo").click()
    tab.get_by_text("The demo is restored").first.wait_for(timeout=120_000)
    no_failure(tab)


def test_the_one_page_summary_downloads_as_self_contained_html(tab, empty_app, tmp_path):
    _open(tab, f"{empty_app}/demo")
    if tab.get_by_role("button", name="Start the demo").count():
        tab.get_by_role("button", name="Start the demo").click()
        tab.get_by_text("The demo is ready: pick a scenario.").first.wait_for(timeout=120_000)
        wait_idle(tab, 800)
    _open(tab, f"{empty_app}/value?account=Globex+Helpdesk")
    with tab.expect_download(timeout=120_000) as info:
        tab.get_by_role("button", name="Download the one-page summary (HTML)").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name.startswith("converted-freemium-summary-") and path.suffix == ".html"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<h1>Globex Helpdesk</h1>" in text
    # Static SVG charts, no script: the file stays under 1 MB (with plotly.js it weighed 4.8 MB).
    assert "<script" not in text and text.count("<svg") >= 2
    assert len(text.encode()) < 1_000_000


def _wait_title(pg, title: str) -> None:
    pg.wait_for_function(
        "t => document.querySelector(\"[data-testid='stMain'] h1\")?.innerText.trim() === t", arg=title, timeout=60_000
    )
    wait_idle(pg, 800)


def test_the_tour_flows_with_next_and_back_and_ends_with_the_summary(tab, empty_app, tmp_path):
    from app.store.demo import SCENARIOS
    from app.ui import tour

    names = {s.slug: s.name for s in SCENARIOS}
    _open(tab, f"{empty_app}/demo")
    if tab.get_by_role("button", name="Start the demo").count():
        tab.get_by_role("button", name="Start the demo").click()
        tab.get_by_text("The demo is ready: pick a scenario.").first.wait_for(timeout=120_000)
        wait_idle(tab, 800)
    main = tab.locator("[data-testid='stMain']")
    main.get_by_role("button", name=f"1. Overview · {names['trial-midway']}").click()
    titles = {"overview": "Overview", "job-map": "Job map", "value": "Value delivered", "pricing": "Pricing simulator", "trial": "Trial"}
    for i, step in enumerate(tour.STEPS):
        _wait_title(tab, titles[step.url_path])
        no_failure(tab)
        bar = tab.locator(".st-key-tour_bar")
        assert f"step {i + 1} of {len(tour.STEPS)}" in bar.inner_text()
        assert names[step.slug] in _sidebar_account(tab)
        assert bar.get_by_role("button", name="Back to the tour").count() == 1
        if i + 1 < len(tour.STEPS):
            bar.get_by_role("button", name=f"Next: {tour.STEPS[i + 1].title}").click()
    # The end of the path: the one-page summary, with the first bill after the trial in it.
    with tab.expect_download(timeout=120_000) as info:
        tab.locator(".st-key-tour_bar").get_by_role("button", name="Next: the one-page summary").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert "First bill after the trial" in text and f"<h1>{names['trial-midway']}</h1>" in text
    assert f'href="{empty_app}/?account=' in text  # the browser's own address, not a guess
    tab.locator(".st-key-tour_bar").get_by_role("button", name="Back to the tour").click()
    _wait_title(tab, "Demo")
    no_failure(tab)


def test_the_landing_pages_demo_button_starts_the_tour(browser, tmp_path):
    """On an empty database the first page's "Load the demo data" opens the tour's first step."""
    from tests.e2e.conftest import pinned_env, running_app

    env = pinned_env(DATABASE_URL=f"sqlite:///{tmp_path}/landing.db")
    with running_app(env, tmp_path / "server.log") as base:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        try:
            pg.goto(base)
            pg.get_by_role("button", name="Load the demo data").click()
            _wait_title(pg, "Overview")
            no_failure(pg)
            bar = pg.locator(".st-key-tour_bar")
            bar.wait_for(timeout=60_000)
            assert "step 1 of 5" in bar.inner_text()
            assert bar.get_by_role("button", name="Next: Job map").count() == 1
        finally:
            context.close()
