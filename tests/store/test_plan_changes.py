"""Plan changes take effect at a moment (SPEC "Billing over time"): a month with a change is billed in two periods."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, get_subscription, list_jobs, plan_history
from app.store.billing import invoice_for_month
from app.store.subscriptions import change_plan
from tests.factories import OPERATOR, add_outcomes

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def account(session, monkeypatch):
    """Freemium since 1 October, its 30 free outcomes used up in October."""
    monkeypatch.setenv("OVERSEER_NOW", "2026-10-01T00:00:00Z")
    acc = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], template="customer-support", since=date(2026, 10, 1))
    session.commit()
    job = list_jobs(session, acc)[0]
    add_outcomes(session, acc, job, [at("2026-10-02T09:00") + timedelta(hours=5 * i) for i in range(40)])
    add_outcomes(session, acc, job, [at("2026-11-02T09:00") + timedelta(hours=20 * i) for i in range(5)])
    add_outcomes(session, acc, job, [at("2026-11-11T12:00") + timedelta(hours=2 * i) for i in range(150)])
    return acc, job


def lines(invoice):
    return [(line.description, line.quantity, line.amount) for line in invoice.lines]


def test_a_change_mid_month_bills_two_periods(session, account, monkeypatch):
    acc, _ = account
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-11T09:00:00Z")
    october = invoice_for_month(session, acc, 2026, 10, as_of=at("2026-11-11T08:00")).to_json()
    change_plan(session, OPERATOR, acc, SEED_PLANS["hybrid"])
    session.commit()
    november = invoice_for_month(session, acc, 2026, 11, as_of=at("2026-12-02T00:00"))
    assert lines(november) == [
        ("Outcome-based freemium, 1–10 Nov: Base fee, 10 of 30 days (prorated)", 1, Decimal("33.33")),
        ("Outcome-based freemium, 1–10 Nov: Outcomes", 5, Decimal("5.00")),
        ("Hybrid, 11–30 Nov: Base fee, 20 of 30 days (prorated)", 1, Decimal("133.33")),
        ("Hybrid, 11–30 Nov: Included outcomes", 133, Decimal("0.00")),
        ("Hybrid, 11–30 Nov: Outcomes", 17, Decimal("34.00")),
    ]
    assert november.total == Decimal("205.66") == sum(line.amount for line in november.lines)
    # October was never re-rated.
    assert invoice_for_month(session, acc, 2026, 10, as_of=at("2026-12-02T00:00")).to_json() == october
    assert [p.plan.name for p in plan_history(session, get_subscription(session, acc)[0])] == ["Outcome-based freemium", "Hybrid"]


def test_a_change_for_a_later_month_waits_for_it(session, account, monkeypatch):
    acc, _ = account
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-20T09:00:00Z")
    change_plan(session, OPERATOR, acc, SEED_PLANS["hybrid"], effective=(2026, 12))
    session.commit()
    assert get_subscription(session, acc)[1].name == "Outcome-based freemium"  # still, until 1 December
    november = invoice_for_month(session, acc, 2026, 11, as_of=at("2026-11-30T23:00"))
    assert all("Hybrid" not in line.description for line in november.lines)
    monkeypatch.setenv("OVERSEER_NOW", "2026-12-01T00:00:00Z")
    assert get_subscription(session, acc)[1].name == "Hybrid"
    december = invoice_for_month(session, acc, 2026, 12, as_of=at("2026-12-01T00:00"))
    assert lines(december)[0] == ("Base fee", 1, Decimal("200.00"))
    # A new change replaces the one still to come.
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-25T00:00:00Z")
    change_plan(session, OPERATOR, acc, SEED_PLANS["freemium"], effective=(2027, 1))
    session.commit()
    assert [p.plan.name for p in plan_history(session, get_subscription(session, acc)[0])] == ["Outcome-based freemium", "Outcome-based freemium"]


def test_a_change_cannot_take_effect_in_the_past(session, account, monkeypatch):
    acc, _ = account
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-20T09:00:00Z")
    for month in ((2026, 11), (2026, 10)):
        with pytest.raises(OverseerError, match="later month"):
            change_plan(session, OPERATOR, acc, SEED_PLANS["hybrid"], effective=month)


def test_a_split_month_is_projected_from_its_bill_to_date(session, account, monkeypatch):
    acc, _ = account
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-11T09:00:00Z")
    change_plan(session, OPERATOR, acc, SEED_PLANS["hybrid"])
    session.commit()
    november = invoice_for_month(session, acc, 2026, 11, as_of=at("2026-11-20T00:00"))
    projected = november.projected
    assert projected is not None and november.total <= projected.low <= projected.total <= projected.high
