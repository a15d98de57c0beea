"""Every writing transaction bumps the data version; reading ones do not."""

from sqlalchemy import insert
from sqlmodel import select

from app.core.data_version import current_version
from app.domain.plans import SEED_PLANS
from app.models import Account, Outcome
from app.store.accounts import create_account, list_jobs
from app.store.reviews import record_review
from tests.factories import add_outcomes, at


def test_writes_bump_the_version_and_reads_do_not(session):
    start = current_version(session)
    session.commit()
    create_account(session, "acme", "Acme", SEED_PLANS["hybrid"])
    session.commit()
    after_create = current_version(session)
    assert after_create == start + 1

    session.exec(select(Account)).all()
    session.commit()
    session.commit()
    assert current_version(session) == after_create  # read-only commits leave it alone

    account = session.exec(select(Account)).one()
    (job,) = list_jobs(session, account)
    add_outcomes(session, account, job, [at("2026-11-02T09:00")])  # a Core insert through the session
    assert current_version(session) == after_create + 1

    outcome = session.exec(select(Outcome)).one()
    record_review(session, outcome, "incorrect", "dana@example.com")
    session.commit()
    assert current_version(session) == after_create + 2


def test_a_rolled_back_write_does_not_bump(session):
    start = current_version(session)
    session.commit()
    session.execute(insert(Account).values(slug="x", name="X", currency="USD", hourly_cost="1", created_at=at("2026-11-01T00:00")))
    session.rollback()
    session.commit()
    assert current_version(session) == start
