from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, create_job, get_job
from app.domain.stats import wilson_sample_size
from app.store.outcomes import (
    OutcomeFilter,
    count_outcomes,
    iter_outcomes,
    list_outcomes,
    queue_counts,
    review_queue,
    status_counts,
)
from tests.factories import add_outcomes, at

NOV = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def account(session):
    acc = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    create_job(session, acc, "data-analysis")
    session.commit()
    support = get_job(session, acc, "customer-support")
    analysis = get_job(session, acc, "data-analysis")
    add_outcomes(session, acc, support, [at("2026-11-02T10:00") + timedelta(hours=i) for i in range(40)])
    add_outcomes(session, acc, support, [at("2026-11-03T09:00")], status="escalated", handoff_step="confirm", step_confirm="human")
    add_outcomes(session, acc, support, [at("2026-11-04T09:00")], status="failed", handoff_step="execute")
    add_outcomes(session, acc, analysis, [at("2026-11-05T09:00")], verdict="incorrect", outcome_id="=HYPER")
    add_outcomes(session, acc, support, [at("2026-10-30T09:00")])  # before the range
    # open: in the range by its start
    add_outcomes(session, acc, support, [at("2026-11-20T09:00")], status="open", completed_at=None, started_at=at("2026-11-20T08:00"))
    return acc


def test_listing_is_paginated_newest_first(session, account):
    flt = OutcomeFilter(*NOV)
    page = list_outcomes(session, account, flt, limit=10)
    assert page.total == 44
    assert len(page.rows) == 10
    assert page.rows[0].status == "open"
    days = [r.day for r in page.rows]
    assert days == sorted(days, reverse=True)
    rest = list_outcomes(session, account, flt, limit=10, offset=40)
    assert len(rest.rows) == 4
    assert {r.outcome_id for r in page.rows}.isdisjoint({r.outcome_id for r in rest.rows})
    assert page.rows[0].started_at.tzinfo is not None


def test_filters(session, account):
    assert count_outcomes(session, account, OutcomeFilter(*NOV, statuses=("escalated", "failed"))) == 2
    assert count_outcomes(session, account, OutcomeFilter(*NOV, verdicts=("incorrect",))) == 1
    assert count_outcomes(session, account, OutcomeFilter(*NOV, job_slug="data-analysis")) == 1
    assert count_outcomes(session, account, OutcomeFilter(*NOV, handoff_step="confirm")) == 1
    assert count_outcomes(session, account, OutcomeFilter(*NOV, search="hyper")) == 1
    assert count_outcomes(session, account, OutcomeFilter(*NOV, search="%")) == 0
    assert count_outcomes(session, account, OutcomeFilter(date(2026, 10, 1), date(2026, 10, 31))) == 1
    assert count_outcomes(session, account, OutcomeFilter(date(2026, 12, 1), date(2026, 12, 31))) == 0


def test_status_counts(session, account):
    assert status_counts(session, account, OutcomeFilter(*NOV)) == {"open": 1, "completed": 41, "escalated": 1, "failed": 1}


def test_bad_filters_are_refused():
    with pytest.raises(OverseerError, match="unknown status"):
        OutcomeFilter(*NOV, statuses=("done",))
    with pytest.raises(OverseerError, match="before it starts"):
        OutcomeFilter(date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(OverseerError, match="unknown step"):
        OutcomeFilter(*NOV, handoff_step="dream")


def test_page_size_is_bounded(session, account):
    with pytest.raises(OverseerError, match="page holds"):
        list_outcomes(session, account, OutcomeFilter(*NOV), limit=100_000)


def test_iter_outcomes_yields_everything(session, account):
    assert sum(1 for _ in iter_outcomes(session, account, OutcomeFilter(*NOV), batch=7)) == 44


def test_review_queue_puts_exceptions_first_and_samples_completed(session, account):
    counts = queue_counts(session, account, *NOV)
    assert (counts.escalated, counts.failed) == (1, 1)
    # one completed outcome is reviewed (incorrect): the sample is what accuracy needs for ±5 points
    plan = counts.plan
    assert (plan.correct, plan.reviewed, plan.unreviewed) == (0, 1, 40)
    assert plan.needed == wilson_sample_size(0.0, 0.05) == 35
    assert counts.sampled == plan.size == 34
    page = review_queue(session, account, *NOV, limit=50)
    assert page.total == counts.total
    assert [r.status for r in page.rows[:2]] == ["escalated", "failed"]
    assert all(r.status == "completed" and r.verdict == "unreviewed" for r in page.rows[2:])
    # deterministic
    again = review_queue(session, account, *NOV, limit=50)
    assert [r.outcome_id for r in again.rows] == [r.outcome_id for r in page.rows]


def test_the_sample_is_sized_by_the_precision_target(session, account):
    support = get_job(session, account, "customer-support")
    add_outcomes(session, account, support, [at("2026-11-10T00:00") + timedelta(minutes=i) for i in range(2000)])
    add_outcomes(session, account, support, [at("2026-11-11T00:00") + timedelta(minutes=i) for i in range(9)], verdict="correct")
    counts = queue_counts(session, account, *NOV)
    # 9 correct of 10 reviewed: 90% needs about 150 reviews for ±5 points, 140 more
    assert counts.plan.needed == wilson_sample_size(0.9, 0.05)
    assert counts.sampled == counts.plan.needed - 10
    account.target_precision = Decimal("0.1")
    session.add(account)
    session.commit()
    assert queue_counts(session, account, *NOV).sampled == wilson_sample_size(0.9, 0.1) - 10
    # once reached, one completed outcome stays in the queue while any is unreviewed
    account.target_precision = Decimal("0.5")
    assert queue_counts(session, account, *NOV).sampled == 1
    # the same sample for everyone, and the same on every call
    first = review_queue(session, account, *NOV, kind="completed", limit=5, reviewer="ann")
    again = review_queue(session, account, *NOV, kind="completed", limit=5, reviewer="bob")
    assert [r.outcome_id for r in first.rows] == [r.outcome_id for r in again.rows]


def test_reviewed_outcomes_leave_the_queue(session, account):
    from app.models import Outcome
    from sqlmodel import select

    escalated = session.exec(select(Outcome).where(Outcome.status == "escalated")).one()
    escalated.verdict = "correct"
    session.add(escalated)
    session.commit()
    assert queue_counts(session, account, *NOV).escalated == 0


def test_review_queue_by_kind(session, account):
    page = review_queue(session, account, *NOV, kind="failed")
    assert [r.status for r in page.rows] == ["failed"] and page.total == 1
    sample = review_queue(session, account, *NOV, kind="completed", limit=50)
    assert all(r.status == "completed" for r in sample.rows)
    assert sample.total == queue_counts(session, account, *NOV).sampled
    with pytest.raises(OverseerError, match="review queue"):
        review_queue(session, account, *NOV, kind="open")


AS_OF = at("2026-11-20T12:00")


@pytest.fixture
def reviewed_over_time(session, account):
    """The listing above plus, as of 20 Nov 12:00 (``AS_OF``):

    - LATE: completed 20 Nov 13:00, NEXT: completed 21 Nov 09:00, OPEN-LATE: open, started 20 Nov 14:00 → out;
    - REV: escalated 6 Nov, reviewed correct on 21 Nov → listed unreviewed, in the queue;
    - FLIP: completed 7 Nov, reviewed incorrect then and correct on 22 Nov → listed incorrect.
    """
    from sqlmodel import select

    from app.models import Outcome
    from app.store.reviews import record_review

    support = get_job(session, account, "customer-support")
    add_outcomes(session, account, support, [at("2026-11-20T13:00")], outcome_id="LATE")
    add_outcomes(session, account, support, [at("2026-11-21T09:00")], outcome_id="NEXT")
    add_outcomes(session, account, support, [at("2026-11-20T14:00")], outcome_id="OPEN-LATE", status="open", completed_at=None)
    add_outcomes(session, account, support, [at("2026-11-06T09:00")], outcome_id="REV", status="escalated", handoff_step="execute")
    add_outcomes(session, account, support, [at("2026-11-07T09:00")], outcome_id="FLIP")
    by_id = {o.outcome_id: o for o in session.exec(select(Outcome).where(Outcome.account_id == account.id))}
    for name, verdict, moment in [
        ("REV", "correct", "2026-11-21T08:00"),
        ("FLIP", "incorrect", "2026-11-07T10:00"),
        ("FLIP", "correct", "2026-11-22T08:00"),
    ]:
        record_review(session, by_id[name], verdict, "tester", at=at(moment))
    session.commit()
    return account


def test_the_listing_holds_nothing_after_as_of(session, reviewed_over_time):
    acc = reviewed_over_time
    flt = OutcomeFilter(*NOV)
    page = list_outcomes(session, acc, flt, limit=500, as_of=AS_OF)
    listed = {r.outcome_id for r in page.rows}
    assert page.total == len(page.rows) == 46  # the 44 above, REV and FLIP
    assert not listed & {"LATE", "NEXT", "OPEN-LATE"}
    assert sum(1 for _ in iter_outcomes(session, acc, flt, as_of=AS_OF)) == count_outcomes(session, acc, flt, as_of=AS_OF) == 46
    assert status_counts(session, acc, flt, as_of=AS_OF) == {"open": 1, "completed": 42, "escalated": 2, "failed": 1}
    # Without as_of every stored row is listed.
    assert list_outcomes(session, acc, flt).total == 49
    assert status_counts(session, acc, flt)["open"] == 2


def test_the_listing_shows_the_verdicts_in_force_at_as_of(session, reviewed_over_time):
    acc = reviewed_over_time
    rows = {r.outcome_id: r for r in list_outcomes(session, acc, OutcomeFilter(*NOV), limit=500, as_of=AS_OF).rows}
    assert (rows["REV"].verdict, rows["REV"].reviewed_at) == ("unreviewed", None)
    assert (rows["FLIP"].verdict, rows["FLIP"].reviewed_at) == ("incorrect", at("2026-11-07T10:00"))
    assert count_outcomes(session, acc, OutcomeFilter(*NOV, verdicts=("incorrect",)), as_of=AS_OF) == 2  # =HYPER, FLIP
    assert count_outcomes(session, acc, OutcomeFilter(*NOV, verdicts=("correct",)), as_of=AS_OF) == 0
    assert count_outcomes(session, acc, OutcomeFilter(*NOV, verdicts=("correct",))) == 2
    now = {r.outcome_id: r for r in list_outcomes(session, acc, OutcomeFilter(*NOV), limit=500).rows}
    assert (now["FLIP"].verdict, now["FLIP"].reviewed_at) == ("correct", at("2026-11-22T08:00"))


def test_the_review_queue_as_of(session, reviewed_over_time):
    acc = reviewed_over_time
    counts = queue_counts(session, acc, *NOV, as_of=AS_OF)
    assert (counts.escalated, counts.failed) == (2, 1)  # REV was not reviewed yet
    assert queue_counts(session, acc, *NOV).escalated == 1
    page = review_queue(session, acc, *NOV, kind="escalated", as_of=AS_OF)
    assert page.total == 2 and {r.outcome_id for r in page.rows} >= {"REV"}
    assert all(r.verdict == "unreviewed" for r in page.rows)
    whole = review_queue(session, acc, *NOV, limit=500, as_of=AS_OF)
    assert whole.total == counts.total == len(whole.rows)
    assert not {r.outcome_id for r in whole.rows} & {"LATE", "NEXT", "OPEN-LATE"}
    with pytest.raises(OverseerError, match="timezone-aware"):
        queue_counts(session, acc, *NOV, as_of=AS_OF.replace(tzinfo=None))
