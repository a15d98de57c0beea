"""Value delivered (SPEC "Metrics"): manual minutes of the steps the AI performed on billable outcomes × hourly cost."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from app.domain.errors import NotFound, OverseerError
from app.domain.plans import SEED_PLANS
from app.models import Account, JobStep, Outcome
from app.store.accounts import create_account, create_job, job_steps, list_jobs
from app.store.billing import invoice_history
from app.store.value import (
    monthly_value,
    return_multiple,
    set_hourly_cost,
    set_manual_minutes,
    value_delivered,
)
from tests.factories import add_outcomes, at
from tests.factories import OPERATOR

D = Decimal
AS_OF = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
# customer-support template: define 2, locate 4, prepare 3, confirm 2, execute 8, monitor 3, modify 4, conclude 2 = 28
ALL_AI = D(28)


@pytest.fixture
def acme(session):
    account = create_account(
        session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 10, 1), hourly_cost=D("60.00")
    )
    session.commit()
    return account


def _job(session, account):
    return list_jobs(session, account)[0]


def test_value_counts_the_steps_the_ai_did_on_billable_outcomes_only(session, acme):
    job = _job(session, acme)
    add_outcomes(session, acme, job, [at("2026-11-02T10:00"), at("2026-11-03T10:00"), at("2026-11-04T10:00")])
    add_outcomes(session, acme, job, [at("2026-11-05T10:00")], step_execute="human", step_modify=None)
    # not billable: reviewed incorrect, escalated, failed, open; and one outside the range
    add_outcomes(session, acme, job, [at("2026-11-06T10:00")], verdict="incorrect", reviewed_at=at("2026-11-07T10:00"))
    add_outcomes(session, acme, job, [at("2026-11-06T11:00")], status="escalated")
    add_outcomes(session, acme, job, [at("2026-11-06T12:00")], status="failed")
    add_outcomes(session, acme, job, [at("2026-11-06T13:00")], status="open", completed_at=None)
    add_outcomes(session, acme, job, [at("2026-10-20T10:00")])

    report = value_delivered(session, acme, date(2026, 11, 1), date(2026, 11, 30))
    assert report.billable == 4
    expected_minutes = 3 * ALL_AI + (ALL_AI - 8 - 4)
    assert report.minutes == expected_minutes
    assert report.hours == expected_minutes / 60
    assert report.money == D("100.00")  # 100 minutes at 60.00 an hour
    by_step = {step: (hours, runs) for step, hours, runs in report.by_step()}
    assert by_step["execute"] == (D(24) / 60, 3)
    assert by_step["modify"] == (D(12) / 60, 3)
    assert by_step["define"] == (D(8) / 60, 4)
    assert report.steps_paying(D("40.00")) == ["execute", "locate"]  # 24 + 16 minutes at 60.00 an hour
    assert report.steps_paying(D("40.01")) == ["execute", "locate", "prepare"]
    assert report.steps_paying(D("0")) == []
    assert report.steps_paying(D("1000")) is None


def test_value_is_per_job_with_each_jobs_minutes(session, acme):
    support = _job(session, acme)
    analysis = create_job(session, acme, "data-analysis")
    session.commit()
    add_outcomes(session, acme, support, [at("2026-11-02T10:00")])
    add_outcomes(session, acme, analysis, [at("2026-11-02T11:00"), at("2026-11-02T12:00")])
    report = value_delivered(session, acme, date(2026, 11, 1), date(2026, 11, 30))
    assert report.billable == 3
    # data-analysis: 10+20+30+10+40+15+20+10 = 155 minutes per all-AI outcome
    assert report.minutes == ALL_AI + 2 * 155
    assert dict((slug, hours) for slug, _name, hours in report.by_job()) == {
        "data-analysis": D(310) / 60,
        "customer-support": ALL_AI / 60,
    }
    assert report.for_job("data-analysis").billable == 2
    assert report.for_job("data-analysis").minutes == 310


def test_value_reads_the_rollups_and_equals_a_recount_of_the_raw_rows(session, acme, engine):
    job = _job(session, acme)
    analysis = create_job(session, acme, "data-analysis")
    session.commit()
    add_outcomes(session, acme, job, [at("2026-11-02T10:00")] * 50)
    add_outcomes(session, acme, job, [at("2026-11-30T23:59")] * 3, step_execute="human", step_define=None)
    add_outcomes(session, acme, analysis, [at("2026-11-01T00:00")] * 4, step_modify="human")
    add_outcomes(session, acme, job, [at("2026-11-03T10:00")] * 2, verdict="incorrect", reviewed_at=at("2026-11-04T10:00"))
    add_outcomes(session, acme, job, [at("2026-11-03T11:00")] * 2, status="escalated")
    add_outcomes(session, acme, job, [at("2026-10-31T23:59"), at("2026-12-01T00:00")])  # outside the range
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        report = value_delivered(session, acme, date(2026, 11, 1), date(2026, 11, 30))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert not [s for s in statements if "FROM outcome" in s]
    assert any("FROM rollup_outcome_day" in s for s in statements)
    assert any("FROM rollup_step_day" in s for s in statements)

    lo, hi = at("2026-11-01T00:00"), at("2026-12-01T00:00")
    billable = [
        o for o in session.execute(select(Outcome).where(Outcome.account_id == acme.id)).scalars()
        if o.status == "completed" and o.verdict != "incorrect" and lo <= o.completed_at < hi
    ]
    assert report.billable == len(billable) == 57
    assert dict(report.billable_by_job) == {"customer-support": 53, "data-analysis": 4}
    for s in report.steps:
        runs = sum(1 for o in billable if o.job_id == (job.id if s.job_slug == job.slug else analysis.id)
                   and getattr(o, f"step_{s.step}") == "ai")
        assert s.ai_runs == runs, s


def test_monthly_value_against_the_bill(session, acme):
    job = _job(session, acme)
    add_outcomes(session, acme, job, [at(f"2026-10-{d:02d}T10:00") for d in range(1, 31)])  # the free 30
    add_outcomes(session, acme, job, [at("2026-11-01T10:00")] * 12)
    months = monthly_value(session, acme, as_of=AS_OF)
    bills = invoice_history(session, acme, as_of=AS_OF)
    assert [(m.year, m.month) for m in months] == [(2026, 10), (2026, 11)]
    assert [m.bill for m in months] == [inv.total for inv in bills]
    october, november = months
    assert october.bill == D("0.00") and october.multiple is None  # the free allowance: no bill, no multiple
    assert october.value == D("840.00")  # 30 outcomes × 28 minutes at 60.00 an hour
    assert november.billable == 12 and november.value == D("336.00")
    assert november.bill == D("112.00")
    assert november.multiple == D("3")
    assert november.net == D("224.00")
    assert return_multiple(months) == (D("840.00") + D("336.00")) / D("112.00")
    assert return_multiple([october]) is None


def test_monthly_value_counts_as_ofs_day_up_to_as_of_only(session, acme):
    job = _job(session, acme)
    add_outcomes(session, acme, job, [at(f"2026-10-{d:02d}T10:00") for d in range(1, 31)])  # the free 30
    add_outcomes(session, acme, job, [at("2026-11-24T00:00"), at("2026-11-24T11:59"), AS_OF])
    add_outcomes(session, acme, job, [at("2026-11-24T12:01"), at("2026-11-24T23:59")])  # after as_of
    add_outcomes(session, acme, job, [at("2026-11-24T13:00")], step_execute="human")
    november = monthly_value(session, acme, as_of=AS_OF)[-1]
    assert november.billable == 3
    assert november.value == D("84.00")  # 3 outcomes × 28 minutes at 60.00 an hour
    later = monthly_value(session, acme, as_of=datetime(2026, 11, 25, tzinfo=timezone.utc))[-1]
    assert later.billable == 6
    assert later.value == D("84.00") * 2 - D("8.00")  # the last one's execute step was a person's


def test_editing_minutes_and_hourly_cost_changes_the_value(session, acme):
    job = _job(session, acme)
    add_outcomes(session, acme, job, [at("2026-11-02T10:00")] * 2)
    stored = set_manual_minutes(session, acme, job.slug, {"execute": "12.5", "define": 0}, actor=OPERATOR)
    set_hourly_cost(session, acme, "30", actor=OPERATOR)
    session.commit()
    assert stored == {"execute": D("12.5"), "define": D(0)}
    minutes = {s.step: s.manual_minutes for s in job_steps(session, job)}
    assert minutes["execute"] == D("12.5") and minutes["define"] == 0 and minutes["locate"] == 4
    report = value_delivered(session, acme, date(2026, 11, 1), date(2026, 11, 30))
    assert report.minutes == 2 * (ALL_AI - 2 - 8 + D("12.5"))
    assert report.hourly_cost == D("30.00")
    assert report.money == D("30.50")  # 61 minutes at 30.00


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ({"execute": "-1"}, "between 0 and"),
        ({"execute": "10081"}, "between 0 and"),
        ({"execute": "1.234"}, "more than two decimals"),
        ({"execute": "soon"}, "not a number"),
        ({"execute": "NaN"}, "not a finite number"),
        ({"lunch": "5"}, "unknown step"),
    ],
)
def test_bad_minutes_are_refused_and_nothing_changes(session, acme, minutes, message):
    job = _job(session, acme)
    with pytest.raises(OverseerError, match=message):
        set_manual_minutes(session, acme, job.slug, {"define": "9", **minutes}, actor=OPERATOR)
    session.rollback()
    assert session.execute(select(JobStep.manual_minutes).where(JobStep.job_id == job.id, JobStep.step == "define")).scalar_one() == 2


def test_unknown_job_is_not_found(session, acme):
    with pytest.raises(NotFound):
        set_manual_minutes(session, acme, "nope", {"define": "1"}, actor=OPERATOR)


@pytest.mark.parametrize(("amount", "message"), [("-1", "between 0"), ("100000.01", "between 0"), ("abc", "not a number"), (None, "must be a number")])
def test_bad_hourly_costs_are_refused(session, acme, amount, message):
    with pytest.raises(OverseerError, match=message):
        set_hourly_cost(session, acme, amount, actor=OPERATOR)


def test_hourly_cost_is_rounded_to_cents_half_up(session, acme):
    assert set_hourly_cost(session, acme, "41.005", actor=OPERATOR) == D("41.01")
    session.commit()
    assert session.execute(select(Account.hourly_cost).where(Account.id == acme.id)).scalar_one() == D("41.01")


def test_an_account_without_outcomes_has_zero_value(session, acme):
    report = value_delivered(session, acme, date(2026, 11, 1), date(2026, 11, 30))
    assert report.billable == 0 and report.minutes == 0 and report.money == D("0.00")
    assert len(report.steps) == 8
    with pytest.raises(OverseerError):
        value_delivered(session, acme, date(2026, 11, 30), date(2026, 11, 1))


@pytest.fixture
def reviewed_over_time(session, acme):
    """As of 24 Nov 12:00 (``AS_OF``), in November:

    - P: completed 24 Nov 10:00 → counts;
    - Q: completed 24 Nov 13:00, R: completed 25 Nov 09:00 → out, completed after as_of;
    - S: completed 20 Nov 10:00, reviewed incorrect on 25 Nov → counts, unreviewed then;
    - T: completed 19 Nov 10:00 with a person's execute step, reviewed incorrect then and correct on
      26 Nov → out, incorrect then;
    - U: completed 5 Nov 10:00, reviewed incorrect on 25 Nov → counts in a range holding 5 Nov only.
    """
    from app.store.reviews import record_review

    job = _job(session, acme)
    for name, completed, fields in [
        ("P", "2026-11-24T10:00", {}),
        ("Q", "2026-11-24T13:00", {}),
        ("R", "2026-11-25T09:00", {}),
        ("S", "2026-11-20T10:00", {}),
        ("T", "2026-11-19T10:00", {"step_execute": "human"}),
        ("U", "2026-11-05T10:00", {}),
    ]:
        add_outcomes(session, acme, job, [at(completed)], outcome_id=name, **fields)
    by_id = {o.outcome_id: o for o in session.execute(select(Outcome).where(Outcome.account_id == acme.id)).scalars()}
    for name, verdict, moment in [
        ("S", "incorrect", "2026-11-25T08:00"),
        ("T", "incorrect", "2026-11-19T11:00"),
        ("T", "correct", "2026-11-26T08:00"),
        ("U", "incorrect", "2026-11-25T09:00"),
    ]:
        record_review(session, by_id[name], verdict, "tester", at=at(moment))
    session.commit()
    return acme


def test_value_counts_nothing_after_as_of(session, reviewed_over_time):
    acme = reviewed_over_time
    nov = (date(2026, 11, 1), date(2026, 11, 30))
    then = value_delivered(session, acme, *nov, as_of=AS_OF)
    # P, S and U, all by the AI alone: 3 × 28 minutes at 60.00 an hour.
    assert (then.billable, then.minutes, then.money) == (3, 3 * ALL_AI, D("84.00"))
    assert {step: runs for step, _hours, runs in then.by_step()}["execute"] == 3
    november = monthly_value(session, acme, as_of=AS_OF)[-1]
    assert (november.billable, november.value) == (3, D("84.00"))
    # Now: P, Q, R and T (its execute step a person's); S and U incorrect.
    now = value_delivered(session, acme, *nov)
    assert (now.billable, now.minutes) == (4, 3 * ALL_AI + ALL_AI - 8)
    assert {step: runs for step, _hours, runs in now.by_step()}["execute"] == 3


def test_value_at_or_after_every_stored_time_is_the_value_now(session, reviewed_over_time):
    acme = reviewed_over_time
    late = at("2026-11-30T23:59")
    nov = (date(2026, 11, 1), date(2026, 11, 30))
    assert value_delivered(session, acme, *nov, as_of=late) == value_delivered(session, acme, *nov)
    november = monthly_value(session, acme, as_of=late)[-1]
    assert (november.billable, november.value) == (4, D("104.00"))


def test_a_later_review_changes_only_the_range_its_outcome_lies_in(session, reviewed_over_time):
    from app.store.metrics import summary

    acme = reviewed_over_time
    early = value_delivered(session, acme, date(2026, 11, 1), date(2026, 11, 10), as_of=AS_OF)
    rest = value_delivered(session, acme, date(2026, 11, 11), date(2026, 11, 30), as_of=AS_OF)
    assert (early.billable, rest.billable) == (1, 2)  # U; P and S
    assert rest.billable == summary(session, acme.id, date(2026, 11, 11), date(2026, 11, 30), as_of=AS_OF).billable
    early_summary = summary(session, acme.id, date(2026, 11, 1), date(2026, 11, 10), as_of=AS_OF)
    assert early.billable == early_summary.billable
    # S and T (reviewed later, completed after 10 Nov) change nothing here, not even where their changes would cancel.
    assert {step: runs for step, _hours, runs in early.by_step()}["execute"] == 1
    assert (early_summary.reviewed, early_summary.correct, early_summary.incorrect) == (0, 0, 0)
    # A range wholly after as_of holds nothing.
    assert value_delivered(session, acme, date(2026, 11, 25), date(2026, 11, 30), as_of=AS_OF).billable == 0
