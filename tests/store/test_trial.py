"""A trial's way to conversion: allowance, days, readiness against targets, the first bill after it."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from app.domain.errors import OverseerError
from app.domain.invoice import quote
from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, list_jobs
from app.store.billing import invoice_for_month
from app.store.trial import trial_status
from tests.factories import add_outcomes, at

D = Decimal
AS_OF = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


def _trial(session, *, since=date(2026, 11, 14), completion="0.80", accuracy="0.90", seats=0, plan="freemium"):
    account = create_account(
        session, "northwind", "Northwind", SEED_PLANS[plan], since=since, seats=seats,
        target_completion_rate=None if completion is None else D(completion),
        target_accuracy=None if accuracy is None else D(accuracy),
    )
    session.commit()
    return account, list_jobs(session, account)[0]


def test_a_trial_midway_is_ready_when_both_targets_are_met(session):
    account, job = _trial(session)
    add_outcomes(session, account, job, [at(f"2026-11-{d}T10:00") for d in range(14, 24)])  # 10 billable
    add_outcomes(session, account, job, [at("2026-11-20T11:00")] * 4, verdict="correct", reviewed_at=at("2026-11-21T09:00"))
    add_outcomes(session, account, job, [at("2026-11-22T10:00")], status="escalated")
    status = trial_status(session, account, as_of=AS_OF)
    assert status.in_trial
    assert (status.free_total, status.free_used, status.free_remaining) == (30, 14, 16)
    assert status.days_in_trial == 11  # 14 to 24 November, both counted
    assert status.billable == 14
    completion, accuracy = status.checks
    assert (completion.rate.numerator, completion.rate.denominator) == (14, 15) and completion.met is True
    assert (accuracy.rate.numerator, accuracy.rate.denominator) == (4, 4) and accuracy.met is True
    assert accuracy.confident is False  # 4 of 4: the 95% interval starts near 51%, below the 90% target
    assert status.ready
    assert status.activation_invoice is None
    assert status.this_month.projected is not None
    assert status.runs_out_on == status.this_month.projected.allowance_runs_out


def test_readiness_fails_below_target_and_without_a_sample(session):
    account, job = _trial(session)
    add_outcomes(session, account, job, [at("2026-11-15T10:00")] * 3)
    add_outcomes(session, account, job, [at("2026-11-16T10:00")] * 2, status="failed")
    status = trial_status(session, account, as_of=AS_OF)
    completion, accuracy = status.checks
    assert completion.rate.format() == "60.0%" and completion.met is False
    assert accuracy.rate.format() == "—" and accuracy.met is False  # no review yet: not met
    assert accuracy.confident is None
    assert not status.ready


def test_a_target_not_set_is_not_checked(session):
    account, job = _trial(session, completion=None, accuracy=None)
    add_outcomes(session, account, job, [at("2026-11-15T10:00")])
    status = trial_status(session, account, as_of=AS_OF)
    assert [c.met for c in status.checks] == [None, None]
    assert status.ready


def test_no_outcome_yet_is_not_ready(session):
    account, _job = _trial(session, completion=None, accuracy=None)
    status = trial_status(session, account, as_of=AS_OF)
    assert status.billable == 0 and status.pace == 0
    assert not status.ready


def test_the_first_bill_after_conversion_is_the_billing_engines(session):
    account, job = _trial(session, seats=2)
    add_outcomes(session, account, job, [at(f"2026-11-{d}T10:00") for d in range(14, 24)] * 2)  # 20 over 10.5 days
    status = trial_status(session, account, as_of=AS_OF)
    pace = 20 / 10.5
    assert status.pace == pytest.approx(pace)
    outcomes = int(D(str(pace * 31)).quantize(D(1), rounding="ROUND_HALF_UP"))
    left_then = 10 - int(D(str(pace * 7.5)).quantize(D(1), rounding="ROUND_HALF_UP"))  # 7.5 days to 1 Dec
    assert status.first_bill_outcomes == outcomes
    expected = quote(SEED_PLANS["freemium"], outcomes, free_remaining=max(0, left_then), active_days=31,
                     year=2026, month=12, seats=2, tasks=outcomes)
    assert status.first_bill == expected
    assert status.first_bill.total == D("100.00") + outcomes - max(0, left_then)

    hybrid = trial_status(session, account, as_of=AS_OF, target_plan=SEED_PLANS["hybrid"])
    assert hybrid.target_plan == SEED_PLANS["hybrid"]
    assert hybrid.first_bill == quote(SEED_PLANS["hybrid"], outcomes, free_remaining=0, active_days=31,
                                      year=2026, month=12, seats=2, tasks=outcomes)
    assert hybrid.first_bill.total == D("200.00")


def test_an_ended_trial_shows_its_real_first_bill(session):
    account, job = _trial(session, since=date(2026, 9, 20))
    add_outcomes(session, account, job, [at("2026-09-25T10:00")] * 30 + [at("2026-10-03T10:00")] * 5)
    status = trial_status(session, account, as_of=AS_OF)
    assert not status.in_trial
    assert status.activated_on == date(2026, 10, 3)
    assert status.runs_out_on == date(2026, 10, 3)
    assert status.days_in_trial == 14  # 20 September to 3 October
    assert status.activation_invoice == invoice_for_month(session, account, 2026, 10, as_of=AS_OF)
    assert status.activation_invoice.total == D("93.55") + 5  # 29 of 31 days of the base fee, 5 outcomes


def test_a_plan_without_allowance_has_no_trial(session):
    account, _job = _trial(session, plan="hybrid")
    status = trial_status(session, account, as_of=AS_OF)
    assert not status.in_trial and status.free_total == 0
    assert status.activated_on == date(2026, 11, 14)


def test_naive_as_of_is_refused(session):
    account, _job = _trial(session)
    with pytest.raises(OverseerError):
        trial_status(session, account, as_of=datetime(2026, 11, 24, 12))
