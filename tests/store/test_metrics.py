"""Metrics against hand-built outcomes whose figures are worked out by hand in the comments."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session, select

from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.domain.steps import STEPS
from app.domain.summary import Summary
from app.models import Account, Job, Outcome
from app.store.accounts import create_account, create_job, list_jobs
from app.store.metrics import DAILY_COLUMNS, daily, job_summaries, step_stats, summary
from tests.factories import at

START, END = date(2026, 11, 10), date(2026, 11, 12)
_PERFORMER = {"a": "ai", "h": "human", "-": None}
_ids = iter(range(1, 10**9))


def make_account(session: Session, slug: str = "acme", template: str = "customer-support") -> tuple[Account, Job]:
    account = create_account(session, slug, slug.title(), SEED_PLANS["freemium"], since=date(2026, 11, 1), template=template)
    session.commit()
    (job,) = list_jobs(session, account)
    return account, job


def put(
    session: Session,
    job: Job,
    status: str,
    started: datetime,
    completed: datetime | None = None,
    *,
    verdict: str = "unreviewed",
    handoff: str | None = None,
    steps: str = "aaaaaaaa",
) -> None:
    """Add one outcome; ``steps`` spells the eight performers, ``a`` AI, ``h`` human, ``-`` nobody."""
    assert len(steps) == 8
    session.add(
        Outcome(
            account_id=job.account_id,
            job_id=job.id,
            outcome_id=f"O-{next(_ids)}",
            started_at=started,
            completed_at=completed,
            status=status,
            verdict=verdict,
            reviewed_at=None if verdict == "unreviewed" else completed,
            handoff_step=handoff,
            **{f"step_{s}": _PERFORMER[c] for s, c in zip(STEPS, steps)},
        )
    )


@pytest.fixture
def seeded(session):
    """Eleven outcomes around the range 2026-11-10 .. 2026-11-12 (see each comment)."""
    account, job = make_account(session)
    # 1. in range, task; completed autonomous, correct, billable
    put(session, job, "completed", at("2026-11-10T08:40"), at("2026-11-10T09:00"), verdict="correct")
    # 2. in range (last second of the 10th), task; completed with a human step, incorrect, not billable
    put(session, job, "completed", at("2026-11-10T23:00"), at("2026-11-10T23:59:59"), verdict="incorrect", steps="aaaahaaa")
    # 3. in range (last instant of the range), task; completed autonomous, unreviewed, billable
    put(session, job, "completed", at("2026-11-12T23:00"), at("2026-11-12T23:59:59.999999"))
    # 4. completed at 00:00 the day after the range: out; but started in it, so a task
    put(session, job, "completed", at("2026-11-12T23:40"), at("2026-11-13T00:00"), verdict="correct")
    # 5. completed the second before the range: out, not a task
    put(session, job, "completed", at("2026-11-09T23:39"), at("2026-11-09T23:59:59"))
    # 6. in range, task; escalated at execute
    put(session, job, "escalated", at("2026-11-11T11:00"), at("2026-11-11T12:00"), handoff="execute", steps="aaaahhhh")
    # 7. in range, task; failed
    put(session, job, "failed", at("2026-11-11T12:30"), at("2026-11-11T13:00"), steps="a-------")
    # 8. open, dated by started_at on the 11th: in range, task
    put(session, job, "open", at("2026-11-11T08:00"), steps="a-------")
    # 9. open, started the day before: out, not a task
    put(session, job, "open", at("2026-11-09T22:00"), steps="--------")
    # 10. open, started at 00:00 the day after: out, not a task
    put(session, job, "open", at("2026-11-13T00:00"), steps="--------")
    # 11. started before the range, escalated in it (at define): in range, not a task
    put(session, job, "escalated", at("2026-11-08T10:00"), at("2026-11-12T10:00"), handoff="define", steps="hhhhhhhh")
    session.commit()
    return account, job


def test_summary_by_hand(session, seeded):
    account, job = seeded
    s = summary(session, account.id, START, END)
    assert s == Summary(
        outcomes=7,  # 1, 2, 3, 6, 7, 8, 11
        open=1,
        closed=6,
        completed=3,
        escalated=2,
        failed=1,
        autonomous=2,  # 1, 3
        reviewed=2,
        correct=1,
        incorrect=1,
        billable=2,  # 1, 3
        tasks=7,  # 1, 2, 3, 4, 6, 7, 8
    )
    assert (s.completion_rate.numerator, s.completion_rate.denominator) == (3, 6)
    assert (s.autonomous_rate.numerator, s.autonomous_rate.denominator) == (2, 6)
    assert (s.escalation_rate.numerator, s.escalation_rate.denominator) == (2, 6)
    assert (s.accuracy.numerator, s.accuracy.denominator) == (1, 2)
    assert (s.review_coverage.numerator, s.review_coverage.denominator) == (2, 3)
    assert s.completion_rate.value == 0.5
    assert s.accuracy.wilson() is not None
    assert summary(session, account.id, START, END, job_id=job.id) == s


def test_single_day_boundaries(session, seeded):
    account, _ = seeded
    # The 13th holds #4 (completed 00:00) and #10 (open, started 00:00); #4 started on the 12th.
    s = summary(session, account.id, date(2026, 11, 13), date(2026, 11, 13))
    assert (s.outcomes, s.completed, s.open, s.tasks, s.billable, s.correct) == (2, 1, 1, 1, 1, 1)
    # The 9th holds #5 (completed 23:59:59) and #9 (open, started 22:00), both also started then.
    s = summary(session, account.id, date(2026, 11, 9), date(2026, 11, 9))
    assert (s.outcomes, s.completed, s.open, s.tasks) == (2, 1, 1, 2)


def test_rates_without_denominator_are_none(session, seeded):
    account, _ = seeded
    empty = summary(session, account.id, date(2025, 1, 1), date(2025, 1, 31))
    assert empty == Summary()
    for rate in (empty.completion_rate, empty.autonomous_rate, empty.escalation_rate, empty.accuracy, empty.review_coverage):
        assert rate.value is None and rate.format() == "—" and rate.wilson() is None
    # The 9th holds one completed outcome, unreviewed: a completion rate but no accuracy.
    ninth = summary(session, account.id, date(2026, 11, 9), date(2026, 11, 9))
    assert ninth.completion_rate.value == 1.0
    assert ninth.accuracy.value is None and ninth.accuracy.format() == "—"
    assert ninth.review_coverage.value == 0.0


def test_unreviewed_never_counts_towards_accuracy(session):
    account, job = make_account(session)
    for _ in range(3):
        put(session, job, "completed", at("2026-11-10T10:00"), at("2026-11-10T11:00"))
    put(session, job, "escalated", at("2026-11-10T10:00"), at("2026-11-10T11:00"), verdict="incorrect", handoff="execute")
    session.commit()
    s = summary(session, account.id, START, END)
    # The incorrect verdict is on an escalated outcome: accuracy is among completed ones only.
    assert (s.reviewed, s.correct, s.incorrect, s.billable) == (0, 0, 0, 3)
    assert s.accuracy.value is None
    assert s.review_coverage.value == 0.0


def test_summary_is_scoped_to_account_and_job(session, seeded):
    account, job = seeded
    other, other_job = make_account(session, "globex")
    put(session, other_job, "completed", at("2026-11-10T10:00"), at("2026-11-10T11:00"))
    second = create_job(session, account, "data-analysis")
    put(session, second, "failed", at("2026-11-10T10:00"), at("2026-11-10T11:00"))
    session.commit()
    assert summary(session, other.id, START, END).completed == 1
    assert summary(session, account.id, START, END).failed == 2
    assert summary(session, account.id, START, END, job_id=job.id).failed == 1
    s = summary(session, account.id, START, END, job_id=second.id)
    assert (s.outcomes, s.failed, s.closed, s.tasks) == (1, 1, 1, 1)


def test_reversed_range_is_refused(session, seeded):
    account, _ = seeded
    with pytest.raises(OverseerError, match="before it starts"):
        summary(session, account.id, END, START)


def test_daily_by_hand(session, seeded):
    account, _ = seeded
    frame = daily(session, account.id, START, END)
    assert list(frame.columns) == list(DAILY_COLUMNS)
    assert list(frame["day"]) == [date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12)]
    assert all(type(d) is date for d in frame["day"])
    rows = frame.set_index("day").to_dict("index")
    #                                   open compl escal fail closed auto corr incorr bill
    expected = {
        date(2026, 11, 10): dict(zip(DAILY_COLUMNS[1:], (0, 2, 0, 0, 2, 1, 1, 1, 1))),  # 1, 2
        date(2026, 11, 11): dict(zip(DAILY_COLUMNS[1:], (1, 0, 1, 1, 2, 0, 0, 0, 0))),  # 6, 7, 8
        date(2026, 11, 12): dict(zip(DAILY_COLUMNS[1:], (0, 1, 1, 0, 2, 1, 0, 0, 1))),  # 3, 11
    }
    assert rows == expected
    totals = frame.drop(columns="day").sum()
    s = summary(session, account.id, START, END)
    for name in DAILY_COLUMNS[1:]:
        assert totals[name] == getattr(s, name)


def test_daily_zero_fills_days_without_outcomes(session, seeded):
    account, _ = seeded
    frame = daily(session, account.id, date(2026, 11, 5), date(2026, 11, 14))
    assert len(frame) == 10
    assert frame["day"].iloc[0] == date(2026, 11, 5) and frame["day"].iloc[-1] == date(2026, 11, 14)
    by_day = frame.set_index("day")
    assert by_day.loc[date(2026, 11, 5)].sum() == 0
    assert by_day.loc[date(2026, 11, 14)].sum() == 0
    assert by_day.loc[date(2026, 11, 13), "completed"] == 1 and by_day.loc[date(2026, 11, 13), "open"] == 1
    assert by_day.loc[date(2026, 11, 9), "completed"] == 1 and by_day.loc[date(2026, 11, 9), "open"] == 1
    assert str(frame["completed"].dtype) == "int64"


def test_daily_empty_account_has_every_day(session):
    account, _ = make_account(session)
    frame = daily(session, account.id, START, START)
    assert list(frame.columns) == list(DAILY_COLUMNS)
    assert frame.to_dict("records") == [{"day": START, **{c: 0 for c in DAILY_COLUMNS[1:]}}]


def test_step_stats_by_hand(session, seeded):
    account, job = seeded
    stats = step_stats(session, account.id, START, END)
    assert [s.step for s in stats] == list(STEPS)
    assert all(s.coverage is None for s in stats)
    got = {s.step: (s.ai_runs, s.human_runs, s.reached, s.handoffs) for s in stats}
    # In range: 1 aaaaaaaa, 2 aaaahaaa, 3 aaaaaaaa, 6 aaaahhhh (handoff execute),
    # 7 a-------, 8 a-------, 11 hhhhhhhh (handoff define).
    assert got == {
        "define": (6, 1, 7, 1),
        "locate": (4, 1, 5, 0),
        "prepare": (4, 1, 5, 0),
        "confirm": (4, 1, 5, 0),
        "execute": (2, 3, 5, 1),
        "monitor": (3, 2, 5, 0),
        "modify": (3, 2, 5, 0),
        "conclude": (3, 2, 5, 0),
    }
    execute = stats[STEPS.index("execute")]
    assert (execute.ai_share.numerator, execute.ai_share.denominator) == (2, 5)
    assert (execute.handoff_rate.numerator, execute.handoff_rate.denominator) == (1, 5)

    with_job = step_stats(session, account.id, START, END, job_id=job.id)
    assert [s.coverage for s in with_job] == [
        "automated", "automated", "automated", "assisted", "automated", "assisted", "assisted", "automated"
    ]
    assert [(s.ai_runs, s.human_runs, s.reached, s.handoffs) for s in with_job] == [got[s] for s in STEPS]


def test_handoff_reaches_a_step_nobody_performed(session):
    account, job = make_account(session)
    # Handed off at confirm before anyone performed it; a second outcome never got there.
    put(session, job, "escalated", at("2026-11-10T10:00"), at("2026-11-10T11:00"), handoff="confirm", steps="aaa-----")
    put(session, job, "failed", at("2026-11-10T10:00"), at("2026-11-10T11:00"), steps="aa------")
    session.commit()
    stats = {s.step: s for s in step_stats(session, account.id, START, END)}
    confirm = stats["confirm"]
    assert (confirm.ai_runs, confirm.human_runs, confirm.reached, confirm.handoffs) == (0, 0, 1, 1)
    assert confirm.handoff_rate.value == 1.0
    assert confirm.ai_share.value is None  # reached, but never performed: "—"
    execute = stats["execute"]
    assert (execute.reached, execute.handoffs) == (0, 0)
    assert execute.handoff_rate.value is None and execute.ai_share.value is None
    assert stats["prepare"].handoff_rate.value == 0.0  # reached once, no hand-off: a real 0%


def test_step_stats_empty(session):
    account, job = make_account(session)
    stats = step_stats(session, account.id, START, END, job_id=job.id)
    assert len(stats) == 8
    assert all(s.reached == s.handoffs == s.runs == 0 and s.handoff_rate.value is None for s in stats)
    assert stats[0].coverage == "automated"


def test_job_summaries(session, seeded):
    account, job = seeded
    second = create_job(session, account, "data-analysis")  # "Answer a business question..." sorts first
    idle = create_job(session, account, "report-generation")  # no outcomes at all
    put(session, second, "completed", at("2026-11-11T10:00"), at("2026-11-11T11:00"), verdict="correct")
    put(session, second, "completed", at("2026-11-01T10:00"), at("2026-11-01T11:00"))  # out of range
    other, other_job = make_account(session, "globex")
    put(session, other_job, "completed", at("2026-11-11T10:00"), at("2026-11-11T11:00"))
    session.commit()

    result = job_summaries(session, account.id, START, END)
    assert [j.slug for j, _ in result] == ["data-analysis", "report-generation", "customer-support"]
    by_slug = {j.slug: s for j, s in result}
    assert by_slug["customer-support"] == summary(session, account.id, START, END, job_id=job.id)
    assert by_slug["data-analysis"] == Summary(
        outcomes=1, closed=1, completed=1, autonomous=1, reviewed=1, correct=1, billable=1, tasks=1
    )
    assert by_slug["report-generation"] == Summary()
    assert by_slug["report-generation"].completion_rate.value is None
    assert all(isinstance(j, Job) for j, _ in result)
    assert {j.id for j, _ in result} == {job.id, second.id, idle.id}
    # Only tasks in the range: the job still appears, with its task counted.
    second_only = job_summaries(session, account.id, date(2026, 11, 1), date(2026, 11, 1))
    assert {j.slug: s.completed for j, s in second_only} == {
        "data-analysis": 1, "report-generation": 0, "customer-support": 0
    }


# --- Property: summary() equals the same figures counted in plain Python -------------------------

BASE = datetime(2026, 11, 9, tzinfo=timezone.utc)
# Offsets (seconds from BASE) that sit on and next to the range's day boundaries.
_EDGES = [0, 86_399, 86_400, 86_401, 4 * 86_400 - 1, 4 * 86_400, 4 * 86_400 + 1]

offsets = st.one_of(st.sampled_from(_EDGES), st.integers(min_value=0, max_value=5 * 86_400))
outcome_rows = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["open", "completed", "escalated", "failed"]),
        "start": offsets,
        "duration": st.one_of(st.just(0), st.integers(min_value=0, max_value=2 * 86_400)),
        "verdict": st.sampled_from(["correct", "incorrect", "unreviewed"]),
        "handoff": st.one_of(st.none(), st.sampled_from(STEPS)),
        "steps": st.text(alphabet="ah-", min_size=8, max_size=8),
    }
)


def _expected(rows: list[dict], start: date, end: date) -> Summary:
    counts = dict.fromkeys(Summary.__dataclass_fields__, 0)
    for r in rows:
        started = BASE + timedelta(seconds=r["start"])
        completed = None if r["status"] == "open" else started + timedelta(seconds=r["duration"])
        if start <= started.date() <= end:
            counts["tasks"] += 1
        if not start <= (completed or started).date() <= end:
            continue
        counts["outcomes"] += 1
        counts[r["status"]] += 1
        if r["status"] != "open":
            counts["closed"] += 1
        if r["status"] == "completed":
            # SPEC: not handed off, and no step performed by a person.
            counts["autonomous"] += "h" not in r["steps"] and r["handoff"] is None
            counts["reviewed"] += r["verdict"] != "unreviewed"
            counts["correct"] += r["verdict"] == "correct"
            counts["incorrect"] += r["verdict"] == "incorrect"
            counts["billable"] += r["verdict"] != "incorrect"
    return Summary(**counts)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(outcome_rows, max_size=12), first=st.integers(0, 3), length=st.integers(0, 2))
def test_summary_matches_plain_python(session, rows, first, length):
    session.execute(delete(Outcome))
    session.commit()
    job = session.exec(select(Job)).first() or make_account(session)[1]
    for r in rows:
        started = BASE + timedelta(seconds=r["start"])
        completed = None if r["status"] == "open" else started + timedelta(seconds=r["duration"])
        put(session, job, r["status"], started, completed, verdict=r["verdict"], handoff=r["handoff"], steps=r["steps"])
    session.commit()
    start = BASE.date() + timedelta(days=first)
    end = start + timedelta(days=length)
    expected = _expected(rows, start, end)
    got = summary(session, job.account_id, start, end)
    assert got == expected
    assert got.accuracy.value == (None if expected.correct + expected.incorrect == 0 else expected.correct / (expected.correct + expected.incorrect))
    frame = daily(session, job.account_id, start, end)
    assert len(frame) == length + 1
    for name in DAILY_COLUMNS[1:]:
        assert int(frame[name].sum()) == getattr(expected, name)
