"""Review history drives the bill (SPEC "Billing over time"): the verdict in force at each moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, list_jobs
from app.store.billing import invoice_for_month
from app.store.reviews import get_outcome, record_review
from tests.factories import add_outcomes

UTC = timezone.utc
# One unit per outcome, nothing else: every figure below is a count of billed outcomes.
PER_OUTCOME = replace(SEED_PLANS["freemium"], name="Per outcome", free_outcomes=0, base_fee=Decimal(0))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def outcome(session):
    account = create_account(session, "acme", "Acme", PER_OUTCOME, since=date(2026, 9, 1))
    session.commit()
    job = list_jobs(session, account)[0]
    add_outcomes(session, account, job, [at("2026-10-06T10:00")] * 3)  # two others keep the months non-empty

    def review(verdict: str, when: str) -> None:
        o = get_outcome(session, account, job.slug, first_id)
        record_review(session, o, verdict, "Rita", at=at(when))
        session.commit()

    def bill(year: int, month: int, as_of: str):
        inv = invoice_for_month(session, account, year, month, as_of=at(as_of))
        return inv.billable, inv.total, [(line.description, line.amount) for line in inv.lines if line.amount < 0]

    from sqlmodel import select

    from app.models import Outcome

    first_id = session.exec(select(Outcome.outcome_id).where(Outcome.account_id == account.id).order_by(Outcome.id)).first()
    return review, bill


def test_incorrect_in_its_month_and_again_later_is_neither_billed_nor_credited(outcome):
    review, bill = outcome
    review("incorrect", "2026-10-09T10:00")
    review("incorrect", "2026-11-03T10:00")
    assert bill(2026, 10, "2026-11-30T00:00") == (2, Decimal("2.00"), [])
    assert bill(2026, 11, "2026-11-30T00:00") == (0, Decimal("0.00"), [])


def test_a_reversed_verdict_counts_as_of_each_moment(outcome):
    review, bill = outcome
    review("incorrect", "2026-10-08T10:00")
    review("correct", "2026-10-25T10:00")
    assert bill(2026, 10, "2026-10-10T00:00")[0] == 2  # incorrect in force on 10 Oct
    assert bill(2026, 10, "2026-10-31T00:00")[0] == 3  # correct in force at the month's end


def test_billed_then_credited_then_charged_again(outcome):
    review, bill = outcome
    review("incorrect", "2026-11-03T10:00")
    review("correct", "2026-12-05T10:00")
    assert bill(2026, 10, "2026-12-31T00:00")[:2] == (3, Decimal("3.00"))  # billed in its own month
    assert bill(2026, 11, "2026-12-31T00:00") == (0, Decimal("-1.00"), [("Credit: 1 outcomes of 2026-10 reviewed incorrect", Decimal("-1.00"))])
    assert bill(2026, 12, "2026-12-31T00:00")[:2] == (1, Decimal("1.00"))  # charged again when it stopped being incorrect
    # As of before the second review, December owes nothing for it.
    assert bill(2026, 12, "2026-12-05T09:00")[:2] == (0, Decimal("0.00"))


def test_never_billed_then_correct_is_charged_in_the_month_it_changed(outcome):
    review, bill = outcome
    review("incorrect", "2026-10-07T10:00")
    review("correct", "2026-11-10T10:00")
    assert bill(2026, 10, "2026-11-30T00:00")[:2] == (2, Decimal("2.00"))
    assert bill(2026, 11, "2026-11-30T00:00")[:2] == (1, Decimal("1.00"))
