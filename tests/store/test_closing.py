"""Closed months (SPEC "Billing over time"): final invoices never change; late outcomes go to the first open month."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlmodel import select

from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.models import AuditEvent, ClosedInvoice
from app.store.accounts import create_account
from app.store.billing import invoice_for_month, invoice_history
from app.store.closing import close_due, close_through, month_status, set_grace_days
from app.store.ingest import ingest_file
from tests.factories import OPERATOR

UTC = timezone.utc
JOB = "customer-support"
HEADER = "outcome_id,job,started_at,completed_at,status,verdict,handoff_step"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def now_is(monkeypatch, text: str) -> datetime:
    monkeypatch.setenv("OVERSEER_NOW", text)
    return at(text.rstrip("Z"))


def import_rows(session, account, tmp_path, prefix: str, days: list[str], verdict: str = "") -> None:
    rows = [f"{prefix}-{i},{JOB},{d}T08:00:00Z,{d}T09:00:00Z,completed,{verdict}," for i, d in enumerate(days)]
    path = tmp_path / f"{prefix}.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    assert ingest_file(session, account, path).written


@pytest.fixture
def account(session, monkeypatch):
    """A freemium account that came to Overseer on 1 September (no backlog), with the allowance used up."""
    now_is(monkeypatch, "2026-09-01T00:00:00Z")
    acc = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], template=JOB, since=date(2026, 9, 1))
    session.commit()
    return acc


def test_a_month_closes_by_itself_when_its_grace_period_ends(session, account, monkeypatch, tmp_path):
    now_is(monkeypatch, "2026-09-30T12:00:00Z")
    import_rows(session, account, tmp_path, "S", [f"2026-09-{d:02d}" for d in range(1, 29)] * 2)  # 56 outcomes
    draft = invoice_for_month(session, account, 2026, 9, as_of=at("2026-10-02T00:00:00"))
    assert draft.status == "draft" and draft.number is None
    assert month_status(session, account, at("2026-10-02T00:00:00")).closes_at == at("2026-10-04T00:00:00")
    assert close_due(session, account, at("2026-10-03T23:59:59")) == []
    closed = close_due(session, account, at("2026-10-09T00:00:00"))
    session.commit()
    assert [(c.number, c.closed_at.replace(tzinfo=UTC), c.closed_by) for c in closed] == [
        ("ACME-2026-09", at("2026-10-04T00:00:00"), "grace period")
    ]
    final = invoice_for_month(session, account, 2026, 9, as_of=at("2026-10-09T00:00:00"))
    assert final.to_json() == {**draft.to_json(), "status": "final", "number": "ACME-2026-09", "closed_at": "2026-10-04T00:00:00+00:00"}
    # Closing again, from another server, stores nothing more.
    assert close_due(session, account, at("2026-10-10T00:00:00")) == []
    assert len(session.exec(select(ClosedInvoice)).all()) == 1
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "month.close")).one()
    assert event.target == "ACME-2026-09"


def test_late_outcomes_leave_the_final_invoice_alone_and_are_billed_in_the_first_open_month(session, account, monkeypatch, tmp_path):
    now_is(monkeypatch, "2026-09-30T12:00:00Z")
    import_rows(session, account, tmp_path, "S", [f"2026-09-{d:02d}" for d in range(1, 29)] * 2)  # 56: 30 free, 26 paid
    close_due(session, account, at("2026-10-05T00:00:00"))
    session.commit()
    september = invoice_for_month(session, account, 2026, 9, as_of=at("2026-10-05T00:00:00")).to_json()
    # Three September outcomes arrive on 20 October, after September closed.
    now_is(monkeypatch, "2026-10-20T10:00:00Z")
    import_rows(session, account, tmp_path, "LATE", ["2026-09-29", "2026-09-30", "2026-09-30"])
    as_of = at("2026-10-20T12:00:00")
    assert invoice_for_month(session, account, 2026, 9, as_of=as_of).to_json() == september
    october = invoice_for_month(session, account, 2026, 10, as_of=as_of)
    # Counted with October's own outcomes (none yet): the allowance ran out in September, so they are paid.
    assert [late.to_json() for late in october.late] == [{"month": "2026-09", "outcomes": 3}]
    assert october.to_json()["late"] == [{"month": "2026-09", "outcomes": 3}]
    assert october.billable == 3
    assert [(l.description, l.quantity, l.amount) for l in october.lines] == [
        ("Base fee", 1, Decimal("100.00")), ("Outcomes", 3, Decimal("3.00"))
    ]
    # Nothing lost, nothing counted twice: every billed outcome is on exactly one invoice.
    assert int(september["billable"]) + october.billable == 59
    # Once October closes with them, November owes nothing more for September.
    close_due(session, account, at("2026-11-10T00:00:00"))
    session.commit()
    november = invoice_for_month(session, account, 2026, 11, as_of=at("2026-11-10T00:00:00"))
    assert november.late == () and not [l for l in november.lines if "2026-09" in l.description]


def test_a_plan_change_never_re_rates_a_closed_month(session, account, monkeypatch, tmp_path):
    from app.store.subscriptions import change_plan

    now_is(monkeypatch, "2026-09-30T12:00:00Z")
    import_rows(session, account, tmp_path, "S", [f"2026-09-{d:02d}" for d in range(1, 29)] * 2)
    close_due(session, account, at("2026-10-05T00:00:00"))
    session.commit()
    before = invoice_for_month(session, account, 2026, 9, as_of=at("2026-10-05T00:00:00")).to_json()
    now_is(monkeypatch, "2026-10-06T00:00:00Z")
    change_plan(session, OPERATOR, account, SEED_PLANS["hybrid"], seats=0)
    session.commit()
    as_of = at("2026-10-06T00:00:00")
    assert invoice_for_month(session, account, 2026, 9, as_of=as_of).to_json() == before
    october = invoice_for_month(session, account, 2026, 10, as_of=as_of)
    assert not [l for l in october.lines if "2026-09" in l.description]


def test_months_before_the_account_came_wait_for_an_admin(session, monkeypatch, tmp_path):
    now_is(monkeypatch, "2026-11-15T00:00:00Z")
    acc = create_account(session, "late-comer", "Late", SEED_PLANS["freemium"], template=JOB, since=date(2026, 9, 1))
    session.commit()
    import_rows(session, acc, tmp_path, "B", ["2026-09-10", "2026-10-10", "2026-11-10"], verdict="correct")
    status = month_status(session, acc, at("2026-12-20T00:00:00"))
    assert status.first_open == (2026, 9) and status.waiting_for_admin and status.closes_at is None
    assert close_due(session, acc, at("2026-12-20T00:00:00")) == []  # November waits behind them too
    closed = close_through(session, OPERATOR, acc, 2026, 10, at("2026-11-16T00:00:00"))
    session.commit()
    assert [c.number for c in closed] == ["LATE-COMER-2026-09", "LATE-COMER-2026-10"]
    # From now on the months close by themselves.
    assert [c.number for c in close_due(session, acc, at("2026-12-20T00:00:00"))] == ["LATE-COMER-2026-11"]


@pytest.mark.parametrize(
    ("month", "now", "message"),
    [
        ((2026, 11), "2026-11-20T00:00:00", "has not ended yet"),
        ((2026, 8), "2026-11-20T00:00:00", "before the subscription began"),
    ],
)
def test_closing_refuses_what_cannot_close(session, account, month, now, message):
    with pytest.raises(OverseerError, match=message):
        close_through(session, OPERATOR, account, *month, at(now))


def test_a_final_month_cannot_close_again_and_the_grace_period_is_bounded(session, account):
    close_through(session, OPERATOR, account, 2026, 9, at("2026-10-01T00:00:00"))
    session.commit()
    with pytest.raises(OverseerError, match="already closed"):
        close_through(session, OPERATOR, account, 2026, 9, at("2026-10-02T00:00:00"))
    for bad in (-1, 31, True, 2.5):
        with pytest.raises(OverseerError, match="from 0 to 30"):
            set_grace_days(session, OPERATOR, account, bad)
    set_grace_days(session, OPERATOR, account, 0)
    assert account.grace_days == 0


def test_history_marks_final_and_draft_months(session, account, monkeypatch, tmp_path):
    now_is(monkeypatch, "2026-10-15T00:00:00Z")
    import_rows(session, account, tmp_path, "S", ["2026-09-10", "2026-10-10"])
    close_due(session, account, at("2026-10-15T00:00:00"))
    session.commit()
    history = invoice_history(session, account, as_of=at("2026-10-15T00:00:00"))
    assert [(i.month, i.status) for i in history] == [(9, "final"), (10, "draft")]


def test_closing_a_month_whose_grace_already_ended_closes_it_as_the_grace_period_would(session, account, monkeypatch, tmp_path):
    now_is(monkeypatch, "2026-09-30T12:00:00Z")
    import_rows(session, account, tmp_path, "S", ["2026-09-10"])
    closed = close_through(session, OPERATOR, account, 2026, 9, at("2026-10-20T00:00:00"))
    session.commit()
    assert [(c.number, c.closed_by, c.closed_at.replace(tzinfo=UTC)) for c in closed] == [
        ("ACME-2026-09", "grace period", at("2026-10-04T00:00:00"))
    ]
