"""E-mail alerts go through the SMTP server the operator names: here a local aiosmtpd server."""

from __future__ import annotations

import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from app.notify.mailer import smtp_settings
from app.notify.worker import run_once
from app.store.outbox import add_email, list_deliveries
from tests.factories import OPERATOR
from tests.notify.helpers import NOW, import_completed, make_account


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(monkeypatch):
    box = Inbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("OVERSEER_NOW", NOW)
    monkeypatch.setenv("OVERSEER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OVERSEER_SMTP_PORT", str(port))
    monkeypatch.setenv("OVERSEER_SMTP_TLS", "none")
    monkeypatch.setenv("OVERSEER_SMTP_FROM", "alerts@overseer.test")
    yield box
    controller.stop()


def test_an_alert_is_mailed(engine, session, inbox, tmp_path):
    account = make_account(session)
    add_email(session, OPERATOR, account, "ops@example.com; Finance@Example.com")
    session.commit()
    import_completed(session, account, tmp_path, 24)
    report = run_once(engine)
    assert report.delivered == 1
    ((rcpts, msg),) = inbox.messages
    assert sorted(rcpts) == ["finance@example.com", "ops@example.com"]
    assert msg["Subject"] == "Overseer alert for acme: allowance is WARNING"
    assert msg["From"] == "alerts@overseer.test"
    assert "24 of 30 free outcomes used" in msg.get_payload()
    (d,) = list_deliveries(session, OPERATOR, account)
    assert d.status == "delivered"


def test_no_smtp_server_is_a_failed_attempt_not_a_crash(engine, session, monkeypatch, tmp_path):
    monkeypatch.setenv("OVERSEER_NOW", NOW)
    for key in ("HOST", "PORT", "TLS", "FROM"):
        monkeypatch.delenv(f"OVERSEER_SMTP_{key}", raising=False)
    monkeypatch.chdir(tmp_path)
    if smtp_settings() is not None:
        pytest.skip("an [smtp] section is configured in the repository's secrets.toml")
    account = make_account(session)
    add_email(session, OPERATOR, account, "ops@example.com")
    session.commit()
    import_completed(session, account, tmp_path, 24)
    report = run_once(engine)
    assert report.retrying == 1
    (d,) = list_deliveries(session, OPERATOR, account)
    assert "no SMTP server is configured" in d.last_error


def test_smtp_settings_from_secrets_toml(monkeypatch, tmp_path):
    for key in ("HOST", "PORT", "USER", "PASSWORD", "TLS", "FROM"):
        monkeypatch.delenv(f"OVERSEER_SMTP_{key}", raising=False)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        '[smtp]\nhost = "mail.example.com"\nport = 2525\nusername = "u"\npassword = "p"\nfrom = "a@example.com"\ntls = "ssl"\n'
    )
    monkeypatch.chdir(tmp_path)
    s = smtp_settings()
    assert (s.host, s.port, s.username, s.password, s.sender, s.tls) == ("mail.example.com", 2525, "u", "p", "a@example.com", "ssl")
    monkeypatch.setenv("OVERSEER_SMTP_HOST", "other.example.com")
    assert smtp_settings().host == "other.example.com"
