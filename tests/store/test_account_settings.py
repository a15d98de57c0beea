from datetime import date
from decimal import Decimal

import pytest

from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.store.account_settings import update_settings
from app.store.accounts import create_account, get_account
from tests.factories import OPERATOR


@pytest.fixture
def account(session):
    acc = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    session.commit()
    return acc


def test_settings_are_saved_and_cleared(session, account):
    update_settings(session, account, actor=OPERATOR, monthly_budget=Decimal("250.005"), target_completion_rate=Decimal("0.85"), target_accuracy=Decimal("0.9"))
    session.commit()
    acc = get_account(session, "acme", principal=OPERATOR)
    assert (acc.monthly_budget, acc.target_completion_rate, acc.target_accuracy) == (Decimal("250.01"), Decimal("0.85"), Decimal("0.9"))
    update_settings(session, account, actor=OPERATOR, monthly_budget=None, target_completion_rate=None, target_accuracy=None)
    session.commit()
    acc = get_account(session, "acme", principal=OPERATOR)
    assert (acc.monthly_budget, acc.target_completion_rate, acc.target_accuracy) == (None, None, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"monthly_budget": Decimal("-1")}, "must not be negative"),
        ({"monthly_budget": "lots"}, "not a number"),
        ({"target_accuracy": Decimal("1.5")}, "between 0% and 100%"),
        ({"target_completion_rate": Decimal("-0.1")}, "between 0% and 100%"),
    ],
)
def test_bad_settings_are_refused(session, account, kwargs, message):
    args = {"monthly_budget": None, "target_completion_rate": None, "target_accuracy": None, **kwargs}
    with pytest.raises(OverseerError, match=message):
        update_settings(session, account, actor=OPERATOR, **args)
