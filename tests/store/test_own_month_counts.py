"""One billable count (SPEC "Billing over time"): a month's own billed outcomes and what later reviews did to them.

Freemium (30 free), from 1 Oct 2026; 40 outcomes completed in October, numbered 1–40 by completion:

- #2 (free) reviewed incorrect on 6 Nov: not credited, the allowance is not given back;
- #35 (paid) reviewed incorrect on 5 Nov: credited in November;
- #36 reviewed incorrect on 20 Oct (October does not bill it), correct on 10 Nov: charged in November.

October's own billed outcomes: 40 − 1 = 39, its invoice's ``billable``; counted now with the
current verdicts 38 are billable: 39 − 2 (#2, #35) + 1 (#36).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.models import Outcome
from app.store.accounts import create_account, list_jobs
from app.store.billing import billing_context, invoice_for_month, own_month_counts
from app.store.closing import close_through
from app.store.metrics import summary
from app.store.overview import overview_figures
from app.store.reviews import record_review
from tests.factories import OPERATOR, add_outcomes, at

AS_OF = at("2026-11-20T12:00")


@pytest.fixture
def account(session):
    account = create_account(session, "own", "Own", SEED_PLANS["freemium"], since=date(2026, 10, 1))
    session.commit()
    (job,) = list_jobs(session, account)
    add_outcomes(session, account, job, [at("2026-10-02T09:00") + timedelta(hours=12 * i) for i in range(40)])
    rows = session.exec(select(Outcome).where(Outcome.account_id == account.id).order_by(Outcome.completed_at)).all()
    for number, verdict, moment in [
        (2, "incorrect", "2026-11-06T09:00"),
        (35, "incorrect", "2026-11-05T09:00"),
        (36, "incorrect", "2026-10-20T09:00"),
        (36, "correct", "2026-11-10T09:00"),
    ]:
        record_review(session, rows[number - 1], verdict, "tester", at=at(moment))
    session.commit()
    return account, job


def test_a_past_month_counts_what_its_invoice_bills_and_says_what_changed_since(session, account):
    acc, _ = account
    own = own_month_counts(billing_context(session, acc, as_of=AS_OF), 2026, 10)
    assert own.billed == 39 == invoice_for_month(session, acc, 2026, 10, as_of=AS_OF).billable
    assert own.credited == {(2026, 11): 1}
    assert own.free == {(2026, 11): 1}
    assert own.charged == {(2026, 11): 1}
    assert (own.late, own.late_in) == (0, None)
    now = summary(session, acc.id, date(2026, 10, 1), date(2026, 10, 31), as_of=AS_OF)
    assert now.billable == own.billed - 1 - 1 + 1 == 38
    # November's invoice bills the charge of #36 too; none of its own outcomes.
    assert own_month_counts(billing_context(session, acc, as_of=AS_OF), 2026, 11).billed == 0
    assert invoice_for_month(session, acc, 2026, 11, as_of=AS_OF).billable == 1


def test_as_of_before_the_later_reviews_sees_none_of_them(session, account):
    acc, _ = account
    own = own_month_counts(billing_context(session, acc, as_of=at("2026-11-05T12:00")), 2026, 10)
    assert (own.billed, own.credited, own.free, own.charged) == (39, {(2026, 11): 1}, {}, {})


def test_a_closed_month_counts_its_final_invoice_and_its_late_outcomes(session, account):
    acc, job = account
    close_through(session, OPERATOR, acc, 2026, 10, at("2026-11-02T00:00"))
    session.commit()
    add_outcomes(session, acc, job, [at("2026-10-31T10:00")], outcome_id="late-1")
    ctx = billing_context(session, acc, as_of=AS_OF)
    own = own_month_counts(ctx, 2026, 10)
    assert own.billed == 39 == invoice_for_month(session, acc, 2026, 10, as_of=AS_OF).billable
    assert (own.late, own.late_in) == (1, (2026, 11))
    assert own.charged == {(2026, 11): 1}


def test_the_overview_uses_it_for_a_whole_month_only(session, account):
    acc, _ = account
    whole = overview_figures(session, acc, date(2026, 10, 1), date(2026, 10, 31), as_of=AS_OF)
    assert whole.own_month is not None and whole.own_month.billed == 39
    part = overview_figures(session, acc, date(2026, 10, 1), date(2026, 10, 30), as_of=AS_OF)
    assert part.own_month is None and part.summary.billable == 38
    with pytest.raises(OverseerError):
        own_month_counts(billing_context(session, acc, as_of=AS_OF), 2026, 12)
