"""Nothing after ``as_of`` counts in the metrics (SPEC "Billing over time"), on both backends.

As of 20 Nov 12:00, with the range 15–30 Nov:

- A: completed 20 Nov 10:00, reviewed correct at 10:30, incorrect on 21 Nov → counts, correct;
- B: completed 20 Nov 13:00 (started 12:40) → out, not a task;
- C: open, started 20 Nov 14:00 → out, not a task;
- D: completed 21 Nov 09:00 → out;
- E: completed 20 Nov 11:00, reviewed incorrect on 22 Nov → counts, unreviewed (billable);
- F: completed 19 Nov 10:00, reviewed incorrect then, correct on 23 Nov → counts, incorrect.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from app.models import Outcome
from app.store.metrics import daily, job_summaries, step_stats, summary
from app.store.reviews import record_review
from tests.factories import add_outcomes, at
from tests.store.test_metrics import make_account

AS_OF = at("2026-11-20T12:00")
START, END = date(2026, 11, 15), date(2026, 11, 30)


@pytest.fixture
def account(session):
    account, job = make_account(session, "asof")
    for name, completed in {"A": "2026-11-20T10:00", "B": "2026-11-20T13:00", "D": "2026-11-21T09:00",
                            "E": "2026-11-20T11:00", "F": "2026-11-19T10:00"}.items():
        add_outcomes(session, account, job, [at(completed)], outcome_id=name)
    add_outcomes(session, account, job, [at("2026-11-20T14:20")], outcome_id="C", status="open", completed_at=None)
    by_id = {o.outcome_id: o for o in session.exec(select(Outcome).where(Outcome.account_id == account.id))}
    for name, verdict, moment in [
        ("A", "correct", "2026-11-20T10:30"), ("A", "incorrect", "2026-11-21T08:00"),
        ("E", "incorrect", "2026-11-22T08:00"),
        ("F", "incorrect", "2026-11-19T11:00"), ("F", "correct", "2026-11-23T08:00"),
    ]:
        record_review(session, by_id[name], verdict, "tester", at=at(moment))
    session.commit()
    return account, job


def test_summary_counts_nothing_after_as_of(session, account):
    acc, _ = account
    s = summary(session, acc.id, START, END, as_of=AS_OF)
    assert (s.outcomes, s.open, s.completed, s.closed, s.tasks) == (3, 0, 3, 3, 3)
    # The verdicts in force at 12:00: A correct, E unreviewed, F incorrect.
    assert (s.reviewed, s.correct, s.incorrect, s.billable) == (2, 1, 1, 2)
    # Without as_of every stored row and current verdict counts (what the page showed before).
    now = summary(session, acc.id, START, END)
    assert (now.outcomes, now.open, now.completed, now.correct, now.incorrect, now.billable) == (6, 1, 5, 1, 2, 3)


def test_daily_and_jobs_agree_with_the_summary(session, account):
    acc, _ = account
    frame = daily(session, acc.id, START, END, as_of=AS_OF).set_index("day")
    assert frame.loc[date(2026, 11, 20), ["completed", "open", "correct", "incorrect", "billable"]].tolist() == [2, 0, 1, 0, 2]
    assert frame.loc[date(2026, 11, 19), ["completed", "incorrect", "billable"]].tolist() == [1, 1, 0]
    assert frame.loc[date(2026, 11, 21) :].to_numpy().sum() == 0
    ((_, per_job),) = job_summaries(session, acc.id, START, END, as_of=AS_OF)
    assert per_job == summary(session, acc.id, START, END, as_of=AS_OF)


def test_step_stats_leave_out_later_outcomes(session, account):
    acc, job = account
    stats = {s.step: s for s in step_stats(session, acc.id, START, END, job_id=job.id, as_of=AS_OF)}
    assert stats["define"].reached == 3 and stats["define"].ai_runs == 3
    assert {s.step: s.reached for s in step_stats(session, acc.id, START, END)}["define"] == 6


def test_a_range_after_as_of_is_empty_and_a_reversed_one_refused(session, account):
    acc, _ = account
    assert summary(session, acc.id, date(2026, 11, 21), END, as_of=AS_OF).outcomes == 0
    # as_of at the end of its day: the whole day counts, B and C included.
    late = summary(session, acc.id, START, END, as_of=at("2026-11-20T23:59:59"))
    assert (late.outcomes, late.open, late.tasks) == (5, 1, 5)
    from app.domain.errors import OverseerError

    with pytest.raises(OverseerError):
        summary(session, acc.id, END, START, as_of=AS_OF)
    with pytest.raises(OverseerError):
        summary(session, acc.id, START, END, as_of=AS_OF.replace(tzinfo=None))


def test_the_portfolio_counts_nothing_after_as_of(session, account):
    from app.store.portfolio import coverage_matrix, job_quality, top_handoff_steps
    from tests.factories import OPERATOR

    acc, job = account
    quality = job_quality(session, OPERATOR, START, END, as_of=AS_OF).set_index("job_slug").loc[job.slug]
    s = summary(session, acc.id, START, END, as_of=AS_OF)
    assert (quality.closed, quality.completed, quality.accuracy_n) == (s.closed, s.completed, s.reviewed) == (3, 3, 2)
    matrix = coverage_matrix(session, OPERATOR, START, END, as_of=AS_OF)
    define = matrix[(matrix.job_slug == job.slug) & (matrix.step == "define")].iloc[0]
    assert define.runs == 3
    assert top_handoff_steps(session, OPERATOR, START, END, as_of=AS_OF).reached.max() == 3
    assert job_quality(session, OPERATOR, START, END).set_index("job_slug").loc[job.slug].closed == 5
