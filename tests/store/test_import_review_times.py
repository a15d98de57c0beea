"""When an imported verdict counts (SPEC "Data in", the ``reviewed_at`` column), and what that does to the bill."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlmodel import select

from app.domain.plans import SEED_PLANS
from app.models import Outcome, Review
from app.store.accounts import create_account
from app.store.billing import invoice_for_month
from app.store.ingest import ingest_file
from app.store.reviews import get_outcome, review_history

HEADER = "outcome_id,job,started_at,completed_at,status,verdict,handoff_step"
JOB = "customer-support"
UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def account(session, monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", "2026-11-20T12:00:00Z")
    acc = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], template=JOB, since=date(2026, 9, 1))
    session.commit()
    return acc


def write(tmp_path, rows, header=HEADER):
    path = tmp_path / "in.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def backlog(n_sep: int, n_oct: int, incorrect_every: int) -> list[str]:
    """Two months of an AI product's export: every ``incorrect_every``-th outcome marked incorrect."""
    rows = []
    for month, n in ((9, n_sep), (10, n_oct)):
        for i in range(n):
            day = 1 + i % 28
            verdict = "incorrect" if i % incorrect_every == 0 else "correct"
            rows.append(
                f"B-{month}-{i:03d},{JOB},2026-{month:02d}-{day:02d}T09:00:00Z,2026-{month:02d}-{day:02d}T10:00:00Z,"
                f"completed,{verdict},"
            )
    return rows


def test_a_backlog_with_verdicts_bills_no_credit_and_no_negative_invoice(session, account, tmp_path):
    report = ingest_file(session, account, write(tmp_path, backlog(40, 60, 5)))
    assert report.written and report.inserted == 100
    for month in (9, 10, 11):
        invoice = invoice_for_month(session, account, 2026, month, as_of=at("2026-11-20T12:00:00"))
        assert invoice.total >= 0, (month, invoice.to_json())
        assert not [line for line in invoice.lines if line.description.startswith("Credit")], invoice.to_json()
    # The file's incorrect outcomes never took a free outcome: 32 of September's 40 are billable,
    # the first 30 free, so two are paid.
    september = invoice_for_month(session, account, 2026, 9, as_of=at("2026-11-20T12:00:00"))
    assert september.billable == 32 and september.free_used == 30
    # Each verdict counts from its outcome's completion.
    outcome = get_outcome(session, account, JOB, "B-9-000")
    assert (outcome.verdict, outcome.reviewed_at) == ("incorrect", at("2026-09-01T10:00:00"))


def test_reviewed_at_dates_the_verdict_and_a_later_one_is_credited_in_its_month(session, account, tmp_path):
    header = HEADER + ",reviewed_at"
    rows = [f"R-{i},{JOB},2026-09-0{1 + i}T09:00:00Z,2026-09-0{1 + i}T10:00:00Z,completed,correct,," for i in range(5)]
    rows += [f"R-9,{JOB},2026-09-09T09:00:00Z,2026-09-09T10:00:00Z,completed,incorrect,,2026-10-02T08:00:00Z"]
    assert ingest_file(session, account, write(tmp_path, rows, header)).written
    outcome = get_outcome(session, account, JOB, "R-9")
    assert outcome.reviewed_at == at("2026-10-02T08:00:00")
    # Free outcomes are not given back, so the credit is worth nothing and says so in October.
    october = invoice_for_month(session, account, 2026, 10, as_of=at("2026-11-20T12:00:00"))
    assert october.total == Decimal("0.00")


def test_a_changed_verdict_without_reviewed_at_counts_from_the_import(session, account, tmp_path):
    row = f"C-1,{JOB},2026-10-01T09:00:00Z,2026-10-01T10:00:00Z,completed,{{}},"
    assert ingest_file(session, account, write(tmp_path, [row.format("correct")])).written
    assert ingest_file(session, account, write(tmp_path, [row.format("incorrect")])).written
    outcome = get_outcome(session, account, JOB, "C-1")
    assert (outcome.verdict, outcome.reviewed_at) == ("incorrect", at("2026-11-20T12:00:00"))
    assert [r.reviewed_at for r in review_history(session, outcome)] == [at("2026-11-20T12:00:00"), at("2026-10-01T10:00:00")]


def test_an_outcome_closed_by_a_later_file_has_its_verdict_from_its_completion(session, account, tmp_path):
    assert ingest_file(session, account, write(tmp_path, [f"O-1,{JOB},2026-10-01T09:00:00Z,,open,,"])).written
    closed = f"O-1,{JOB},2026-10-01T09:00:00Z,2026-10-03T10:00:00Z,completed,incorrect,"
    assert ingest_file(session, account, write(tmp_path, [closed])).written
    assert get_outcome(session, account, JOB, "O-1").reviewed_at == at("2026-10-03T10:00:00")


def test_reimports_record_a_review_only_when_verdict_or_its_time_changed(session, account, tmp_path):
    header = HEADER + ",reviewed_at"
    row = f"T-1,{JOB},2026-10-01T09:00:00Z,2026-10-01T10:00:00Z,completed,{{}},,{{}}"
    for verdict, when, expected in [
        ("incorrect", "2026-10-05T00:00:00Z", 1),
        ("incorrect", "2026-10-05T00:00:00Z", 1),  # the same file again: nothing new
        ("incorrect", "", 1),  # no time, same verdict: nothing new
        ("incorrect", "2026-10-07T00:00:00Z", 2),  # the source re-dated it
        ("correct", "2026-10-09T00:00:00Z", 3),
    ]:
        assert ingest_file(session, account, write(tmp_path, [row.format(verdict, when)], header)).written
        session.expire_all()
        count = len(session.exec(select(Review).join(Outcome, Outcome.id == Review.outcome_pk).where(Outcome.outcome_id == "T-1")).all())
        assert count == expected, (verdict, when)
    outcome = get_outcome(session, account, JOB, "T-1")
    assert (outcome.verdict, outcome.reviewed_at) == ("correct", at("2026-10-09T00:00:00"))


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (f"X-1,{JOB},2026-10-01T09:00:00Z,2026-10-01T10:00:00Z,completed,,,2026-10-02T00:00:00Z", "this row has none"),
        (f"X-1,{JOB},2026-10-01T09:00:00Z,2026-10-01T10:00:00Z,completed,correct,,2026-09-30T00:00:00Z", "before completed_at"),
        (f"X-1,{JOB},2026-10-01T09:00:00Z,2026-10-01T10:00:00Z,completed,correct,,yesterday", "not an ISO 8601 time"),
    ],
)
def test_an_unusable_reviewed_at_is_a_row_error(session, account, tmp_path, row, reason):
    report = ingest_file(session, account, write(tmp_path, [row], HEADER + ",reviewed_at"))
    assert not report.written and [e.column for e in report.rejected] == ["reviewed_at"]
    assert reason in report.rejected[0].reason
    assert session.exec(select(Outcome)).all() == []
