from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.charges import Line
from app.domain.errors import OverseerError
from app.domain.invoice import Projection, quote, rate_month, usage_charge
from app.domain.plans import SEED_PLANS, parse_plan

FREEMIUM = SEED_PLANS["freemium"]
HYBRID = SEED_PLANS["hybrid"]


# SPEC worked checks
def test_freemium_first_month_within_allowance():
    inv = quote(FREEMIUM, 25, year=2026, month=11)
    assert inv.total == Decimal("0.00")
    assert (inv.free_used, inv.free_remaining) == (25, 5)
    assert inv.lines == (Line("Free outcomes", 25, Decimal(0), Decimal("0.00")),)


def test_freemium_full_month_after_allowance():
    inv = quote(FREEMIUM, 42, free_remaining=0, year=2026, month=10)
    assert inv.total == Decimal("142.00")
    assert [(l.description, l.amount) for l in inv.lines] == [
        ("Base fee", Decimal("100.00")),
        ("Outcomes", Decimal("42.00")),
    ]


@pytest.mark.parametrize("outcomes, total", [(150, "200.00"), (200, "200.00"), (260, "320.00")])
def test_hybrid(outcomes, total):
    inv = quote(HYBRID, outcomes, year=2026, month=11)
    assert inv.total == Decimal(total)
    assert inv.lines[1] == Line("Included outcomes", min(outcomes, 200), Decimal(0), Decimal("0.00"))


def test_freemium_prorated_activation_month():
    inv = rate_month(FREEMIUM, billable=42, free_remaining=30, days_in_month=30, active_days=10)
    assert [(l.description, l.quantity, l.amount) for l in inv.lines] == [
        ("Free outcomes", 30, Decimal("0.00")),
        ("Base fee, 10 of 30 days (prorated)", 1, Decimal("33.33")),
        ("Outcomes", 12, Decimal("12.00")),
    ]
    assert inv.total == Decimal("45.33")
    assert quote(FREEMIUM, 12, free_remaining=0, active_days=10, year=2026, month=11).total == Decimal("45.33")


def test_to_json_shape():
    inv = quote(parse_plan({"name": "p", "outcome_price": "0.125", "base_fee": "10"}), 1, year=2026, month=11)
    inv = replace(inv, projected=Projection(3, Decimal("10.4"), Decimal(10), Decimal("11"), date(2026, 11, 30)))
    assert inv.to_json() == {
        "currency": "USD",
        "lines": [
            {"description": "Base fee", "quantity": 1, "unit_price": "10", "amount": "10.00"},
            {"description": "Outcomes", "quantity": 1, "unit_price": "0.125", "amount": "0.13"},
        ],
        "total": "10.13",
        "free_used": 0,
        "free_remaining": 0,
        "projected": {"outcomes": 3, "total": "10.40", "low": "10.00", "high": "11.00", "allowance_runs_out": "2026-11-30"},
    }
    assert "projected" not in quote(FREEMIUM, 1, year=2026, month=11).to_json()


def test_seats_tasks_and_credits():
    plan = parse_plan({"name": "p", "seat_price": "50.00", "task_price": "0.80"})
    credit = Line("Credit: 1 outcomes of 2026-10 reviewed incorrect", 1, Decimal("-1.00"), Decimal("-1.00"))
    inv = rate_month(plan, billable=0, free_remaining=0, days_in_month=30, active_days=30, seats=3, tasks=11, credits=[credit])
    assert [l.amount for l in inv.lines] == [Decimal("150.00"), Decimal("8.80"), Decimal("-1.00")]
    assert inv.total == Decimal("157.80")


def test_seats_not_charged_before_activation():
    plan = parse_plan({"name": "p", "free_outcomes": 5, "seat_price": "50.00"})
    assert quote(plan, 3, seats=2, year=2026, month=11).total == Decimal("0.00")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"outcomes": -1}, "outcomes must not be negative"),
        ({"outcomes": 1, "active_days": 31}, "active_days must be 0 to 30"),
        ({"outcomes": 1, "active_days": -1}, "active_days must not be negative"),
        ({"outcomes": 1, "free_remaining": 31}, "exceeds the plan's free allowance"),
        ({"outcomes": 1, "seats": -2}, "seats must not be negative"),
        ({"outcomes": 31, "active_days": 0}, "paid plan must be active"),
    ],
)
def test_quote_refuses_bad_input(kwargs, message):
    with pytest.raises(OverseerError, match=message):
        quote(FREEMIUM, year=2026, month=11, **kwargs)


def test_quote_bad_month():
    with pytest.raises(OverseerError, match="no such month"):
        quote(FREEMIUM, 1, year=2026, month=13)


def test_rate_month_contradiction():
    with pytest.raises(OverseerError, match="beyond the free allowance"):
        rate_month(FREEMIUM, billable=5, free_remaining=0, days_in_month=30, active_days=0)


def test_usage_charge_skips_included():
    assert usage_charge(HYBRID, 150) == 0
    assert usage_charge(HYBRID, 260) == Decimal("120.00")


prices = st.decimals(min_value=0, max_value=500, places=6, allow_nan=False, allow_infinity=False)


@st.composite
def plans(draw, modes=("graduated", "volume", None)):
    mode = draw(st.sampled_from(modes))
    data = {
        "name": "p",
        "free_outcomes": draw(st.integers(0, 50)),
        "base_fee": str(draw(prices)),
        "included_outcomes": draw(st.integers(0, 50)),
        "outcome_price": str(draw(prices)),
        "seat_price": str(draw(prices)),
        "task_price": str(draw(prices)),
    }
    if mode:
        bounds = sorted(draw(st.sets(st.integers(1, 100), max_size=3)))
        data["tiers"] = [{"up_to": b, "unit_price": str(draw(prices)), "flat_fee": str(draw(prices))} for b in bounds]
        data["tiers"].append({"up_to": None, "unit_price": str(draw(prices))})
        data["tiers_mode"] = mode
    return parse_plan(data)


@given(plan=plans(), n=st.integers(0, 300), seats=st.integers(0, 5), tasks=st.integers(0, 50), data=st.data())
def test_lines_add_up_and_allowance_respected(plan, n, seats, tasks, data):
    free = data.draw(st.integers(0, plan.free_outcomes))
    inv = quote(plan, n, free_remaining=free, seats=seats, tasks=tasks, year=2026, month=2)
    assert inv.total == sum((l.amount for l in inv.lines), Decimal(0))
    assert all(l.amount == l.amount.quantize(Decimal("0.01")) for l in inv.lines)
    assert inv.free_used <= free <= plan.free_outcomes
    assert inv.free_used + inv.free_remaining == free
    assert inv.total >= 0


@given(plan=plans(modes=("graduated", None)), n=st.integers(0, 300), extra=st.integers(1, 50), data=st.data())
def test_total_never_falls_when_outcomes_are_added(plan, n, extra, data):
    # Volume pricing is excluded on purpose: moving every unit to a cheaper tier can lower a volume bill.
    free = data.draw(st.integers(0, plan.free_outcomes))
    assert quote(plan, n + extra, free_remaining=free, year=2026, month=11).total >= quote(
        plan, n, free_remaining=free, year=2026, month=11
    ).total
    days = data.draw(st.integers(1, 30))
    low = rate_month(plan, billable=n, free_remaining=free, days_in_month=30, active_days=days)
    high = rate_month(plan, billable=n + extra, free_remaining=free, days_in_month=30, active_days=days)
    assert high.total >= low.total


@given(price=prices.filter(bool), n=st.integers(0, 100))
def test_each_line_rounded_half_up(price, n):
    plan = parse_plan({"name": "p", "outcome_price": str(price)})
    (line,) = quote(plan, max(n, 1), year=2026, month=11).lines
    exact = price * max(n, 1)
    assert abs(line.amount - exact) <= Decimal("0.005")
    assert line.amount - exact != Decimal("-0.005")  # a half cent always rounds up


@given(price=prices, fee=prices, n=st.integers(0, 300))
def test_graduated_equals_volume_with_one_tier(price, fee, n):
    base = {"name": "p", "tiers": [{"up_to": None, "unit_price": str(price), "flat_fee": str(fee)}]}
    grad = quote(parse_plan(base), n, year=2026, month=11)
    vol = quote(parse_plan({**base, "tiers_mode": "volume"}), n, year=2026, month=11)
    assert grad.total == vol.total


def test_half_cent_example():
    plan = parse_plan({"name": "p", "outcome_price": "0.125"})
    assert quote(plan, 1, year=2026, month=11).total == Decimal("0.13")


def test_a_plan_given_as_json_text():
    from app.domain.plans import PlanError, parse_plan_json

    text = '{"name": "Hybrid", "currency": "USD", "free_outcomes": 0, "base_fee": "200.00", "included_outcomes": 200, "outcome_price": "2.00"}'
    assert parse_plan_json(text) == SEED_PLANS["hybrid"]
    with pytest.raises(PlanError, match=r"^the plan is not valid JSON: .* at line 1, column 10$"):
        parse_plan_json('{"name": }')
    with pytest.raises(PlanError, match=r"^plan file x\.json is not valid JSON"):
        parse_plan_json("", "plan file x.json")
    with pytest.raises(PlanError):  # JSON, but not a plan
        parse_plan_json('{"name": "Bad", "outcome_price": "-1"}')
