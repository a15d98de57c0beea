"""The projection through the store: the window's counts, read from the rollups and raw rows."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import nbinom

from app.domain.invoice import quote, rate_month
from app.domain.plans import SEED_PLANS, parse_plan
from app.store.billing import invoice_for_month
from app.store.projection import project_month
from tests.store.test_billing import Maker, at

UTC = timezone.utc
FREEMIUM = SEED_PLANS["freemium"]
HYBRID = SEED_PLANS["hybrid"]


def test_rate_over_last_14_days_and_range(session):
    # 2 outcomes a day over Nov 1-14: at midnight on the 15th that is 28 in the last 14 days, 16 days left
    m = Maker(session, HYBRID, since=date(2026, 10, 1))
    for day in range(1, 15):
        m.add(at(2026, 11, day), 2)
    as_of = datetime(2026, 11, 15, tzinfo=UTC)
    p = project_month(session, m.account, as_of=as_of)
    assert p.outcomes == 28 + 32
    assert p.total == quote(HYBRID, 60, year=2026, month=11).total == Decimal("200.00")
    assert p.allowance_runs_out is None
    m.add(at(2026, 11, 14, 13), 200)
    p = project_month(session, m.account, as_of=as_of)
    expected = round(228 * 16 / 14)
    assert p.outcomes == 228 + expected
    assert p.total == quote(HYBRID, 228 + expected, year=2026, month=11).total
    # NB(k=228, p=14/30): the rate's own uncertainty widens the range
    assert p.low == quote(HYBRID, 228 + int(nbinom.ppf(0.1, 228, 14 / 30)), year=2026, month=11).total
    assert p.high == quote(HYBRID, 228 + int(nbinom.ppf(0.9, 228, 14 / 30)), year=2026, month=11).total
    assert p.low <= p.total <= p.high


def test_month_start_does_not_shorten_the_window(session):
    # Subscribed in October, 3 outcomes in the first ten minutes of November: at 06:00 on the 1st the window
    # is the 14 days since 18 Oct 06:00, not six hours read as a whole day (which would project 3 a day).
    m = Maker(session, HYBRID, since=date(2026, 10, 1)).add(at(2026, 11, 1, 0, 10), 3)
    p = project_month(session, m.account, as_of=at(2026, 11, 1, 6))
    assert p.outcomes == 3 + round(3 * 29.75 / 14)


def test_subscription_start_shortens_the_window_to_at_least_one_day(session):
    m = Maker(session, HYBRID, since=date(2026, 11, 1)).add(at(2026, 11, 1, 0, 10), 3)
    p = project_month(session, m.account, as_of=at(2026, 11, 1, 6))
    # observed since the subscription began, but at least one day: 3 a day, 29.75 days left
    assert p.outcomes == 3 + round(3 * 29.75)


def test_worked_check_1_oct_0600_uses_the_last_14_days_of_september(session):
    # Issue 11: the projection at 1 Oct 06:00 uses the last 14 days of September.
    m = Maker(session, HYBRID, since=date(2026, 9, 1))
    m.add(at(2026, 9, 10), 50)  # long before the window
    m.add(at(2026, 9, 17, 5, 59), 7)  # a minute before it opens
    m.add(at(2026, 9, 17, 6), 1)  # at its first instant: counts
    for day in range(18, 31):
        m.add(at(2026, 9, day), 2)  # 26
    m.add(at(2026, 10, 1, 3), 1)  # billed in October
    as_of = at(2026, 10, 1, 6)
    p = project_month(session, m.account, as_of=as_of)
    k, t, d = 1 + 26 + 1, 14.0, 30.75  # 1 Oct 06:00 to 1 Nov 00:00
    assert p.outcomes == 1 + 62  # 28 * 30.75 / 14 = 61.5, half up
    assert p.total == quote(HYBRID, 63, year=2026, month=10).total
    assert p.low == quote(HYBRID, 1 + int(nbinom.ppf(0.1, k, t / (t + d))), year=2026, month=10).total
    assert p.high == quote(HYBRID, 1 + int(nbinom.ppf(0.9, k, t / (t + d))), year=2026, month=10).total
    assert invoice_for_month(session, m.account, 2026, 10, as_of=as_of).projected == p


@pytest.mark.parametrize(("hour", "expected"), [(3, 11), (12, 11), (21, 10)])
def test_outcome_at_the_windows_first_instant_counts(session, hour, expected):
    # Either side of the first day is the one read from the raw rows, whichever is shorter.
    m = Maker(session, HYBRID, since=date(2026, 10, 1))
    as_of = at(2026, 11, 20, hour)
    first = as_of - timedelta(days=14)
    m.add(first - timedelta(seconds=1), 100)  # just outside
    p = project_month(session, m.account, as_of=as_of)
    assert p.outcomes == 100  # nothing in the window: nothing more expected
    m.add(first, 14)
    p = project_month(session, m.account, as_of=as_of)
    # 14 in 14 days, one a day: 10.875, 10.5 (half up) and 10.125 days left
    assert p.outcomes == 114 + expected


def test_date_only_export_stamped_at_midnight_on_the_1st_counts(session):
    # A date-only export stamps every outcome 00:00 of its day. At midnight on the 15th the window opens
    # at 00:00 on the 1st: the 1st's outcomes are in it (counting strictly after lost the whole day).
    m = Maker(session, HYBRID, since=date(2026, 9, 1))
    for day in range(1, 15):
        m.add(at(2026, 10, day, 0), 5)
    p = project_month(session, m.account, as_of=at(2026, 10, 15, 0))
    assert p.outcomes == 70 + round(70 * 17 / 14)  # 5 a day, 17 days left


def test_no_outcome_in_the_window_gives_the_bill_to_date(session):
    m = Maker(session, HYBRID, since=date(2026, 10, 1)).add(at(2026, 11, 2), 250)
    as_of = at(2026, 11, 20)
    p = project_month(session, m.account, as_of=as_of)
    bill = invoice_for_month(session, m.account, 2026, 11, as_of=as_of).total
    assert (p.outcomes, p.total, p.low, p.high) == (250, bill, bill, bill)
    assert bill == Decimal("300.00")


def test_allowance_runs_out_projected_and_prorated(session):
    # freemium from Nov 1: 10 outcomes a day for 2 days, 10 free left on the 3rd at midnight
    m = Maker(session, FREEMIUM)
    m.add(at(2026, 11, 1), 10).add(at(2026, 11, 2), 10)
    as_of = datetime(2026, 11, 3, tzinfo=UTC)
    p = project_month(session, m.account, as_of=as_of)
    assert p.allowance_runs_out == date(2026, 11, 4)  # 10 left at 10 a day
    assert p.outcomes == 20 + 280
    # 280 more spread over 28 days: the 11th of them comes on the 4th -> active 27 of 30 days
    expected = rate_month(FREEMIUM, billable=300, free_remaining=30, days_in_month=30, active_days=27)
    assert p.total == expected.total == Decimal("90.00") + Decimal("270.00")
    assert p.low <= p.total <= p.high


def test_no_rate_no_run_out(session):
    m = Maker(session, FREEMIUM).add(at(2026, 11, 1), 3)
    p = project_month(session, m.account, as_of=at(2026, 11, 28))
    assert p.allowance_runs_out is None
    assert (p.outcomes, p.total, p.low, p.high) == (3, Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))


def test_run_out_already_happened(session):
    m = Maker(session, FREEMIUM).add(at(2026, 11, 2), 30).add(at(2026, 11, 21, 9), 1)
    p = project_month(session, m.account, as_of=at(2026, 11, 22))
    assert p.allowance_runs_out == date(2026, 11, 21)
    inv = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 11, 22))
    assert inv.projected == p
    assert p.total >= inv.total


def test_allowance_used_exactly(session):
    m = Maker(session, FREEMIUM).add(at(2026, 11, 2), 29).add(at(2026, 11, 5), 1)
    p = project_month(session, m.account, as_of=at(2026, 11, 29))
    assert p.allowance_runs_out == date(2026, 11, 5)


def test_conversion_later_this_month(session):
    m = Maker(session, FREEMIUM, converted_on=date(2026, 11, 21)).add(at(2026, 11, 2), 1)
    p = project_month(session, m.account, as_of=at(2026, 11, 10))
    assert p.total == Decimal("33.33")


def test_usage_plan_projects_tasks(session):
    plan = parse_plan({"name": "usage", "task_price": "1.00"})
    m = Maker(session, plan).add(at(2026, 11, 1), 10).add(None, 10, status="open", started_at=at(2026, 11, 2))
    p = project_month(session, m.account, as_of=datetime(2026, 11, 3, tzinfo=UTC))
    # 20 tasks in 2 days -> 10 a day, 28 days left
    assert p.total == Decimal("300.00")
    assert p.low < p.total < p.high


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan_key=st.sampled_from(["freemium", "hybrid"]),
    days=st.lists(st.integers(1, 27), max_size=40),
    as_of_day=st.integers(1, 28),
)
def test_range_contains_expected_total(session, plan_key, days, as_of_day):
    session.rollback()
    m = Maker(session, SEED_PLANS[plan_key], since=date(2026, 11, 1))
    for day in days:
        m.add(at(2026, 11, day))
    as_of = at(2026, 11, as_of_day, 18)
    p = project_month(session, m.account, as_of=as_of)
    inv = invoice_for_month(session, m.account, 2026, 11, as_of=as_of)
    assert p.low <= p.total <= p.high
    assert p.outcomes >= inv.billable
    assert p.total >= inv.total
