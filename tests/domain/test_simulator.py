"""The pricing simulator: figures from the billing engine (equal to `overseer quote`), curves, exact break-evens."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.cli import main
from app.core.config import REPO_ROOT
from app.domain.errors import OverseerError
from app.domain.invoice import quote
from app.domain.plans import SEED_PLANS, load_plan_file, parse_plan
from app.domain.simulator import (
    BreakEven,
    CheapestChange,
    Prospect,
    break_evens,
    cheapest_changes,
    compare,
    default_max_volume,
    steady_quote,
)

PLANS = REPO_ROOT / "data" / "plans"
SEED = {k: SEED_PLANS[k] for k in ("seat", "usage", "freemium", "hybrid")}
D = Decimal


def cli_quote(capsys, plan_path, outcomes, *, seats, tasks, month="2026-11") -> dict:
    code = main(
        [
            "quote", "--plan", str(plan_path), "--outcomes", str(outcomes), "--free-remaining", "0",
            "--seats", str(seats), "--tasks", str(tasks), "--month", month, "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("volume", [0, 1, 30, 99, 100, 101, 199, 200, 201, 250, 300, 1234])
def test_every_figure_equals_overseer_quote_for_the_same_plan_and_volume(capsys, volume):
    prospect = Prospect(volume, seats=4, tasks_per_outcome=D("1.15"))
    files = {"seat": "seat", "usage": "usage", "freemium": "freemium", "hybrid": "hybrid", "tiered": "tiered"}
    plans = {k: load_plan_file(PLANS / f"{name}.json") for k, name in files.items()}
    result = compare(plans, prospect, year=2026, month=11)
    for key, name in files.items():
        cli = cli_quote(capsys, PLANS / f"{name}.json", volume, seats=4, tasks=prospect.tasks())
        assert result.cost(key).invoice.to_json() == cli, key
        assert str(result.cost(key).total) == cli["total"]


def test_an_edited_plan_matches_overseer_quote_too(capsys, tmp_path):
    edited = {"name": "Hybrid (edited)", "currency": "USD", "free_outcomes": 0, "base_fee": "149.99",
              "included_outcomes": 120, "outcome_price": "1.333333", "tiers": None, "tiers_mode": "graduated",
              "seat_price": "12.50", "task_price": "0.015"}
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(edited))
    prospect = Prospect(457, seats=7, tasks_per_outcome=D("1.3"))
    result = compare({"edited": parse_plan(edited)}, prospect, year=2026, month=2)
    cli = cli_quote(capsys, path, 457, seats=7, tasks=prospect.tasks(), month="2026-02")
    assert result.cost("edited").invoice.to_json() == cli


def test_seed_plans_side_by_side():
    result = compare(SEED, Prospect(250, seats=3, tasks_per_outcome=D("1.2")), year=2026, month=11)
    totals = {c.key: c.total for c in result.costs}
    assert totals == {"seat": D("150.00"), "usage": D("240.00"), "freemium": D("350.00"), "hybrid": D("300.00")}
    assert result.cheapest == ("seat",)
    # the article's plans: freemium 100 + 1/outcome, hybrid 200 incl. 200 + 2 beyond -> equal at 100 and 300
    fh = [(e.volume, e.cheaper_below, e.cheaper_above) for e in result.break_evens if {e.a, e.b} == {"freemium", "hybrid"}]
    assert fh == [(100, "freemium", "hybrid"), (300, "hybrid", "freemium")]
    at_100 = [e for e in result.break_evens if e.volume == 100][0]
    assert at_100.cost_a == at_100.cost_b == D("200.00")


def test_curves_are_quotes_and_include_the_kinks_and_break_evens():
    plans = {**SEED, "tiered": load_plan_file(PLANS / "tiered.json")}
    prospect = Prospect(700, seats=2, tasks_per_outcome=D("1.1"))
    result = compare(plans, prospect, year=2026, month=11)
    for key, points in result.curves.items():
        volumes = [v for v, _ in points]
        assert volumes == sorted(set(volumes)) and volumes[0] == 0 and volumes[-1] == result.max_volume
        assert {200, 500, 501, prospect.outcomes} <= set(volumes)
        assert {e.volume for e in result.break_evens} <= set(volumes)
        for v, total in points[:: max(1, len(points) // 40)]:
            assert total == steady_quote(plans[key], prospect, outcomes=v, year=2026, month=11).total
    assert len(result.curves["seat"]) < 600  # a few hundred points, not one per volume


def test_changing_the_volume_changes_the_figures_and_the_nearest_break_evens():
    plans = {k: SEED[k] for k in ("freemium", "hybrid")}
    low = compare(plans, Prospect(60), year=2026, month=11)
    mid = compare(plans, Prospect(250), year=2026, month=11)
    assert [c.total for c in low.costs] == [D("160.00"), D("200.00")]
    assert [c.total for c in mid.costs] == [D("350.00"), D("300.00")]
    assert low.cheapest == ("freemium",) and mid.cheapest == ("hybrid",)
    assert low.change_above().volume == 100 and mid.change_above().volume == 300


def test_cheapest_plan_changes_are_the_envelope():
    result = compare({k: SEED[k] for k in ("freemium", "hybrid")}, Prospect(150), year=2026, month=11)
    assert result.changes == (CheapestChange(100, "freemium", "hybrid"), CheapestChange(300, "hybrid", "freemium"))
    assert result.change_above() == CheapestChange(300, "hybrid", "freemium")
    assert result.change_at_or_below() == CheapestChange(100, "freemium", "hybrid")
    assert result.change_above(300) is None


def test_break_evens_on_integer_volumes_handle_ties_and_touches():
    totals = {
        "a": [D(x) for x in (1, 2, 3, 3, 3, 6, 7)],
        "b": [D(x) for x in (5, 4, 3, 3, 3, 4, 4)],
    }
    # a cheaper, then tied over 2..4, then b cheaper: the break-even is the first tied volume
    assert break_evens(["a", "b"], totals) == [BreakEven("a", "b", 2, "a", "b", D(3), D(3))]
    touch = {"a": [D(x) for x in (1, 2, 3, 2, 1)], "b": [D(3)] * 5}
    assert break_evens(["a", "b"], touch) == []
    assert cheapest_changes(["a", "b"], touch) == []
    assert cheapest_changes(["a", "b"], totals) == [CheapestChange(2, "a", "b")]


@settings(max_examples=40, deadline=None)
@given(
    base=st.integers(0, 300),
    included=st.integers(0, 150),
    price=st.sampled_from(["0.5", "1.00", "1.333333", "2.00", "0.07"]),
    up_to=st.integers(1, 120),
    low_price=st.sampled_from(["0.40", "0.90", "1.50"]),
    mode=st.sampled_from(["graduated", "volume"]),
    seat=st.sampled_from(["0", "10.00", "45.50"]),
    seats=st.integers(0, 6),
    tpo=st.sampled_from(["1", "1.25", "1.5"]),
)
def test_break_evens_are_exact_on_whole_volumes(base, included, price, up_to, low_price, mode, seat, seats, tpo):
    a = parse_plan({"name": "A", "base_fee": str(base), "included_outcomes": included, "outcome_price": price})
    b = parse_plan({"name": "B", "seat_price": seat, "tiers_mode": mode,
                    "tiers": [{"up_to": up_to, "unit_price": "1.20"}, {"up_to": None, "unit_price": low_price}]})
    prospect = Prospect(50, seats=seats, tasks_per_outcome=D(tpo))
    result = compare({"a": a, "b": b}, prospect, year=2026, month=11, max_volume=400)

    def cost(key, v):
        return quote({"a": a, "b": b}[key], v, free_remaining=0, year=2026, month=11, seats=seats, tasks=prospect.tasks(v)).total

    for e in result.break_evens:
        # from the break-even on, the plan that became cheaper costs no more
        assert cost(e.cheaper_above, e.volume) <= cost(e.cheaper_below, e.volume)
        assert cost(e.cheaper_above, e.volume - 1) >= cost(e.cheaper_below, e.volume - 1)
    # and between two consecutive break-evens the order never swaps
    marks = [0] + [e.volume for e in result.break_evens] + [401]
    for lo, hi in zip(marks, marks[1:], strict=False):
        signs = {(cost("a", v) > cost("b", v)) - (cost("a", v) < cost("b", v)) for v in range(lo, hi, 7)}
        assert not ({1, -1} <= signs), (lo, hi)


def test_tasks_per_outcome_rounds_half_up():
    assert Prospect(2, tasks_per_outcome=D("1.25")).tasks() == 3  # 2.5 -> 3, not banker's 2
    assert Prospect(10, tasks_per_outcome=D("1.04")).tasks() == 10
    assert Prospect(0, tasks_per_outcome=D("3")).tasks() == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(outcomes=-1), "must not be negative"),
        (dict(outcomes=10**9), "at most"),
        (dict(outcomes=10, seats=-2), "seats must not be negative"),
        (dict(outcomes=10, tasks_per_outcome="lots"), "not a number"),
        (dict(outcomes=10, tasks_per_outcome="-1"), "between 0 and 100"),
    ],
)
def test_bad_prospects_are_refused(kwargs, message):
    with pytest.raises(OverseerError, match=message):
        Prospect(**kwargs)


def test_plans_in_different_currencies_are_refused():
    eur = parse_plan({"name": "EUR plan", "currency": "EUR", "base_fee": "10"})
    with pytest.raises(OverseerError, match="share a currency"):
        compare({"usd": SEED["hybrid"], "eur": eur}, Prospect(10), year=2026, month=11)
    with pytest.raises(OverseerError, match="at least one plan"):
        compare({}, Prospect(10), year=2026, month=11)


def test_default_range_is_about_twice_the_volume_on_a_round_number():
    assert default_max_volume(0) == 500
    assert default_max_volume(258) == 600
    assert default_max_volume(1234) == 2500
    assert default_max_volume(20_000) == 40_000
