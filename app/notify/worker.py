"""The notification worker: evaluates alert states, then sends what the outbox holds, with retries.

Three ways to run it, one code path:

- :func:`run_once` — one pass (``overseer notify run --once``, cron, tests);
- :func:`run_forever` — passes until told to stop (``overseer notify run``);
- :func:`start_worker` — :func:`run_forever` on a daemon thread, returning a
  function that stops it; the app server calls it from ``st.App``'s lifespan.

A pass: (1) every account's alert states are evaluated, each in its own
transaction (:func:`app.store.alert_states.evaluate_all`; months whose grace
period ended are closed on the way, which writes ``invoice.finalized``);
(2) due deliveries are claimed in small batches (a lease, under ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL), sent outside any transaction, and every attempt is
recorded with its status code, latency and error, scheduling the next try or
giving up (:func:`app.store.outbox.record_attempt`).

Every moment it records or compares, the backoff included, is
:func:`app.core.clock.now` (``OVERSEER_NOW`` when set). Only the pause between
passes of :func:`run_forever` is real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from app.core import clock
from app.core.db import run_in_transaction
from app.store import outbox
from app.store.alert_states import evaluate_all

__all__ = ["PassReport", "lifespan", "run_forever", "run_once", "start_worker"]

log = logging.getLogger(__name__)

BATCH = 20
# A claimed batch is sent only while well inside its lease (outbox.LEASE, 60 s): one send takes at most
# about 20 s (10 s to connect, 10 s for the answer), so nothing is sent after the lease could have lapsed.
HOLD_AT_MOST = 30.0
INTERVAL = 2.0  # seconds between delivery passes of a running worker
SWEEP_EVERY = 300.0  # seconds between evaluations of every account by a running worker
ENABLED_ENV = "OVERSEER_NOTIFY_WORKER"


@dataclass
class PassReport:
    """What one pass did."""

    accounts: int = 0
    changes: int = 0
    months_closed: int = 0
    attempts: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"evaluated {self.accounts} account{'' if self.accounts == 1 else 's'} ({self.changes} changes of state, {self.months_closed} months closed); "
            f"{self.attempts} attempts: {self.delivered} delivered, {self.retrying} to retry, {self.failed} failed"
        )


def _send(item: outbox.Claimed) -> outbox.SendResult:
    from app.notify.mailer import send_email
    from app.notify.sender import post_webhook

    if item.kind == "webhook":
        return post_webhook(item.target, item.secret or "", item.msg_id, item.body.encode())
    if item.kind == "email":
        return send_email([a.strip() for a in item.target.split(",") if a.strip()], item.event_type, item.body, item.msg_id)
    return outbox.SendResult(False, error=f"unknown channel kind {item.kind!r}")


def deliver_due(engine: Engine | None = None, *, owner: str | None = None, send: Callable | None = None,
                report: PassReport | None = None, max_batches: int = 1000) -> PassReport:
    """Claim, send and record every delivery due now, batch by batch.

    Parameters
    ----------
    engine : Engine, optional
        Default: the process-wide engine.
    owner : str, optional
        This worker's lease name (default: a fresh one).
    send : callable, optional
        ``send(Claimed) -> SendResult``; default sends webhooks and e-mail for real.
    """
    report = report or PassReport()
    owner = owner or f"worker-{uuid.uuid4().hex[:12]}"
    send = send or _send
    for _ in range(max_batches):
        claimed = run_in_transaction(
            lambda s: outbox.claim_due(s, owner=owner, now=clock.now(), limit=BATCH), engine
        )
        if not claimed:
            break
        claimed_at = time.monotonic()
        for index, item in enumerate(claimed):
            if time.monotonic() - claimed_at > HOLD_AT_MOST:
                # Slow receivers ate into the lease: hand the rest back rather than send after it lapsed,
                # when another worker may already have claimed them.
                rest = [c.delivery_id for c in claimed[index:]]
                run_in_transaction(lambda s, rest=rest: outbox.release(s, rest, owner), engine)
                break
            try:
                result = send(item)
            except Exception as exc:  # noqa: BLE001 - a bug in one channel must not stop the others
                result = outbox.SendResult(False, error=f"{type(exc).__name__}: {exc}"[:300])
            status = run_in_transaction(
                lambda s, item=item, result=result: outbox.record_attempt(s, item.delivery_id, owner, result, now=clock.now()),
                engine,
            )
            report.attempts += 1
            if status == "delivered":
                report.delivered += 1
            elif status == "failed":
                report.failed += 1
            elif status == "pending":
                report.retrying += 1
    return report


def run_once(engine: Engine | None = None, *, evaluate: bool = True, send: Callable | None = None,
             owner: str | None = None) -> PassReport:
    """One pass: evaluate every account's alert states (unless ``evaluate`` is false), then deliver what is due."""
    report = PassReport()
    if evaluate:
        sweep = evaluate_all(engine, as_of=clock.now())
        report.accounts, report.changes, report.months_closed = sweep.accounts, sweep.changes, sweep.months_closed
    return deliver_due(engine, owner=owner, send=send, report=report)


def run_forever(engine: Engine | None = None, *, stop: threading.Event | None = None, interval: float = INTERVAL,
                sweep_every: float = SWEEP_EVERY, on_pass: Callable[[PassReport], None] | None = None) -> None:
    """Deliver every ``interval`` seconds and evaluate every account every ``sweep_every`` seconds, until ``stop`` is set.

    A pass that fails (the database unreachable for a moment) is logged and the
    next one tries again: a worker inside the app server must never die of it.
    """
    stop = stop or threading.Event()
    owner = f"worker-{uuid.uuid4().hex[:12]}"
    last_sweep = None
    while not stop.is_set():
        try:
            due = last_sweep is None or time.monotonic() - last_sweep >= sweep_every
            report = run_once(engine, evaluate=due, owner=owner)
            if due:
                last_sweep = time.monotonic()
            if on_pass is not None:
                on_pass(report)
        except Exception as exc:  # noqa: BLE001 - logged; the next pass tries again
            log.warning("notification pass failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        stop.wait(interval)


def start_worker(engine: Engine | None = None, *, interval: float = INTERVAL, sweep_every: float = SWEEP_EVERY) -> Callable[[], None]:
    """Run the worker on a daemon thread; returns ``stop()``, which ends it and waits for the pass in progress.

    ``OVERSEER_NOTIFY_WORKER=0`` starts nothing (``stop()`` then does nothing): for servers that leave
    sending to ``overseer notify run`` or to other servers. Several workers on one database are safe.

    For the app server, :func:`lifespan` wraps it as an ``st.App`` lifespan.
    """
    if os.environ.get(ENABLED_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        log.info("%s is off: this server runs no notification worker", ENABLED_ENV)
        return lambda timeout=30.0: None
    stop_event = threading.Event()
    thread = threading.Thread(
        target=run_forever, kwargs={"engine": engine, "stop": stop_event, "interval": interval, "sweep_every": sweep_every},
        name="overseer-notify", daemon=True,
    )
    thread.start()

    def stop(timeout: float = 30.0) -> None:
        stop_event.set()
        thread.join(timeout)

    return stop


@contextlib.asynccontextmanager
async def lifespan(app=None, *, engine: Engine | None = None):
    """An ``st.App`` lifespan that runs the worker for as long as the server runs.

    ``st.App("streamlit_app.py", lifespan=lifespan)``, or, inside a lifespan of
    its own, ``async with lifespan(app): yield``. Stopping waits for the pass in
    progress on a thread, so the event loop is never blocked.
    """
    stop = start_worker(engine)
    try:
        yield
    finally:
        await asyncio.to_thread(stop)
