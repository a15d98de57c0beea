"""The Notifications page: alert states and history, channels added and removed by an admin, the secret shown
once, deliveries with their attempts, and a delivery that gave up said plainly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.core.clock import parse_moment
from app.domain.webhooks import RETRY_DELAYS
from app.models import AuditEvent, NotifyChannel
from app.notify.worker import deliver_due, run_once
from tests.notify.helpers import start_receiver
from tests.ui.conftest import NOW, make_app, no_errors

PAGE = "ui/pages/notifications.py"


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", "1")
    rec, server = start_receiver()
    yield rec
    server.shutdown()
    server.server_close()


def open_page():
    at = make_app()
    at.run()
    at.switch_page(PAGE).run()
    no_errors(at)
    return at


def deliveries(at):
    (table,) = [d.value for d in at.dataframe if "webhook-id" in d.value.columns]
    return table


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
                     + [s.value for s in at.success] + [i.value for i in at.info])


def test_states_channels_deliveries(demo_engine, receiver, monkeypatch):
    run_once(demo_engine, send=lambda item: None)  # evaluate every demo account: states and history appear
    at = open_page()
    assert at.title[0].value == "Notifications"
    assert [m.label for m in at.metric] == ["Free allowance", "Accuracy", "Completion rate", "Budget"]
    assert "No channel yet" in texts(at)
    assert at.dataframe  # the history of states

    at.text_input(key="notify_url").input(receiver.url)
    at.button(key="notify_add_webhook_btn").click().run()
    no_errors(at)
    (secret,) = [c.value for c in at.code]
    assert secret.startswith("whsec_") and "not shown again" in texts(at)
    receiver.secret = secret
    at.run()  # any next run: the secret is gone for good
    assert not at.code and secret not in texts(at)
    with Session(demo_engine) as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "channel.add")).one().after["url"] == receiver.url

    at.button(key="notify_send_test").click().run()
    no_errors(at)
    assert "queued" in texts(at)
    assert deliver_due(demo_engine).delivered == 1
    assert receiver.verified[0].payload["type"] == "notification.test"
    at.run()
    table = deliveries(at)
    assert list(table["Status"]) == ["Delivered"] and list(table["Event"]) == ["notification.test"]

    # A receiver that never recovers: after the whole schedule the page says the delivery failed.
    receiver.script = [500] * 10
    at.button(key="notify_send_test").click().run()
    offset = timedelta(0)
    for delay in (timedelta(0), *RETRY_DELAYS):
        offset += delay
        monkeypatch.setenv("OVERSEER_NOW", (parse_moment(NOW) + offset).isoformat())
        deliver_due(demo_engine)
    at.run()
    no_errors(at)
    assert "failed after the whole retry schedule" in texts(at)
    assert "gave up after 7 attempts" in texts(at)
    failed = deliveries(at).iloc[0]
    assert failed["Status"] == "Failed" and failed["Attempts"] == 7
    assert failed["Last error"] == "gave up after 7 attempts: HTTP 500"

    at.button(key="notify_remove").click().run()
    assert "tick the box" in texts(at)
    at.checkbox(key="notify_remove_sure").check().run()
    at.button(key="notify_remove").click().run()
    no_errors(at)
    assert "removed" in texts(at)
    with Session(demo_engine) as s:
        assert s.exec(select(NotifyChannel)).one().removed_at is not None


def test_bad_addresses_are_refused_on_the_page(demo_engine, monkeypatch):
    monkeypatch.delenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    at = open_page()
    for url, words in [("http://10.0.0.1/", "must start with"), ("https://169.254.169.254/x", "link-local")]:
        at.text_input(key="notify_url").input(url)
        at.button(key="notify_add_webhook_btn").click().run()
        no_errors(at)
        assert words in texts(at) and "Not added" in texts(at)
    at.text_input(key="notify_addresses").input("nobody")
    at.button(key="notify_add_email_btn").click().run()
    assert "Not added" in texts(at)
    with Session(demo_engine) as s:
        assert s.exec(select(NotifyChannel)).all() == []
