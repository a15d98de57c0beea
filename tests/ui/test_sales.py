"""Sales pages with AppTest: the demo from an empty database and its reset, the pricing simulator, value, trial."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlmodel import Session

from app.models import Account
from tests.ui.conftest import make_app, no_errors
from tests.factories import OPERATOR

DEMO = "ui/pages/demo.py"
PRICING = "ui/pages/pricing.py"
VALUE = "ui/pages/value.py"
TRIAL = "ui/pages/trial.py"


def _open(page: str, account: str | None = None):
    at = make_app()
    at.run()
    if account is not None:
        at.sidebar.selectbox(key="account").set_value(account).run()
    at.switch_page(page).run()
    no_errors(at)
    return at


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


# --- demo -----------------------------------------------------------------------------------


def test_demo_starts_from_an_empty_database_and_lands_on_the_scenario_picker(engine, demo_slugs):
    at = _open(DEMO)
    assert at.title[0].value == "Demo"
    assert any(s.value == "Start the demo" for s in at.subheader)
    at.button(key="demo_start").click().run()
    no_errors(at)
    assert any("The demo is ready" in s.value for s in at.success)
    # one card per scenario, each with a shareable link to the overview on its account
    from app.store.demo import SCENARIOS

    names = [s.value for s in at.subheader]
    codes = [c.value for c in at.code]
    for scenario in SCENARIOS:
        assert scenario.name in names
        assert any(c.endswith(f"/?account={scenario.name.replace(' ', '+')}") for c in codes), codes
    assert len(at.sidebar.selectbox(key="account").options) == len(demo_slugs)


def test_demo_reset_restores_a_live_edit(demo_engine):
    with Session(demo_engine, expire_on_commit=False) as s:
        acc = s.execute(select(Account).where(Account.slug == "trial-midway")).scalar_one()
        acc.hourly_cost = Decimal("999.00")
        s.add(acc)
        s.commit()
    at = _open(DEMO)
    assert not any(s.value == "Start the demo" for s in at.subheader)
    at.button(key="demo_reset").click().run()
    no_errors(at)
    assert any("restored" in s.value for s in at.success)
    with Session(demo_engine) as s:
        cost = s.execute(select(Account.hourly_cost).where(Account.slug == "trial-midway")).scalar_one()
    assert cost == Decimal("35.00")


def test_demo_guide_can_be_dismissed_and_brought_back(demo_engine):
    at = _open(DEMO)
    assert any("five-minute path" in m.value for m in at.markdown)
    at.button(key="demo_guide_hide").click().run()
    assert not any("five-minute path" in m.value for m in at.markdown)
    at.button(key="demo_guide_show").click().run()
    assert any("five-minute path" in m.value for m in at.markdown)


# --- pricing simulator ------------------------------------------------------------------------


def _sentence(at) -> str:
    return next(m.value for m in at.markdown if "costs least" in m.value)


def _chart(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_simulator_changing_the_volume_changes_the_figures_and_the_break_even(demo_engine):
    at = _open(PRICING, "hybrid-over")
    assert at.title[0].value == "Pricing simulator"
    at.number_input(key="sim_outcomes_hybrid-over").set_value(250).run()
    at.number_input(key="sim_seats_hybrid-over").set_value(3).run()
    at.text_input(key="sim_tpo_hybrid-over").set_value("1.2").run()
    no_errors(at)
    before = {k: _metric(at, k) for k in ("Seat-based", "Usage-based", "Outcome-based freemium", "Hybrid")}
    assert before == {
        "Seat-based": "150.00 USD",
        "Usage-based": "240.00 USD",
        "Outcome-based freemium": "350.00 USD",
        "Hybrid": "300.00 USD",
    }
    sentence = _sentence(at)
    assert "**Seat-based** costs least" in sentence
    fig = _chart(at)
    marked = [t for t in fig["data"] if t.get("name") == "Break-even"][0]
    assert 100 in marked["x"] and 300 in marked["x"]  # freemium and hybrid cross at 100 and 300

    at.number_input(key="sim_outcomes_hybrid-over").set_value(30).run()
    no_errors(at)
    after = {k: _metric(at, k) for k in before}
    assert after["Outcome-based freemium"] == "130.00 USD" and after["Hybrid"] == "200.00 USD"
    assert after != before
    assert _sentence(at) != sentence
    assert "**Usage-based** costs least" in _sentence(at)
    assert "From **157** outcomes a month, Seat-based becomes the cheapest" in _sentence(at)
    assert _chart(at) != fig


def test_simulator_plans_are_editable_and_a_bad_price_is_refused(demo_engine):
    at = _open(PRICING, "hybrid-over")
    at.number_input(key="sim_outcomes_hybrid-over").set_value(250).run()
    at.text_input(key="sim_hybrid_outcome_price").set_value("3.00").run()
    no_errors(at)
    # hybrid: 200 + 50 × 3.00 (+ seats 5 of the account × 0)
    assert _metric(at, "Hybrid") == "350.00 USD"
    at.text_input(key="sim_hybrid_outcome_price").set_value("-1").run()
    assert not at.exception
    assert any("Hybrid" in e.value and "must not be negative" in e.value for e in at.error)


# --- value delivered --------------------------------------------------------------------------


def test_value_page_shows_hours_money_bill_and_return(demo_engine):
    at = _open(VALUE, "converted-freemium")
    assert at.title[0].value == "Value delivered"
    hours = _metric(at, "Hours saved")
    assert hours.endswith(" h") and hours != "0.0 h"
    assert _metric(at, "Value delivered").endswith("USD")
    assert _metric(at, "Return multiple").endswith("×")
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert len(charts) == 2
    assert at.get("download_button")


def test_value_page_edits_minutes_and_hourly_cost(demo_engine):
    at = _open(VALUE, "converted-freemium")
    before = _metric(at, "Value delivered")
    at.text_input(key="value_hourly_converted-freemium").set_value("84.00")
    at.button(key="value_save_converted-freemium").click().run()
    no_errors(at)
    assert any("Saved" in s.value for s in at.success)
    after = _metric(at, "Value delivered")
    assert after != before
    with Session(demo_engine) as s:
        cost = s.execute(select(Account.hourly_cost).where(Account.slug == "converted-freemium")).scalar_one()
    assert cost == Decimal("84.00")


def test_value_page_refuses_a_negative_hourly_cost(demo_engine):
    at = _open(VALUE, "converted-freemium")
    at.text_input(key="value_hourly_converted-freemium").set_value("-5")
    at.button(key="value_save_converted-freemium").click().run()
    assert not at.exception
    assert any("Not saved" in e.value for e in at.error)


# --- trial ------------------------------------------------------------------------------------


def test_trial_page_for_a_trial_account(demo_engine):
    at = _open(TRIAL, "trial-midway")
    assert at.title[0].value == "Trial"
    assert " of 30" in _metric(at, "Free outcomes used")
    assert _metric(at, "Conversion readiness") in ("Ready", "Likely ready", "Not yet", "No targets set")
    assert any("the first full month" in m.label for m in at.metric)
    at.selectbox(key="trial_target_trial-midway").set_value("hybrid").run()
    no_errors(at)
    shown = next(m.value for m in at.metric if "the first full month" in m.label)
    # the page shows the billing engine's figure, as trial_status computes it
    from datetime import datetime

    from app.domain.money import format_money
    from app.domain.plans import SEED_PLANS
    from app.store.accounts import get_account
    from app.store.trial import trial_status
    from tests.ui.conftest import NOW

    with Session(demo_engine) as s:
        expected = trial_status(
            s, get_account(s, "trial-midway", principal=OPERATOR), as_of=datetime.fromisoformat(NOW), target_plan=SEED_PLANS["hybrid"]
        ).first_bill.total
    assert shown == format_money(expected, "USD")


@pytest.mark.parametrize("page", [DEMO, PRICING, VALUE, TRIAL])
def test_sales_pages_render_for_every_demo_account(demo_engine, demo_slugs, page):
    for slug in demo_slugs:
        at = _open(page, slug)
        assert at.title


@pytest.mark.parametrize("page", [PRICING, VALUE, TRIAL])
def test_sales_pages_on_an_empty_database(engine, page):
    at = _open(page)
    if page == PRICING:
        assert at.title[0].value == "Pricing simulator"
    else:
        assert any("No accounts yet" in s.value for s in at.subheader)


def test_simulator_takes_a_fifth_plan_as_json(demo_engine):
    from app.core.config import REPO_ROOT
    from app.domain.plans import load_plan_file
    from app.domain.simulator import Prospect, steady_quote

    at = _open(PRICING, "hybrid-over")
    at.number_input(key="sim_outcomes_hybrid-over").set_value(700).run()
    at.number_input(key="sim_seats_hybrid-over").set_value(2).run()
    at.text_input(key="sim_tpo_hybrid-over").set_value("1").run()
    text = (REPO_ROOT / "data" / "plans" / "tiered.json").read_text()
    at.text_area(key="sim_custom_json").set_value(text).run()
    no_errors(at)
    expected = steady_quote(load_plan_file(REPO_ROOT / "data" / "plans" / "tiered.json"), Prospect(700, 2), year=2026, month=11)
    assert _metric(at, "Tiered outcomes") == f"{expected.total:,.2f} USD"  # 100 + 500 × 1.00 + 200 × 0.80 = 760.00
    assert expected.total == Decimal("760.00")
    at.text_area(key="sim_custom_json").set_value("{not json").run()
    assert not at.exception
    assert any("not valid JSON" in e.value for e in at.error)
