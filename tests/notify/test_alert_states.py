"""Alert states: evaluated in the transaction of the change that moves a figure, each change stored once,
webhook events written to the outbox with it."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlmodel import select

from app.domain.alert_states import ALERT, NO_DATA, OK, WARNING
from app.models import AlertEvent, AlertState, Outcome, OutboxEvent
from app.store.account_settings import update_settings
from app.store.alert_states import evaluate_account, list_alert_events, list_states
from app.store.outbox import add_email
from tests.factories import OPERATOR, at
from tests.notify.helpers import NOW, import_completed, make_account


@pytest.fixture(autouse=True)
def _now(monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", NOW)


def states(session, account):
    return {s.rule: s.state for s in list_states(session, OPERATOR, account)}


def events(session, account):
    return [(e.rule, e.from_state, e.to_state) for e in reversed(list_alert_events(session, OPERATOR, account))]


def outbox(session, account):
    rows = session.exec(select(OutboxEvent).where(OutboxEvent.account_id == account.id).order_by(OutboxEvent.id)).all()
    return [(e.type, json.loads(e.body)["data"]) for e in rows]


def test_an_import_past_80_percent_triggers_in_its_own_transaction(session, tmp_path):
    account = make_account(session)
    add_email(session, OPERATOR, account, "ops@example.com")
    session.commit()
    import_completed(session, account, tmp_path, 10)
    assert states(session, account)["allowance"] == OK
    # No target, no budget: those rules stay NO_DATA, and only the allowance's first evaluation is recorded.
    assert events(session, account) == [("allowance", NO_DATA, OK)]
    assert outbox(session, account) == []  # NO_DATA -> OK is history, not news
    import_completed(session, account, tmp_path, 14)  # 24 of 30: 80%
    assert states(session, account)["allowance"] == WARNING
    assert events(session, account)[-1] == ("allowance", OK, WARNING)
    ((kind, data),) = outbox(session, account)
    assert kind == "alert.triggered"
    assert data["rule"] == "allowance" and data["from"] == OK and data["to"] == WARNING
    assert data["value"] == "0.8000" and data["threshold"] == "0.8" and data["account"] == "acme"
    assert "24 of 30 free outcomes used" in data["message"]
    import_completed(session, account, tmp_path, 6)  # all 30 used
    kinds = [k for k, _ in outbox(session, account)]
    assert kinds == ["alert.triggered", "alert.triggered", "allowance.exhausted"]
    exhausted = outbox(session, account)[-1][1]
    assert exhausted["free_total"] == 30 and exhausted["free_used"] == 30
    assert states(session, account)["allowance"] == ALERT


def test_nothing_changes_nothing_is_written(session, tmp_path):
    account = make_account(session)
    import_completed(session, account, tmp_path, 5)
    before = session.exec(select(AlertEvent)).all()
    assert evaluate_account(session, account) == []
    session.commit()
    assert session.exec(select(AlertEvent)).all() == before


def test_a_settings_change_resolves_and_triggers(session, tmp_path):
    account = make_account(session, plan="freemium")
    import_completed(session, account, tmp_path, 10)
    update_settings(session, account, actor=OPERATOR, monthly_budget=Decimal("0"), target_completion_rate=None,
                    target_accuracy=None)
    session.commit()
    # The freemium plan bills nothing below its allowance: a budget of 0 is not exceeded.
    assert states(session, account)["budget"] == OK
    update_settings(session, account, actor=OPERATOR, monthly_budget=None, target_completion_rate=Decimal("0.99"),
                    target_accuracy=None)
    session.commit()
    assert states(session, account)["budget"] == NO_DATA
    assert states(session, account)["completion"] == OK  # every imported outcome completed


def test_a_rolled_back_change_leaves_no_event(session, tmp_path):
    account = make_account(session)
    import_completed(session, account, tmp_path, 10)
    n = len(session.exec(select(AlertEvent)).all())
    update_settings(session, account, actor=OPERATOR, monthly_budget=Decimal("10"), target_completion_rate=None,
                    target_accuracy=None)
    session.flush()
    session.rollback()
    assert len(session.exec(select(AlertEvent)).all()) == n
    assert session.exec(select(AlertState).where(AlertState.rule == "budget")).one().state == NO_DATA


def test_states_match_the_pages_alerts(session, tmp_path):
    from app.store.alerts import alerts_for

    account = make_account(session)
    import_completed(session, account, tmp_path, 25)
    codes = [a.code for a in alerts_for(session, account, as_of=at("2026-11-20T12:00"))]
    assert codes == ["allowance-80"] and states(session, account)["allowance"] == WARNING


def test_only_admins_see_or_change_notifications(session):
    from app.domain.access import Forbidden, Principal
    from app.store.outbox import add_webhook, list_channels, list_deliveries, remove_channel, send_test

    account = make_account(session)
    viewer = Principal(email="vic@example.com", roles=((account.id, "viewer"),))
    stranger = Principal(email="tom@example.com", roles=())
    for call in (
        lambda who: list_channels(session, who, account),
        lambda who: list_deliveries(session, who, account),
        lambda who: list_states(session, who, account),
        lambda who: list_alert_events(session, who, account),
        lambda who: add_webhook(session, who, account, "https://example.com/hook"),
        lambda who: add_email(session, who, account, "a@example.com"),
        lambda who: remove_channel(session, who, account, 1),
        lambda who: send_test(session, who, account, 1),
    ):
        with pytest.raises(Forbidden):
            call(viewer)
        with pytest.raises(Exception, match="no such account"):
            call(stranger)


def test_reviews_that_drop_accuracy_below_target_trigger_and_later_resolve(session, tmp_path):
    from app.store.reviews import review_outcome

    account = make_account(session, target_accuracy=Decimal("0.8"))
    import_completed(session, account, tmp_path, 5)
    stored = [o.outcome_id for o in session.exec(select(Outcome).where(Outcome.account_id == account.id)).all()]
    assert len(stored) == 5
    for oid in stored[:4]:
        review_outcome(session, OPERATOR, account, "customer-support", oid, "correct")
        session.commit()
    assert states(session, account)["accuracy"] == OK
    review_outcome(session, OPERATOR, account, "customer-support", stored[4], "incorrect")
    session.commit()
    review_outcome(session, OPERATOR, account, "customer-support", stored[3], "incorrect")
    session.commit()  # 3 of 5 correct: 60%, below 80%
    assert states(session, account)["accuracy"] == ALERT
    kinds = [(k, d["rule"], d["to"]) for k, d in outbox(session, account)]
    assert kinds == [("alert.triggered", "accuracy", ALERT)]
    review_outcome(session, OPERATOR, account, "customer-support", stored[3], "correct")
    review_outcome(session, OPERATOR, account, "customer-support", stored[4], "correct")
    session.commit()
    assert states(session, account)["accuracy"] == OK
    assert [(k, d["rule"], d["from"], d["to"]) for k, d in outbox(session, account)][-1] == ("alert.resolved", "accuracy", ALERT, OK)


def test_closing_a_month_writes_invoice_finalized_in_its_transaction(session, tmp_path, monkeypatch):
    from app.store.closing import close_through
    from app.store.outbox import list_deliveries

    account = make_account(session)
    add_email(session, OPERATOR, account, "billing@example.com")
    session.commit()
    import_completed(session, account, tmp_path, 3, day="2026-11-05")
    monkeypatch.setenv("OVERSEER_NOW", "2026-12-02T09:00:00Z")
    (row,) = close_through(session, OPERATOR, account, 2026, 11, at("2026-12-02T09:00"))
    session.flush()
    session.rollback()  # not committed: neither the invoice nor its event stays
    assert [k for k, _ in outbox(session, account)] == []
    (row,) = close_through(session, OPERATOR, account, 2026, 11, at("2026-12-02T09:00"))
    session.commit()
    ((kind, data),) = [(k, d) for k, d in outbox(session, account) if k == "invoice.finalized"]
    assert data["number"] == "ACME-2026-11" and data["month"] == "2026-11" and data["total"] == "0.00"
    assert data["closed_at"] == "2026-12-02T09:00:00Z" and data["free_used"] == 3
    assert [d.event_type for d in list_deliveries(session, OPERATOR, account)] == ["invoice.finalized"]


@pytest.mark.parametrize("first_time", [True, False])
def test_two_evaluations_at_once_record_one_change(engine, session, first_time):
    import threading

    from app.core.db import run_in_transaction
    from app.models import Account
    from app.store.accounts import list_jobs
    from tests.factories import add_outcomes

    account = make_account(session)
    if not first_time:
        evaluate_account(session, account)  # the state rows exist already
        session.commit()
    (job,) = list_jobs(session, account)
    # Written straight into the tables (no audit entry, so no evaluation yet): 24 of 30 free outcomes.
    add_outcomes(session, account, job, [at("2026-11-10T10:00")] * 24)
    barrier = threading.Barrier(2)
    errors = []

    def evaluate():
        try:
            barrier.wait()
            run_in_transaction(lambda s: evaluate_account(s, s.get(Account, account.id)), engine)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=evaluate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    session.rollback()
    assert [e for e in events(session, account) if e[2] == WARNING] == [("allowance", NO_DATA if first_time else OK, WARNING)]
    assert [k for k, _ in outbox(session, account)] == ["alert.triggered"]
