"""Eight clients posting overlapping batches at once leave what one import of their union leaves.

Each client has its own key and HTTP client, and all start together (a barrier); their batches
overlap (each outcome is sent by two or three clients, with the same values), some twice. The
account they wrote to must then hold the same outcomes, usage figures and invoice as a second
account into which the union was imported once as a file. A client retries 429 and 503 as the
README advises; nothing else may fail. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import threading
from datetime import date

from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.api.endpoints import ROUTES
from app.domain.access import Principal
from app.domain.plans import SEED_PLANS
from app.models import Outcome
from app.store.accounts import create_account
from app.store.api_keys import create_key
from app.store.ingest import ingest_file
from sqlmodel import select
from tests.api.conftest import item

CLIENTS = 8
STRIDE = 25
WIDTH = 60


def _item(n: int) -> dict:
    # The same values for an outcome whoever sends it: a verdict on every fifth, open every seventh.
    fields = {"completed_at": f"2026-11-{1 + n % 23:02d}T10:{n % 60:02d}:00Z",
              "started_at": f"2026-11-{1 + n % 23:02d}T09:00:00Z"}
    if n % 7 == 0:
        fields.update(status="open", completed_at="")
    elif n % 5 == 0:
        fields.update(verdict="incorrect" if n % 10 == 0 else "correct")
    elif n % 11 == 0:
        fields.update(status="escalated", handoff_step="execute", execute="human")
    return item(f"C-{n}", **fields)


def test_overlapping_batches_equal_one_import_of_their_union(engine, session, tmp_path):
    racing = create_account(session, "racing", "Racing", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    single = create_account(session, "single", "Single", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    session.commit()
    keys = [create_key(session, Principal.operator(), racing, "write", f"c{i}")[1] for i in range(CLIENTS)]
    session.commit()
    batches = [[_item(n) for n in range(i * STRIDE, i * STRIDE + WIDTH)] for i in range(CLIENTS)]
    union = sorted({n for i in range(CLIENTS) for n in range(i * STRIDE, i * STRIDE + WIDTH)})

    app = Starlette(routes=ROUTES)
    start = threading.Barrier(CLIENTS)
    problems: list[str] = []

    def client(i: int) -> None:
        with TestClient(app, raise_server_exceptions=False) as c:
            start.wait(timeout=60)
            for batch in (batches[i], batches[i][::2]):  # the second, a repeat of half of it
                for _attempt in range(20):  # bounded: retry 429 and 503 only
                    response = c.post("/api/v1/outcomes", json={"outcomes": batch},
                                      headers={"Authorization": f"Bearer {keys[i]}"})
                    if response.status_code not in (429, 503):
                        break
                if response.status_code != 200 or response.json()["invalid"]:
                    problems.append(f"client {i}: {response.status_code} {response.text[:300]}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert not problems, problems

    path = tmp_path / "union.csv"
    rows = [_item(n) for n in union]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    session.rollback()
    report = ingest_file(session, single, path)
    assert report.written and not report.rejected

    def stored(account):
        session.rollback()
        columns = ("outcome_id", "status", "verdict", "completed_at", "handoff_step", "step_execute")
        return sorted(tuple(getattr(o, c) for c in columns) for o in session.exec(select(Outcome).where(Outcome.account_id == account.id)))

    assert len(stored(racing)) == len(union)
    assert stored(racing) == stored(single)
    with TestClient(app) as c:
        [read_racing] = [create_key(session, Principal.operator(), racing, "read")[1]]
        [read_single] = [create_key(session, Principal.operator(), single, "read")[1]]
        session.commit()
        for path_ in ("/api/v1/usage", "/api/v1/invoices/2026-11"):
            got = c.get(path_, headers={"Authorization": f"Bearer {read_racing}"}).json()
            want = c.get(path_, headers={"Authorization": f"Bearer {read_single}"}).json()
            assert got == want, path_
