from datetime import datetime, timedelta, timezone

import pytest

from app.core import clock
from app.domain.errors import NotFound, OverseerError
from app.domain.plans import SEED_PLANS
from app.models import Outcome
from app.store.accounts import create_account, get_job
from app.store.reviews import get_outcome, record_review, review_history

T0 = datetime(2026, 11, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def setup(session):
    account = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], template="customer-support")
    job = get_job(session, account, "customer-support")
    for oid, status in (("TCK-1", "completed"), ("TCK-2", "open")):
        session.add(
            Outcome(
                account_id=account.id,
                job_id=job.id,
                outcome_id=oid,
                started_at=T0,
                completed_at=None if status == "open" else T0 + timedelta(hours=1),
                status=status,
            )
        )
    session.commit()
    return account


def test_latest_review_wins_and_history_is_kept(session, setup):
    outcome = get_outcome(session, setup, "customer-support", "TCK-1")
    record_review(session, outcome, "correct", "ann", at=T0 + timedelta(days=1))
    record_review(session, outcome, "incorrect", "bob", "wrong refund", at=T0 + timedelta(days=2))
    # A back-dated review joins the trail but does not override the newer verdict.
    record_review(session, outcome, "correct", "cy", at=T0 + timedelta(hours=30))
    session.commit()
    outcome = get_outcome(session, setup, "customer-support", "TCK-1")
    assert outcome.verdict == "incorrect"
    assert outcome.reviewed_at == T0 + timedelta(days=2)
    history = review_history(session, outcome)
    assert [(r.reviewer, r.verdict) for r in history] == [("bob", "incorrect"), ("cy", "correct"), ("ann", "correct")]
    assert history[0].comment == "wrong refund"


def test_same_instant_resolves_to_last_recorded(session, setup):
    outcome = get_outcome(session, setup, "customer-support", "TCK-1")
    record_review(session, outcome, "correct", "ann", at=T0)
    record_review(session, outcome, "incorrect", "bob", at=T0)
    assert outcome.verdict == "incorrect"
    assert review_history(session, outcome)[0].reviewer == "bob"


def test_default_time_is_now_and_aware(session, setup):
    outcome = get_outcome(session, setup, "customer-support", "TCK-1")
    review = record_review(session, outcome, "correct", "ann")
    assert review.id is not None
    assert review.reviewed_at.tzinfo is not None
    assert abs(review.reviewed_at - clock.now()) < timedelta(minutes=1)  # the app's now: OVERSEER_NOW when set


def test_review_time_with_offset_is_converted_to_utc(session, setup):
    outcome = get_outcome(session, setup, "customer-support", "TCK-1")
    at = datetime(2026, 11, 6, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    record_review(session, outcome, "correct", "ann", at=at)
    assert outcome.reviewed_at == at and outcome.reviewed_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"verdict": "unreviewed"}, "not one of correct, incorrect"),
        ({"verdict": "good"}, "not one of"),
        ({"reviewer": "  "}, "needs a reviewer"),
        ({"reviewer": "r" * 201}, "at most 200"),
        ({"comment": "c" * 5001}, "at most 5000"),
        ({"at": datetime(2026, 11, 6, 10, 0)}, "time zone"),
    ],
)
def test_bad_reviews_are_refused(session, setup, kwargs, message):
    outcome = get_outcome(session, setup, "customer-support", "TCK-1")
    args = {"verdict": "correct", "reviewer": "ann", **kwargs}
    with pytest.raises(OverseerError, match=message):
        record_review(session, outcome, args.pop("verdict"), args.pop("reviewer"), **args)
    assert review_history(session, outcome) == []
    assert outcome.verdict == "unreviewed"


def test_comment_of_5000_characters_is_accepted(session, setup):
    outcome = get_outcome(session, setup, "customer-support", "TCK-1")
    record_review(session, outcome, "correct", "ann", "c" * 5000)
    session.commit()


def test_open_outcome_cannot_be_reviewed(session, setup):
    outcome = get_outcome(session, setup, "customer-support", "TCK-2")
    with pytest.raises(OverseerError, match="still open"):
        record_review(session, outcome, "correct", "ann")


def test_record_review_does_not_commit(session, setup, engine):
    from sqlmodel import Session, select

    from app.models import Review

    outcome = get_outcome(session, setup, "customer-support", "TCK-1")
    record_review(session, outcome, "correct", "ann")
    session.rollback()
    with Session(engine) as other:
        assert other.exec(select(Review)).all() == []


def test_get_outcome_not_found(session, setup):
    with pytest.raises(NotFound, match="no outcome 'TCK-9'"):
        get_outcome(session, setup, "customer-support", "TCK-9")
    with pytest.raises(NotFound):
        get_outcome(session, setup, "report-generation", "TCK-1")
