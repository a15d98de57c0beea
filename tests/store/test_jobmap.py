from datetime import date

import pytest

from app.domain.errors import NotFound, OverseerError
from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, get_job, job_steps
from app.store.jobmap import StepChange, update_job, update_job_map, update_step
from tests.factories import OPERATOR


@pytest.fixture
def account(session):
    acc = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    session.commit()
    return acc


def _steps(session, account):
    return {s.step: s for s in job_steps(session, get_job(session, account, "customer-support"))}


def test_update_step_description_and_coverage(session, account):
    update_step(session, account, "customer-support", "confirm", actor=OPERATOR, description="  Check the order number. ", coverage="automated")
    session.commit()
    step = _steps(session, account)["confirm"]
    assert step.description == "Check the order number."
    assert step.coverage == "automated"


def test_update_only_coverage_keeps_description(session, account):
    before = _steps(session, account)["monitor"].description
    update_step(session, account, "customer-support", "monitor", actor=OPERATOR, coverage="manual")
    session.commit()
    after = _steps(session, account)["monitor"]
    assert (after.description, after.coverage) == (before, "manual")


def test_update_job_name_and_unit(session, account):
    update_job(session, account, "customer-support", actor=OPERATOR, name="Resolve  a ticket", outcome_unit="closed ticket")
    session.commit()
    job = get_job(session, account, "customer-support")
    assert (job.name, job.outcome_unit) == ("Resolve a ticket", "closed ticket")


def test_all_or_nothing(session, account):
    with pytest.raises(OverseerError, match="coverage level"):
        update_job_map(
            session,
            account,
            "customer-support",
            actor=OPERATOR,
            name="New name",
            steps={"define": StepChange("ok", "manual"), "locate": {"coverage": "robotic"}},
        )
    session.rollback()
    steps = _steps(session, account)
    assert steps["define"].coverage == "automated"
    assert get_job(session, account, "customer-support").name == "Resolve a support inquiry"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": {"dream": StepChange(coverage="manual")}}, "unknown step"),
        ({"steps": {"define": StepChange(description="   ")}}, "must not be empty"),
        ({"steps": {"define": StepChange(description="x" * 2001)}}, "at most 2000"),
        ({"steps": {"define": {"colour": "red"}}}, "unknown field"),
        ({"name": ""}, "name must not be empty"),
        ({"outcome_unit": "u" * 101}, "at most 100"),
    ],
)
def test_bad_input_is_refused(session, account, kwargs, message):
    with pytest.raises(OverseerError, match=message):
        update_job_map(session, account, "customer-support", actor=OPERATOR, **kwargs)


def test_unknown_job(session, account):
    with pytest.raises(NotFound):
        update_step(session, account, "no-such-job", "define", actor=OPERATOR, coverage="manual")
