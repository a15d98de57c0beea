from datetime import timedelta
from decimal import Decimal

from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, list_jobs
from app.store.alerts import alerts_for
from tests.factories import add_outcomes, at

AS_OF = at("2026-11-20T12:00")


def make(session, plan="freemium", **kw):
    account = create_account(session, "acme", "Acme", SEED_PLANS[plan], since=at("2026-11-01T00:00").date(), **kw)
    session.commit()
    (job,) = list_jobs(session, account)
    return account, job


def codes(session, account):
    return [a.code for a in alerts_for(session, account, as_of=AS_OF)]


def spread(n, start="2026-11-02T09:00", hours=8):
    return [at(start) + timedelta(hours=hours * i) for i in range(n)]


def test_no_outcomes_no_alerts(session):
    account, _ = make(session, target_accuracy=Decimal("0.9"), target_completion_rate=Decimal("0.85"))
    assert codes(session, account) == []


def test_allowance_80_then_100(session):
    account, job = make(session)
    add_outcomes(session, account, job, spread(24))
    assert codes(session, account) == ["allowance-80"]
    add_outcomes(session, account, job, spread(6, start="2026-11-19T09:00", hours=1))
    assert codes(session, account) == ["allowance-100"]
    (alert,) = alerts_for(session, account, as_of=AS_OF)
    assert alert.severity == "critical" and "All 30 free outcomes are used" in alert.message
    assert "the next billable outcome starts the paid plan" in alert.message
    add_outcomes(session, account, job, [at("2026-11-20T08:00")])
    (alert,) = alerts_for(session, account, as_of=AS_OF)
    assert "the paid plan is active since 2026-11-20" in alert.message


def test_quality_alerts_against_targets(session):
    account, job = make(session, plan="hybrid", target_accuracy=Decimal("0.9"), target_completion_rate=Decimal("0.85"))
    add_outcomes(session, account, job, spread(8), verdict="correct", reviewed_at=at("2026-11-15T00:00"))
    add_outcomes(session, account, job, spread(2), verdict="incorrect", reviewed_at=at("2026-11-15T00:00"))
    assert codes(session, account) == ["accuracy"]  # 8 of 10 = 80% < 90%; completion 100%
    add_outcomes(session, account, job, spread(3), status="escalated", step_execute="human", handoff_step="execute")
    assert codes(session, account) == ["accuracy", "completion"]  # 10 of 13 completed = 76.9% < 85%
    accuracy = alerts_for(session, account, as_of=AS_OF)[0]
    assert "80.0%" in accuracy.message and "8 of 10" in accuracy.message and "90.0%" in accuracy.message


def test_budget_alert_comes_first(session):
    account, job = make(session, plan="hybrid", monthly_budget=Decimal("240.00"), target_accuracy=Decimal("0.99"))
    add_outcomes(session, account, job, spread(40, hours=4), verdict="incorrect", reviewed_at=at("2026-11-19T00:00"))
    add_outcomes(session, account, job, spread(150, hours=2))
    found = alerts_for(session, account, as_of=AS_OF)
    assert [a.code for a in found] == ["budget", "accuracy"]
    assert "above the budget of 240.00 USD" in found[0].message


def test_allowance_used_up_in_an_earlier_month_is_not_alarmed_again(session):
    account, job = make(session)
    add_outcomes(session, account, job, spread(32, start="2026-11-02T09:00", hours=2))
    assert codes(session, account) == ["allowance-100"]
    december = alerts_for(session, account, as_of=at("2026-12-03T12:00"))
    assert "allowance-100" not in [a.code for a in december]
