"""The API under /api/v1, driven by Starlette's TestClient on SQLite and PostgreSQL.

Each test gets an account on the freemium plan whose subscription started on 1 Nov 2026,
a write key and a read key, at OVERSEER_NOW = 24 Nov 2026 12:00 UTC.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlmodel import select

from app.api import http
from app.domain.access import Principal
from app.domain.plans import SEED_PLANS
from app.domain.rate_limit import RateLimiter
from app.models import ApiKey, AuditEvent, Outcome, Review
from app.store.accounts import create_account
from app.store.api_keys import create_key, list_keys, revoke_key
from tests.api.conftest import NOW, item


def fresh(session):
    """The test's session, its read snapshot ended, so it sees what the API committed since."""
    session.rollback()
    return session


def test_every_answer_has_a_request_id_and_json(client, keys):
    for method, path, kw in [
        ("GET", "/api/v1/usage", {}),
        ("GET", "/api/v1/usage", {"headers": keys.read_headers}),
        ("GET", "/api/v1/nowhere", {}),
        ("DELETE", "/api/v1/usage", {"headers": keys.read_headers}),
        ("GET", "/api/v1/openapi.json", {}),
    ]:
        response = client.request(method, path, **kw)
        assert response.headers["x-request-id"]
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        if response.status_code >= 400:
            assert set(body["error"]) == {"code", "message"}


def test_missing_unknown_and_revoked_keys_are_401(client, keys, session):
    assert client.get("/api/v1/usage").status_code == 401
    assert client.get("/api/v1/usage", headers={"Authorization": "Bearer ovs_nope"}).status_code == 401
    assert client.get("/api/v1/usage", headers={"Authorization": "Basic abc"}).status_code == 401
    fake = "ovs_0123abcd" + "A" * 32
    assert client.get("/api/v1/usage", headers={"Authorization": f"Bearer {fake}"}).status_code == 401
    assert client.get("/api/v1/usage", headers=keys.read_headers).status_code == 200
    fresh(session)
    revoke_key(session, Principal.operator(), keys.account, keys.read_prefix)
    session.commit()
    response = client.get("/api/v1/usage", headers=keys.read_headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_read_key_cannot_write(client, keys, session):
    response = client.post("/api/v1/outcomes", headers=keys.read_headers, json={"outcomes": [item("T-1")]})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    response = client.post("/api/v1/outcomes/customer-support/T-1/reviews", headers=keys.read_headers,
                           json={"verdict": "correct", "reviewer": "ann"})
    assert response.status_code == 403
    assert fresh(session).exec(select(Outcome)).first() is None


def test_post_outcomes_inserts_updates_and_reports_each_item(client, keys, session):
    first = client.post("/api/v1/outcomes", headers=keys.write_headers, json={"outcomes": [item("T-1"), item("T-2")]})
    assert first.status_code == 200, first.text
    assert first.json() == {
        "results": [
            {"index": 0, "outcome_id": "T-1", "status": "inserted", "errors": []},
            {"index": 1, "outcome_id": "T-2", "status": "inserted", "errors": []},
        ],
        "inserted": 2, "updated": 0, "unchanged": 0, "invalid": 0,
    }
    again = client.post(
        "/api/v1/outcomes", headers=keys.write_headers,
        json={"outcomes": [item("T-1"), item("T-2", verdict="incorrect"), item("T-3", status="bogus")]},
    ).json()
    assert [r["status"] for r in again["results"]] == ["unchanged", "updated", "invalid"]
    assert again["results"][2]["errors"][0]["field"] == "status"
    assert (again["inserted"], again["updated"], again["unchanged"], again["invalid"]) == (0, 1, 1, 1)
    stored = {o.outcome_id: o.verdict for o in fresh(session).exec(select(Outcome))}
    assert stored == {"T-1": "unreviewed", "T-2": "incorrect"}
    # The audit trail names the key that wrote.
    actors = {e.actor for e in fresh(session).exec(select(AuditEvent).where(AuditEvent.action == "import"))}
    assert actors == {f"API key {keys.write_prefix} (ci)"}


def test_the_same_outcome_twice_and_times_in_the_future(client, keys, session):
    body = {"outcomes": [
        item("T-1"),
        item("T-1", verdict="correct"),
        item("T-2", completed_at="2026-11-24T12:06:00Z"),  # 6 minutes ahead of OVERSEER_NOW
        item("T-3", completed_at="2026-11-24T12:04:00Z"),  # within the 5 minutes of slack
    ]}
    results = client.post("/api/v1/outcomes", headers=keys.write_headers, json=body).json()["results"]
    assert [r["status"] for r in results] == ["inserted", "invalid", "invalid", "inserted"]
    assert "already appears on item 0" in results[1]["errors"][0]["reason"]
    assert results[2]["errors"][0]["field"] == "completed_at"
    assert "future" in results[2]["errors"][0]["reason"]


def test_summary_and_url_come_through_the_api_with_the_import_s_checks(client, keys, session):
    summary = "Refunded the duplicate charge of 49.00 USD.\nReceipt sent."
    body = {"outcomes": [
        item("S-1", summary=summary, url="https://support.example.com/tickets/1"),
        item("S-2", url="javascript:alert(1)"),
        item("S-3", summary="x" * 2001),
    ]}
    results = client.post("/api/v1/outcomes", headers=keys.write_headers, json=body).json()["results"]
    assert [r["status"] for r in results] == ["inserted", "invalid", "invalid"]
    assert results[1]["errors"][0]["field"] == "url" and "only http and https" in results[1]["errors"][0]["reason"]
    assert results[2]["errors"][0]["field"] == "summary"
    got = client.get("/api/v1/outcomes/customer-support/S-1", headers=keys.read_headers).json()
    assert (got["summary"], got["url"]) == (summary, "https://support.example.com/tickets/1")
    # An item that leaves them out keeps them, as a file does.
    again = client.post("/api/v1/outcomes", headers=keys.write_headers, json={"outcomes": [item("S-1")]}).json()
    assert again["unchanged"] == 1
    assert {o.outcome_id: o.url for o in fresh(session).exec(select(Outcome))} == {"S-1": "https://support.example.com/tickets/1"}


def test_atomic_rejects_the_whole_batch(client, keys, session):
    body = {"outcomes": [item("T-1"), item("T-2", job="nope")]}
    response = client.post("/api/v1/outcomes?atomic=true", headers=keys.write_headers, json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_items"
    assert [r["status"] for r in response.json()["results"]] == ["inserted", "invalid"]
    assert fresh(session).exec(select(Outcome)).first() is None
    # A row that would reopen a closed outcome is found only against the stored rows: atomic still holds.
    assert client.post("/api/v1/outcomes", headers=keys.write_headers, json={"outcomes": [item("T-1")]}).status_code == 200
    body = {"outcomes": [item("T-5"), item("T-1", status="open", completed_at=None)]}
    response = client.post("/api/v1/outcomes?atomic=true", headers=keys.write_headers, json=body)
    assert response.status_code == 422
    assert "reopen" in response.json()["results"][1]["errors"][0]["reason"]
    assert {o.outcome_id for o in fresh(session).exec(select(Outcome))} == {"T-1"}
    assert client.post("/api/v1/outcomes?atomic=maybe", headers=keys.write_headers, json=body).status_code == 422


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 415),
        ({"content": b'{"outcomes": []}', "headers": {"Content-Type": "text/plain"}}, 415),
        ({"content": b"\xff\xfe", "headers": {"Content-Type": "application/json"}}, 415),
        ({"json": {"outcomes": []}}, 422),
        ({"json": {"outcomes": [item(f"T-{n}") for n in range(1001)]}}, 422),
        ({"json": [1, 2]}, 422),
        ({"json": {"outcomes": "T-1"}}, 422),
        ({"content": b'{"outcomes": [' + b'"x",' * (3 * 1024 * 1024) + b'"x"]}',
          "headers": {"Content-Type": "application/json"}}, 413),
    ],
    ids=["not-json", "not-declared-json", "not-utf8", "empty", "too-many", "not-object", "not-list", "too-large"],
)
def test_bad_bodies_are_refused_and_write_nothing(client, keys, session, kwargs, status):
    kwargs = dict(kwargs)  # the parameters are shared by both backends
    headers = {**keys.write_headers, **kwargs.pop("headers", {})}
    response = client.post("/api/v1/outcomes", headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
    assert fresh(session).exec(select(Outcome)).first() is None


def test_reviews_follow_the_page_rules_and_the_trail_names_the_key(client, keys, session):
    client.post("/api/v1/outcomes", headers=keys.write_headers, json={"outcomes": [item("T-1"), item("T-2", status="open", completed_at=None)]})
    url = "/api/v1/outcomes/customer-support/T-1/reviews"
    response = client.post(url, headers=keys.write_headers, json={"verdict": "incorrect", "reviewer": "Ann at vendor", "comment": "wrong"})
    assert response.status_code == 201, response.text
    assert response.json()["reviewer"] == "Ann at vendor"
    assert response.json()["reviewed_at"] == NOW.isoformat()
    # A back-dated review joins the history without overriding the newer verdict.
    old = client.post(url, headers=keys.write_headers, json={"verdict": "correct", "reviewer": "Bo", "reviewed_at": "2026-11-21T00:00:00Z"})
    assert old.status_code == 201
    detail = client.get("/api/v1/outcomes/customer-support/T-1", headers=keys.read_headers).json()
    assert detail["verdict"] == "incorrect"
    assert [r["reviewer"] for r in detail["reviews"]] == ["Ann at vendor", "Bo"]
    assert [s["step"] for s in detail["steps"]][0] == "define"
    trail = fresh(session).exec(select(AuditEvent).where(AuditEvent.action == "review")).all()
    assert {e.actor for e in trail} == {f"API key {keys.write_prefix} (ci)"}
    # Open outcomes, unknown ones and bad verdicts are refused.
    assert client.post("/api/v1/outcomes/customer-support/T-2/reviews", headers=keys.write_headers,
                       json={"verdict": "correct", "reviewer": "x"}).status_code == 422
    assert client.post("/api/v1/outcomes/customer-support/T-9/reviews", headers=keys.write_headers,
                       json={"verdict": "correct", "reviewer": "x"}).status_code == 404
    assert client.post("/api/v1/outcomes/nojob/T-1/reviews", headers=keys.write_headers,
                       json={"verdict": "correct", "reviewer": "x"}).status_code == 404
    for body in ({"verdict": "maybe", "reviewer": "x"}, {"verdict": "correct"}, {"verdict": "correct", "reviewer": "x", "reviewed_at": "2027-01-01"},
                 {"verdict": "correct", "reviewer": "x", "comment": 5}, {"verdict": "correct", "reviewer": "x" * 201},
                 {"verdict": "correct", "reviewer": "x", "reviewed_at": "2026-11-20T10:04:59Z"}):
        assert client.post(url, headers=keys.write_headers, json=body).status_code == 422, body
    assert len(fresh(session).exec(select(Review).where(Review.source == "app")).all()) == 2


def test_outcome_ids_with_slashes_and_unicode_are_reachable(client, keys):
    client.post("/api/v1/outcomes", headers=keys.write_headers, json={"outcomes": [item("a/b c"), item("café")]})
    assert client.get("/api/v1/outcomes/customer-support/a%2Fb%20c", headers=keys.read_headers).json()["outcome_id"] == "a/b c"
    assert client.get("/api/v1/outcomes/customer-support/caf%C3%A9", headers=keys.read_headers).status_code == 200


def test_usage_is_the_overview_and_the_invoice_is_the_cli_json(client, keys, session, capsys):
    from app.cli import main

    outcomes = [item(f"T-{n}", completed_at=f"2026-11-{10 + n % 10:02d}T10:00:00Z", started_at="2026-11-09T00:00:00Z")
                for n in range(40)]
    client.post("/api/v1/outcomes", headers=keys.write_headers, json={"outcomes": outcomes})
    usage = client.get("/api/v1/usage", headers=keys.read_headers).json()
    assert usage["month"] == "2026-11"
    assert (usage["free_used"], usage["free_remaining"], usage["billable_outcomes"]) == (30, 0, 40)
    assert usage["bill_so_far"] == "10.00" or usage["bill_so_far"].count(".") == 1
    assert set(usage["projection"]) == {"outcomes", "total", "low", "high"}
    invoice = client.get("/api/v1/invoices/2026-11", headers=keys.read_headers)
    assert invoice.status_code == 200
    assert main(["invoice", "--account", "acme", "--month", "2026-11", "--json"]) == 0
    assert invoice.json() == json.loads(capsys.readouterr().out)
    assert usage["bill_so_far"] == invoice.json()["total"]
    for bad in ("2026-13", "26-11", "2026-1x"):
        assert client.get(f"/api/v1/invoices/{bad}", headers=keys.read_headers).status_code == 422
    assert client.get("/api/v1/invoices/2027-01", headers=keys.read_headers).status_code == 404


def test_rate_limit_answers_429_with_retry_after(client, keys):
    clock = [100.0]
    http.set_limiter(RateLimiter(rate=2, burst=3, clock=lambda: clock[0]))
    try:
        codes = [client.get("/api/v1/usage", headers=keys.read_headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/api/v1/usage", headers=keys.read_headers)
        assert refused.headers["retry-after"] == "1"
        # Another key has its own bucket.
        assert client.get("/api/v1/usage", headers=keys.write_headers).status_code == 200
        clock[0] += 0.5  # one token back at 2 a second
        assert client.get("/api/v1/usage", headers=keys.read_headers).status_code == 200
        assert client.get("/api/v1/usage", headers=keys.read_headers).status_code == 429
    finally:
        http.set_limiter(None)


def test_a_busy_database_is_503_with_retry_after(client, keys, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def busy(*_a, **_k):
        class Orig(Exception):
            sqlite_errorcode = 5
        raise OperationalError("INSERT", {}, Orig("database is locked"))

    monkeypatch.setattr("app.api.endpoints.ingest_requests", busy)
    monkeypatch.setattr("app.api.write_groups.ATTEMPTS", 2)
    response = client.post("/api/v1/outcomes", headers=keys.write_headers, json={"outcomes": [item("T-1")]})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"


def test_an_unexpected_failure_is_500_without_a_traceback(client, keys, monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("app.api.endpoints.usage_json", broken)
    response = client.get("/api/v1/usage", headers=keys.read_headers)
    assert response.status_code == 500
    assert "secret" not in response.text and "Traceback" not in response.text
    assert response.headers["x-request-id"] in response.json()["error"]["message"]


def test_keys_store_only_a_hash_and_are_audited(session, keys):
    rows = fresh(session).exec(select(ApiKey)).all()
    assert all(keys.write_key not in (r.key_hash, r.prefix) and len(r.key_hash) == 64 for r in rows)
    listed = list_keys(session, Principal.operator(), keys.account)
    assert {r.scope for r in listed} == {"read", "write"}
    assert [e.action for e in fresh(session).exec(select(AuditEvent).where(AuditEvent.action.like("api_key%")))] == ["api_key.create"] * 2
    revoke_key(session, Principal.operator(), keys.account, str(listed[0].id))
    revoke_key(session, Principal.operator(), keys.account, str(listed[0].id))  # twice: one entry
    session.commit()
    assert len(fresh(session).exec(select(AuditEvent).where(AuditEvent.action == "api_key.revoke")).all()) == 1


def test_a_keys_last_use_is_recorded_at_most_once_a_minute_without_moving_the_data_version(client, session, keys, monkeypatch):
    from app.api.write_groups import write_groups
    from app.core.data_version import current_version

    def settled() -> dict:
        write_groups().submit(lambda _session: None).result(30)  # the writer is FIFO: the notes before are done
        session.rollback()
        return {r.prefix: r.last_used_at for r in list_keys(session, Principal.operator(), keys.account)}

    version = current_version(session)
    assert settled() == {keys.write_prefix: None, keys.read_prefix: None}
    assert client.get("/api/v1/usage", headers=keys.read_headers).status_code == 200
    first = settled()
    assert first[keys.read_prefix] == NOW and first[keys.write_prefix] is None
    assert current_version(session) == version  # open pages need not refresh for it

    later = NOW.replace(second=30)
    monkeypatch.setenv("OVERSEER_NOW", later.isoformat())
    assert client.get("/api/v1/usage", headers=keys.read_headers).status_code == 200
    assert settled()[keys.read_prefix] == NOW  # within the minute: not written again
    monkeypatch.setenv("OVERSEER_NOW", NOW.replace(minute=NOW.minute + 1).isoformat())
    assert client.get("/api/v1/usage", headers=keys.read_headers).status_code == 200
    assert settled()[keys.read_prefix] == NOW.replace(minute=NOW.minute + 1)


def test_a_viewer_cannot_create_keys_and_names_are_checked(session, keys):
    from app.domain.access import Forbidden
    from app.domain.errors import OverseerError

    viewer = Principal(email="v@example.com", roles=((keys.account.id, "viewer"),))
    with pytest.raises(Forbidden):
        create_key(session, viewer, keys.account, "read")
    with pytest.raises(OverseerError):
        create_key(session, Principal.operator(), keys.account, "admin")
    with pytest.raises(OverseerError):
        create_key(session, Principal.operator(), keys.account, "read", "bad\x00name")


def test_a_key_sees_only_its_own_account(client, keys, session):
    other = create_account(session, "other", "Other", SEED_PLANS["freemium"], since=datetime(2026, 11, 1, tzinfo=timezone.utc).date())
    session.commit()
    _, other_key = create_key(session, Principal.operator(), other, "write", "o")
    session.commit()
    client.post("/api/v1/outcomes", headers=keys.write_headers, json={"outcomes": [item("T-1")]})
    response = client.get("/api/v1/outcomes/customer-support/T-1", headers={"Authorization": f"Bearer {other_key}"})
    assert response.status_code == 404


def test_cli_key_create_json_and_revoke(engine, keys, capsys):
    from app.cli import main

    assert main(["key", "create", "--account", "acme", "--scope", "read", "--name", "cli", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert set(made) == {"id", "name", "prefix", "scope", "key"}
    assert made["key"].startswith(made["prefix"]) and made["scope"] == "read"
    assert main(["key", "revoke", made["prefix"], "--account", "acme"]) == 0
    assert main(["key", "revoke", "ovs_nothere", "--account", "acme"]) == 2
    assert main(["key", "create", "--account", "acme", "--scope", "admin"]) == 2


def test_paths_with_line_breaks_get_the_api_s_404(client, keys):
    # Starlette's "path" stops at a line break: such a path once fell past every route to a plain-text 404.
    for method, path in [("GET", "/api/v1/outcomes/customer-support/a%0Ab"),
                         ("POST", "/api/v1/outcomes/customer-support/a%0Ab/reviews"),
                         ("GET", "/api/v1/x%0Ay")]:
        response = client.request(method, path, headers=keys.write_headers, json={"verdict": "correct", "reviewer": "x"})
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"


def test_no_free_connection_is_503_not_500(client, keys, monkeypatch):
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    def exhausted(*_a, **_k):
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached")

    monkeypatch.setattr("app.api.endpoints.usage_json", exhausted)
    response = client.get("/api/v1/usage", headers=keys.read_headers)
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
