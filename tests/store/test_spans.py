"""Spans keep their outcome's completion in step (``app.store.spans``): billing reads the spans alone."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from app.domain.plans import SEED_PLANS
from app.models import IncorrectSpan
from app.store.accounts import create_account, get_subscription
from app.store.billing import verdict_effects
from app.store.ingest import ingest_file
from app.store.rollups import rebuild_rollups

HEADER = "outcome_id,job,started_at,completed_at,status,verdict,handoff_step,reviewed_at"
JOB = "customer-support"
UTC = timezone.utc
AS_OF = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def account(session, monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", AS_OF.isoformat())
    acc = create_account(session, "spans", "Spans", SEED_PLANS["freemium"], template=JOB, since=date(2026, 9, 1))
    session.commit()
    return acc


def load(session, account, tmp_path, *rows: str):
    path = tmp_path / "in.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    report = ingest_file(session, account, path)
    assert report.written, report
    return report


def span_completions(session) -> list:
    return [s.completed_at for s in session.exec(select(IncorrectSpan).order_by(IncorrectSpan.started_at))]


def unbilled(session, account) -> dict:
    sub, _ = get_subscription(session, account)
    return verdict_effects(session, account, sub, AS_OF).unbilled


def test_an_import_that_moves_or_reopens_an_outcome_moves_its_span_too(session, account, tmp_path):
    # Reviewed incorrect on the day it completed, in October: not billed in October.
    load(session, account, tmp_path,
         f"A-1,{JOB},2026-10-05T09:00:00Z,2026-10-05T10:00:00Z,completed,incorrect,,2026-10-05T11:00:00Z")
    assert span_completions(session) == [datetime(2026, 10, 5, 10, tzinfo=UTC)]
    assert unbilled(session, account) == {date(2026, 10, 5): 1}

    # The product re-ran it: completed again on 6 Oct, same verdict (no new review). The span follows.
    load(session, account, tmp_path,
         f"A-1,{JOB},2026-10-05T09:00:00Z,2026-10-06T10:00:00Z,completed,incorrect,,")
    assert span_completions(session) == [datetime(2026, 10, 6, 10, tzinfo=UTC)]
    assert unbilled(session, account) == {date(2026, 10, 6): 1}

    # Failed after all: no completion, nothing billed or unbilled.
    load(session, account, tmp_path,
         f"A-1,{JOB},2026-10-05T09:00:00Z,2026-10-06T10:00:00Z,failed,incorrect,,")
    assert span_completions(session) == [None]
    assert unbilled(session, account) == {}


def test_a_rebuild_gives_the_spans_the_imports_kept(session, account, tmp_path):
    load(session, account, tmp_path,
         f"B-1,{JOB},2026-10-05T09:00:00Z,2026-10-05T10:00:00Z,completed,incorrect,,2026-10-05T11:00:00Z",
         f"B-2,{JOB},2026-10-07T09:00:00Z,2026-10-07T10:00:00Z,escalated,incorrect,,2026-10-07T11:00:00Z")
    load(session, account, tmp_path,
         f"B-1,{JOB},2026-10-05T09:00:00Z,2026-11-02T10:00:00Z,completed,incorrect,,",
         f"B-2,{JOB},2026-10-07T09:00:00Z,2026-10-08T10:00:00Z,completed,incorrect,,")
    kept = span_completions(session)
    rebuild_rollups(session, account.id)
    session.commit()
    assert span_completions(session) == kept == [
        datetime(2026, 11, 2, 10, tzinfo=UTC), datetime(2026, 10, 8, 10, tzinfo=UTC),
    ]
