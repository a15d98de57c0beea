"""Fixtures of the hostile-input tests: an account to import into (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account

JOB = "customer-support"


@pytest.fixture
def account(engine):
    with Session(engine, expire_on_commit=False) as s:
        acc = create_account(s, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 11, 1))
        s.commit()
    return acc


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch):
    """The pages and commands run at the moment the hostile data was made for, whatever day it is.

    A test that needs another "now" (a hostile ``OVERSEER_NOW``) sets its own, which wins.
    """
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-24T12:00:00+00:00")
