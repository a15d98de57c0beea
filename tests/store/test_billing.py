from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.errors import OverseerError
from app.domain.invoice import quote
from app.domain.plans import SEED_PLANS, parse_plan
from app.models import Outcome
from tests.factories import record_verdicts
from app.store.accounts import create_account, list_jobs
from app.store.billing import billing_state, invoice_for_month, invoice_history

UTC = timezone.utc
FREEMIUM = SEED_PLANS["freemium"]
HYBRID = SEED_PLANS["hybrid"]


def at(y, m, d, h=12, minute=0):
    return datetime(y, m, d, h, minute, tzinfo=UTC)


class Maker:
    """Adds outcomes straight into the table (the importer is not used here)."""

    def __init__(self, session, plan, since=date(2026, 11, 1), **kwargs):
        self.session = session
        self.account = create_account(session, "acme", "Acme", plan, since=since, **kwargs)
        self.job = list_jobs(session, self.account)[0]
        self.n = 0

    def add(self, completed_at, count=1, *, status="completed", verdict="unreviewed", reviewed_at=None, started_at=None):
        added = []
        for _ in range(count):
            self.n += 1
            self.session.add(
                Outcome(
                    account_id=self.account.id,
                    job_id=self.job.id,
                    outcome_id=f"o{self.n}",
                    started_at=started_at or (completed_at or at(2026, 11, 1)) - timedelta(minutes=5),
                    completed_at=completed_at,
                    status=status,
                    verdict=verdict,
                    reviewed_at=reviewed_at,
                )
            )
            added.append(f"o{self.n}")
        self.session.flush()
        if verdict != "unreviewed":
            record_verdicts(self.session, self.account, added)
        return self


# SPEC worked checks through the store
def test_freemium_first_month(session):
    m = Maker(session, FREEMIUM).add(at(2026, 11, 3), 25)
    inv = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 11, 30, 23))
    assert inv.total == Decimal("0.00")
    assert (inv.free_used, inv.free_remaining, inv.billable) == (25, 5, 25)
    state = billing_state(session, m.account, as_of=at(2026, 11, 30))
    assert (state.free_total, state.free_used, state.free_remaining, state.activated_on) == (30, 25, 5, None)


def test_freemium_full_month_after_allowance(session):
    m = Maker(session, FREEMIUM, since=date(2026, 9, 1)).add(at(2026, 9, 10), 30).add(at(2026, 9, 30, 23), 1)
    m.add(at(2026, 10, 5), 42)
    inv = invoice_for_month(session, m.account, 2026, 10, as_of=at(2026, 11, 15))
    assert inv.total == Decimal("142.00")
    assert inv.projected is None
    assert (inv.free_used, inv.free_remaining) == (0, 0)


@pytest.mark.parametrize("outcomes, total", [(150, "200.00"), (260, "320.00")])
def test_hybrid(session, outcomes, total):
    m = Maker(session, HYBRID).add(at(2026, 11, 10), outcomes)
    inv = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 12, 1, 1))
    assert inv.total == Decimal(total)
    assert billing_state(session, m.account, as_of=at(2026, 11, 2)).activated_by == "plan"


def test_freemium_activation_mid_month_prorated(session):
    m = Maker(session, FREEMIUM).add(at(2026, 11, 5), 30).add(at(2026, 11, 21, 9), 1).add(at(2026, 11, 25), 11)
    inv = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 12, 2))
    assert [(l.description, l.amount) for l in inv.lines] == [
        ("Free outcomes", Decimal("0.00")),
        ("Base fee, 10 of 30 days (prorated)", Decimal("33.33")),
        ("Outcomes", Decimal("12.00")),
    ]
    assert inv.total == Decimal("45.33")
    state = billing_state(session, m.account, as_of=at(2026, 12, 2))
    assert (state.activated_on, state.activated_by) == (date(2026, 11, 21), "allowance")


def test_incorrect_outcomes(session):
    m = Maker(session, FREEMIUM, since=date(2026, 9, 1)).add(at(2026, 9, 2), 31)
    # October: 10 billed beyond the allowance; 3 reviewed incorrect in October are never billed,
    # 2 reviewed incorrect in November are credited in November.
    m.add(at(2026, 10, 3), 5)
    m.add(at(2026, 10, 4), 3, verdict="incorrect", reviewed_at=at(2026, 10, 20))
    m.add(at(2026, 10, 6), 2, verdict="incorrect", reviewed_at=at(2026, 11, 2))
    m.add(at(2026, 10, 7), 3, verdict="correct", reviewed_at=at(2026, 10, 8))
    m.add(at(2026, 11, 3), 4)
    # escalated and failed outcomes are never billed
    m.add(at(2026, 11, 3), 2, status="escalated")
    m.add(None, 1, status="open")
    october = invoice_for_month(session, m.account, 2026, 10, as_of=at(2026, 11, 20))
    assert october.billable == 10
    assert october.total == Decimal("110.00")
    november = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 11, 20))
    assert november.lines[-1].description == "Credit: 2 outcomes of 2026-10 reviewed incorrect"
    assert november.lines[-1].amount == Decimal("-2.00")
    assert november.total == Decimal("102.00")
    # before the review, November owes no credit and October still bills them
    assert invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 11, 1, 13)).total == Decimal("100.00")


def test_credit_gives_no_free_allowance_back(session):
    m = Maker(session, FREEMIUM, since=date(2026, 10, 1))
    m.add(at(2026, 10, 2), 29).add(at(2026, 10, 3), 1, verdict="incorrect", reviewed_at=at(2026, 11, 4))
    m.add(at(2026, 10, 5), 2, verdict="incorrect", reviewed_at=at(2026, 11, 4))
    nov = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 11, 10))
    (credit,) = [l for l in nov.lines if l.amount < 0]
    # The free one is counted (it is no longer billed) but worth nothing: the allowance is not given back.
    assert credit.description == "Credit: 3 outcomes of 2026-10 reviewed incorrect (1 free: the allowance is not given back)"
    assert credit.amount == Decimal("-2.00")
    state = billing_state(session, m.account, as_of=at(2026, 11, 10))
    assert (state.free_used, state.activated_on) == (30, date(2026, 10, 5))


def test_credits_within_included_cost_nothing_and_split_months(session):
    m = Maker(session, HYBRID, since=date(2026, 9, 1)).add(at(2026, 9, 3), 196)
    m.add(at(2026, 9, 4), 2, verdict="incorrect", reviewed_at=at(2026, 10, 2))
    m.add(at(2026, 9, 4), 4, verdict="incorrect", reviewed_at=at(2026, 11, 2))
    assert invoice_for_month(session, m.account, 2026, 9, as_of=at(2026, 11, 3)).total == Decimal("204.00")
    oct_ = invoice_for_month(session, m.account, 2026, 10, as_of=at(2026, 11, 3))
    nov = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 11, 3))
    # 202 paid -> 200 gives back the 2 charged beyond the included 200; 200 -> 196 gives back nothing
    assert oct_.lines[-1].amount == Decimal("-4.00")
    assert nov.lines[-1].description == "Credit: 4 outcomes of 2026-09 reviewed incorrect"
    assert nov.to_json()["lines"][-1]["amount"] == "0.00"
    assert nov.total == Decimal("200.00")


def test_conversion_activates_before_allowance(session):
    m = Maker(session, FREEMIUM, converted_on=date(2026, 11, 11)).add(at(2026, 11, 5), 10).add(at(2026, 11, 15), 25)
    inv = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 12, 1, 0, 5))
    assert [l.description for l in inv.lines] == ["Free outcomes", "Base fee, 20 of 30 days (prorated)", "Outcomes"]
    assert inv.total == Decimal("66.67") + Decimal("5.00")
    state = billing_state(session, m.account, as_of=at(2026, 12, 1))
    assert (state.activated_on, state.activated_by) == (date(2026, 11, 11), "conversion")
    # not converted yet on the 10th
    assert billing_state(session, m.account, as_of=at(2026, 11, 10)).activated_on is None


def test_seats_and_tasks(session):
    plan = parse_plan({"name": "mix", "seat_price": "50.00", "task_price": "0.80"})
    m = Maker(session, plan, seats=3).add(at(2026, 11, 4), 4).add(None, 2, status="open", started_at=at(2026, 11, 6))
    m.add(at(2026, 11, 6), 1, status="failed", started_at=at(2026, 10, 31))  # started before the subscription
    m.add(at(2026, 12, 1, 1), 1, started_at=at(2026, 11, 30, 23))  # started in November
    inv = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 12, 2))
    assert [(l.description, l.quantity, l.amount) for l in inv.lines] == [
        ("Seats", 3, Decimal("150.00")),
        ("Tasks", 7, Decimal("5.60")),
    ]


def test_only_outcomes_up_to_as_of_count(session):
    m = Maker(session, HYBRID).add(at(2026, 11, 3), 210).add(at(2026, 11, 20), 10)
    inv = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 11, 10))
    assert inv.billable == 210
    assert inv.total == Decimal("220.00")
    assert inv.projected is not None


def test_months_before_start_are_empty_and_future_refused(session):
    m = Maker(session, HYBRID, since=date(2026, 11, 16)).add(at(2026, 11, 10), 5).add(at(2026, 11, 20), 5)
    before = invoice_for_month(session, m.account, 2026, 10, as_of=at(2026, 12, 5))
    assert before.lines == () and before.total == Decimal("0.00")
    nov = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 12, 5))
    assert nov.billable == 5  # outcomes before the subscription's first day are not billed
    assert nov.lines[0].description == "Base fee, 15 of 30 days (prorated)"
    with pytest.raises(OverseerError, match="starts after"):
        invoice_for_month(session, m.account, 2027, 1, as_of=at(2026, 12, 5))
    with pytest.raises(OverseerError, match="no such month"):
        invoice_for_month(session, m.account, 2026, 0, as_of=at(2026, 12, 5))
    with pytest.raises(OverseerError, match="timezone-aware"):
        billing_state(session, m.account, as_of=datetime(2026, 12, 5))


def test_history_oldest_first(session):
    m = Maker(session, FREEMIUM, since=date(2026, 9, 15)).add(at(2026, 9, 20), 20).add(at(2026, 10, 20), 20)
    m.add(at(2026, 11, 2), 5)
    history = invoice_history(session, m.account, as_of=at(2026, 11, 10))
    assert [(i.year, i.month) for i in history] == [(2026, 9), (2026, 10), (2026, 11)]
    assert [i.free_used for i in history] == [20, 10, 0]
    assert [i.total for i in history] == [Decimal("0.00"), Decimal("48.71"), Decimal("105.00")]
    assert [i.projected is None for i in history] == [True, True, False]
    assert history[-1].to_json()["projected"]["outcomes"] >= 5


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan_key=st.sampled_from(["freemium", "hybrid"]),
    days=st.lists(st.integers(1, 30), max_size=60),
)
def test_store_agrees_with_quote(session, plan_key, days):
    """Outcomes all in one full month after activation price like quote() does."""
    session.rollback()
    plan = SEED_PLANS[plan_key]
    m = Maker(session, plan, since=date(2026, 10, 1), converted_on=date(2026, 10, 1))
    for day in days:
        m.add(at(2026, 11, day))
    inv = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 12, 1))
    expected = quote(plan, len(days), free_remaining=plan.free_outcomes, active_days=30, year=2026, month=11)
    assert (inv.total, inv.free_used, inv.free_remaining) == (expected.total, expected.free_used, expected.free_remaining)
    assert inv.total == sum((l.amount for l in inv.lines), Decimal(0))


@pytest.mark.parametrize("mode, total", [("graduated", "85.00"), ("volume", "60.00")])
def test_tiered_plan_through_the_store(session, mode, total):
    plan = parse_plan(
        {
            "name": "tiered",
            "included_outcomes": 3,
            "tiers_mode": mode,
            "tiers": [
                {"up_to": 5, "unit_price": "7.00"},
                {"up_to": 10, "unit_price": "6.00", "flat_fee": "10.00"},
                {"up_to": None, "unit_price": "5.00"},
            ],
        }
    )
    m = Maker(session, plan).add(at(2026, 11, 2), 15)  # 3 included, 12 through the tiers
    inv = invoice_for_month(session, m.account, 2026, 11, as_of=at(2026, 12, 1))
    assert inv.total == Decimal(total)
    assert inv.lines[0] == quote(plan, 15, year=2026, month=11).lines[0]
    assert inv.to_json()["lines"][0]["description"] == "Included outcomes"
