"""Fixtures of the API tests: the routes in a TestClient, an account, a write and a read key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.api import http
from app.api.endpoints import ROUTES
from app.domain.access import Principal
from app.domain.plans import SEED_PLANS
from app.models import Account
from app.store.accounts import create_account
from app.store.api_keys import create_key

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def item(outcome_id: str, **fields) -> dict:
    """An outcome item of the API: completed on 20 Nov, of the account's one job."""
    base = {
        "outcome_id": outcome_id, "job": "customer-support", "started_at": "2026-11-20T10:00:00Z",
        "completed_at": "2026-11-20T10:05:00Z", "status": "completed", "verdict": "", "handoff_step": "",
        "define": "ai", "execute": "ai",
    }
    base.update(fields)
    return base


@dataclass
class Keys:
    account: Account
    write_key: str
    write_prefix: str
    read_key: str
    read_prefix: str

    @property
    def write_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.write_key}"}

    @property
    def read_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.read_key}"}


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", NOW.isoformat())
    http.set_limiter(None)
    yield
    http.set_limiter(None)


@pytest.fixture
def keys(session) -> Keys:
    account = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    session.commit()
    write, key_w = create_key(session, Principal.operator(), account, "write", "ci")
    read, key_r = create_key(session, Principal.operator(), account, "read", "dash")
    session.commit()
    return Keys(account, key_w, write.prefix, key_r, read.prefix)


@pytest.fixture
def client(engine):
    # The routes alone, as st.App mounts them (app.server); raise_server_exceptions off: a 500 is an answer.
    with TestClient(Starlette(routes=ROUTES), raise_server_exceptions=False) as c:
        yield c
