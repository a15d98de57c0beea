"""What billing reads of the review history (``verdict_effects``) equals judging every outcome by SPEC's rule.

Random outcomes, each with a random history of reviews (several incorrect spans
included), around two month ends; the store's reading (counts in SQL, the few
credited or charged outcomes in Python) is compared with applying
:func:`app.domain.verdicts.billing_of` to every outcome's whole history.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from app.domain import verdicts
from app.domain.plans import SEED_PLANS
from app.models import Outcome, Review
from app.store.accounts import create_account, get_subscription, list_jobs
from app.store.billing import verdict_effects
from app.store.spans import refresh_spans

UTC = timezone.utc
T0 = datetime(2026, 9, 25, tzinfo=UTC)
hours = st.integers(0, 24 * 70)
histories = st.lists(st.tuples(st.integers(-24 * 10, 24 * 70), st.sampled_from(["correct", "incorrect"])), max_size=5)
outcomes = st.lists(st.tuples(hours, st.sampled_from(["completed", "completed", "failed"]), histories), max_size=12)
_slugs = itertools.count()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=outcomes, as_of_h=hours)
def test_the_store_reads_the_review_history_as_the_rule_says(session, drawn, as_of_h):
    account = create_account(session, f"ve-{next(_slugs)}", "VE", SEED_PLANS["freemium"], since=date(2026, 9, 1))
    job = list_jobs(session, account)[0]
    as_of = T0 + timedelta(hours=as_of_h)
    expected_unbilled, expected_charges, expected_credits = defaultdict(int), defaultdict(int), []
    pks = []
    for i, (done_h, status, history) in enumerate(drawn):
        completed = T0 + timedelta(hours=done_h)
        pk = session.execute(
            insert(Outcome).returning(Outcome.id),
            [{"account_id": account.id, "job_id": job.id, "outcome_id": f"V-{i}", "started_at": completed - timedelta(hours=1),
              "completed_at": completed, "status": status, "verdict": "unreviewed", "updated_at": completed}],
        ).scalar_one()
        reviews = sorted((completed + timedelta(hours=h), v) for h, v in history)
        if reviews:
            session.execute(insert(Review), [
                {"outcome_pk": pk, "reviewer": "t", "reviewed_at": at, "verdict": v, "comment": "", "source": "app"}
                for at, v in reviews
            ])
        pks.append(pk)
        if status != "completed" or completed > as_of:
            continue
        billing = verdicts.billing_of(completed, verdicts.incorrect_spans(reviews), as_of)
        if not billing.own_month:
            expected_unbilled[completed.date()] += 1
        key = (completed, pk)
        for event in billing.events:
            if event.sign > 0:
                expected_charges[event.at.date()] += 1
                key = (event.at, 0)
            else:
                expected_credits.append((event.month, event.source, key))
    refresh_spans(session.connection(), pks)
    try:
        sub, _ = get_subscription(session, account)
        got = verdict_effects(session, account, sub, as_of)
        assert got.unbilled == dict(expected_unbilled)
        assert got.charges == dict(expected_charges)
        assert sorted(got.credits) == sorted(expected_credits)
    finally:
        session.rollback()
