"""Two people importing and reviewing at the same time lose nothing and count nothing twice.

Threads, each with its own session on the same database (a SQLite file in WAL
mode, and PostgreSQL when ``TEST_DATABASE_URL`` is set), import overlapping and
disjoint files (re-imports included, with changed statuses and verdicts) while
others review outcomes. Every operation records whether it landed or failed with
a clear message; afterwards every figure is checked against what landed: the
outcomes, the reviews, the rollups (against :func:`rebuild_rollups` and a
plain-Python recomputation) and the invoice.
"""

from __future__ import annotations

import io
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.core import clock
from app.core.db import run_in_transaction, session_scope
from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.domain.steps import STEPS
from app.domain.access import Principal
from app.models import Account, Outcome, Review
from app.store import ingest as ingest_module
from app.store.accounts import create_account, create_job
from app.store.billing import invoice_for_month
from app.store.ingest import ingest_file
from app.store.reviews import get_outcome, review_history, review_outcome
from tests.store.test_rollups import assert_consistent

UTC = timezone.utc
BASE = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
JOBS = ("customer-support", "data-analysis")
ADMIN = Principal(email="admin@acme.example", name="Admin", staff=True)
HEADER = "outcome_id,job,started_at,completed_at,status,verdict,handoff_step," + ",".join(STEPS)


@dataclass
class Log:
    """What each thread did: every operation either landed or failed, with its message."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    imports: list[tuple[str, list[dict], object]] = field(default_factory=list)  # (reviewer, rows, report or error)
    reviews: list[tuple[str, str, str, str, object]] = field(default_factory=list)  # (job, id, verdict, token, ok or error)
    crashes: list[BaseException] = field(default_factory=list)

    def add(self, kind: str, entry) -> None:
        with self.lock:
            getattr(self, kind).append(entry)


def _row(i: int, rng: random.Random, *, closed: bool | None = None) -> dict:
    started = BASE + timedelta(hours=7 * (i % 60), minutes=i % 50)
    status = rng.choice(["open", "completed", "completed", "escalated", "failed"])
    if closed is True and status == "open":
        status = "completed"
    completed = None if status == "open" else started + timedelta(hours=rng.randint(0, 40))
    return {
        "outcome_id": f"C-{i:04d}",
        "job": JOBS[i % 2],
        "started_at": started.isoformat(),
        "completed_at": completed.isoformat() if completed else "",
        "status": status,
        "verdict": "" if status == "open" else rng.choice(["", "", "correct", "incorrect"]),
        "handoff_step": STEPS[i % 8] if status == "escalated" else "",
        **{s: rng.choice(["ai", "ai", "human", ""]) for s in STEPS},
    }


def _changed(row: dict, rng: random.Random) -> dict:
    """The same outcome as a later export shows it: closed if it was open, maybe another verdict."""
    new = dict(row)
    if row["status"] == "open":
        new["status"] = rng.choice(["completed", "escalated", "failed"])
        new["completed_at"] = (datetime.fromisoformat(row["started_at"]) + timedelta(hours=3)).isoformat()
        new["handoff_step"] = "execute" if new["status"] == "escalated" else ""
    new["verdict"] = rng.choice(["", "correct", "incorrect"])
    new["execute"] = rng.choice(["ai", "human"])
    return new


def _csv(rows: list[dict]) -> io.BytesIO:
    lines = [HEADER] + [",".join(r[c] for c in HEADER.split(",")) for r in rows]
    stream = io.BytesIO(("\n".join(lines) + "\n").encode())
    stream.name = "outcomes.csv"
    return stream


def _importer(engine, account_id: int, files: list[list[dict]], name: str, log: Log, start: threading.Barrier) -> None:
    try:
        start.wait()
        for n, rows in enumerate(files):
            reviewer = f"{name}-{n}"
            with Session(engine, expire_on_commit=False) as session:
                account = session.get(Account, account_id)
                try:
                    report = ingest_file(session, account, _csv(rows), reviewer=reviewer)
                except OverseerError as exc:
                    log.add("imports", (reviewer, rows, exc))
                else:
                    log.add("imports", (reviewer, rows, report))
    except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost in the thread
        log.add("crashes", exc)


def _reviewer(
    engine, account_id: int, ids: list[str], name: str, log: Log, start: threading.Barrier, done: threading.Event, seed: int
) -> None:
    rng = random.Random(seed)
    landed = 0
    try:
        start.wait()
        # Review for as long as the imports run, and until some reviews landed (many tries hit
        # outcomes not imported yet, or still open).
        for n in range(400):
            if done.is_set() and landed >= 10:
                break
            i = rng.choice(ids)
            job, outcome_id = JOBS[int(i[2:]) % 2], i
            verdict = rng.choice(["correct", "incorrect"])
            token = f"{name}-{n}"

            def review(session: Session) -> None:
                # The app's own path (the Outcomes page's review form): it reads the outcome FOR UPDATE.
                account = session.get(Account, account_id)
                review_outcome(session, ADMIN, account, job, outcome_id, verdict, reviewer=name, comment=token)

            try:
                run_in_transaction(review, engine, attempts=10)
            except OverseerError as exc:  # not imported yet, or still open: refused, nothing written
                log.add("reviews", (job, outcome_id, verdict, token, exc))
            except DBAPIError as exc:  # gave up after every retry clashed: nothing written
                log.add("reviews", (job, outcome_id, verdict, token, exc))
            else:
                log.add("reviews", (job, outcome_id, verdict, token, True))
                landed += 1
    except BaseException as exc:  # noqa: BLE001
        log.add("crashes", exc)


@pytest.fixture
def account_id(engine) -> int:
    with Session(engine, expire_on_commit=False) as session:
        account = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 10, 1))
        create_job(session, account, "data-analysis")
        session.commit()
        return account.id


def run_concurrently(engine, account_id: int, monkeypatch) -> Log:
    # Small batches, so that every import writes in several steps that interleave with the others.
    monkeypatch.setattr(ingest_module, "BATCH_SIZE", 40)
    rng = random.Random(6)
    first = [_row(i, rng) for i in range(0, 240)]
    second = [_row(i, rng, closed=True) for i in range(160, 400)]  # overlaps the first on 160-239
    log = Log()
    start = threading.Barrier(4)
    plans = {
        # Importer A: a file, the same file again, then a later export of it (changed rows).
        "import-a": [first, first, [_changed(r, rng) for r in first]],
        # Importer B: a file overlapping A's, a disjoint one, then B's own file changed.
        "import-b": [second, [_row(i, rng) for i in range(400, 480)], [_changed(r, rng) for r in second]],
    }
    ids = [f"C-{i:04d}" for i in range(0, 480, 3)]
    done = threading.Event()
    importers = [
        threading.Thread(target=_importer, args=(engine, account_id, files, name, log, start)) for name, files in plans.items()
    ]
    reviewers = [
        threading.Thread(target=_reviewer, args=(engine, account_id, ids, f"person-{k}", log, start, done, k))
        for k in range(2)
    ]
    threads = importers + reviewers
    for t in threads:
        t.start()
    for t in importers:
        t.join(timeout=300)
    done.set()
    for t in reviewers:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    assert not log.crashes, log.crashes
    return log


def landed(result) -> bool:
    return not isinstance(result, Exception) and result.written


def check_figures(engine, account_id: int, log: Log) -> None:
    """Every stored figure agrees with the operations that landed, and nothing of a failed one remains."""
    landed_imports = [(name, rows, r) for name, rows, r in log.imports if landed(r)]
    failed_imports = [(name, r) for name, _, r in log.imports if not landed(r)]
    for _, outcome in failed_imports:
        if isinstance(outcome, Exception):  # gave up on a clash with another writer
            assert "nothing was imported" in str(outcome)
        else:  # refused: another file had closed outcomes this one still says are open
            assert not outcome.written and outcome.rejected
            assert all("cannot reopen a closed outcome" in e.reason for e in outcome.rejected)
            assert (outcome.inserted, outcome.updated, outcome.unchanged) == (0, 0, 0)
    assert all(not report.rejected for _, _, report in landed_imports)

    with Session(engine) as session:
        stored = {
            (o.job_id, o.outcome_id): o
            for o in session.execute(select(Outcome).where(Outcome.account_id == account_id)).scalars()
        }
        jobs = {job_id for job_id, _ in stored}
        slug_of = dict(session.execute(select(Outcome.job_id, func.min(Outcome.outcome_id)).group_by(Outcome.job_id)).all())
        assert len(slug_of) == len(jobs)
        # No outcome lost, none duplicated: exactly the union of the landed files.
        expected_ids: dict[str, set[str]] = defaultdict(set)
        for _, rows, _ in landed_imports:
            for r in rows:
                expected_ids[r["outcome_id"]].add(r["job"])
        assert {oid for _, oid in stored} == set(expected_ids)
        total = session.execute(select(func.count()).select_from(Outcome).where(Outcome.account_id == account_id)).scalar()
        assert total == len(stored) == len(expected_ids)
        # Each outcome holds what one of the landed files said of it.
        said: dict[str, list[dict]] = defaultdict(list)
        for _, rows, _ in landed_imports:
            for r in rows:
                said[r["outcome_id"]].append(r)
        for (_, oid), o in stored.items():
            assert (o.status, o.step_execute or "") in {(r["status"], r["execute"]) for r in said[oid]}, oid

        reviews = session.execute(
            select(Review, Outcome.outcome_id).join(Outcome, Outcome.id == Review.outcome_pk).where(Outcome.account_id == account_id)
        ).all()
        # A review in the app landed exactly once, or not at all when it failed.
        by_token = defaultdict(list)
        for review, oid in reviews:
            if review.source == "app":
                by_token[review.comment].append((oid, review.verdict))
        landed_reviews = {token: (oid, verdict) for _, oid, verdict, token, ok in log.reviews if ok is True}
        assert {t: v[0] for t, v in by_token.items() if len(v) == 1} == landed_reviews
        assert all(len(v) == 1 for v in by_token.values())
        # An import's reviews carry its name: none from a failed import, only verdicts its file gave.
        for name, _ in failed_imports:
            assert not [r for r, _ in reviews if r.reviewer == name]
        verdicts_of = {name: {(r["outcome_id"], r["verdict"]) for r in rows if r["verdict"]} for name, rows, _ in landed_imports}
        for review, oid in reviews:
            if review.source == "import":
                assert (oid, review.verdict) in verdicts_of[review.reviewer]
        per_import = defaultdict(int)
        for review, oid in reviews:
            if review.source == "import":
                per_import[(review.reviewer, oid)] += 1
        assert set(per_import.values()) <= {1}, "an import recorded the same review twice"
        # The outcome shows its latest review (latest time; the one recorded last on a tie).
        latest = {}
        for review, oid in sorted(reviews, key=lambda x: (x[0].reviewed_at, x[0].id)):
            latest[oid] = review
        for (_, oid), o in stored.items():
            if oid in latest:
                assert (o.verdict, o.reviewed_at) == (latest[oid].verdict, latest[oid].reviewed_at), oid
            else:
                assert (o.verdict, o.reviewed_at) == ("unreviewed", None), oid

        # Rollups: equal to a recomputation in SQL and in plain Python, so nothing counted twice.
        assert_consistent(session, account_id)
        # Billing reads the rollups: the invoice is the same after rebuilding them from the raw rows.
        account = session.get(Account, account_id)
        as_of = clock.now() + timedelta(hours=1)  # reviews are dated "now": bill as of a moment after them
        invoice = invoice_for_month(session, account, 2026, 11, as_of=as_of).to_json()
        savepoint = session.begin_nested()
        from app.store.rollups import rebuild_rollups

        rebuild_rollups(session, account_id)
        assert invoice_for_month(session, account, 2026, 11, as_of=as_of).to_json() == invoice
        savepoint.rollback()


def retry_what_clashed(engine, account_id: int, log: Log) -> Log:
    """Every operation that gave up on a clash with another writer, tried again alone: it must land.

    How many operations win a race depends on how busy the machine is, so the test never counts
    them; what must hold is that a clash is clean (nothing written, a message that says to try
    again) and that trying again, with nobody else writing, succeeds.
    """
    retried = Log()
    for name, rows, result in log.imports:
        if isinstance(result, Exception):
            assert "try again" in str(result) and "nothing was imported" in str(result), result
            with Session(engine, expire_on_commit=False) as session:
                result = ingest_file(session, session.get(Account, account_id), _csv(rows), reviewer=name)
            # Alone it lands, or it is refused for what the file says (a closed outcome it calls open).
            assert result.written or all("cannot reopen a closed outcome" in e.reason for e in result.rejected)
        retried.imports.append((name, rows, result))
    for job, outcome_id, verdict, token, result in log.reviews:
        if isinstance(result, DBAPIError):
            def review(session: Session) -> None:
                account = session.get(Account, account_id)
                review_outcome(session, ADMIN, account, job, outcome_id, verdict, reviewer="retry", comment=token)

            run_in_transaction(review, engine, attempts=1)
            result = True
        retried.reviews.append((job, outcome_id, verdict, token, result))
    return retried


def test_concurrent_imports_and_reviews_lose_nothing_and_count_nothing_twice(engine, account_id, monkeypatch):
    log = run_concurrently(engine, account_id, monkeypatch)
    # A refused review is refused for what it asked (an outcome not imported yet, or still open).
    for *_, result in log.reviews:
        if isinstance(result, OverseerError):
            assert "has no outcome" in str(result) or "still open" in str(result), result
    log = retry_what_clashed(engine, account_id, log)
    check_figures(engine, account_id, log)


def test_the_check_catches_a_double_count(engine, account_id, monkeypatch):
    """The figures check is not vacuous: one outcome counted twice in the rollups fails it."""
    log = run_concurrently(engine, account_id, monkeypatch)
    from app.store.rollups import add_outcomes

    with Session(engine) as session:
        pk = session.execute(select(Outcome.id).where(Outcome.account_id == account_id).limit(1)).scalar()
        add_outcomes(session.connection(), [pk])
        session.commit()
    with pytest.raises(AssertionError):
        check_figures(engine, account_id, log)


def test_a_review_made_while_another_is_uncommitted_sees_it_and_wins(engine, account_id):
    """Two people review one outcome at once; the second one's verdict is the one that stays.

    The second review starts while the first is still uncommitted. Had it read the
    outcome before the first committed, it would decide "latest wins" on a stale
    row and, its verdict equal to the stale one, write only the time: the outcome
    would keep the first verdict under the second review's time.
    """
    with Session(engine, expire_on_commit=False) as session:
        account = session.get(Account, account_id)
        row = {**_row(1, random.Random(1), closed=True), "verdict": "incorrect"}
        assert ingest_file(session, account, _csv([row])).written
    job = row["job"]
    outcome_id = row["outcome_id"]
    second: list[object] = []

    def review_second() -> None:
        def work(session: Session) -> None:
            account = session.get(Account, account_id)
            review_outcome(session, ADMIN, account, job, outcome_id, "incorrect", reviewer="second")

        try:
            run_in_transaction(work, engine, attempts=10)
            second.append(True)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            second.append(exc)

    thread = threading.Thread(target=review_second)
    with session_scope(engine, write=True) as session:
        account = session.get(Account, account_id)
        review_outcome(session, ADMIN, account, job, outcome_id, "correct", reviewer="first")
        thread.start()
        time.sleep(0.5)  # the second review is under way (waiting for this one) before this one commits
    thread.join(timeout=60)
    assert second == [True]

    with Session(engine) as session:
        account = session.get(Account, account_id)
        outcome = get_outcome(session, account, job, outcome_id)
        history = review_history(session, outcome)
        assert [r.reviewer for r in history[:2]] == ["second", "first"]
        assert (outcome.verdict, outcome.reviewed_at) == ("incorrect", history[0].reviewed_at)


def test_a_review_waits_for_an_import_holding_the_lock_then_lands(engine, account_id, monkeypatch):
    """Contention made on purpose, not left to the scheduler: an import stops between two batches,
    uncommitted and holding what it wrote, while a person reviews one of its outcomes. The review
    waits, then lands after the import, and every figure agrees with both."""
    monkeypatch.setattr(ingest_module, "BATCH_SIZE", 40)
    rng = random.Random(11)
    rows = [_row(i, rng, closed=True) for i in range(80)]
    changed = [{**_changed(r, rng), "verdict": "correct"} for r in rows]
    log = Log()
    with Session(engine, expire_on_commit=False) as session:
        report = ingest_file(session, session.get(Account, account_id), _csv(rows), reviewer="first")
    log.imports.append(("first", rows, report))

    holding, release = threading.Event(), threading.Event()

    def hold_after_first_batch(done: int, total: int) -> None:
        if not holding.is_set():
            holding.set()
            assert release.wait(timeout=120), "the test never released the import"

    def import_and_hold() -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                result = ingest_file(
                    session, session.get(Account, account_id), _csv(changed), reviewer="second", progress=hold_after_first_batch
                )
            log.add("imports", ("second", changed, result))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            log.add("crashes", exc)

    target = rows[0]  # written by the held import's first batch
    token = "while-held"

    def review_meanwhile() -> None:
        def work(session: Session) -> None:
            account = session.get(Account, account_id)
            review_outcome(session, ADMIN, account, target["job"], target["outcome_id"], "incorrect", reviewer="person", comment=token)

        try:
            run_in_transaction(work, engine, attempts=10)
            log.add("reviews", (target["job"], target["outcome_id"], "incorrect", token, True))
        except BaseException as exc:  # noqa: BLE001
            log.add("crashes", exc)

    importer = threading.Thread(target=import_and_hold)
    importer.start()
    assert holding.wait(timeout=120), "the import never wrote its first batch"
    reviewer = threading.Thread(target=review_meanwhile)
    reviewer.start()
    reviewer.join(timeout=0.5)
    # However slow the machine, the review cannot have landed while the import holds the outcome.
    assert reviewer.is_alive() and not log.reviews
    release.set()
    importer.join(timeout=120)
    reviewer.join(timeout=120)
    assert not importer.is_alive() and not reviewer.is_alive(), "a writer hung"
    assert not log.crashes, log.crashes
    assert [landed(r) for _, _, r in log.imports] == [True, True]
    check_figures(engine, account_id, log)
    with Session(engine) as session:
        outcome = get_outcome(session, session.get(Account, account_id), target["job"], target["outcome_id"])
        assert outcome.verdict == "incorrect"  # the review came last, so it is the verdict in force


# --- claims: two reviewers opening the queue at once never get the same item (SPEC "Reviews") -------

from app.models import Job, ReviewClaim  # noqa: E402
from app.store import claims  # noqa: E402

NOV = (date(2026, 11, 1), date(2026, 11, 30))
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _queue_account(engine, account_id: int, n: int = 12) -> None:
    rng = random.Random(3)
    rows = [{**_row(i, rng, closed=True), "status": "escalated", "verdict": "", "handoff_step": "execute"} for i in range(n)]
    with Session(engine, expire_on_commit=False) as session:
        assert ingest_file(session, session.get(Account, account_id), _csv(rows)).written


def _claim(engine, account_id: int, reviewer: str, now: datetime):
    def work(session: Session):
        account = session.get(Account, account_id)
        row = claims.claim_next(session, account, reviewer, *NOV, now)
        return None if row is None else row.pk

    return run_in_transaction(work, engine, attempts=10)


def test_two_reviewers_opening_the_queue_at_once_get_different_items(engine, account_id):
    _queue_account(engine, account_id)
    got: dict[str, list[int | None]] = defaultdict(list)
    crashes: list[BaseException] = []
    for round_ in range(5):
        start = threading.Barrier(2)
        now = NOON + timedelta(minutes=10 * round_)  # every earlier claim has expired

        def open_queue(name: str) -> None:
            try:
                start.wait()
                got[name].append(_claim(engine, account_id, name, now))
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                crashes.append(exc)

        threads = [threading.Thread(target=open_queue, args=(name,)) for name in ("ann", "bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not crashes, crashes
        assert got["ann"][-1] is not None and got["bob"][-1] is not None
        assert got["ann"][-1] != got["bob"][-1], f"round {round_}: both got {got['ann'][-1]}"
        # Each holds exactly the one they got; opening again gives the same item back.
        assert _claim(engine, account_id, "ann", now) == got["ann"][-1]
        assert _claim(engine, account_id, "bob", now) == got["bob"][-1]
    with Session(engine) as session:
        held = session.execute(select(ReviewClaim.reviewer, func.count()).group_by(ReviewClaim.reviewer)).all()
        assert dict(held) == {"ann": 1, "bob": 1}  # opening a new item gave the old one back


def test_a_claim_waiting_on_an_uncommitted_one_takes_the_next_item(engine, account_id):
    """Contention made on purpose: ann's claim is written but not committed when bob opens the queue.
    bob waits for it (SQLite: the write lock; PostgreSQL: the unique index), then gets the next item."""
    _queue_account(engine, account_id)
    bob: list[object] = []

    def open_as_bob() -> None:
        try:
            bob.append(_claim(engine, account_id, "bob", NOON))
        except BaseException as exc:  # noqa: BLE001
            bob.append(exc)

    thread = threading.Thread(target=open_as_bob)
    with session_scope(engine, write=True) as session:
        ann = claims.claim_next(session, session.get(Account, account_id), "ann", *NOV, NOON).pk
        thread.start()
        time.sleep(0.5)  # bob is under way, waiting for ann's transaction
        assert thread.is_alive()
    thread.join(timeout=60)
    assert len(bob) == 1 and isinstance(bob[0], int) and bob[0] != ann


def test_a_claim_lasts_five_minutes_and_a_review_gives_it_back(engine, account_id):
    _queue_account(engine, account_id, n=2)
    first = _claim(engine, account_id, "ann", NOON)
    assert _claim(engine, account_id, "bob", NOON + timedelta(minutes=4)) != first  # still ann's
    # Five minutes on, ann's claim has expired: the queue's first item is free again.
    assert _claim(engine, account_id, "cy", NOON + timedelta(minutes=5)) == first
    with session_scope(engine, write=True) as session:
        outcome = session.get(Outcome, first)
        slug = session.get(Job, outcome.job_id).slug
        review_outcome(session, ADMIN, session.get(Account, account_id), slug, outcome.outcome_id, "correct", reviewer="cy")
    with Session(engine) as session:
        assert session.execute(select(ReviewClaim).where(ReviewClaim.outcome_pk == first)).first() is None
