"""Memberships, the account gateway, and the audit trail of every change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from app.domain.access import ADMIN, VIEWER, Forbidden
from app.domain.errors import NotFound, OverseerError
from app.domain.plans import SEED_PLANS
from app.models import AuditEvent, Membership, User
from app.store import audit, members
from app.store.account_settings import update_settings
from app.store.accounts import create_account, get_account, get_job, list_accounts
from app.store.jobmap import add_job, update_job_map
from app.store.portfolio import coverage_matrix
from app.store.reviews import review_outcome
from app.store.subscriptions import change_plan
from app.store.value import set_hourly_cost
from tests.factories import OPERATOR, add_outcomes, at


@pytest.fixture
def two(session):
    acme = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 1, 1))
    globex = create_account(session, "globex", "Globex", SEED_PLANS["hybrid"], since=date(2026, 1, 1))
    members.set_member(session, OPERATOR, acme, "Ana@Example.com", ADMIN)
    members.set_member(session, OPERATOR, acme, "vic@example.com", VIEWER)
    members.set_member(session, OPERATOR, globex, "gus@example.com", ADMIN)
    session.commit()
    return acme, globex


def _one_outcome(session, account):
    job = get_job(session, account, "customer-support")
    add_outcomes(session, account, job, [at("2026-01-03T10:00")], outcome_id="T-1")


def _who(session, email):
    return members.principal_for(session, email)


def test_principal_carries_the_roles_of_the_stored_memberships(session, two):
    acme, globex = two
    ana = _who(session, "ana@example.com")
    assert ana.roles == ((acme.id, ADMIN),) and not ana.staff
    assert _who(session, "VIC@example.com").roles == ((acme.id, VIEWER),)
    assert _who(session, "nobody@example.com").roles == ()


def test_an_account_outside_ones_memberships_is_not_found_like_a_missing_one(session, two):
    vic = _who(session, "vic@example.com")
    assert [a.slug for a in list_accounts(session, principal=vic)] == ["acme"]
    assert get_account(session, "acme", principal=vic).slug == "acme"
    with pytest.raises(NotFound) as hidden:
        get_account(session, "globex", principal=vic)
    with pytest.raises(NotFound) as missing:
        get_account(session, "no-such", principal=vic)
    assert str(hidden.value).replace("globex", "X") == str(missing.value).replace("no-such", "X")
    assert list_accounts(session, principal=_who(session, "nobody@example.com")) == []


def test_a_viewer_cannot_change_anything_and_nothing_is_written(session, two):
    acme, _ = two
    vic = _who(session, "vic@example.com")
    _one_outcome(session, acme)
    before = session.exec(select(AuditEvent)).all()
    attempts = [
        lambda: update_job_map(session, acme, "customer-support", actor=vic, name="Renamed"),
        lambda: add_job(session, vic, acme, "data-analysis"),
        lambda: update_settings(session, acme, actor=vic, monthly_budget=Decimal(1), target_completion_rate=None, target_accuracy=None),
        lambda: change_plan(session, vic, acme, SEED_PLANS["usage"]),
        lambda: set_hourly_cost(session, acme, "99", actor=vic),
        lambda: review_outcome(session, vic, acme, "customer-support", "T-1", "incorrect"),
        lambda: members.set_member(session, vic, acme, "eve@example.com", ADMIN),
        lambda: audit.list_events(session, vic, acme),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden, match="you are a viewer"):
            attempt()
    session.rollback()
    assert session.exec(select(AuditEvent)).all() == before
    assert get_account(session, "acme", principal=OPERATOR).monthly_budget is None


def test_portfolio_is_for_staff_only(session, two):
    with pytest.raises(Forbidden, match="Only Overseer staff"):
        coverage_matrix(session, _who(session, "ana@example.com"), date(2026, 1, 1), date(2026, 1, 31))
    members.set_staff(session, OPERATOR, "ana@example.com", True)
    session.commit()
    ana = _who(session, "ana@example.com")
    assert ana.staff and ana.account_ids is None
    assert not coverage_matrix(session, ana, date(2026, 1, 1), date(2026, 1, 31)).empty


def test_every_admin_change_is_in_the_audit_trail_with_before_and_after(session, two):
    acme, _ = two
    ana = _who(session, "ana@example.com")
    _one_outcome(session, acme)
    update_job_map(session, acme, "customer-support", actor=ana, name="Tickets", steps={"define": {"coverage": "manual"}})
    update_settings(session, acme, actor=ana, monthly_budget=Decimal("120.50"), target_completion_rate=None, target_accuracy=Decimal("0.9"))
    change_plan(session, ana, acme, SEED_PLANS["usage"], seats=3)
    set_hourly_cost(session, acme, "55", actor=ana)
    review_outcome(session, ana, acme, "customer-support", "T-1", "incorrect", comment="wrong refund")
    session.commit()
    events = {e.action: e for e in audit.list_events(session, ana, acme)}
    assert {"job_map", "settings", "plan", "value_inputs", "review", "member.add"} <= set(events)
    assert all(e.actor == "ana@example.com" for a, e in events.items() if a != "member.add")
    assert events["job_map"].target == "customer-support"
    assert events["job_map"].before == {"define.coverage": "automated", "name": "Resolve a support inquiry"}
    assert events["job_map"].after == {"define.coverage": "manual", "name": "Tickets"}
    assert events["settings"].before == {"monthly_budget": None, "target_accuracy": None}
    assert events["settings"].after == {"monthly_budget": "120.50", "target_accuracy": "0.9"}
    assert events["plan"].after["seats"] == 3 and events["plan"].after["plan"]["name"] == SEED_PLANS["usage"].name
    assert events["value_inputs"].before == {"hourly_cost": "40.00"} and events["value_inputs"].after == {"hourly_cost": "55.00"}
    assert events["review"].target == "customer-support/T-1"
    assert events["review"].before == {"verdict": "unreviewed"} and events["review"].after["verdict"] == "incorrect"
    # the export holds every entry, oldest first, spreadsheet-safe
    text = audit.export_csv(session, ana, acme)
    lines = text.strip().split("\r\n")
    assert lines[0] == "at,actor,account,action,target,before,after"
    assert len(lines) == 1 + audit.count_events(session, ana, acme)


def test_a_change_that_changes_nothing_is_not_recorded(session, two):
    acme, _ = two
    ana = _who(session, "ana@example.com")
    n = audit.count_events(session, ana, acme)
    set_hourly_cost(session, acme, "40", actor=ana)
    update_job_map(session, acme, "customer-support", actor=ana, name="Resolve a support inquiry", steps={"define": {"coverage": "automated"}})
    session.commit()
    assert audit.count_events(session, ana, acme) == n


def test_a_rolled_back_change_leaves_no_audit_entry(session, two):
    acme, _ = two
    ana = _who(session, "ana@example.com")
    n = audit.count_events(session, ana, acme)
    set_hourly_cost(session, acme, "77", actor=ana)
    session.rollback()
    assert audit.count_events(session, ana, acme) == n


def test_the_last_admin_cannot_be_removed_or_demoted(session, two):
    acme, _ = two
    ana = _who(session, "ana@example.com")
    with pytest.raises(OverseerError, match="last admin"):
        members.set_member(session, ana, acme, "ana@example.com", VIEWER)
    with pytest.raises(OverseerError, match="last admin"):
        members.remove_member(session, ana, acme, "ana@example.com")
    members.set_member(session, ana, acme, "vic@example.com", ADMIN)
    members.remove_member(session, ana, acme, "ana@example.com")
    session.commit()
    assert _who(session, "ana@example.com").roles == ()
    actions = [e.action for e in audit.list_events(session, OPERATOR, acme)]
    assert actions[:2] == ["member.remove", "member.role"]


def test_removing_someone_who_is_not_a_member_is_not_found(session, two):
    acme, _ = two
    with pytest.raises(NotFound, match="not a member"):
        members.remove_member(session, OPERATOR, acme, "gus@example.com")


def test_only_staff_make_staff(session, two):
    with pytest.raises(Forbidden):
        members.set_staff(session, _who(session, "ana@example.com"), "vic@example.com", True)
    members.set_staff(session, OPERATOR, "new@example.com", True)
    session.commit()
    assert session.exec(select(User).where(User.email == "new@example.com")).one().staff


def test_a_plan_in_another_currency_is_refused(session, two):
    acme, _ = two
    from dataclasses import replace

    with pytest.raises(OverseerError, match="priced in EUR"):
        change_plan(session, OPERATOR, acme, replace(SEED_PLANS["usage"], currency="EUR"))


def test_sign_in_is_noted_at_most_twice_a_day(session, two):
    assert members.note_sign_in(session, "ana@example.com", "Ana López")
    assert not members.note_sign_in(session, "ana@example.com", "Ana López")
    assert not members.note_sign_in(session, "stranger@example.com")
    session.commit()
    assert session.exec(select(User).where(User.email == "ana@example.com")).one().name == "Ana López"


def test_deleting_an_account_deletes_its_memberships(session, two):
    acme, _ = two
    session.delete(acme)
    session.commit()
    assert all(m.account_id != acme.id for m in session.exec(select(Membership)))


def test_an_import_is_audited_with_its_counts_and_a_viewer_cannot_import(session, two, tmp_path):
    from app.store.ingest import ingest_file

    acme, _ = two
    good = tmp_path / "november.csv"
    good.write_text(
        "outcome_id,job,started_at,completed_at,status,verdict,handoff_step\n"
        "T-1,customer-support,2026-11-20T10:00:00Z,2026-11-20T10:30:00Z,completed,correct,\n"
        "T-2,customer-support,2026-11-20T11:00:00Z,,open,,\n"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text() + "T-3,customer-support,2026-02-30T10:00:00Z,,open,,\n")
    with pytest.raises(Forbidden, match="you are a viewer"):
        ingest_file(session, acme, good, actor=_who(session, "vic@example.com"))
    ana = _who(session, "ana@example.com")
    refused = ingest_file(session, acme, bad, actor=ana)
    assert refused.rejected and not refused.written
    assert audit.count_events(session, ana, acme, action="import") == 0
    report = ingest_file(session, acme, good, actor=ana)
    assert (report.inserted, report.written) == (2, True)
    [event] = audit.list_events(session, ana, acme, action="import")
    assert (event.actor, event.target) == ("ana@example.com", "november.csv")
    assert event.after == {"inserted": 2, "updated": 0, "unchanged": 0, "rejected": 0}
