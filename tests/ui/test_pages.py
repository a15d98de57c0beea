"""Every page renders, for every demo account and for an empty database, with no exception."""

from __future__ import annotations

import re

from datetime import date

import pytest
from sqlmodel import Session

from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account
from tests.ui.conftest import make_app, no_errors

PAGES = [
    "ui/pages/overview.py",
    "ui/pages/outcomes.py",
    "ui/pages/job_map.py",
    "ui/pages/billing.py",
    "ui/pages/portfolio.py",
    "ui/pages/import_data.py",
]
TITLES = {
    "ui/pages/overview.py": "Overview",
    "ui/pages/outcomes.py": "Outcomes",
    "ui/pages/job_map.py": "Job map",
    "ui/pages/billing.py": "Billing",
    "ui/pages/portfolio.py": "Portfolio",
    "ui/pages/import_data.py": "Import outcomes",
}


def _account_label(at, slug):
    box = at.sidebar.selectbox(key="account")
    for option in box.options:
        if slug in option or option == box.format_func(slug):
            return option
    raise AssertionError(f"{slug} not in {box.options}")


def test_every_page_renders_for_every_demo_account(demo_engine, demo_slugs):
    at = make_app()
    at.run()
    no_errors(at)
    box = at.sidebar.selectbox(key="account")
    assert len(box.options) == len(demo_slugs)
    for slug in demo_slugs:
        at.sidebar.selectbox(key="account").set_value(slug).run()
        no_errors(at)
        for page in PAGES:
            at.switch_page(page).run()
            no_errors(at)
            assert at.title[0].value == TITLES[page], (slug, page)
        at.switch_page("ui/pages/overview.py").run()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_an_empty_state_on_a_fresh_database(engine, page):
    at = make_app()
    at.run()
    at.switch_page(page).run()
    no_errors(at)
    assert any("No accounts yet" in s.value for s in at.subheader)
    assert at.button(key="load_demo_empty").label == "Load the demo data"
    assert any("overseer demo" in c.value for c in at.caption)


def test_load_demo_button_fills_a_fresh_database(engine):
    at = make_app()
    at.run()
    at.button(key="load_demo_empty").click().run()
    no_errors(at)
    assert len(at.sidebar.selectbox(key="account").options) >= 4
    assert at.title[0].value == "Overview"
    assert [m for m in at.metric if m.label == "Accuracy"]


def test_account_with_no_outcomes_shows_next_steps(engine):
    with Session(engine, expire_on_commit=False) as s:
        create_account(s, "fresh", "Fresh Co", SEED_PLANS["freemium"], since=date(2026, 11, 20))
        s.commit()
    at = make_app()
    at.run()
    no_errors(at)
    assert any("No outcomes in" in i.value for i in at.info)
    rates = {m.label: m.value for m in at.metric}
    assert rates["Completion rate"] == "—"
    assert rates["Accuracy"] == "—"
    assert rates["Free outcomes left"] == "30"
    for page in PAGES[1:]:
        at.switch_page(page).run()
        no_errors(at)
    at.switch_page("ui/pages/outcomes.py").run()
    assert any("Nothing to review" in i.value for i in at.info)
    at.segmented_control(key="view").set_value("All outcomes").run()
    no_errors(at)
    assert any("No outcome matches" in i.value for i in at.info)


def test_account_without_jobs_offers_a_template(engine):
    with Session(engine, expire_on_commit=False) as s:
        create_account(s, "nojob", "No Job Co", SEED_PLANS["hybrid"], template=None, since=date(2026, 11, 1))
        s.commit()
    at = make_app()
    at.run()
    at.switch_page("ui/pages/job_map.py").run()
    no_errors(at)
    assert any("no job yet" in i.value for i in at.info)
    at.selectbox(key="new_job_template").set_value("data-analysis")
    at.button(key="new_job_create").click().run()
    no_errors(at)
    assert at.selectbox(key="job").value == "data-analysis"
    assert any("created" in s.value for s in at.success)


def test_query_params_open_the_same_view(demo_engine, demo_slugs):
    from app.ui import data

    target = demo_slugs[-1]
    name = next(a.name for a in data.accounts() if a.slug == target)
    at = make_app(account=name, range=["2026-10-01", "2026-10-31"])
    at.run()
    no_errors(at)
    assert at.sidebar.selectbox(key="account").value == target
    assert at.sidebar.date_input(key="range").value == (date(2026, 10, 1), date(2026, 10, 31))
    assert any("1–31 Oct 2026" in c.value for c in at.caption)


def test_outcome_filters_come_from_the_page_address(demo_engine):
    """A copied link to a filtered outcome list opens the same filters; values it does not know are ignored.

    The address holds what each picker shows (``status=Failed``), as the account picker's does.
    """

    def opened(**query):
        at = make_app(**query)
        at.switch_page("ui/pages/outcomes.py")  # the first run opens the Outcomes page, as a link to /outcomes?… does
        at.run()
        no_errors(at)
        return at

    at = opened(view="All outcomes", status=["Failed", "Escalated"], verdict="Unreviewed")
    assert at.multiselect(key="status").value == ["failed", "escalated"]
    assert at.multiselect(key="verdict").value == ["unreviewed"]
    summary = next(m.value for m in at.markdown if re.match(r"\*\*[\d,]+ outcomes?\*\* · ", m.value))
    assert "failed" in summary and "completed" not in summary and "open" not in summary, summary

    at = opened(view="All outcomes", handoff="Execute")
    assert at.selectbox(key="handoff").value == "execute"
    summary = next(m.value for m in at.markdown if re.match(r"\*\*[\d,]+ outcomes?\*\* · ", m.value))
    assert "escalated" in summary and "failed" not in summary, summary  # a handoff is an escalation

    at = opened(view="All outcomes", q="-0031")
    assert at.text_input(key="q").value == "-0031"
    assert all("-0031" in outcome_id for outcome_id in at.dataframe[0].value["Outcome"])

    at = opened(view="All outcomes", status="failed", verdict="<script>", handoff="nowhere", filter_job="no-such-job")
    assert at.multiselect(key="status").value == []
    assert at.selectbox(key="handoff").value is None and at.selectbox(key="filter_job").value is None
    assert at.dataframe

    at = opened(queue="Failed")
    assert at.selectbox(key="queue").value == "Failed"


def test_filter_matching_nothing_says_so(demo_engine):
    at = make_app()
    at.run()
    at.switch_page("ui/pages/outcomes.py").run()
    at.segmented_control(key="view").set_value("All outcomes").run()
    no_errors(at)
    assert at.dataframe
    at.text_input(key="q").input("no-such-outcome-xyz").run()
    no_errors(at)
    assert any("No outcome matches" in i.value for i in at.info)
    assert not at.get("download_button")


def test_error_in_a_store_call_is_shown_without_traceback(demo_engine, monkeypatch):
    from app.ui import data

    def boom(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(data, "overview", boom)
    at = make_app()
    at.run()
    assert not at.exception
    assert any("Something went wrong" in e.value for e in at.error)
    assert not any("secret internals" in e.value for e in at.error)


def test_overseer_error_message_is_shown(demo_engine, monkeypatch):
    from app.domain.errors import OverseerError
    from app.ui import data

    def refuse(*a, **k):
        raise OverseerError("the date range ends before it starts")

    monkeypatch.setattr(data, "overview", refuse)
    at = make_app()
    at.run()
    assert not at.exception
    assert any("the date range ends before it starts" in e.value for e in at.error)


def test_projection_pages_say_what_the_80_percent_range_means(demo_engine):
    from app.ui import format as fmt

    at = make_app()
    at.run()
    no_errors(at)
    projected = [m for m in at.metric if m.label == "Projected bill"]
    assert projected and fmt.RANGE_MEANING in projected[0].help
    at.switch_page("ui/pages/billing.py").run()
    no_errors(at)
    assert any(c.value == fmt.RANGE_MEANING for c in at.caption)
    assert fmt.RANGE_MEANING in next(m for m in at.metric if m.label == "Projected bill").help


def test_billing_offers_every_month_as_pdf(demo_engine, demo_slugs):
    import io

    from pypdf import PdfReader

    from app.ui import data
    from app.ui import format as fmt

    slug = next(s for s in demo_slugs if "converted" in s)  # months of history, the allowance used up
    at = make_app()
    at.run()
    at.sidebar.selectbox(key="account").set_value(slug).run()
    at.switch_page("ui/pages/billing.py").run()
    no_errors(at)
    as_of = data.as_of_key()
    history = data.invoice_history(slug, as_of)
    picker = at.selectbox(key="pdf_month")
    # Every month of the history, newest (the current month) first and chosen.
    assert picker.options == [
        next(o for o in picker.options if o.startswith(fmt.month_name(i.year, i.month))) for i in reversed(history)
    ]
    assert picker.index == 0 and "draft" in picker.options[0]
    (button,) = [b for b in at.get("download_button") if b.proto.label == "Download PDF"]

    # What the button downloads: the chosen month's invoice, its text read back.
    oldest = history[0]
    document = data.invoice_pdf(slug, oldest.year, oldest.month, as_of)()
    text = " ".join(PdfReader(io.BytesIO(document)).pages[0].extract_text().split())
    assert data.account(slug).name in text
    assert fmt.month_name(oldest.year, oldest.month) in text
    assert f"{oldest.total:.2f}" in text
    assert data.invoice_pdf_name(slug, history[-1]) == f"{slug.upper()}-{history[-1].year}-{history[-1].month:02d}-draft.pdf"

    picker.set_value((oldest.year, oldest.month)).run()
    no_errors(at)
