"""The API's writer: writes that wait together commit together, and each still gets its own answer.

A group's first write is held back (its runner waits on an event) so that the
others queue behind it and must form the next group. On SQLite and PostgreSQL
where a database is involved.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.api.write_groups import Merge, WriteGroups
from app.core.db import run_in_transaction
from app.domain.access import Principal
from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.models import AuditEvent, Outcome
from app.store import alert_states
from app.store.accounts import create_account
from app.store.ingest import ItemsRequest, ingest_requests
from tests.api.conftest import NOW, item

WAIT = 30  # seconds any step may take before the test gives up (never reached when the writer works)


class _Held:
    """A group runner whose first group waits until :meth:`release`; counts the groups it ran."""

    def __init__(self):
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls = 0

    def __call__(self, work, engine, attempts):
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            assert self.gate.wait(WAIT)
        return run_in_transaction(work, engine, attempts=attempts)

    def release(self):
        self.gate.set()


@pytest.fixture
def account(engine, session, monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", NOW.isoformat())
    account = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 11, 1))
    session.commit()
    return account


def _post(account, outcome_id: str, reviewer: str = "API key ov_test"):
    request = ItemsRequest([item(outcome_id)], Principal.operator(), reviewer)
    return request, (lambda session: ingest_requests(session, account, [request])[0])


def _count(session, model) -> int:
    session.rollback()  # a fresh snapshot
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_writes_that_wait_together_commit_as_one_group(account, session):
    runner = _Held()
    writer = WriteGroups(runner)
    first = writer.submit(_post(account, "O-0")[1])
    assert runner.entered.wait(WAIT)
    waiting = [writer.submit(_post(account, f"O-{n}")[1]) for n in range(1, 6)]
    runner.release()
    reports = [f.result(WAIT) for f in [first, *waiting]]
    assert [r.results for r in reports] == [[("inserted", [])]] * 6
    assert runner.calls == 2  # the first alone, then the five that waited, in one transaction
    assert _count(session, Outcome) == 6
    assert _count(session, AuditEvent) == 6  # one entry per request


def test_merged_requests_are_written_in_one_pass_with_their_own_answers(account, session):
    runner = _Held()
    writer = WriteGroups(runner)
    passes = []

    def run_many(session_, requests):
        passes.append(len(requests))
        return ingest_requests(session_, account, requests)

    writer.submit(_post(account, "O-0")[1])
    assert runner.entered.wait(WAIT)
    futures = []
    for n, reviewer in enumerate(["API key ov_a", "API key ov_b", "API key ov_a"], start=1):
        request, work = _post(account, f"O-{n}", reviewer)
        futures.append(writer.submit(work, merge=Merge(("outcomes", account.id), request, run_many)))
    runner.release()
    assert [f.result(WAIT).results for f in futures] == [[("inserted", [])]] * 3
    assert passes == [3]
    assert _count(session, Outcome) == 4


def test_a_failing_write_gets_its_own_error_and_the_others_of_its_group_commit(account, session):
    runner = _Held()
    writer = WriteGroups(runner)

    def fails_after_writing(session_):
        ingest_requests(session_, account, [ItemsRequest([item("GONE")], Principal.operator(), "k")])
        raise OverseerError("this request is refused")

    writer.submit(_post(account, "O-0")[1])
    assert runner.entered.wait(WAIT)
    before = writer.submit(_post(account, "O-1")[1])
    failing = writer.submit(fails_after_writing)
    after = writer.submit(_post(account, "O-2")[1])
    runner.release()
    assert before.result(WAIT).written and after.result(WAIT).written
    with pytest.raises(OverseerError, match="refused"):
        failing.result(WAIT)
    session.rollback()
    stored = set(session.execute(select(Outcome.outcome_id)).scalars())
    assert stored == {"O-0", "O-1", "O-2"}  # GONE was rolled back with its savepoint alone
    assert runner.calls == 2


def test_a_merge_that_fails_writes_each_request_alone(account, session):
    runner = _Held()
    writer = WriteGroups(runner)

    def broken_many(session_, requests):
        raise RuntimeError("the merge broke")

    writer.submit(_post(account, "O-0")[1])
    assert runner.entered.wait(WAIT)
    futures = []
    for n in (1, 2):
        request, work = _post(account, f"O-{n}")
        futures.append(writer.submit(work, merge=Merge("same", request, broken_many)))
    runner.release()
    assert [f.result(WAIT).results for f in futures] == [[("inserted", [])]] * 2
    assert _count(session, Outcome) == 3


def test_a_clash_with_another_writer_runs_the_whole_group_again(account, session):
    runner = _Held()
    writer = WriteGroups(runner)
    tries = []

    def clashes_once(session_):
        tries.append(1)
        if len(tries) == 1:
            class Busy(Exception):
                sqlite_errorcode = 5
            raise OperationalError("UPDATE", {}, Busy("database is locked"))
        return "written"

    writer.submit(_post(account, "O-0")[1])
    assert runner.entered.wait(WAIT)
    other = writer.submit(_post(account, "O-1")[1])
    clashing = writer.submit(clashes_once)
    runner.release()
    assert clashing.result(WAIT) == "written" and other.result(WAIT).written
    assert len(tries) == 2
    assert _count(session, Outcome) == 2  # O-1 was written by the second attempt only: once


def test_a_group_evaluates_the_accounts_alerts_once(account, session, monkeypatch):
    evaluated = []
    original = alert_states.evaluate_account

    def counting(session_, account_, **kwargs):
        evaluated.append(account_.id)
        return original(session_, account_, **kwargs)

    monkeypatch.setattr(alert_states, "evaluate_account", counting)
    runner = _Held()
    writer = WriteGroups(runner)
    writer.submit(_post(account, "O-0")[1])
    assert runner.entered.wait(WAIT)
    waiting = [writer.submit(_post(account, f"O-{n}")[1]) for n in range(1, 5)]
    runner.release()
    for future in waiting:
        future.result(WAIT)
    assert evaluated == [account.id, account.id]  # the first group's, and the four waiting writes' together


def test_every_waiting_client_gets_an_answer_when_the_runner_itself_fails(account):
    def broken_runner(work, engine, attempts):
        raise RuntimeError("no database")

    writer = WriteGroups(broken_runner)
    futures = [writer.submit(_post(account, f"O-{n}")[1]) for n in range(3)]
    for future in futures:
        with pytest.raises(RuntimeError, match="no database"):
            future.result(WAIT)


def test_a_group_holds_at_most_its_outcomes_and_a_big_request_waits_for_the_next(account):
    runner = _Held()
    writer = WriteGroups(runner, max_items=10)
    sizes = []

    def sized(n):
        def work(session_):
            sizes.append(n)
            return n
        return work

    writer.submit(sized(1))
    assert runner.entered.wait(WAIT)
    futures = [writer.submit(sized(n), weight=n) for n in (4, 5, 8, 2)]
    runner.release()
    assert [f.result(WAIT) for f in futures] == [4, 5, 8, 2]
    assert runner.calls == 3  # [1], then [4, 5] (8 more would make 17), then [8, 2]
    assert sizes == [1, 4, 5, 8, 2]


def test_a_write_goes_to_the_database_of_its_request_even_if_the_process_engine_changes(account, session, engine, tmp_path):
    from app.core import db as core_db

    other = core_db.make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    core_db.migrate(other)
    runner = _Held()
    writer = WriteGroups(runner)
    writer.submit(_post(account, "O-0")[1])
    assert runner.entered.wait(WAIT)
    waiting = writer.submit(_post(account, "O-1")[1])  # its request came to ``engine``
    core_db.set_engine(other)
    try:
        runner.release()
        assert waiting.result(WAIT).written
    finally:
        core_db.set_engine(engine)
        other.dispose()
    assert _count(session, Outcome) == 2
