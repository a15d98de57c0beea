"""The worker sends the outbox: signed webhooks verified by standardwebhooks, retries on the schedule under one
webhook-id, giving up at its end, nothing lost to a crash, nothing sent twice by two workers."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.core.clock import parse_moment
from app.domain.webhooks import RETRY_DELAYS
from app.models import Delivery, DeliveryAttempt
from app.notify.worker import deliver_due, run_once
from app.store.outbox import add_webhook, list_attempts, list_deliveries, send_test
from tests.factories import OPERATOR
from tests.notify.helpers import NOW, import_completed, make_account, start_receiver


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", NOW)
    monkeypatch.setenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", "1")  # the receiver listens on 127.0.0.1
    rec, server = start_receiver()
    yield rec
    server.shutdown()
    server.server_close()


def at_offset(monkeypatch, delta: timedelta) -> None:
    monkeypatch.setenv("OVERSEER_NOW", (parse_moment(NOW) + delta).isoformat())


def hooked_account(session, receiver, slug="acme"):
    account = make_account(session, slug)
    channel, secret = add_webhook(session, OPERATOR, account, receiver.url)
    session.commit()
    assert secret.startswith("whsec_")
    receiver.secret = secret
    return account, channel


def test_an_import_past_80_percent_reaches_the_receiver_signed(engine, session, receiver, tmp_path):
    account, _ = hooked_account(session, receiver)
    import_completed(session, account, tmp_path, 24)
    report = run_once(engine)
    assert report.delivered == 1 and report.failed == 0
    (got,) = receiver.got
    assert got.verified, got.error
    assert got.payload["type"] == "alert.triggered"
    assert got.payload["timestamp"] == "2026-11-20T12:00:00Z"
    assert got.payload["data"]["rule"] == "allowance" and got.payload["data"]["to"] == "WARNING"
    assert got.headers["webhook-id"].startswith("msg_")
    # A second pass finds nothing more to send and no state changed.
    assert run_once(engine).attempts == 0 and len(receiver.got) == 1


def test_500_500_200_is_three_deliveries_with_one_webhook_id(engine, session, receiver, tmp_path, monkeypatch):
    account, _ = hooked_account(session, receiver)
    receiver.script = [500, 500]
    import_completed(session, account, tmp_path, 24)
    assert deliver_due(engine).retrying == 1
    assert deliver_due(engine).attempts == 0  # the next try is 5 s away on the app's clock
    at_offset(monkeypatch, RETRY_DELAYS[0] - timedelta(seconds=1))
    assert deliver_due(engine).attempts == 0
    at_offset(monkeypatch, RETRY_DELAYS[0])
    assert deliver_due(engine).retrying == 1
    at_offset(monkeypatch, RETRY_DELAYS[0] + RETRY_DELAYS[1])
    assert deliver_due(engine).delivered == 1
    assert len(receiver.got) == 3 and all(r.verified for r in receiver.got)
    assert len({r.headers["webhook-id"] for r in receiver.got}) == 1
    assert len({r.body for r in receiver.got}) == 1
    attempts = list_attempts(session, OPERATOR, account)
    assert [a.status_code for a in reversed(attempts)] == [500, 500, 200]
    assert [a.ok for a in reversed(attempts)] == [False, False, True]
    assert all(a.latency_ms >= 0 for a in attempts) and attempts[-1].error == "HTTP 500"
    (d,) = list_deliveries(session, OPERATOR, account)
    assert d.status == "delivered" and d.attempts == 3


def test_gives_up_at_the_end_of_the_schedule(engine, session, receiver, tmp_path, monkeypatch):
    account, _ = hooked_account(session, receiver)
    receiver.script = [503] * 10
    import_completed(session, account, tmp_path, 24)
    offset = timedelta(0)
    statuses = []
    for delay in (timedelta(0), *RETRY_DELAYS):
        offset += delay
        at_offset(monkeypatch, offset)
        r = deliver_due(engine)
        statuses.append((r.retrying, r.failed))
    assert statuses == [(1, 0)] * 6 + [(0, 1)]
    at_offset(monkeypatch, offset + timedelta(days=30))
    assert deliver_due(engine).attempts == 0
    (d,) = list_deliveries(session, OPERATOR, account)
    assert d.status == "failed" and d.attempts == 7
    assert d.last_error.startswith("gave up after 7 attempts") and "HTTP 503" in d.last_error
    assert len(receiver.got) == 7 and len({r.headers["webhook-id"] for r in receiver.got}) == 1


def test_a_crash_between_commit_and_send_loses_nothing(engine, session, receiver, tmp_path, monkeypatch):
    account, _ = hooked_account(session, receiver)
    import_completed(session, account, tmp_path, 24)  # the event is committed with the import

    class Crash(BaseException):
        pass

    def die(_item):
        raise Crash  # the process dies after claiming, before anything is sent

    with pytest.raises(Crash):
        deliver_due(engine, send=die)
    assert receiver.got == []
    # A restarted worker: the dead one's lease keeps the delivery until it lapses, then it goes out.
    assert deliver_due(engine).attempts == 0
    at_offset(monkeypatch, timedelta(seconds=61))
    assert deliver_due(engine).delivered == 1
    (got,) = receiver.got
    assert got.verified and got.payload["type"] == "alert.triggered"


def test_an_event_committed_while_no_worker_ran_goes_out_later(engine, session, receiver, tmp_path, monkeypatch):
    account, _ = hooked_account(session, receiver)
    import_completed(session, account, tmp_path, 24)
    at_offset(monkeypatch, timedelta(days=2))
    assert run_once(engine).delivered >= 1
    assert [r.payload["type"] for r in receiver.got][0] == "alert.triggered"


def test_two_workers_never_send_one_attempt_twice(engine, session, receiver):
    account, channel = hooked_account(session, receiver)
    for _ in range(40):
        send_test(session, OPERATOR, account, channel.id)
    session.commit()
    barrier = threading.Barrier(2)
    errors = []

    def work(name):
        try:
            barrier.wait()
            deliver_due(engine, owner=name)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    ids = [r.headers["webhook-id"] for r in receiver.got]
    assert len(ids) == 40 and len(set(ids)) == 40
    with Session(engine) as s:
        assert {d.status for d in s.exec(select(Delivery)).all()} == {"delivered"}
        assert len(s.exec(select(DeliveryAttempt)).all()) == 40


def test_test_event_and_payload_shape(engine, session, receiver):
    account, channel = hooked_account(session, receiver)
    send_test(session, OPERATOR, account, channel.id)
    session.commit()
    deliver_due(engine)
    (got,) = receiver.got
    assert got.verified
    body = json.loads(got.body)
    assert set(body) == {"type", "timestamp", "data"} and body["type"] == "notification.test"
    assert body["data"]["account"] == "acme"


def test_start_worker_sends_and_stops(engine, session, receiver, tmp_path):
    from app.notify.worker import start_worker

    account, channel = hooked_account(session, receiver)
    send_test(session, OPERATOR, account, channel.id)
    session.commit()
    stop = start_worker(engine, interval=0.05)
    try:
        for _ in range(400):  # waits for the thread, not for a clock: the test's outcome does not depend on it
            if receiver.got:
                break
            threading.Event().wait(0.05)
    finally:
        stop()
    assert [r.payload["type"] for r in receiver.verified] == ["notification.test"]


def test_a_redirect_is_not_followed(engine, session, receiver):
    account, channel = hooked_account(session, receiver)
    receiver.script = [302]
    send_test(session, OPERATOR, account, channel.id)
    session.commit()
    assert deliver_due(engine).retrying == 1
    (attempt,) = list_attempts(session, OPERATOR, account)
    assert attempt.status_code == 302 and "redirect not followed" in attempt.error
    assert len(receiver.got) == 1


def test_worker_can_be_switched_off(monkeypatch):
    from app.notify.worker import start_worker

    monkeypatch.setenv("OVERSEER_NOTIFY_WORKER", "0")
    stop = start_worker()
    stop()
    assert not [t for t in threading.enumerate() if t.name == "overseer-notify"]


def test_a_batch_held_too_long_is_handed_back_unsent(engine, session, receiver, monkeypatch):
    from app.notify import worker

    account, channel = hooked_account(session, receiver)
    for _ in range(3):
        send_test(session, OPERATOR, account, channel.id)
    session.commit()
    ticks = iter(range(0, 10_000, 40))  # every look at the monotonic clock is 40 s later: past HOLD_AT_MOST
    monkeypatch.setattr(worker.time, "monotonic", lambda: float(next(ticks)))
    report = worker.deliver_due(engine, max_batches=1)
    assert report.attempts == 0 and receiver.got == []
    with Session(engine) as s:
        assert {(d.status, d.lease_owner) for d in s.exec(select(Delivery)).all()} == {("pending", None)}
    monkeypatch.undo()
    monkeypatch.setenv("OVERSEER_NOW", NOW)
    monkeypatch.setenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", "1")
    assert worker.deliver_due(engine).delivered == 3  # claimable at once, no lease to wait for


def test_a_receiver_dripping_its_answer_is_cut_at_the_deadline(monkeypatch):
    import socket as socketlib
    import time

    from app.notify.sender import post_webhook

    monkeypatch.setenv("OVERSEER_WEBHOOKS_ALLOW_PRIVATE", "1")
    server = socketlib.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def drip():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.is_set():  # one header byte at a time, each well within the socket timeout
            try:
                conn.sendall(b"X")
            except OSError:
                break
            stop.wait(0.1)
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    result = post_webhook(f"http://127.0.0.1:{server.getsockname()[1]}/", "whsec_" + "QUJD" * 8, "msg_x", b"{}", timeout=1.0)
    took = time.monotonic() - started
    stop.set()
    server.close()
    assert not result.ok and " 1 s" in result.error, result
    assert took < 5


def test_the_lifespan_runs_the_worker_while_the_server_runs(engine, session, receiver):
    import asyncio
    import concurrent.futures

    from app.notify.worker import lifespan

    account, channel = hooked_account(session, receiver)
    send_test(session, OPERATOR, account, channel.id)
    session.commit()

    async def serve():
        async with lifespan(None, engine=engine):
            for _ in range(400):
                if receiver.got:
                    break
                await asyncio.sleep(0.05)

    # On a thread of its own: the browser tests' Playwright keeps an event loop running on the main thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, serve()).result(timeout=120)
    assert not [t for t in threading.enumerate() if t.name == "overseer-notify"]
    assert [r.payload["type"] for r in receiver.verified] == ["notification.test"]


def test_the_worker_closes_a_month_past_its_grace_and_sends_invoice_finalized(engine, session, receiver, monkeypatch):
    account, _ = hooked_account(session, receiver)
    monkeypatch.setenv("OVERSEER_NOW", "2026-12-05T08:00:00Z")  # November's grace period (3 days) ended on 4 Dec
    report = run_once(engine)
    assert report.months_closed == 1
    finalized = [r.payload for r in receiver.verified if r.payload["type"] == "invoice.finalized"]
    assert [p["data"]["number"] for p in finalized] == ["ACME-2026-11"]
    assert finalized[0]["timestamp"] == "2026-12-04T00:00:00Z"  # the closing moment, not the worker's
