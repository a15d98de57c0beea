"""The daily rollups always equal a full recomputation from the raw outcome rows.

Checked two ways after every step: against :func:`rebuild_rollups` (run in a
savepoint that is then rolled back) and against the same aggregates computed
in plain Python from the raw rows, so a mistake shared by the upkeep and the
rebuild SQL would still show.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from app.cli import main
from app.domain import outcome_rules
from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.domain.steps import STEPS
from app.models import NEVER_REVIEWED, Account, Outcome
from app.store import ingest as ingest_module
from app.store.accounts import create_account, create_job
from app.store.demo import delete_demo, load_demo
from app.store.ingest import ingest_file
from app.store.reviews import record_review
from app.store.rollups import OUTCOME_DAY, STARTED_DAY, STEP_DAY, TABLES, rebuild_rollups

UTC = timezone.utc
BASE = datetime(2026, 10, 30, 0, 0, tzinfo=UTC)
DEMO_TODAY = date(2026, 11, 24)
JOBS = ("customer-support", "data-analysis")
HEADER = "outcome_id,job,started_at,completed_at,status,verdict,handoff_step," + ",".join(STEPS)


def snapshot(session, account_id: int | None = None) -> dict[str, set]:
    """Every rollup row (of one account, or all), as comparable tuples."""
    def rows(table):
        stmt = select(table) if account_id is None else select(table).where(table.c.account_id == account_id)
        return {tuple(row) for row in session.execute(stmt).all()}

    return {t.name: rows(t) for t in TABLES}


def rebuilt(session, account_id: int | None = None) -> dict[str, set]:
    """What :func:`rebuild_rollups` would store, leaving the stored rollups as they are."""
    savepoint = session.begin_nested()
    rebuild_rollups(session, account_id)
    expected = snapshot(session, account_id)
    savepoint.rollback()
    return expected


def from_python(session, account_id: int | None = None) -> dict[str, set]:
    """The rollups computed in plain Python from the raw outcome rows."""
    outcome_day: dict = defaultdict(int)
    started_day: dict = defaultdict(int)
    step_day: dict = defaultdict(lambda: [0, 0, 0, 0, 0])
    stmt = select(Outcome.__table__)
    if account_id is not None:
        stmt = stmt.where(Outcome.account_id == account_id)
    for o in session.execute(stmt).all():
        day = outcome_rules.outcome_day(o.completed_at, o.started_at)
        performers = {s: getattr(o, f"step_{s}") for s in STEPS}
        autonomous = int(outcome_rules.autonomous(o.status, o.handoff_step, performers.values()))
        incorrect_on = NEVER_REVIEWED
        if o.verdict == "incorrect" and o.reviewed_at is not None:
            incorrect_on = o.reviewed_at.astimezone(UTC).date()
        outcome_day[(o.account_id, day, o.job_id, o.status, o.verdict, autonomous, incorrect_on)] += 1
        started_day[(o.account_id, o.started_at.astimezone(UTC).date(), o.job_id)] += 1
        billable = outcome_rules.billable_now(o.status, o.verdict)
        for step, who in performers.items():
            handed_off = o.handoff_step == step
            if who not in ("ai", "human") and not handed_off:
                continue
            counts = step_day[(o.account_id, day, o.job_id, step)]
            counts[0] += who == "ai"
            counts[1] += who == "human"
            counts[2] += 1
            counts[3] += handed_off
            counts[4] += who == "ai" and billable
    return {
        OUTCOME_DAY.name: {(*k, n) for k, n in outcome_day.items()},
        STEP_DAY.name: {(*k, *c) for k, c in step_day.items()},
        STARTED_DAY.name: {(*k, n) for k, n in started_day.items()},
    }


def assert_consistent(session, account_id: int | None = None) -> None:
    stored = snapshot(session, account_id)
    assert stored == rebuilt(session, account_id)
    assert stored == from_python(session, account_id)


@pytest.fixture
def account(session):
    account = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 10, 1))
    create_job(session, account, "data-analysis")
    session.commit()
    return account


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


rows = st.fixed_dictionaries(
    {
        "id": st.integers(0, 5),
        "job": st.sampled_from(JOBS),
        "start": st.integers(0, 6 * 24),  # hours after BASE: a week across a month boundary
        "duration": st.integers(0, 30),  # hours
        "status": st.sampled_from(["open", "completed", "completed", "escalated", "failed"]),
        "verdict": st.sampled_from(["", "", "correct", "incorrect"]),
        "handoff": st.one_of(st.just(""), st.sampled_from(STEPS)),
        "steps": st.lists(st.sampled_from(["ai", "ai", "human", ""]), min_size=8, max_size=8),
    }
)
imports = st.tuples(st.just("import"), st.lists(rows, min_size=1, max_size=6), st.booleans())
reviews = st.tuples(
    st.just("review"), st.integers(0, 20), st.sampled_from(["correct", "incorrect"]), st.integers(-72, 72)
)
demos = st.tuples(st.just("demo"), st.sampled_from([False, False, True]), st.just(None))
# Demo loads write thousands of rows: rarer than the small imports and reviews.
operations = st.one_of(imports, imports, imports, imports, reviews, reviews, reviews, demos)


def _csv(records: list[dict]) -> io.BytesIO:
    lines = [HEADER]
    for r in records:
        started = BASE + timedelta(hours=r["start"])
        completed = None if r["status"] == "open" else started + timedelta(hours=r["duration"])
        verdict = "" if r["status"] == "open" else r["verdict"]
        fields = [f"O-{r['id']}", r["job"], _iso(started), _iso(completed), r["status"], verdict, r["handoff"]]
        lines.append(",".join(fields + r["steps"]))
    stream = io.BytesIO(("\n".join(lines) + "\n").encode())
    stream.name = "outcomes.csv"
    return stream


def _apply(session, account: Account, op) -> None:
    kind = op[0]
    if kind == "import":
        _, records, valid_only = op
        ingest_file(session, account, _csv(records), valid_only=valid_only)
    elif kind == "review":
        _, index, verdict, hours = op
        outcomes = list(session.execute(select(Outcome).order_by(Outcome.id)).scalars())
        if not outcomes:
            return
        outcome = outcomes[index % len(outcomes)]
        # Negative hours give back-dated reviews, which join the trail without winning.
        at = (outcome.reviewed_at or BASE + timedelta(days=7)) + timedelta(hours=hours)
        try:
            record_review(session, outcome, verdict, "ann", at=at)
            session.commit()
        except OverseerError:
            session.rollback()
    else:
        _, reset, _ = op
        load_demo(session, today=DEMO_TODAY, reset=reset)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operations, min_size=1, max_size=6))
def test_rollups_equal_a_recomputation_after_any_writes(session, account, ops):
    # The demo accounts outlive an example (reloading them each time would be slow); they are
    # checked in full whenever an example touched them.
    session.execute(delete(Outcome).where(Outcome.account_id == account.id))
    session.commit()
    for op in ops:
        _apply(session, account, op)
        assert snapshot(session, account.id) == rebuilt(session, account.id)
    assert_consistent(session, None if any(op[0] == "demo" for op in ops) else account.id)


def test_demo_load_reset_and_delete_keep_rollups_consistent(session, account):
    ingest_file(session, account, _csv([{"id": 1, "job": JOBS[0], "start": 3, "duration": 2, "status": "completed",
                                          "verdict": "incorrect", "handoff": "", "steps": ["ai"] * 8}]))
    load_demo(session, today=DEMO_TODAY)
    assert_consistent(session)
    assert snapshot(session)[OUTCOME_DAY.name]
    load_demo(session, today=DEMO_TODAY - timedelta(days=2), reset=True)
    assert_consistent(session)
    delete_demo(session)
    session.commit()
    assert_consistent(session)
    assert {row[0] for row in snapshot(session)[OUTCOME_DAY.name]} == {account.id}


def _record(i: int, status: str = "completed", verdict: str = "") -> dict:
    return {"id": i, "job": JOBS[i % 2], "start": 10 * i, "duration": 3, "status": status, "verdict": verdict,
            "handoff": "execute" if status == "escalated" else "", "steps": ["ai"] * 7 + ["human"]}


def test_a_refused_import_leaves_the_rollups_untouched(session, account, monkeypatch):
    ingest_file(session, account, _csv([_record(i, "open") for i in range(4)]))
    before = snapshot(session)
    # Small batches, so that rows are written (and rolled up) before the bad row at the end is read.
    monkeypatch.setattr(ingest_module, "BATCH_SIZE", 2)
    stream = _csv([_record(0), _record(1, "escalated", "incorrect"), _record(5, verdict="correct"), _record(4)])
    stream = io.BytesIO(stream.getvalue() + b"O-9,customer-support,not a time,,completed,,,,,,,,,,\n")
    stream.name = "outcomes.csv"
    report = ingest_file(session, account, stream)
    assert not report.written and report.rejected
    assert snapshot(session) == before
    assert_consistent(session)


def test_a_failed_review_leaves_the_rollups_untouched(session, account):
    ingest_file(session, account, _csv([_record(0), _record(1, "open")]))
    before = snapshot(session)
    completed, still_open = session.execute(select(Outcome).order_by(Outcome.outcome_id)).scalars()
    with pytest.raises(OverseerError):
        record_review(session, still_open, "incorrect", "ann")
    assert snapshot(session) == before
    # A review applied, then its transaction rolled back: the rollup change goes with it.
    record_review(session, completed, "incorrect", "ann")
    assert snapshot(session) != before
    session.rollback()
    assert snapshot(session) == before
    assert_consistent(session)


def test_cli_rebuild_repairs_the_rollups(session, account, capsys):
    ingest_file(session, account, _csv([_record(i) for i in range(4)]))
    expected = snapshot(session)
    for table in TABLES:
        session.execute(delete(table))
    session.commit()
    assert main(["rollups", "rebuild", "--account", "acme"]) == 0
    session.rollback()  # the command wrote through its own connection
    assert snapshot(session) == expected
    assert main(["rollups", "rebuild"]) == 0
    session.rollback()
    assert snapshot(session) == expected
    assert main(["rollups", "rebuild", "--account", "nobody"]) == 2


def test_the_upgrade_backfills_the_rollups_of_stored_outcomes(engine):
    from alembic import command
    from sqlalchemy import insert
    from sqlmodel import Session

    from app.core.db import alembic_config, migrate
    from app.store.accounts import list_jobs

    with Session(engine, expire_on_commit=False) as session:
        account = create_account(session, "acme", "Acme", SEED_PLANS["hybrid"], since=date(2026, 10, 1))
        session.commit()
        job_id = list_jobs(session, account)[0].id
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    try:
        rows = []
        for i in range(40):
            started = BASE + timedelta(hours=7 * i)
            status = ("open", "completed", "completed", "escalated", "failed")[i % 5]
            verdict = ("unreviewed", "correct", "incorrect")[i % 3] if status != "open" else "unreviewed"
            rows.append({
                "account_id": account.id, "job_id": job_id, "outcome_id": f"U-{i}", "started_at": started,
                "completed_at": None if status == "open" else started + timedelta(hours=i % 30),
                "status": status, "verdict": verdict,
                "reviewed_at": None if verdict == "unreviewed" else started + timedelta(days=i % 9),
                "handoff_step": STEPS[i % 8] if status == "escalated" else None, "updated_at": started,
                **{f"step_{s}": ("ai", "human", None)[(i + k) % 3] for k, s in enumerate(STEPS)},
            })
        # Straight through a connection: the 0001 schema has no rollup tables to keep.
        with engine.begin() as conn:
            conn.execute(insert(Outcome.__table__), rows)
    finally:
        migrate(engine)
    with Session(engine) as session:
        assert snapshot(session)[OUTCOME_DAY.name]
        assert_consistent(session)


# --- Sub-day precision: whole days from the rollups, the edge days from raw rows ---------------

AROUND = datetime(2026, 10, 30, tzinfo=UTC)  # four days across a month boundary
moments = st.integers(0, 4 * 24 * 4 - 1).map(lambda q: AROUND + timedelta(minutes=15 * q))
billing_rows = st.lists(
    st.tuples(
        moments,
        st.sampled_from(["completed", "completed", "completed", "escalated", "open"]),
        st.sampled_from(["unreviewed", "correct", "incorrect", "incorrect"]),
        st.integers(0, 4 * 24 * 4),  # quarter hours from completion to the review
    ),
    max_size=14,
)


def _ym(moment: datetime) -> int:
    return moment.year * 12 + moment.month


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=billing_rows, as_of=moments, window=moments, free=st.integers(0, 4))
def test_billing_counts_match_the_raw_rows_at_any_moment(session, rows, as_of, window, free):
    from dataclasses import replace

    from sqlalchemy import insert

    from app.store import billing
    from app.store.accounts import list_jobs
    from tests.factories import record_verdicts

    session.execute(delete(Account).where(Account.slug == "sub-day"))
    session.commit()
    account = create_account(
        session, "sub-day", "Sub-day", replace(SEED_PLANS["freemium"], free_outcomes=free), since=date(2026, 10, 30)
    )
    session.commit()
    job = list_jobs(session, account)[0]
    values = []
    for i, (done, status, verdict, later) in enumerate(rows):
        reviewed = None if status == "open" or verdict == "unreviewed" else done + timedelta(minutes=15 * later)
        values.append({
            "account_id": account.id, "job_id": job.id, "outcome_id": f"B-{i}", "started_at": done - timedelta(hours=5),
            "completed_at": None if status == "open" else done, "status": status,
            "verdict": "unreviewed" if reviewed is None else verdict, "reviewed_at": reviewed, "updated_at": done,
        })
    if values:
        session.execute(insert(Outcome), values)
        # Each verdict as the one review that gave it: billing reads the review history.
        record_verdicts(session, account, [v["outcome_id"] for v in values if v["verdict"] != "unreviewed"])
    session.commit()
    stored = session.execute(select(Outcome.__table__).where(Outcome.account_id == account.id)).all()
    first = datetime(2026, 10, 30, tzinfo=UTC)

    def is_billed(o) -> bool:
        if o.status != "completed" or not first <= o.completed_at <= as_of:
            return False
        wrong = o.verdict == "incorrect" and o.reviewed_at is not None and o.reviewed_at <= as_of
        return not (wrong and _ym(o.reviewed_at) <= _ym(o.completed_at))

    billed = sorted((o for o in stored if is_billed(o)), key=lambda o: (o.completed_at, o.id))
    ctx = billing.billing_context(session, account, as_of=as_of)
    per_day: dict = defaultdict(int)
    for o in billed:
        per_day[o.completed_at.date()] += 1
    assert ctx.days == dict(per_day)
    assert ctx.days == billing.billed_days(session, account, ctx.subscription, as_of)
    assert ctx.state.free_used == min(free, len(billed))
    assert ctx.cutoff == (None if len(billed) <= free else (billed[free].completed_at, billed[free].id))
    if ctx.cutoff is not None:
        credits: dict = defaultdict(int)
        for o in stored:
            if (
                o.status == "completed" and o.verdict == "incorrect" and first <= o.completed_at <= as_of
                and o.reviewed_at is not None and o.reviewed_at <= as_of
                and (o.completed_at, o.id) >= ctx.cutoff and _ym(o.reviewed_at) > _ym(o.completed_at)
            ):
                credits[(_ym(o.reviewed_at), _ym(o.completed_at))] += 1
        assert billing._credit_table(ctx) == dict(credits)
    assert billing.billed_after(ctx, window) == sum(1 for o in billed if o.completed_at > window)
    assert billing.billed_after(ctx, window, inclusive=True) == sum(1 for o in billed if o.completed_at >= window)
    lo, hi = min(window, as_of), max(window, as_of)
    starts = [o.started_at for o in stored]
    for lo_open in (False, True):
        for hi_open in (False, True):
            expected = sum(
                1 for s in starts if (s > lo if lo_open else s >= lo) and (s < hi if hi_open else s <= hi)
            )
            got = billing.started_between(session, account.id, lo, hi, lo_open=lo_open, hi_open=hi_open)
            assert got == expected
    midnight = datetime.combine(lo.date(), datetime.min.time(), tzinfo=UTC)
    assert billing.started_between(session, account.id, midnight, hi) == sum(1 for s in starts if midnight <= s <= hi)


def test_bulk_statements_through_the_session_keep_rollups_consistent(session, account):
    from sqlalchemy import insert, update
    from sqlalchemy.dialects import postgresql, sqlite

    from app.store.accounts import list_jobs

    job = list_jobs(session, account)[0]
    rows = [
        {"account_id": account.id, "job_id": job.id, "outcome_id": f"K-{i}", "started_at": BASE + timedelta(hours=i),
         "completed_at": BASE + timedelta(hours=i + 1), "status": "completed", "verdict": "unreviewed",
         "updated_at": BASE, "step_execute": "ai"}
        for i in range(6)
    ]
    session.execute(insert(Outcome), rows)
    assert_consistent(session, account.id)
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    upsert = dialect_insert(Outcome.__table__)
    upsert = upsert.on_conflict_do_update(
        index_elements=["job_id", "outcome_id"], set_={"status": upsert.excluded.status, "step_execute": "human"}
    )
    session.execute(upsert, [{**r, "status": "escalated"} for r in rows[:3]] + [{**rows[0], "outcome_id": "K-new"}])
    assert_consistent(session, account.id)
    session.execute(update(Outcome).where(Outcome.outcome_id.in_(["K-4", "K-5"])).values(verdict="incorrect",
                                                                                         reviewed_at=BASE))
    assert_consistent(session, account.id)
    session.execute(delete(Outcome).where(Outcome.outcome_id == "K-1"))
    assert_consistent(session, account.id)
    session.commit()
    assert_consistent(session, account.id)
