"""Plan bounds (app.domain.plans): every amount, count, name and tier list within what both databases hold."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.plans import MAX_AMOUNT, MAX_COUNT, PlanError, check_amount, check_count, check_name, parse_plan, parse_plan_json


def plan(**changes) -> dict:
    return {"name": "p", "currency": "USD", **changes}


@pytest.mark.parametrize("key", ["base_fee", "outcome_price", "seat_price", "task_price"])
@pytest.mark.parametrize("value", ["1000000000.000001", "1e12", "1e308", "1E+999999"])
def test_amounts_above_a_billion_are_refused_naming_the_field(key, value):
    with pytest.raises(PlanError, match=rf"{key} must be at most 1,000,000,000"):
        parse_plan(plan(**{key: value}))


def test_amounts_at_the_bounds_are_kept_exactly():
    spec = parse_plan(plan(base_fee="1000000000", outcome_price="0.000001", seat_price=1_000_000_000))
    assert (spec.base_fee, spec.outcome_price, spec.seat_price) == (MAX_AMOUNT, Decimal("0.000001"), MAX_AMOUNT)


@pytest.mark.parametrize("value", ["٣", "１", "1" * 41, 10**30, [1], {"a": 1}])
def test_amounts_in_other_digits_or_shapes_are_refused(value):
    with pytest.raises(PlanError, match="base_fee"):
        check_amount(value, "base_fee")


@pytest.mark.parametrize("value, ok", [(0, 0), (30, 30), ("30", 30), (" 30 ", 30), (30.0, 30), (MAX_COUNT, MAX_COUNT)])
def test_counts(value, ok):
    assert check_count(value, "free_outcomes") == ok


COUNTS_REFUSED = [
    ("²", "whole number"), ("٣", "whole number"), (True, "whole number"), (2.5, "whole number"), (float("inf"), "whole number"),
    (MAX_COUNT + 1, "at most 1,000,000,000"), (10**30, "at most"), (10**5000, "digits"), (-1, "negative"), ("-1", "whole number"),
]


@pytest.mark.parametrize("value, words", COUNTS_REFUSED, ids=[str(i) for i in range(len(COUNTS_REFUSED))])
def test_counts_refused(value, words):
    with pytest.raises(PlanError, match=words):
        check_count(value, "free_outcomes")


@pytest.mark.parametrize("name, words", [
    ("a\x00b", "control character"), ("\u0085", "control character"), ("a\ud800", "surrogate"), ("x" * 201, "201 characters"),
])
def test_names_refused(name, words):
    with pytest.raises(PlanError, match=words):
        check_name(name)


def test_names_are_trimmed_of_ascii_white_space_only():
    assert check_name("  Pro\t\n") == "Pro"
    assert check_name("\u3000Pro") == "\u3000Pro"  # shown as given: not silently changed
    assert parse_plan(plan(name="ü" * 200)).name == "ü" * 200


def test_tiers_are_bounded():
    with pytest.raises(PlanError, match="at most 100 tiers"):
        parse_plan(plan(tiers=[{"up_to": i + 1, "unit_price": "1"} for i in range(100)] + [{"up_to": None, "unit_price": "1"}]))
    with pytest.raises(PlanError, match="tier 1 up_to must be at most"):
        parse_plan(plan(tiers=[{"up_to": MAX_COUNT + 1, "unit_price": "1"}, {"up_to": None, "unit_price": "1"}]))
    with pytest.raises(PlanError, match="tier 1 flat_fee must be at most"):
        parse_plan(plan(tiers=[{"up_to": None, "unit_price": "1", "flat_fee": "1e10"}]))


def test_currency_must_be_ascii():
    with pytest.raises(PlanError, match="unknown currency"):
        parse_plan(plan(currency="uſd"))  # "uſd".upper() == "USD"


@pytest.mark.parametrize("text, words", [
    ("[" * 10_000 + "]" * 10_000, "levels deep"),
    ('{"name": "p", "free_outcomes": 1' + "0" * 5000 + "}", "number of 5,001 characters"),
    (" " * 70_000 + "{}", "at most 65,536"),
])
def test_plan_json_is_read_within_limits(text, words):
    with pytest.raises(PlanError, match=words):
        parse_plan_json(text)
