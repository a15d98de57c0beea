from datetime import date

import pytest

from app.domain.errors import NotFound, OverseerError
from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, get_account, get_subscription, job_steps, list_jobs
from tests.factories import OPERATOR


def test_create_account_with_job_from_template(session):
    create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    session.commit()
    account = get_account(session, "acme", principal=OPERATOR)
    sub, plan = get_subscription(session, account)
    assert sub.started_on == date(2026, 11, 1)
    assert plan == SEED_PLANS["freemium"]
    (job,) = list_jobs(session, account)
    assert job.slug == "customer-support"
    assert [s.step for s in job_steps(session, job)] == [
        "define", "locate", "prepare", "confirm", "execute", "monitor", "modify", "conclude"
    ]


def test_duplicate_slug_is_refused(session):
    create_account(session, "acme", "Acme", SEED_PLANS["hybrid"])
    with pytest.raises(OverseerError, match="already exists"):
        create_account(session, "acme", "Acme again", SEED_PLANS["hybrid"])


@pytest.mark.parametrize("slug", ["", "Acme", "-x", "a b", "x" * 70])
def test_bad_slug_is_refused(session, slug):
    with pytest.raises(OverseerError, match="not valid"):
        create_account(session, slug, "Acme", SEED_PLANS["hybrid"])


def test_unknown_account(session):
    with pytest.raises(NotFound):
        get_account(session, "nobody", principal=OPERATOR)
