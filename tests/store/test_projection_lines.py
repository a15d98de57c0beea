"""The projected bill shows its lines, and they add up to the projected total exactly (issue 17, point 1)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, list_jobs
from app.store.billing import invoice_for_month
from app.store.subscriptions import change_plan
from tests.factories import OPERATOR, add_outcomes

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _account(session, monkeypatch, plan="freemium"):
    monkeypatch.setenv("OVERSEER_NOW", "2026-10-01T00:00:00Z")
    acc = create_account(session, "acme", "Acme", SEED_PLANS[plan], template="customer-support", since=date(2026, 10, 1))
    session.commit()
    job = list_jobs(session, acc)[0]
    add_outcomes(session, acc, job, [at("2026-10-02T09:00") + timedelta(hours=5 * i) for i in range(40)])
    add_outcomes(session, acc, job, [at("2026-11-02T09:00") + timedelta(hours=3 * i) for i in range(60)])
    return acc


def test_projected_lines_add_up_to_the_projected_total(session, monkeypatch):
    acc = _account(session, monkeypatch)
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-08T12:00:00Z")
    nov = invoice_for_month(session, acc, 2026, 11, as_of=at("2026-11-08T12:00"))
    proj = nov.projected
    assert proj is not None and proj.lines
    assert sum(line.amount for line in proj.lines) == proj.total
    # The expected month is rated by the invoice's own rules: the base fee for the whole month, outcomes × price.
    plan = SEED_PLANS["freemium"]
    by_name = {line.description: line for line in proj.lines}
    assert by_name["Base fee"].amount == plan.base_fee
    assert by_name["Outcomes"].quantity == proj.outcomes
    assert by_name["Outcomes"].amount == proj.outcomes * plan.outcome_price
    assert proj.low_outcomes <= proj.outcomes <= proj.high_outcomes
    assert nov.billable <= proj.low_outcomes


def test_a_split_month_projects_its_bill_to_date_plus_the_rest(session, monkeypatch):
    acc = _account(session, monkeypatch)
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-11T09:00:00Z")
    change_plan(session, OPERATOR, acc, SEED_PLANS["hybrid"])
    session.commit()
    nov = invoice_for_month(session, acc, 2026, 11, as_of=at("2026-11-20T00:00"))
    proj = nov.projected
    assert sum(line.amount for line in proj.lines) == proj.total
    assert proj.lines[: len(nov.lines)] == nov.lines
    (rest,) = proj.lines[len(nov.lines):]
    assert rest.description.startswith("Rest of the month at Hybrid")
    assert rest.quantity == proj.outcomes - nov.billable
    assert rest.amount == proj.total - nov.total >= Decimal(0)
