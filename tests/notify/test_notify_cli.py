"""``overseer notify``: channels by command line, the secret printed once, the worker run once, clean refusals."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from app.cli import main
from app.models import AuditEvent, NotifyChannel
from tests.notify.helpers import NOW, make_account, start_receiver


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", NOW)
    monkeypatch.setenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", "1")
    rec, server = start_receiver()
    yield rec
    server.shutdown()
    server.server_close()


def test_add_list_test_run_remove(engine, session, receiver, capsys, tmp_path):
    make_account(session)
    code, out, err = run(capsys, "notify", "add-webhook", "--account", "acme", "--url", receiver.url, "--json")
    assert code == 0, err
    made = json.loads(out)
    assert set(made) == {"id", "url", "secret"} and made["secret"].startswith("whsec_") and made["url"] == receiver.url
    receiver.secret = made["secret"]

    code, out, _ = run(capsys, "notify", "list", "--account", "acme")
    assert code == 0 and receiver.url in out and made["secret"] not in out
    code, out, _ = run(capsys, "notify", "list", "--account", "acme", "--json")
    (listed,) = json.loads(out)
    assert made["secret"] not in json.dumps(listed) and listed["kind"] == "webhook"

    code, out, err = run(capsys, "notify", "test", made["id"], "--account", "acme")
    assert code == 0, err
    code, out, err = run(capsys, "notify", "run", "--once")
    assert code == 0, err
    assert "1 delivered" in out
    assert [r.payload["type"] for r in receiver.verified] == ["notification.test"]

    code, out, err = run(capsys, "notify", "add-email", "ops@example.com", "--account", "acme")
    assert code == 0, err
    code, out, err = run(capsys, "notify", "remove", made["id"], "--account", "acme")
    assert code == 0, err
    session.rollback()
    actions = [a.action for a in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    assert actions == ["channel.add", "channel.add", "channel.remove"]
    # The secret is not in the audit trail either: only a fingerprint.
    assert made["secret"] not in json.dumps([a.after for a in session.exec(select(AuditEvent)).all()])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["notify", "add-webhook", "--account", "acme", "--url", "ftp://example.com/"], "https://"),
        (["notify", "add-webhook", "--account", "nope", "--url", "https://example.com/"], "no account"),
        (["notify", "add-email", "not-an-address", "--account", "acme"], "e-mail address"),
        (["notify", "remove", "999", "--account", "acme"], "no channel"),
        (["notify", "remove", "abc", "--account", "acme"], "channel number"),
        (["notify", "test", "999", "--account", "acme"], "no channel"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(engine, session, capsys, argv, message, monkeypatch):
    monkeypatch.delenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    make_account(session)
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    session.rollback()
    assert session.exec(select(NotifyChannel)).all() == []
