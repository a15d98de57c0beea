"""Free text a person types is refused the same way on SQLite and PostgreSQL when a database cannot store it."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlmodel import func, select

from app.domain.access import Principal
from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.models import Outcome, Review
from app.store.accounts import create_account, list_jobs
from app.store.jobmap import update_job, update_step
from app.store.reviews import review_outcome
from tests.factories import add_outcomes

OPERATOR = Principal.operator()


@pytest.fixture
def acme(session):
    acc = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    add_outcomes(session, acc, list_jobs(session, acc)[0], [datetime(2026, 11, 2, 10, tzinfo=timezone.utc)])
    session.commit()
    return acc


@pytest.mark.parametrize("comment, words", [("a\x00b", r"U\+0000"), ("a\ud800", "unpaired surrogate"), ("\x1b[31m", r"U\+001B")])
def test_a_review_comment_a_database_cannot_store_is_refused(session, acme, comment, words):
    job = list_jobs(session, acme)[0]
    outcome_id = session.exec(select(func.min(Outcome.outcome_id))).one()
    with pytest.raises(OverseerError, match=words):
        review_outcome(session, OPERATOR, acme, job.slug, outcome_id, "correct", comment=comment)
    session.rollback()
    review_outcome(session, OPERATOR, acme, job.slug, outcome_id, "correct", comment="line one\n\tline two")
    session.commit()
    assert session.exec(select(Review.comment)).one() == "line one\n\tline two"


def test_job_map_text_a_database_cannot_store_is_refused(session, acme):
    job = list_jobs(session, acme)[0]
    with pytest.raises(OverseerError, match="description contains a control character"):
        update_step(session, acme, job.slug, "execute", actor=OPERATOR, description="Run\x00it")
    session.rollback()
    with pytest.raises(OverseerError, match="name contains a control character"):
        update_job(session, acme, job.slug, actor=OPERATOR, name="Re\x00solve")
    session.rollback()
    assert update_step(session, acme, job.slug, "execute", actor=OPERATOR, description="Run it\nthen check").description
