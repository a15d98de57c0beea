"""Webhook addresses that must be refused, when saving and again when sending. No test here can reach the
address even if a refusal broke: the resolver is replaced and opening a connection fails the test."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.domain.webhooks import WebhookRefused, check_url, refused_address
from app.models import NotifyChannel
from app.notify import sender
from app.notify.worker import deliver_due
from app.store.outbox import add_webhook, list_attempts, send_test
from tests.factories import OPERATOR
from tests.notify.helpers import NOW, make_account

FAKE_DNS = {
    "internal.example.com": ["10.20.30.40"],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": ["93.184.216.34", "192.168.1.10"],
    "public.example.com": ["93.184.216.34"],
    "localhost": ["127.0.0.1", "::1"],
}
REFUSED = [
    "http://169.254.169.254/",
    "http://localhost/",
    "http://10.0.0.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://localhost/hook",
    "https://10.0.0.1/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://internal.example.com/hook",
    "https://metadata.example.com/hook",
    "https://mixed.example.com/hook",
    "https://0.0.0.0/hook",
    "https://100.100.100.200/hook",
]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Names resolve from FAKE_DNS only; any connection attempt is recorded and fails."""
    opened = []

    def resolve(host, port):
        if host in FAKE_DNS:
            return FAKE_DNS[host]
        try:
            import ipaddress

            return [str(ipaddress.ip_address(host))]
        except ValueError:
            raise OSError(f"no such host {host}") from None

    def no_connection(address, port, timeout):
        opened.append((address, port))
        raise AssertionError(f"a connection to {address}:{port} was attempted")

    monkeypatch.setattr(sender, "_resolve", resolve)
    monkeypatch.setattr(sender, "_open", no_connection)
    monkeypatch.setenv("OVERSEER_NOW", NOW)
    monkeypatch.delenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    yield opened
    assert opened == [] or all(a not in {"10.0.0.1", "169.254.169.254", "127.0.0.1"} for a, _ in opened)


@pytest.mark.parametrize("url", REFUSED)
def test_refused_when_saving_nothing_saved(session, url, offline):
    account = make_account(session)
    with pytest.raises(WebhookRefused) as err:
        add_webhook(session, OPERATOR, account, url)
    session.rollback()
    assert session.exec(select(NotifyChannel)).all() == []
    assert offline == []
    text = str(err.value)
    assert "https://" in text or "refused" in text


def test_plain_http_to_a_public_host_is_refused_without_the_setting():
    with pytest.raises(WebhookRefused, match="https://"):
        check_url("http://public.example.com/hook", allow_private=False)


def test_public_https_is_accepted(session, offline):
    account = make_account(session)
    _, secret = add_webhook(session, OPERATOR, account, "https://public.example.com/hook")
    assert secret.startswith("whsec_")


def test_refused_again_when_sending(engine, session, offline, monkeypatch):
    # Saved while private addresses were allowed (or DNS changed since): the send checks again.
    monkeypatch.setenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", "1")
    account = make_account(session)
    channel, _ = add_webhook(session, OPERATOR, account, "https://internal.example.com/hook")
    send_test(session, OPERATOR, account, channel.id)
    session.commit()
    monkeypatch.delenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE")
    report = deliver_due(engine)
    assert report.attempts == 1 and report.retrying == 1
    (attempt,) = list_attempts(session, OPERATOR, account)
    assert attempt.status_code is None and "10.20.30.40 is a private address" in attempt.error
    assert offline == []


@pytest.mark.parametrize(
    ("address", "why"),
    [("127.0.0.1", "loopback"), ("169.254.169.254", "link-local"), ("10.0.0.1", "private"), ("192.168.0.1", "private"),
     ("::1", "loopback"), ("fe80::1", "link-local"), ("fd00::1", "private"), ("100.64.0.1", "not a public"),
     ("224.0.0.1", "not a public")],
)
def test_address_rules(address, why):
    assert why in refused_address(address)


def test_a_public_address_is_allowed():
    assert refused_address("93.184.216.34") is None


def test_the_setting_allows_private_and_http(monkeypatch, session):
    monkeypatch.setenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", "1")
    dest = sender.check_destination("http://10.0.0.1:8080/x?y=1")
    assert (dest.scheme, dest.address, dest.port, dest.path) == ("http", "10.0.0.1", 8080, "/x?y=1")


def test_a_failed_save_never_shows_the_secret(session, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.domain.errors import OverseerError

    account = make_account(session)
    made = {}
    real_flush = session.flush

    def failing_flush(*args, **kwargs):
        pending = [o.secret for o in session.new if isinstance(o, NotifyChannel)]
        if not pending:
            return real_flush(*args, **kwargs)
        secret = made["secret"] = pending[0]
        raise OperationalError("INSERT INTO notify_channel …", {"secret": secret}, Exception("disk I/O error"))

    monkeypatch.setattr(session, "flush", failing_flush)
    with pytest.raises(OverseerError) as err:
        add_webhook(session, OPERATOR, account, "https://public.example.com/hook")
    assert made["secret"] not in str(err.value) and "disk I/O error" in str(err.value)
    assert err.value.__suppress_context__
