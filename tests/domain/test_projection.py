"""The projection's arithmetic (app.domain.projection): window, pace, the negative-binomial range, pricing."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.stats import nbinom

from app.domain.invoice import rate_month
from app.domain.plans import SEED_PLANS
from app.domain.projection import (
    HIGH,
    LOW,
    MonthSoFar,
    Pace,
    allowance_runs_out,
    expected_remaining,
    predictive_range,
    project,
    remaining_quantile,
    scenario_activation,
    window_days,
    window_start,
)

UTC = timezone.utc
HYBRID = SEED_PLANS["hybrid"]
FREEMIUM = SEED_PLANS["freemium"]
NOV = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))

counts = st.integers(0, 100_000)
window_lengths = st.floats(1.0, 14.0, allow_nan=False)
days_left = st.floats(0.001, 31.0, allow_nan=False)


def month_so_far(plan=HYBRID, *, billed=0, free_left=None, activated_on=date(2026, 11, 1), **kw) -> MonthSoFar:
    free = plan.free_outcomes if free_left is None else free_left
    return MonthSoFar(
        plan=plan,
        start=NOV[0],
        end=NOV[1],
        billed=billed,
        free_remaining_start=kw.pop("free_remaining_start", free),
        free_left=free,
        activated_on=activated_on,
        converted_on=kw.pop("converted_on", None),
        seats=kw.pop("seats", 0),
        tasks=kw.pop("tasks", 0),
    )


def test_window_crosses_the_month_boundary():
    # At 1 Oct 06:00 the window is the last 14 days of September (and six hours of October).
    as_of = datetime(2026, 10, 1, 6, tzinfo=UTC)
    start = window_start(as_of, datetime(2026, 1, 1, tzinfo=UTC))
    assert start == datetime(2026, 9, 17, 6, tzinfo=UTC)
    assert window_days(start, as_of) == 14.0


def test_window_is_shortened_by_the_subscription_only_and_lasts_at_least_a_day():
    as_of = datetime(2026, 10, 1, 6, tzinfo=UTC)
    sub_start = datetime(2026, 10, 1, tzinfo=UTC)
    assert window_start(as_of, sub_start) == sub_start
    assert window_days(sub_start, as_of) == 1.0  # six hours count as one day
    later = datetime(2026, 10, 3, 12, tzinfo=UTC)
    assert window_days(sub_start, later) == 2.5


@given(k=counts, t=window_lengths, d=days_left)
def test_range_ends_are_the_negative_binomial_quantiles(k, t, d):
    low, high = predictive_range(k, t, d)
    if k == 0:
        assert (low, high) == (0, 0)
    else:
        assert low == nbinom.ppf(0.1, k, t / (t + d))
        assert high == nbinom.ppf(0.9, k, t / (t + d))
    assert low <= expected_remaining(k, t, d) <= high


@given(
    rate=st.floats(0.05, 500.0, allow_nan=False),
    k1=st.integers(1, 5_000),
    k2=st.integers(1, 5_000),
    d=days_left,
)
def test_range_widens_as_k_shrinks_at_the_same_rate(rate, k1, k2, d):
    small, large = sorted((k1, k2))
    assume(small / rate >= 1.0)  # t is at least one day
    low_s, high_s = predictive_range(small, small / rate, d)
    low_l, high_l = predictive_range(large, large / rate, d)
    assert high_s - low_s >= high_l - low_l


def test_range_is_wider_than_poisson_early_in_a_window():
    # 3 outcomes in one day, 29 days left: the rate could as well be 1 or 6 a day.
    low, high = predictive_range(3, 1.0, 29.0)
    assert (low, high) == (int(nbinom.ppf(0.1, 3, 1 / 30)), int(nbinom.ppf(0.9, 3, 1 / 30)))
    assert low < 40 and high > 150  # a Poisson(87) range would be about 75-99


def test_quantile_refuses_nonsense():
    with pytest.raises(ValueError):
        remaining_quantile(0, 3, 1.0, 2.0)
    with pytest.raises(ValueError):
        remaining_quantile(0.5, -1, 1.0, 2.0)
    with pytest.raises(ValueError):
        remaining_quantile(0.5, 1, 0.0, 2.0)
    assert remaining_quantile(0.9, 5, 2.0, 0.0) == 0


def test_expected_remaining_rounds_half_up():
    assert expected_remaining(28, 14.0, 30.75) == 62  # 61.5
    assert expected_remaining(1, 2.0, 1.0) == 1  # 0.5
    assert expected_remaining(0, 3.0, 10.0) == 0


@given(billed=st.integers(0, 2_000), k=st.integers(1, 3_000), t=window_lengths, hours_in=st.integers(0, 29 * 24))
def test_projection_prices_the_quantiles_with_the_bill(billed, k, t, hours_in):
    as_of = NOV[0] + timedelta(hours=hours_in, minutes=30)
    d = (NOV[1] - as_of).total_seconds() / 86400
    p = project(month_so_far(billed=billed), as_of=as_of, outcomes=Pace(k, t))

    def bill(n):
        return rate_month(HYBRID, billable=n, free_remaining=0, days_in_month=30, active_days=30).total

    p_nb = t / (t + d)
    assert p.low == bill(billed + int(nbinom.ppf(LOW, k, p_nb)))
    assert p.high == bill(billed + int(nbinom.ppf(HIGH, k, p_nb)))
    assert p.outcomes == billed + expected_remaining(k, t, d)
    assert p.low <= p.total <= p.high


def test_no_pace_gives_the_bill_to_date():
    month = month_so_far(billed=250)
    to_date = rate_month(HYBRID, billable=250, free_remaining=0, days_in_month=30, active_days=30).total
    p = project(month, as_of=datetime(2026, 11, 3, tzinfo=UTC), outcomes=Pace(0, 14.0))
    assert (p.outcomes, p.total, p.low, p.high) == (250, to_date, to_date, to_date)
    assert to_date == Decimal("300.00")


def test_free_allowance_activation_in_a_scenario():
    # Freemium from Nov 1: 20 used by the 3rd, 10 left; 20 in 2 days -> 280 more expected over 28 days,
    # the 11th of them on the 4th: active 27 of 30 days.
    month = month_so_far(FREEMIUM, billed=20, free_left=10, free_remaining_start=30, activated_on=None)
    as_of = datetime(2026, 11, 3, tzinfo=UTC)
    p = project(month, as_of=as_of, outcomes=Pace(20, 2.0))
    expected = rate_month(FREEMIUM, billable=300, free_remaining=30, days_in_month=30, active_days=27)
    assert p.outcomes == 300
    assert p.total == expected.total
    assert p.allowance_runs_out == date(2026, 11, 4)


def test_scenario_activation_prefers_an_earlier_conversion():
    as_of, end = datetime(2026, 11, 10, tzinfo=UTC), NOV[1]
    assert scenario_activation(as_of, end, 10, 5, None) is None
    assert scenario_activation(as_of, end, 10, 5, date(2026, 11, 21)) == date(2026, 11, 21)
    # 20 over 21 days: the first (beyond none left) comes 1.05 days on
    assert scenario_activation(as_of, end, 0, 20, date(2026, 11, 21)) == date(2026, 11, 11)
    assert scenario_activation(as_of, end, 10, 11, None) == date(2026, 11, 30)  # the last, at the month's end


def test_allowance_runs_out():
    as_of = datetime(2026, 11, 3, tzinfo=UTC)
    assert allowance_runs_out(0, 0, None, as_of, 5.0) is None
    assert allowance_runs_out(30, 0, date(2026, 11, 2), as_of, 5.0) == date(2026, 11, 2)
    assert allowance_runs_out(30, 10, None, as_of, 0.0) is None
    assert allowance_runs_out(30, 10, None, as_of, 4.0) == date(2026, 11, 5)
    assert allowance_runs_out(30, 10, None, as_of, 1e-300) is None  # beyond the calendar


def test_tasks_use_their_own_pace():
    from app.domain.plans import parse_plan

    plan = parse_plan({"name": "usage", "task_price": "1.00"})
    month = month_so_far(plan, tasks=20)
    as_of = datetime(2026, 11, 3, tzinfo=UTC)
    p = project(month, as_of=as_of, outcomes=Pace(0, 2.0), tasks=Pace(20, 2.0))
    assert p.total == Decimal("300.00")  # 20 + 10 a day for 28 days
    assert p.low == Decimal(20 + int(nbinom.ppf(0.1, 20, 2 / 30))).quantize(Decimal("0.01"))
    assert p.high == Decimal(20 + int(nbinom.ppf(0.9, 20, 2 / 30))).quantize(Decimal("0.01"))
