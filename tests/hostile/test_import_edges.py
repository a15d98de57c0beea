"""Hostile imports at the edges: a lone surrogate from JSON, and a file above the import size limit."""

from __future__ import annotations

import io

import pytest
from sqlmodel import Session, select

from app.domain.errors import OverseerError
from app.models import Outcome
from app.store.ingest import ingest_file
from tests.hostile.corpus import FILES


def test_a_lone_surrogate_in_json_is_a_row_error(engine, account):
    payload = (FILES / "lone-surrogate.jsonl").read_bytes()
    with Session(engine, expire_on_commit=False) as s:
        report = ingest_file(s, account, io.BytesIO(payload), fmt="jsonl", valid_only=True)
    assert [(e.line, e.column) for e in report.rejected] == [(1, "outcome_id")]
    assert "U+D800" in report.rejected[0].reason
    with Session(engine) as s:
        assert [o.outcome_id for o in s.exec(select(Outcome))] == ["S-2"]


def test_ingest_file_refuses_a_file_above_the_configured_limit(engine, account, monkeypatch, tmp_path):
    monkeypatch.setenv("OVERSEER_MAX_IMPORT_MB", "1")
    big = tmp_path / "big.csv"
    row = "T-{n},customer-support,2026-11-20T10:00:00Z,2026-11-20T10:30:00Z,completed,,\n"
    big.write_text("outcome_id,job,started_at,completed_at,status,verdict,handoff_step\n"
                   + "".join(row.format(n=n) for n in range(20_000)))
    assert big.stat().st_size > 1024 * 1024
    with Session(engine, expire_on_commit=False) as s, pytest.raises(OverseerError, match="1 MB"):
        ingest_file(s, account, big)
    with Session(engine) as s:
        assert s.exec(select(Outcome)).first() is None
