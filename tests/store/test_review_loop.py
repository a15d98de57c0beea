"""Second reviews and reviewer agreement (SPEC "Reviews"): who is offered what, and Cohen's kappa over blind pairs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.domain.access import Principal
from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, get_job
from app.store.outcomes import queue_counts, review_queue
from app.store.reviews import agreement, review_outcome
from tests.factories import add_outcomes, at

NOV = (date(2026, 11, 1), date(2026, 11, 30))
ADMIN = Principal(email="admin@acme.example", name="Admin", staff=True)


@pytest.fixture
def account(session):
    acc = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    session.commit()
    support = get_job(session, acc, "customer-support")
    add_outcomes(session, acc, support, [at("2026-11-02T10:00") + timedelta(minutes=i) for i in range(60)])
    return acc


def _review(session, account, outcome_id, verdict, who, minute):
    review = review_outcome(
        session, ADMIN, account, "customer-support", outcome_id, verdict, reviewer=who,
        at=at("2026-11-10T09:00") + timedelta(minutes=minute),
    )
    session.commit()
    return review


def test_the_second_review_share_goes_to_another_reviewer_blind(session, account):
    page = review_queue(session, account, *NOV, kind="completed", limit=40, reviewer="ann")
    for i, row in enumerate(page.rows[:20]):
        _review(session, account, row.outcome_id, "correct", "ann", i)
    account.second_review_share = Decimal("0.5")
    session.add(account)
    session.commit()
    # ann is never offered her own outcomes again; bob gets the share of them, the same for everyone.
    assert queue_counts(session, account, *NOV, reviewer="ann").second == 0
    bob = review_queue(session, account, *NOV, kind="second", limit=50, reviewer="bob")
    cy = review_queue(session, account, *NOV, kind="second", limit=50, reviewer="cy")
    assert 0 < bob.total < 20 and [r.outcome_id for r in bob.rows] == [r.outcome_id for r in cy.rows]
    assert queue_counts(session, account, *NOV, reviewer="bob").second == bob.total
    # bob's verdict on one of them is blind; once given, it leaves everyone's queue.
    verdicts = ["correct", "incorrect"] * len(bob.rows)
    for i, row in enumerate(bob.rows):
        review = _review(session, account, row.outcome_id, verdicts[i], "bob", 100 + i)
        assert review.blind
    assert review_queue(session, account, *NOV, kind="second", limit=50, reviewer="cy").total == 0
    agreed = agreement(session, account, *NOV)
    assert agreed.pairs == len(bob.rows)
    assert agreed.agreed == sum(1 for v in verdicts[: len(bob.rows)] if v == "correct")
    # ann always said correct: kappa is 0 (no better than chance), or undefined with one pair alike
    assert agreed.kappa in (0.0, None)
    # a review outside the share, or by the first reviewer, is not blind and makes no pair
    outside = _review(session, account, page.rows[30].outcome_id, "correct", "bob", 500)
    assert not outside.blind
    # nothing after as_of counts
    assert agreement(session, account, *NOV, as_of=at("2026-11-10T09:30")).pairs == 0


def test_the_sample_counts_toward_the_precision_target(session, account):
    counts = queue_counts(session, account, *NOV, reviewer="ann")
    assert counts.plan.reviewed == 0 and counts.plan.needed == 381
    assert counts.sampled == 60  # every unreviewed completed outcome is needed, and queued
    for i, row in enumerate(review_queue(session, account, *NOV, kind="completed", limit=5, reviewer="ann").rows):
        _review(session, account, row.outcome_id, "correct", "ann", i)
    counts = queue_counts(session, account, *NOV, reviewer="ann")
    # 5 correct of 5: an accuracy near 100% needs 35 reviews for ±5 points, 30 more
    assert (counts.plan.correct, counts.plan.reviewed, counts.plan.needed, counts.sampled) == (5, 5, 35, 30)
    assert counts.plan.reachable
