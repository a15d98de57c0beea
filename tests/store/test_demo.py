import hashlib
import random
import time as clock
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from app.domain.plans import SEED_PLANS
from app.domain.steps import STEPS
from app.models import Account, Job, Outcome, Plan, Review, Subscription, utcnow
from app.store.accounts import create_account, get_account, get_subscription, list_jobs
from app.store.demo import DEMO_SEED, SCENARIOS, Profile, Scenario, generate_outcomes, load_demo
from tests.conftest import fresh_engine
from tests.factories import OPERATOR

UTC = timezone.utc
TODAY = date(2026, 11, 20)
UNTIL = datetime(2026, 11, 20, 12, tzinfo=UTC)
STEP_COLS = [getattr(Outcome, f"step_{s}") for s in STEPS]


def aware(moment):
    return None if moment is None else (moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def fingerprint(session) -> str:
    """A hash of every demo outcome and review, independent of primary keys and backend."""
    rows = session.execute(
        select(Account.slug, Job.slug, Outcome.outcome_id, Outcome.started_at, Outcome.completed_at, Outcome.status,
               Outcome.verdict, Outcome.reviewed_at, Outcome.handoff_step, *STEP_COLS)
        .join(Job, Job.id == Outcome.job_id).join(Account, Account.id == Outcome.account_id)
    ).all()
    reviews = session.execute(
        select(Outcome.outcome_id, Review.reviewer, Review.reviewed_at, Review.verdict, Review.comment)
        .join(Outcome, Outcome.id == Review.outcome_pk)
    ).all()
    norm = lambda r: tuple(aware(v).isoformat() if isinstance(v, datetime) else v for v in r)  # noqa: E731
    digest = hashlib.sha256()
    for row in sorted(map(norm, rows)) + sorted(map(norm, reviews)):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def count(session, slug, *where) -> int:
    account = get_account(session, slug, principal=OPERATOR)
    return session.execute(select(func.count()).select_from(Outcome).where(Outcome.account_id == account.id, *where)).scalar_one()


def accuracy(session, slug, lo, hi) -> float:
    window = (Outcome.status == "completed", Outcome.completed_at >= lo, Outcome.completed_at < hi)
    correct = count(session, slug, Outcome.verdict == "correct", *window)
    incorrect = count(session, slug, Outcome.verdict == "incorrect", *window)
    return correct / (correct + incorrect)


@pytest.fixture
def demo(session):
    load_demo(session, today=TODAY)
    return session


def test_scenarios_shape():
    assert len(SCENARIOS) >= 4 and all(isinstance(s, Scenario) for s in SCENARIOS)
    slugs = [s.slug for s in SCENARIOS]
    assert {"trial-midway", "converted-freemium", "hybrid-over", "sliding-accuracy"} <= set(slugs)
    assert len(set(slugs)) == len(slugs) and all(s.headline and s.description and s.name for s in SCENARIOS)


def test_same_seed_and_day_give_identical_rows(demo, request, tmp_path):
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    other = fresh_engine("sqlite", request, second_dir)
    try:
        with Session(other) as s2:
            load_demo(s2, today=TODAY)
            assert fingerprint(s2) == fingerprint(demo)
            load_demo(s2, today=TODAY, reset=True, seed=DEMO_SEED + 1)
            assert fingerprint(s2) != fingerprint(demo)
    finally:
        other.dispose()


def test_load_is_idempotent(demo):
    before = fingerprint(demo)
    ids = [a.id for a in load_demo(demo, today=TODAY)]
    again = load_demo(demo, today=TODAY - timedelta(days=3))
    assert [a.id for a in again] == ids
    assert [a.slug for a in again] == [s.slug for s in SCENARIOS]
    assert fingerprint(demo) == before
    assert demo.execute(select(func.count()).select_from(Account)).scalar_one() == len(SCENARIOS)


def test_reset_restores_after_an_edit(demo):
    before = fingerprint(demo)
    plans = demo.execute(select(func.count()).select_from(Plan)).scalar_one()
    account = get_account(demo, "sliding-accuracy", principal=OPERATOR)
    demo.execute(update(Outcome).where(Outcome.account_id == account.id).values(verdict="incorrect"))
    demo.execute(Outcome.__table__.delete().where(Outcome.outcome_id.like("NW-%")))
    demo.commit()
    assert fingerprint(demo) != before
    load_demo(demo, today=TODAY, reset=True)
    assert fingerprint(demo) == before
    # The old plan and subscription rows went with the old accounts.
    assert demo.execute(select(func.count()).select_from(Plan)).scalar_one() == plans
    assert demo.execute(select(func.count()).select_from(Subscription)).scalar_one() == len(SCENARIOS)


def test_reset_never_touches_other_accounts(demo):
    acme = create_account(demo, "acme", "Acme", SEED_PLANS["hybrid"], since=date(2026, 10, 1))
    (job,) = list_jobs(demo, acme)
    started = datetime(2026, 10, 2, 9, tzinfo=UTC)
    demo.execute(insert(Outcome), [{
        "account_id": acme.id, "job_id": job.id, "outcome_id": "A-1", "started_at": started,
        "completed_at": started + timedelta(minutes=5), "status": "completed", "verdict": "unreviewed",
        "updated_at": started,
    }])
    demo.commit()
    load_demo(demo, today=TODAY, reset=True)
    acme = get_account(demo, "acme", principal=OPERATOR)
    assert count(demo, "acme") == 1
    assert get_subscription(demo, acme)[1] == SEED_PLANS["hybrid"]


def test_trial_is_midway_through_its_free_allowance(demo):
    billable = count(demo, "trial-midway", Outcome.status == "completed", Outcome.verdict != "incorrect")
    assert 10 <= billable <= 20
    assert count(demo, "trial-midway", Outcome.status.in_(["open", "escalated"])) >= 2
    sub, plan = get_subscription(demo, get_account(demo, "trial-midway", principal=OPERATOR))
    assert plan == SEED_PLANS["freemium"] and 8 <= (TODAY - sub.started_on).days <= 12


def test_converted_account_ran_out_early_and_grew(demo):
    account = get_account(demo, "converted-freemium", principal=OPERATOR)
    sub, _ = get_subscription(demo, account)
    start = datetime.combine(sub.started_on, time(), tzinfo=UTC)
    assert count(demo, "converted-freemium", Outcome.status == "completed", Outcome.completed_at < start + timedelta(days=21)) > 30
    first = count(demo, "converted-freemium", Outcome.started_at >= start + timedelta(days=14), Outcome.started_at < start + timedelta(days=42))
    last = count(demo, "converted-freemium", Outcome.started_at >= UNTIL - timedelta(days=28))
    assert last > 2 * first


def test_hybrid_exceeds_included_outcomes_every_full_month(demo):
    account = get_account(demo, "hybrid-over", principal=OPERATOR)
    sub, plan = get_subscription(demo, account)
    assert plan == SEED_PLANS["hybrid"] and sub.seats == 5
    assert {j.slug for j in list_jobs(demo, account)} == {"data-analysis", "report-generation"}
    month = date(sub.started_on.year, sub.started_on.month + 1, 1) if sub.started_on.month < 12 else date(sub.started_on.year + 1, 1, 1)
    full_months = 0
    while True:
        nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        if nxt > TODAY:
            break
        lo, hi = (datetime.combine(d, time(), tzinfo=UTC) for d in (month, nxt))
        completed = count(demo, "hybrid-over", Outcome.status == "completed", Outcome.completed_at >= lo, Outcome.completed_at < hi)
        assert 200 < completed <= 340, (month, completed)
        full_months += 1
        month = nxt
    assert full_months >= 3


def test_sliding_account_loses_accuracy(demo):
    sub, _ = get_subscription(demo, get_account(demo, "sliding-accuracy", principal=OPERATOR))
    start = datetime.combine(sub.started_on, time(), tzinfo=UTC)
    assert accuracy(demo, "sliding-accuracy", start, start + timedelta(days=30)) > 0.93
    assert accuracy(demo, "sliding-accuracy", UNTIL - timedelta(days=21), UNTIL) < 0.9
    recent = (Outcome.completed_at >= UNTIL - timedelta(days=30),)
    completed = count(demo, "sliding-accuracy", Outcome.status == "completed", *recent)
    closed = count(demo, "sliding-accuracy", Outcome.status != "open", *recent)
    assert completed / closed < 0.85
    account = get_account(demo, "sliding-accuracy", principal=OPERATOR)
    assert account.target_accuracy is not None and account.target_completion_rate is not None


def test_every_account_has_targets_and_one_bill_passes_its_budget(demo):
    over = []
    for account in demo.execute(select(Account)).scalars():
        assert account.target_accuracy and account.target_completion_rate and account.monthly_budget and account.hourly_cost
        _, plan = get_subscription(demo, account)
        month = count(demo, account.slug, Outcome.status == "completed", Outcome.completed_at >= UNTIL - timedelta(days=30))
        bill = plan.base_fee + max(0, month - plan.included_outcomes) * plan.outcome_price
        over.append(bill > account.monthly_budget)
    assert any(over)


def test_times_are_consistent_and_never_in_the_future(session):
    started = clock.monotonic()
    load_demo(session)
    now = utcnow()
    rows = session.execute(select(Outcome.started_at, Outcome.completed_at, Outcome.reviewed_at, Outcome.status)).all()
    assert rows
    for s, c, r, status in rows:
        s, c, r = aware(s), aware(c), aware(r)
        assert s <= now and (c is None) == (status == "open")
        assert c is None or s <= c <= now
        assert r is None or c <= r <= now
        if status == "open":
            assert s >= now - timedelta(days=2, minutes=5)
    assert clock.monotonic() - started < 5


def test_fixed_day_ends_at_noon(demo):
    latest = demo.execute(select(func.max(Outcome.completed_at))).scalar_one()
    assert aware(latest) <= UNTIL
    assert aware(demo.execute(select(func.max(Outcome.started_at))).scalar_one()) < UNTIL


def test_weekends_are_quieter_than_weekdays(demo):
    per_day: dict[date, int] = {}
    for (s,) in demo.execute(select(Outcome.started_at).where(Outcome.account_id == get_account(demo, "converted-freemium", principal=OPERATOR).id)):
        per_day[s.date()] = per_day.get(s.date(), 0) + 1
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    weekday = [n for d, n in per_day.items() if d.weekday() < 5]
    assert sum(weekend) / len(weekend) < 0.5 * sum(weekday) / len(weekday)


def test_statuses_steps_and_autonomy_are_plausible(demo):
    for scenario in SCENARIOS:
        if scenario.slug == "trial-midway":
            continue
        closed = count(demo, scenario.slug, Outcome.status != "open")
        completed = count(demo, scenario.slug, Outcome.status == "completed")
        autonomous = count(demo, scenario.slug, Outcome.status == "completed", *[func.coalesce(c, "") != "human" for c in STEP_COLS])
        assert 0.8 <= completed / closed <= 0.95
        assert 0.5 <= autonomous / closed <= 0.8, scenario.slug
        reviewed = count(demo, scenario.slug, Outcome.status == "completed", Outcome.verdict != "unreviewed")
        assert 0.05 <= reviewed / completed <= 0.3
    rows = demo.execute(select(Outcome.status, Outcome.handoff_step, *STEP_COLS)).all()
    for status, handoff, *steps in rows:
        if status == "escalated":
            assert handoff is not None
            after = steps[STEPS.index(handoff):]
            assert after[0] == "human" and all(p in ("human", None) for p in after)
        if status == "completed":
            assert handoff is None and steps[STEPS.index("execute")] is not None


def test_reviews_match_the_outcome_verdict(demo):
    latest = {}
    for pk, at, verdict in demo.execute(select(Review.outcome_pk, Review.reviewed_at, Review.verdict)):
        if pk not in latest or aware(at) > latest[pk][0]:
            latest[pk] = (aware(at), verdict)
    outcomes = demo.execute(select(Outcome.id, Outcome.reviewed_at, Outcome.verdict)).all()
    reviewed = 0
    for pk, at, verdict in outcomes:
        if verdict == "unreviewed":
            assert at is None and pk not in latest
        else:
            reviewed += 1
            assert latest[pk] == (aware(at), verdict)
    assert reviewed == len(latest) > 0


def test_generate_outcomes_streams_outcome_columns():
    profile = Profile.for_template("customer-support", id_prefix="B")
    rows = generate_outcomes(1, 2, start=date(2025, 1, 1), end=date(2025, 12, 31), daily_mean=200, growth=2.0,
                             rng=random.Random(1), profile=profile)
    first = next(rows)
    columns = {c.name for c in Outcome.__table__.columns} - {"id"}
    assert set(first) == columns and first["job_id"] == 1 and first["account_id"] == 2
    assert first["started_at"].tzinfo is not None
    again = generate_outcomes(1, 2, start=date(2025, 1, 1), end=date(2025, 12, 31), daily_mean=200, growth=2.0,
                              rng=random.Random(1), profile=profile)
    assert next(again) == first
