"""Each rule of app/domain/outcome_rules.py answers as its SQL twin in app/store/outcome_sql.py, on random rows.

Rows are stored in the ``outcome`` table and read back, so the SQL sees what
each backend really stores (SQLite's text times, PostgreSQL's ``timestamptz``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from app.domain import outcome_rules
from app.domain.plans import SEED_PLANS
from app.domain.steps import STATUSES, STEPS, VERDICTS, step_column
from app.models import Outcome
from app.store import outcome_sql
from app.store.accounts import create_account, list_jobs
from app.store.metrics import dated_in

UTC = timezone.utc
# Around midnight, where a day's edge is easiest to get wrong, and across a month's end.
BASE = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)

moments = st.integers(-3 * 24 * 60, 3 * 24 * 60).map(lambda m: BASE + timedelta(minutes=m, seconds=m % 7))
rows = st.fixed_dictionaries(
    {
        "started_at": moments,
        "completed_after": st.none() | st.integers(0, 2 * 24 * 60),
        "status": st.sampled_from(STATUSES),
        "verdict": st.sampled_from(VERDICTS),
        "handoff_step": st.none() | st.sampled_from(STEPS),
        "performers": st.lists(st.sampled_from([None, "ai", "human"]), min_size=len(STEPS), max_size=len(STEPS)),
    }
)


def _stored(row: dict, account_id: int, job_id: int, index: int) -> dict:
    completed = None if row["completed_after"] is None else row["started_at"] + timedelta(minutes=row["completed_after"])
    return {
        "account_id": account_id,
        "job_id": job_id,
        "outcome_id": f"R-{index}",
        "started_at": row["started_at"],
        "completed_at": completed,
        "status": row["status"],
        "verdict": row["verdict"],
        "handoff_step": row["handoff_step"],
        "updated_at": row["started_at"],
        **{step_column(s): who for s, who in zip(STEPS, row["performers"])},
    }


def _as_date(value) -> date:
    # SQLite's date() answers text; PostgreSQL's a date.
    return value if isinstance(value, date) else date.fromisoformat(value)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(rows, min_size=1, max_size=20), probe=st.integers(-3, 4))
def test_sql_and_python_rules_agree(session, drawn, probe):
    account = create_account(session, "rules", "Rules", SEED_PLANS["freemium"], since=date(2026, 10, 1))
    job = list_jobs(session, account)[0]
    session.execute(insert(Outcome), [_stored(r, account.id, job.id, i) for i, r in enumerate(drawn)])
    day = BASE.date() + timedelta(days=probe)
    steps = [getattr(Outcome, step_column(s)) for s in STEPS]
    stmt = select(
        Outcome.status, Outcome.verdict, Outcome.completed_at, Outcome.started_at, Outcome.handoff_step, *steps,
        outcome_sql.billable_now(), outcome_sql.autonomous(), outcome_sql.outcome_day(), dated_in(day, day),
    ).where(Outcome.account_id == account.id)
    try:
        got = session.execute(stmt).all()
        assert len(got) == len(drawn)
        for r in got:
            status, verdict, completed_at, started_at, handoff = r[:5]
            performers = list(r[5 : 5 + len(STEPS)])
            billable, autonomous, day_of, in_day = r[5 + len(STEPS) :]
            assert bool(billable) == outcome_rules.billable_now(status, verdict)
            assert bool(autonomous) == outcome_rules.autonomous(status, handoff, performers)
            assert _as_date(day_of) == outcome_rules.outcome_day(completed_at, started_at)
            # The index-friendly range test says the same as the day.
            assert bool(in_day) == (outcome_rules.outcome_day(completed_at, started_at) == day)
    finally:
        session.rollback()


def test_the_rules_on_plain_values():
    ai = ["ai"] * len(STEPS)
    assert outcome_rules.billable_now("completed", "unreviewed")
    assert outcome_rules.billable_now("completed", "correct")
    assert not outcome_rules.billable_now("completed", "incorrect")
    assert not outcome_rules.billable_now("escalated", "correct")
    assert outcome_rules.autonomous("completed", None, ai)
    assert outcome_rules.autonomous("completed", "", [None] * len(STEPS))
    assert not outcome_rules.autonomous("completed", None, ai[:-1] + ["human"])
    assert not outcome_rules.autonomous("completed", "execute", ai)  # handed off: not the AI alone
    assert not outcome_rules.autonomous("escalated", None, ai)
    late = datetime(2026, 10, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2)))  # 1 Nov 01:30 UTC
    assert outcome_rules.outcome_day(late, BASE) == date(2026, 11, 1)
    assert outcome_rules.outcome_day(None, BASE) == date(2026, 10, 31)
    assert outcome_rules.outcome_day(None, BASE.replace(tzinfo=None)) == date(2026, 10, 31)
