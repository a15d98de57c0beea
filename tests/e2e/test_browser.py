"""The app in a real headless Chromium: every page opens, a review moves accuracy, an upload imports."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import REPO, no_failure, open_page, wait_idle

pytestmark = pytest.mark.e2e

PAGES = [("", "Overview"), ("outcomes", "Outcomes"), ("job-map", "Job map"), ("billing", "Billing"),
         ("portfolio", "Portfolio"), ("import", "Import outcomes")]


@pytest.mark.parametrize(("path", "title"), PAGES)
def test_each_page_opens(page, app_server, path, title):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    open_page(page, app_server, path)
    assert page.locator("h1").first.inner_text().strip() == title
    no_failure(page)
    # Nothing is fetched from anywhere else (the tab's icon was a Material icon from fonts.gstatic.com).
    assert hosts - {None} == {urlsplit(app_server).hostname}, hosts
    # the sidebar is on every page: account picker, date range, plan
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_by_text("Account", exact=True).count() == 1
    assert sidebar.get_by_text("Date range (UTC)").count() == 1


def test_every_demo_account_overview_opens(page, app_server):
    open_page(page, app_server)
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").first.click()
    names = [o.inner_text().strip() for o in page.get_by_role("option").all()]
    page.keyboard.press("Escape")
    assert len(names) >= 4
    for name in names:
        open_page(page, app_server, f"?account={name.replace(' ', '+')}")
        no_failure(page)
        assert name in page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first.inner_text()


def test_the_overview_charts_are_drawn_with_their_days_legend_and_targets(page, app_server):
    # The Overview's charts are Vega-Lite (app/ui/overview_charts.py), drawn as SVG: what a user reads on
    # them is text in the page. Streamlit's Vega once read the day axis's tick times as years, and the
    # axis was drawn with no label at all: only a real browser shows that.
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if m.type in ("warning", "error") else None)
    open_page(page, app_server)
    charts = page.locator("[data-testid='stVegaLiteChart'] svg.marks")
    charts.nth(1).wait_for()
    assert charts.count() == 2
    daily, rates = (charts.nth(i).locator("text").all_text_contents() for i in range(2))
    assert "Outcomes per day, by status" in daily and "Day (UTC)" in daily
    assert {"Completed", "Escalated", "Failed", "Open"} <= set(daily)
    days = [t for t in daily if re.fullmatch(r"\d\d (Oct|Nov)", t)]
    assert "01 Nov" in days and len(days) >= 4, daily  # the range is 1-24 Nov: a tick a week
    assert charts.nth(0).locator(".role-mark path").count() >= 24  # a bar (or part of one) a day at least
    assert "Completion rate and accuracy per week" in rates and "Week starting (UTC)" in rates
    assert any(t.startswith("Completion target ") for t in rates) and any(t.startswith("Accuracy target ") for t in rates)
    assert {"0%", "100%"} <= set(rates) and len([t for t in rates if re.fullmatch(r"\d\d (Oct|Nov)", t)]) >= 4
    box = charts.nth(0).bounding_box()
    assert box and box["height"] == pytest.approx(340, abs=2)  # as high as the place the first run kept
    assert not [w for w in warnings if "vega" in w.lower() or "WARN" in w], warnings


def _accuracy(pg) -> str:
    return pg.locator(".st-key-kpi_accuracy [data-testid='stMetricValue']").inner_text().strip()


def test_review_one_outcome_changes_accuracy(page, app_server):
    open_page(page, app_server, "outcomes")
    page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text("Show", exact=True)).click()
    page.get_by_role("option", name="Completed (sample)").click()
    wait_idle(page)
    before = _accuracy(page)
    outcome = page.locator("[data-testid='stMain'] h4").first.inner_text().split()[0]
    page.get_by_role("button", name=re.compile("Mark incorrect")).click()
    wait_idle(page, 800)
    page.get_by_text(f"Outcome {outcome} marked incorrect.").first.wait_for()
    after = _accuracy(page)
    assert after != before, (before, after)
    no_failure(page)


def test_upload_a_file(page, app_server, tmp_path):
    open_page(page, app_server, "import")
    sample = (REPO / "data" / "samples" / "outcomes.csv").read_text()
    rows = sample.strip().count("\n")
    # a fresh outcome id, so the import always has something new to write
    path = tmp_path / "upload.csv"
    path.write_text(sample.replace("TCK-", "E2E-"))
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    page.get_by_text("Validation report").wait_for()
    wait_idle(page)
    assert page.locator(".st-key-imp_new [data-testid='stMetricValue']").inner_text().strip() == str(rows)
    page.get_by_role("button", name=f"Import {rows} outcomes").click()
    page.get_by_text("Imported upload.csv").wait_for()
    no_failure(page)


def test_account_and_range_stay_in_the_address(page, app_server):
    open_page(page, app_server, "?account=Northwind+Support&range=2026-10-01&range=2026-10-31")
    assert "Northwind Support" in page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first.inner_text()
    page.locator("[data-testid='stSidebarNav']").get_by_text("Billing").click()
    page.wait_for_url(re.compile(r"/billing"))
    page.wait_for_selector("[data-testid='stMain'] h1:has-text('Billing')")
    wait_idle(page, 800)
    assert "Northwind Support" in page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first.inner_text()
    assert "account=Northwind" in page.url and "range=2026-10-01" in page.url
    # the copied link opens the same view in a fresh tab
    copy = page.context.new_page()
    open_page(copy, page.url.split("/billing")[0], "billing?" + page.url.split("?", 1)[1])
    assert "Northwind Support" in copy.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first.inner_text()
    assert "1–31 Oct 2026" in copy.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first.inner_text()


def _with_failed_unreviewed(database) -> tuple[str, str, str]:
    """The demo account with the most failed, unreviewed outcomes, and the days they span.

    Read from the demo this run generated, so the test expects what the data holds
    rather than what one day's demo happened to hold.
    """
    with sqlite3.connect(database) as conn:
        name, first, last = conn.execute(
            "SELECT a.name, MIN(date(o.completed_at)), MAX(date(o.completed_at)) FROM outcome o "
            "JOIN account a ON a.id = o.account_id WHERE o.status = 'failed' AND o.verdict = 'unreviewed' "
            "GROUP BY a.id ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()
    return name, first, last


def test_outcome_filters_stay_in_the_address(page, app_server, demo_database):
    name, first, last = _with_failed_unreviewed(demo_database)
    account = name.replace(" ", "+")
    open_page(page, app_server, f"outcomes?account={account}&range={first}&range={last}&view=All+outcomes&status=Failed&verdict=Unreviewed")
    summary = _outcome_count(page)
    assert "failed" in summary and "completed" not in summary and "open" not in summary, summary
    # A filter changed on the page goes into the address, and the copied link opens the same list.
    page.get_by_label("Outcome id contains").fill("-00")
    page.get_by_label("Outcome id contains").press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=-00"))
    wait_idle(page, 800)
    assert "status=Failed" in page.url and "verdict=Unreviewed" in page.url and f"range={first}" in page.url
    shown = _outcome_count(page)
    copy = page.context.new_page()
    open_page(copy, page.url.split("/outcomes")[0], "outcomes?" + page.url.split("?", 1)[1])
    assert copy.get_by_label("Outcome id contains").input_value() == "-00"
    assert _outcome_count(copy) == shown
    no_failure(copy)


def _outcome_count(pg) -> str:
    """The Outcomes list's count line ("45 outcomes · 33 escalated · 12 failed"), or its no-match message."""
    found = pg.locator("[data-testid='stMain'] [data-testid='stMarkdownContainer']").filter(
        has_text=re.compile(r"^\d[\d,]* outcomes? · |^No outcome matches")
    )
    return found.first.inner_text()
