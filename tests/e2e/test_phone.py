"""On a phone (390×844) the sidebar starts closed, so the page's figures are what one sees first."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import no_failure, wait_idle

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("path", ["", "billing", "outcomes"])
def test_a_phone_opens_on_the_page_not_the_sidebar(browser, app_server, path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        pg.goto(f"{app_server}/{path}")
        pg.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
        wait_idle(pg, 800)
        no_failure(pg)
        assert pg.get_attribute("[data-testid='stSidebar']", "data-collapsed") == "true"
        # The page's first figure is on screen, not behind the sidebar.
        box = pg.locator("[data-testid='stMain'] [data-testid='stMetric']").first.bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 390
        assert pg.locator("[data-testid='stMain'] [data-testid='stMetric']").first.is_visible()
    finally:
        context.close()
