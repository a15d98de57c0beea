"""Several API requests written in one pass leave what they leave written one after the other.

The API's writer hands the requests that arrived together to :func:`ingest_requests`
(see app/api/write_groups.py). Whatever the requests hold (the same outcome again,
invalid items, verdicts from two keys, atomic batches), the reports, the stored
outcomes, their reviews (and who made them), the incorrect spans, the rollups and
the audit entries must equal those of :func:`ingest_items` called once per request.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from app.domain.access import Principal
from app.domain.plans import SEED_PLANS
from app.models import AuditEvent
from app.store.accounts import create_account
from app.store.ingest import ItemsRequest, ingest_items, ingest_requests
from tests.api.conftest import NOW, item

_SLUGS = itertools.count()
KEYS = ("API key ov_aaaa", "API key ov_bbbb")


@st.composite
def _items(draw) -> dict:
    outcome = draw(st.sampled_from(["A", "B", "C", "D"]))
    kind = draw(st.sampled_from(["completed", "open", "correct", "incorrect", "later-incorrect", "invalid", "summary"]))
    day = draw(st.integers(10, 20))
    fields = {"started_at": f"2026-11-{day:02d}T09:00:00Z", "completed_at": f"2026-11-{day:02d}T10:00:00Z"}
    if kind == "open":
        fields.update(status="open", completed_at="")
    elif kind in ("correct", "incorrect"):
        fields.update(verdict=kind)
    elif kind == "later-incorrect":
        fields.update(verdict="incorrect", reviewed_at="2026-11-22T08:00:00Z")
    elif kind == "invalid":
        fields.update(status="finished")
    else:
        fields.update(summary=f"ticket {outcome} on day {day}")
    return item(outcome, **fields)


_requests = st.lists(
    st.tuples(st.lists(_items(), min_size=1, max_size=4), st.sampled_from(KEYS), st.booleans()),
    min_size=1, max_size=5,
)


def _account(session):
    account = create_account(session, f"r{next(_SLUGS)}", "Requests", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    session.commit()
    return account


def _state(session, account_id: int) -> dict:
    """What an account holds, without its ids (two accounts are compared)."""
    def rows(sql: str) -> list:
        return sorted(tuple(map(str, r)) for r in session.execute(text(sql), {"a": account_id}))

    return {
        "outcomes": rows(
            "SELECT outcome_id, started_at, completed_at, status, verdict, reviewed_at, handoff_step, summary, url "
            "FROM outcome WHERE account_id = :a"
        ),
        "reviews": rows(
            "SELECT o.outcome_id, r.reviewer, r.reviewed_at, r.verdict, r.source FROM review r "
            "JOIN outcome o ON o.id = r.outcome_pk WHERE o.account_id = :a"
        ),
        "spans": rows(
            "SELECT o.outcome_id, s.started_at, s.ended_at, s.completed_at FROM incorrect_span s "
            "JOIN outcome o ON o.id = s.outcome_pk WHERE s.account_id = :a"
        ),
        "outcome_days": rows(
            "SELECT day, status, verdict, autonomous, incorrect_on, outcomes FROM rollup_outcome_day "
            "WHERE account_id = :a AND outcomes <> 0"
        ),
        "step_days": rows(
            "SELECT day, step, ai_runs, human_runs, reached, handoffs, billable_ai_runs FROM rollup_step_day "
            "WHERE account_id = :a AND reached <> 0"
        ),
        "started_days": rows("SELECT day, outcomes FROM rollup_started_day WHERE account_id = :a AND outcomes <> 0"),
        "audit": sorted(
            (e.actor, str(e.after))
            for e in session.execute(select(AuditEvent).where(AuditEvent.account_id == account_id)).scalars()
            if e.action == "import"
        ),
    }


def _actor(reviewer: str) -> Principal:
    return Principal(email=reviewer, name=reviewer, roles=())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=_requests)
def test_one_pass_equals_the_requests_one_after_the_other(engine, session, monkeypatch, drawn):
    monkeypatch.setenv("OVERSEER_NOW", NOW.isoformat())
    together, apart = _account(session), _account(session)
    requests = [ItemsRequest(items, Principal.operator(), reviewer, atomic) for items, reviewer, atomic in drawn]

    merged = ingest_requests(session, together, requests)
    session.commit()
    alone = []
    for request in requests:
        alone.append(ingest_items(session, apart, request.items, actor=request.actor, reviewer=request.reviewer,
                                  atomic=request.atomic))
        session.commit()

    assert [(r.results, r.written) for r in merged] == [(r.results, r.written) for r in alone]
    assert _state(session, together.id) == _state(session, apart.id)


def test_verdicts_of_two_keys_in_one_pass_name_their_own_reviewer(engine, session, monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", NOW.isoformat())
    account = _account(session)
    first = ItemsRequest([item("A", verdict="correct")], Principal.operator(), KEYS[0])
    second = ItemsRequest([item("B", verdict="incorrect")], Principal.operator(), KEYS[1])
    reports = ingest_requests(session, account, [first, second])
    session.commit()
    assert [r.results for r in reports] == [[("inserted", [])], [("inserted", [])]]
    reviews = _state(session, account.id)["reviews"]
    assert [(r[0], r[1], r[3]) for r in reviews] == [("A", KEYS[0], "correct"), ("B", KEYS[1], "incorrect")]
    # One audit entry per request, each with its own counts.
    assert len(_state(session, account.id)["audit"]) == 2


def test_an_invalid_atomic_request_writes_nothing_and_the_others_still_do(engine, session, monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", NOW.isoformat())
    account = _account(session)
    before = ItemsRequest([item("A")], Principal.operator(), KEYS[0])
    atomic = ItemsRequest([item("B"), item("C", status="finished")], Principal.operator(), KEYS[1], atomic=True)
    after = ItemsRequest([item("D")], Principal.operator(), KEYS[0])
    reports = ingest_requests(session, account, [before, atomic, after])
    session.commit()
    assert reports[1].results[0] == ("inserted", []) and reports[1].results[1][0] == "invalid"
    assert not reports[1].written and reports[0].written and reports[2].written
    assert [r[0] for r in _state(session, account.id)["outcomes"]] == ["A", "D"]


def test_the_same_outcome_in_two_requests_is_an_update_not_an_invalid_item(engine, session, monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", NOW.isoformat())
    account = _account(session)
    opened = ItemsRequest([item("A", status="open", completed_at="")], Principal.operator(), KEYS[0])
    closed = ItemsRequest([item("A")], Principal.operator(), KEYS[1])
    reports = ingest_requests(session, account, [opened, closed])
    session.commit()
    assert [r.results for r in reports] == [[("inserted", [])], [("updated", [])]]
