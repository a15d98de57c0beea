from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.charges import Line, graduated, lines_total, package, usage_lines, volume
from app.domain.errors import OverseerError
from app.domain.plans import Tier, parse_plan

def priced(price: Decimal | None = None, tiers=None) -> SimpleNamespace:
    """The plan-like a charge model reads: ``outcome_price`` and ``tiers``."""
    return SimpleNamespace(outcome_price=price, tiers=tiers)


TIERS = (Tier(5, Decimal("7.00")), Tier(10, Decimal("6.00"), Decimal("10.00")), Tier(None, Decimal("5.00")))


def test_package_one_line_rounded_half_up():
    assert package.lines(priced(price=Decimal("0.125")), 1) == (Line("Outcomes", 1, Decimal("0.125"), Decimal("0.13")),)
    assert package.lines(priced(price=Decimal("0.005")), 3)[0].amount == Decimal("0.02")  # 0.015 -> 0.02, not banker's 0.02/0.01


def test_package_zero_units_no_line():
    assert package.lines(priced(price=Decimal("1.00")), 0) == ()


@pytest.mark.parametrize("model", [package.lines, graduated.lines, volume.lines])
def test_negative_units_refused(model):
    with pytest.raises(OverseerError, match="negative"):
        model(priced(price=Decimal(1), tiers=TIERS), -1)


def test_graduated_one_line_per_tier_touched_plus_flat_fee():
    lines = graduated.lines(priced(tiers=TIERS), 12)
    assert [(l.description, l.quantity, l.amount) for l in lines] == [
        ("Tier 1 (outcomes 1-5)", 5, Decimal("35.00")),
        ("Tier 2 (outcomes 6-10)", 5, Decimal("30.00")),
        ("Tier 2 (outcomes 6-10) flat fee", 1, Decimal("10.00")),
        ("Tier 3 (outcomes 11+)", 2, Decimal("10.00")),
    ]
    assert lines_total(lines) == Decimal("85.00")


def test_graduated_zero_units_no_line():
    assert graduated.lines(priced(tiers=TIERS), 0) == ()


def test_graduated_stops_in_first_tier():
    assert [l.quantity for l in graduated.lines(priced(tiers=TIERS), 3)] == [3]


def test_volume_all_units_at_the_tier_of_the_total():
    lines = volume.lines(priced(tiers=TIERS), 7)
    assert [(l.quantity, l.unit_price, l.amount) for l in lines] == [
        (7, Decimal("6.00"), Decimal("42.00")),
        (1, Decimal("10.00"), Decimal("10.00")),
    ]
    assert volume.lines(priced(tiers=TIERS), 11)[0].amount == Decimal("55.00")
    assert volume.lines(priced(tiers=TIERS), 0) == ()


def test_usage_lines_dispatch():
    base = {"name": "p", "tiers": [{"up_to": 2, "unit_price": "3"}, {"up_to": None, "unit_price": "1"}]}
    grad = parse_plan(base)
    vol = parse_plan({**base, "tiers_mode": "volume"})
    flat = parse_plan({"name": "p", "outcome_price": "2.50"})
    assert lines_total(usage_lines(grad, 4)) == Decimal("8")
    assert lines_total(usage_lines(vol, 4)) == Decimal("4")
    assert lines_total(usage_lines(flat, 4)) == Decimal("10.00")


prices = st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False, allow_infinity=False)


@st.composite
def tier_lists(draw):
    bounds = sorted(draw(st.sets(st.integers(1, 200), max_size=4)))
    tiers = [Tier(b, draw(prices), draw(prices)) for b in bounds]
    return tuple(tiers) + (Tier(None, draw(prices), draw(prices)),)


@given(units=st.integers(0, 500), price=prices)
def test_package_single_tier_equivalence(units, price):
    one = (Tier(None, price),)
    assert lines_total(graduated.lines(priced(tiers=one), units)) == lines_total(volume.lines(priced(tiers=one), units))
    assert lines_total(graduated.lines(priced(tiers=one), units)) == lines_total(package.lines(priced(price=price), units))


@given(units=st.integers(0, 500), price=prices, fee=prices)
def test_graduated_equals_volume_with_one_tier(units, price, fee):
    one = (Tier(None, price, fee),)
    assert lines_total(graduated.lines(priced(tiers=one), units)) == lines_total(volume.lines(priced(tiers=one), units))


@given(tiers=tier_lists(), units=st.integers(0, 400))
def test_graduated_lines_rounded_quantities_add_up_and_monotone(tiers, units):
    lines = graduated.lines(priced(tiers=tiers), units)
    assert all(l.amount == l.amount.quantize(Decimal("0.01")) for l in lines)
    assert sum(l.quantity for l in lines if not l.description.endswith("flat fee")) == units
    assert lines_total(graduated.lines(priced(tiers=tiers), units + 1)) >= lines_total(lines)


@given(tiers=tier_lists(), units=st.integers(1, 400))
def test_volume_prices_every_unit_at_one_tier(tiers, units):
    first = volume.lines(priced(tiers=tiers), units)[0]
    assert first.quantity == units
    assert first.unit_price in {t.unit_price for t in tiers}
