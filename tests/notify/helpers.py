"""Shared pieces of the notification tests: accounts, CSV imports, and a receiver that verifies with standardwebhooks."""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account
from app.store.ingest import ingest_file
from tests.factories import OPERATOR, at

NOW = "2026-11-20T12:00:00Z"
HEADER = "outcome_id,job,started_at,completed_at,status,verdict,handoff_step"
_ids = itertools.count(1)


def make_account(session, slug="acme", plan="freemium", **kw):
    account = create_account(session, slug, slug.title(), SEED_PLANS[plan], since=at("2026-11-01T00:00").date(), **kw)
    session.commit()
    return account


def import_completed(session, account, tmp_path, n, day="2026-11-10"):
    """Import ``n`` completed, unreviewed outcomes on ``day`` through the real import (audit, rollups, hooks)."""
    rows = []
    for i in range(n):
        k = next(_ids)
        rows.append(f"T-{k},customer-support,{day}T09:{i % 60:02d}:00Z,{day}T10:{i % 60:02d}:00Z,completed,,")
    path = tmp_path / f"import-{k}.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    report = ingest_file(session, account, path, actor=OPERATOR)
    assert report.written and not report.rejected, report.rejected[:3]
    return report


@dataclass
class Received:
    headers: dict
    body: bytes
    payload: dict | None
    verified: bool
    error: str = ""


@dataclass
class Receiver:
    """A local HTTP receiver: answers with ``script`` (then 200), verifies every signature with standardwebhooks."""

    secret: str | None = None
    script: list = field(default_factory=list)
    got: list = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else 200

    @property
    def verified(self) -> list[Received]:
        return [r for r in self.got if r.verified]


def start_receiver(path="/hook") -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = Webhook(receiver.secret).verify(body, headers)
                rec = Received(headers, body, payload, True)
            except (WebhookVerificationError, Exception) as exc:  # noqa: BLE001 - recorded for the test to see
                rec = Received(headers, body, None, False, f"{type(exc).__name__}: {exc}")
            with receiver.lock:
                receiver.got.append(rec)
            code = receiver.answer() if rec.verified else 400
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"ok": code < 300}).encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    return receiver, server
