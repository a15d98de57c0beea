"""Demo scenarios a seller loads in one click during a trial.

Each scenario is one account with months of synthetic but plausible history:
weekday/weekend rhythm, growth, working-hours timestamps, handoffs at the
steps where people really take over, and a sample of outcomes reviewed.

Everything is derived from ``(seed, today)`` only, so the same pair always
produces the same rows; the current day is the one exception, because its
history stops at the present moment when ``today`` is the real today.

Demo accounts are recognised by their slug, which is the scenario's slug.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from app.domain.outcome_rules import billable_now
from app.domain.plans import SEED_PLANS
from app.domain.steps import STEPS
from app.domain.templates import get_template
from app.models import Account, ClosedInvoice, IncorrectSpan, Job, JobStep, Outcome, Plan, PlanChange, Review, Subscription, utcnow
from app.store.spans import rebuild_spans
from app.store.accounts import create_account, create_job
from app.store.rollups import bulk_write

DEMO_SEED: int = 20261124
BATCH_SIZE = 1000

UTC = timezone.utc
_MODIFY = STEPS.index("modify")
# Where a person takes over an escalated outcome: mostly when checking the
# inputs, doing the core action, or adjusting the result.
_HANDOFF_WEIGHTS = (0.03, 0.04, 0.05, 0.28, 0.27, 0.08, 0.22, 0.03)
# Where a failed outcome stops: the AI rarely fails to understand the request,
# more often it finds no usable input or cannot carry out the action.
_FAILURE_WEIGHTS = (0.02, 0.20, 0.15, 0.15, 0.33, 0.10, 0.03, 0.02)
_STEP_COLUMNS = tuple(f"step_{s}" for s in STEPS)


def _cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return tuple(c / total for c in out)


_HANDOFF_CUM = _cumulative(_HANDOFF_WEIGHTS)
_FAILURE_CUM = _cumulative(_FAILURE_WEIGHTS)


@dataclass(frozen=True)
class Scenario:
    """A demo account as a seller presents it.

    Attributes
    ----------
    slug : str
        The scenario's id, also the slug of its demo account.
    name : str
        The account's name.
    headline : str
        The one line a seller says about it.
    description : str
        What the history shows and what to point at in the dashboard.
    """

    slug: str
    name: str
    headline: str
    description: str


@dataclass(frozen=True)
class Profile:
    """How one job's outcomes behave; the knobs of :func:`generate_outcomes`.

    Attributes
    ----------
    coverage : tuple of str
        The coverage level of each of the eight steps (the job map's).
    id_prefix : str
        Prefix of the generated ``outcome_id`` values.
    weekend_factor : float
        Weekend volume as a share of weekday volume.
    ramp_days : int
        Onboarding: volume rises from a quarter to full over these first days.
    duration_minutes, duration_spread : float
        Median and log-normal sigma of the time from start to completion.
    escalation_rate, failure_rate : float
        Shares of outcomes that end escalated or failed.
    assisted_human : float
        Chance that a person performs an ``assisted`` step themselves.
    modify_rate : float
        Share of outcomes that need the ``modify`` step at all.
    review_rate, exception_review_rate : float
        Shares of completed, and of escalated or failed, outcomes reviewed.
    accuracy : float
        Chance that a reviewed completed outcome is judged correct.
    drift_days : int
        Over the last ``drift_days`` days accuracy and escalation rate move
        linearly to ``accuracy_end`` and ``escalation_rate_end``.
    pending_rate : float
        Share of outcomes started in the last two days still open (waiting on
        the customer), besides those simply still running.
    """

    coverage: tuple[str, ...]
    id_prefix: str = "OUT"
    weekend_factor: float = 0.3
    ramp_days: int = 0
    duration_minutes: float = 20.0
    duration_spread: float = 0.8
    escalation_rate: float = 0.06
    failure_rate: float = 0.025
    assisted_human: float = 0.1
    modify_rate: float = 0.2
    review_rate: float = 0.10
    exception_review_rate: float = 0.35
    accuracy: float = 0.95
    drift_days: int = 0
    accuracy_end: float | None = None
    escalation_rate_end: float | None = None
    pending_rate: float = 0.05

    @classmethod
    def for_template(cls, template: str, **overrides) -> Profile:
        """A profile whose coverage is the job-map template's."""
        tpl = get_template(template)
        return cls(coverage=tuple(tpl.steps[s].coverage for s in STEPS), **overrides)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 60:
        # Knuth's method costs O(mean) draws; the normal approximation is exact enough here.
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _office_hour(rng: random.Random) -> float:
    hour = rng.gauss(12.5, 2.7)
    return hour if 7.0 <= hour < 21.0 else rng.uniform(8.0, 18.0)


def _pick(cumulative: tuple[float, ...], u: float) -> int:
    for index, c in enumerate(cumulative):
        if u < c:
            return index
    return len(cumulative) - 1


def generate_outcomes(
    job_id: int,
    account_id: int,
    *,
    start: date,
    end: date,
    daily_mean: float,
    growth: float,
    rng: random.Random,
    profile: Profile,
    until: datetime | None = None,
) -> Iterator[dict]:
    """Yield synthetic outcomes of one job, day by day, oldest first.

    Parameters
    ----------
    job_id, account_id : int
        Keys written into every row.
    start, end : date
        First and last day (inclusive) on which outcomes start.
    daily_mean : float
        Mean number of outcomes started on a weekday at ``start``.
    growth : float
        Ratio of the weekday mean on ``end`` to that on ``start`` (geometric in between).
    rng : random.Random
        The only source of randomness: the same state gives the same rows.
    profile : Profile
        Statuses, durations, handoffs, reviews and drift.
    until : datetime, optional
        Aware UTC "now": nothing starts at or after it, outcomes not finished by
        then are open, and reviews after it do not exist yet. Defaults to the
        midnight after ``end``.

    Yields
    ------
    dict
        Outcome column values (no ``id``), ready for ``insert(Outcome)``.
    """
    if until is None:
        until = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    span = (end - start).days
    if span < 0:
        return
    coverage = profile.coverage
    mu = math.log(max(profile.duration_minutes, 1.0))
    acc_end = profile.accuracy if profile.accuracy_end is None else profile.accuracy_end
    esc_end = profile.escalation_rate if profile.escalation_rate_end is None else profile.escalation_rate_end
    recent = until - timedelta(days=2)
    serial = 0
    for d in range(span + 1):
        day = start + timedelta(days=d)
        midnight = datetime.combine(day, time(), tzinfo=UTC)
        if midnight >= until:
            break
        weekend = day.weekday() >= 5
        mean = daily_mean * (growth ** (d / span) if span else 1.0)
        if weekend:
            mean *= profile.weekend_factor
        if d < profile.ramp_days:
            mean *= 0.25 + 0.75 * d / profile.ramp_days
        n = _poisson(rng, mean)
        left = span - d
        t = 1.0 - left / profile.drift_days if profile.drift_days and left < profile.drift_days else 0.0
        accuracy = profile.accuracy + (acc_end - profile.accuracy) * t
        p_fail = profile.failure_rate
        p_esc = p_fail + profile.escalation_rate + (esc_end - profile.escalation_rate) * t
        if weekend:
            seconds = sorted(int(rng.uniform(9 * 3600, 17 * 3600)) for _ in range(n))
        else:
            # Office hours, busiest late morning; a draw outside 07-21 is redrawn within
            # 08-18 rather than clipped, which would pile outcomes up at 07:00:00.
            seconds = sorted(int(_office_hour(rng) * 3600) for _ in range(n))
        for second in seconds:
            serial += 1
            # Draw every value up front so the stream never depends on `until`.
            u_status, u_handoff, u_modify, u_review, u_verdict, u_pending = (rng.random() for _ in range(6))
            u_steps = [rng.random() for _ in range(8)]
            z_duration, z_lag = rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.0)

            started = midnight + timedelta(seconds=second)
            if started >= until:
                continue
            minutes = math.exp(mu + profile.duration_spread * z_duration)
            if u_status < p_fail:
                status, minutes = "failed", minutes * 0.7
            elif u_status < p_esc:
                # A person picking it up adds queue time.
                status, minutes = "escalated", minutes * (2.0 + 2.0 * u_handoff)
            else:
                status = "completed"
            minutes = min(max(minutes, 1.0), 36 * 60.0)
            completed = started + timedelta(seconds=int(minutes * 60))
            if status == "escalated" and not 8 <= completed.hour < 19:
                # People finish escalations in office hours: after hours it waits for the morning.
                morning = datetime.combine(completed.date(), time(8), tzinfo=UTC)
                if completed.hour >= 19:
                    morning += timedelta(days=1)
                completed = morning + timedelta(minutes=int(15 + 120 * u_modify))

            needs_modify = u_modify < profile.modify_rate
            steps: list[str | None] = [None] * 8
            handoff = None
            last = 7
            if status == "escalated":
                human_from = _pick(_HANDOFF_CUM, u_handoff)
                handoff = STEPS[human_from]
            elif status == "failed":
                last = _pick(_FAILURE_CUM, u_handoff)
                human_from = last + 1
            else:
                human_from = 8
            for i in range(last + 1):
                if i == _MODIFY and not needs_modify and (handoff is None or i != human_from):
                    continue
                if i >= human_from:
                    steps[i] = "human"
                    continue
                level = coverage[i]
                if level == "manual" or (level == "assisted" and u_steps[i] < profile.assisted_human):
                    steps[i] = "human"
                else:
                    steps[i] = "ai"

            pending = started >= recent and u_pending < profile.pending_rate
            if completed > until or pending:
                if pending:
                    progress = u_pending / profile.pending_rate
                else:
                    progress = (until - started) / (completed - started)
                done = int(progress * 8)
                for i in range(done, 8):
                    steps[i] = None
                if handoff is not None and STEPS.index(handoff) >= done:
                    handoff = None
                row_status, row_completed, verdict, reviewed = "open", None, "unreviewed", None
            else:
                row_status, row_completed = status, completed
                verdict, reviewed = "unreviewed", None
                rate = profile.review_rate if status == "completed" else profile.exception_review_rate
                if u_review < rate:
                    lag = timedelta(minutes=min(math.exp(math.log(360.0) + 1.1 * z_lag), 7 * 24 * 60.0))
                    if completed + lag <= until:
                        reviewed = completed + lag
                        if status == "completed":
                            verdict = "correct" if u_verdict < accuracy else "incorrect"
                        elif status == "escalated":
                            verdict = "correct" if u_verdict < 0.92 else "incorrect"
                        else:
                            verdict = "incorrect"
            row = {
                "account_id": account_id,
                "job_id": job_id,
                "outcome_id": f"{profile.id_prefix}-{serial:06d}",
                "started_at": started,
                "completed_at": row_completed,
                "status": row_status,
                "verdict": verdict,
                "reviewed_at": reviewed,
                "handoff_step": handoff,
                "updated_at": reviewed or row_completed or started,
                "summary": None,  # what the AI did and its source link: filled by the demo's loader (_judge_by)
                "url": None,
            }
            row.update(zip(_STEP_COLUMNS, steps))
            yield row


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class _JobSetup:
    template: str
    daily_mean: float
    growth: float
    profile: Profile


@dataclass(frozen=True)
class _Setup:
    plan: str
    since_days: int
    jobs: tuple[_JobSetup, ...]
    hourly_cost: str
    monthly_budget: str
    target_completion_rate: str
    target_accuracy: str
    reviewers: tuple[str, ...]
    seats: int = 0
    # The story the scenario must tell; a draw that does not tell it is redrawn.
    check: Callable[[list[dict], date, datetime], bool] | None = field(default=None, compare=False)


def _billable(row: dict) -> bool:
    return billable_now(row["status"], row["verdict"])


def _check_trial(rows: list[dict], since: date, until: datetime) -> bool:
    statuses = [r["status"] for r in rows]
    return 14 <= sum(map(_billable, rows)) <= 16 and "escalated" in statuses and "open" in statuses


def _check_converted(rows: list[dict], since: date, until: datetime) -> bool:
    done = sorted(r["completed_at"] for r in rows if _billable(r))
    return len(done) > 30 and done[29].date() < since + timedelta(days=21)


def _full_months(since: date, until: datetime) -> Iterator[tuple[date, date]]:
    first = date(since.year, since.month, 1)
    if first < since:
        first = date(since.year + first.month // 12, first.month % 12 + 1, 1)
    while True:
        nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        if nxt > until.date():
            return
        yield first, nxt
        first = nxt


def _check_hybrid(rows: list[dict], since: date, until: datetime) -> bool:
    months = list(_full_months(since, until))
    for first, nxt in months:
        billable = sum(1 for r in rows if _billable(r) and first <= r["completed_at"].date() < nxt)
        if not 250 <= billable <= 330:
            return False
    return bool(months)


def _accuracy(rows: list[dict], lo: datetime, hi: datetime) -> float | None:
    judged = [r["verdict"] for r in rows if r["status"] == "completed" and r["verdict"] != "unreviewed"
              and lo <= r["completed_at"] < hi]
    return judged.count("correct") / len(judged) if judged else None


def _check_sliding(rows: list[dict], since: date, until: datetime) -> bool:
    start = datetime.combine(since, time(), tzinfo=UTC)
    first = _accuracy(rows, start, start + timedelta(days=30))
    recent = _accuracy(rows, until - timedelta(days=21), until)
    closed = [r["status"] for r in rows if r["completed_at"] and r["completed_at"] >= until - timedelta(days=30)]
    completion = closed.count("completed") / len(closed) if closed else 1.0
    return first is not None and recent is not None and first > 0.94 and recent < 0.88 and completion < 0.85


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "trial-midway",
        "Northwind Support",
        "Ten days into the trial, half of the 30 free tickets already resolved — the upgrade sells itself.",
        "A support team on outcome-based freemium, started about ten days ago. About 15 of its 30 free "
        "outcomes are used, a few tickets are still open or were escalated to an agent. Show the allowance "
        "gauge, the date it is projected to run out, and the first bill that follows.",
    ),
    Scenario(
        "converted-freemium",
        "Globex Helpdesk",
        "Used up its free tickets in the first two weeks and has tripled its volume since, mostly without an agent.",
        "A helpdesk on outcome-based freemium for five months. The free allowance ran out in the first weeks; "
        "volume grew from about 15 to about 45 tickets a weekday while most tickets close with no human step. "
        "Show value delivered against the bill, and the job map's handoff steps.",
    ),
    Scenario(
        "hybrid-over",
        "Initech Analytics",
        "Pays for 200 outcomes a month and uses close to 300 — compare hybrid with pure per-outcome pricing.",
        "An analytics team on the hybrid plan (200.00 a month including 200 outcomes, 2.00 beyond) with 5 "
        "seats, running data-analysis and report-generation jobs for four months at 260-320 outcomes a month. "
        "Its projected bill passes its monthly budget: compare the plans side by side for its volume.",
    ),
    Scenario(
        "sliding-accuracy",
        "Umbrella Insurance Claims",
        "Accuracy slid from 96% to under 80% in five weeks — the alerts caught it before the customer did.",
        "A claims-support team for four months. Over the last five weeks the share of reviewed tickets judged "
        "correct falls from about 96% to about 78% and escalations creep up, so the accuracy and "
        "completion-rate alerts fire. Show the trend, the reviews, and where the handoffs moved.",
    ),
)

_SUPPORT = dict(duration_minutes=18.0, duration_spread=0.9)
_SETUPS: dict[str, _Setup] = {
    "trial-midway": _Setup(
        plan="freemium",
        since_days=10,
        jobs=(
            _JobSetup("customer-support", 2.3, 1.2, Profile.for_template(
                "customer-support", id_prefix="NW", escalation_rate=0.09, pending_rate=0.4,
                accuracy=0.97, review_rate=0.25, **_SUPPORT)),
        ),
        hourly_cost="35.00",
        monthly_budget="150.00",
        target_completion_rate="0.80",
        target_accuracy="0.90",
        reviewers=("dana@northwind.example", "lee@northwind.example"),
        check=_check_trial,
    ),
    "converted-freemium": _Setup(
        plan="freemium",
        since_days=150,
        jobs=(
            _JobSetup("customer-support", 15.0, 3.0, Profile.for_template(
                "customer-support", id_prefix="GX", ramp_days=10, accuracy=0.96, **_SUPPORT)),
        ),
        hourly_cost="42.00",
        monthly_budget="1500.00",
        target_completion_rate="0.85",
        target_accuracy="0.90",
        reviewers=("m.chen@globex.example", "r.osei@globex.example", "p.ruiz@globex.example"),
        check=_check_converted,
    ),
    "hybrid-over": _Setup(
        plan="hybrid",
        since_days=125,
        seats=5,
        jobs=(
            _JobSetup("data-analysis", 8.5, 1.1, Profile.for_template(
                "data-analysis", id_prefix="IA", duration_minutes=95.0, duration_spread=0.6,
                assisted_human=0.07, modify_rate=0.25, escalation_rate=0.07, failure_rate=0.03,
                accuracy=0.95, weekend_factor=0.2)),
            _JobSetup("report-generation", 5.0, 1.05, Profile.for_template(
                "report-generation", id_prefix="IR", duration_minutes=60.0, duration_spread=0.5,
                assisted_human=0.08, modify_rate=0.25, escalation_rate=0.05, failure_rate=0.02,
                accuracy=0.96, weekend_factor=0.2)),
        ),
        hourly_cost="85.00",
        monthly_budget="300.00",
        target_completion_rate="0.80",
        target_accuracy="0.85",
        reviewers=("bill.l@initech.example", "joanna@initech.example"),
        check=_check_hybrid,
    ),
    "sliding-accuracy": _Setup(
        plan="freemium",
        since_days=120,
        jobs=(
            _JobSetup("customer-support", 20.0, 1.25, Profile.for_template(
                "customer-support", id_prefix="UC", accuracy=0.97, accuracy_end=0.76, drift_days=38,
                escalation_rate=0.05, escalation_rate_end=0.22, failure_rate=0.035, review_rate=0.2,
                duration_minutes=25.0, duration_spread=0.9)),
        ),
        hourly_cost="55.00",
        monthly_budget="600.00",
        target_completion_rate="0.85",
        target_accuracy="0.90",
        reviewers=("claims.qa@umbrella.example", "a.wesker@umbrella.example", "j.valentine@umbrella.example"),
        check=_check_sliding,
    ),
}

_MAX_DRAWS = 100
_INCORRECT_COMMENTS = {
    "customer-support": (
        "Wrong refund amount quoted.",
        "Answered a different question than the customer asked.",
        "Cited an outdated policy.",
        "Closed before the customer confirmed the fix.",
        "Missed that the customer is on an enterprise contract.",
    ),
    "data-analysis": (
        "Used last quarter's definition of active customer.",
        "Double-counted refunds in revenue.",
        "Chart axis mislabelled; numbers fine.",
        "Filtered out the EU region by mistake.",
    ),
    "report-generation": (
        "Totals do not reconcile with the ledger.",
        "Narrative contradicts the table on page 2.",
        "Sent to the wrong distribution list.",
    ),
}
_CORRECT_COMMENTS = ("", "", "", "Looks good.", "Checked against source, fine.")

# What the AI did, by job template and status: what a reviewer judges by (SPEC "Data in": summary).
# {n}, {m} and {amount} are filled per outcome, so no two read exactly alike.
_SUMMARIES: dict[str, dict[str, tuple[str, ...]]] = {
    "customer-support": {
        "completed": (
            "Refunded order #{n} ({amount} USD) after confirming with the carrier that the parcel was lost; "
            "sent the customer the refund confirmation.",
            "Reset the customer's password, checked the new login worked, and closed the ticket with the steps used.",
            "Explained the difference between the Basic and Pro plans and applied the upgrade the customer asked for.",
            "Updated the delivery address on order #{n} before dispatch and confirmed the new date by e-mail.",
            "Answered a billing question: the {amount} USD charge is the annual renewal; linked the invoice.",
            "Cancelled the duplicate subscription and refunded the second charge of {amount} USD.",
        ),
        "escalated": (
            "Could not match the customer to an account (two profiles share the e-mail); handed to an agent.",
            "The customer disputes a charge of {amount} USD: refunds above the limit need an agent's approval.",
            "The customer asked for a manager after the second reply; handed over with a summary of the thread.",
        ),
        "failed": (
            "No order number in the message and none found for the sender; asked twice, no reply.",
            "The shipping carrier's API timed out three times; the ticket was left without an answer.",
        ),
    },
    "data-analysis": {
        "completed": (
            "Weekly churn by plan for the last {m} weeks: churn rose on Basic, flat on Pro; chart and SQL attached.",
            "Cohort retention for customers who joined in the last {m} months, split by acquisition channel.",
            "Revenue by region for the quarter, reconciled with the ledger to within {amount} USD.",
            "Answered 'which features do trial users open first?' from {n} sessions; top five listed with shares.",
        ),
        "escalated": (
            "The question needs the finance warehouse, which this analysis has no access to; handed to an analyst.",
            "Two definitions of 'active customer' disagree by {m}%; asked an analyst which one to use.",
        ),
        "failed": (
            "The source table was empty for the requested period; no analysis produced.",
            "The query ran past the {m}-minute limit on the events table and was stopped.",
        ),
    },
    "report-generation": {
        "completed": (
            "Monthly board report: revenue, churn and pipeline on {m} pages, sent to the leadership list.",
            "Weekly operations report with ticket volumes and response times; {n} tickets summarised.",
            "Quarterly KPI pack refreshed from the warehouse; all {m} charts regenerated and checked against totals.",
        ),
        "escalated": (
            "The totals did not reconcile with last month's report by {amount} USD; handed to the report owner.",
            "The narrative needs a comment on a reorganisation the data does not show; handed to a person.",
        ),
        "failed": (
            "The template references a retired metric; the report could not be built.",
        ),
    },
}
_SOURCES = {
    "customer-support": "tickets",
    "data-analysis": "requests",
    "report-generation": "reports",
}


def _judge_by(template: str, scenario: str, row: dict, rng: random.Random) -> tuple[str | None, str]:
    """A realistic summary of what the AI did for ``row`` and the link to its source record (demo only)."""
    options = _SUMMARIES.get(template, _SUMMARIES["customer-support"])
    pick = rng.choice(options["completed" if row["status"] in ("completed", "open") else row["status"]])
    summary = pick.format(n=rng.randint(10_000, 99_999), m=rng.randint(2, 12), amount=f"{rng.randint(5, 480)}.{rng.randint(0, 99):02d}")
    if row["status"] == "open":
        summary = "In progress: " + summary[0].lower() + summary[1:]
    url = f"https://{scenario}.example/{_SOURCES.get(template, 'records')}/{row['outcome_id']}"
    return summary, url


def _until(today: date, now: datetime) -> datetime:
    if today == now.date():
        return now.replace(microsecond=0)
    return datetime.combine(today, time(12), tzinfo=UTC)


def _draw(setup: _Setup, slug: str, seed: int, since: date, today: date, until: datetime) -> list[list[dict]]:
    """Rows per job, redrawn (deterministically) until the scenario's story holds."""
    per_job: list[list[dict]] = []
    for attempt in range(_MAX_DRAWS):
        per_job = []
        for index, job in enumerate(setup.jobs):
            rng = random.Random(f"{seed}:{slug}:{index}:{attempt}")
            per_job.append(list(generate_outcomes(
                0, 0, start=since, end=today, daily_mean=job.daily_mean, growth=job.growth,
                rng=rng, profile=job.profile, until=until)))
        if setup.check is None or setup.check([r for rows in per_job for r in rows], since, until):
            break
    return per_job


def write_reviews(session: Session, job: Job, rng: random.Random, reviewers: tuple[str, ...]) -> None:
    """Write the review history of ``job``'s judged outcomes, as the demo does (nothing is committed).

    One review per outcome with a ``reviewed_at``, giving its stored verdict at
    that moment; about 6 % of them also get an earlier "first look" with the
    opposite verdict, halfway between completion and the review. The incorrect
    spans are not refreshed here: the caller rebuilds them once
    (:func:`app.store.spans.rebuild_spans`) after writing every job.

    Parameters
    ----------
    session : Session
    job : Job
        Its outcomes are already stored, with their final ``verdict`` and ``reviewed_at``.
    rng : random.Random
        Draws the reviewers, comments and first looks; the same state gives the same reviews.
    reviewers : tuple of str
        The reviewers' addresses to draw from.
    """
    rows = session.execute(
        select(Outcome.id, Outcome.outcome_id, Outcome.verdict, Outcome.reviewed_at, Outcome.completed_at, Outcome.status)
        .where(Outcome.job_id == job.id, Outcome.reviewed_at.is_not(None))
    ).all()
    # Sorted in Python: string collation differs between SQLite and PostgreSQL.
    rows.sort(key=lambda r: r.outcome_id)
    wrong = _INCORRECT_COMMENTS.get(job.template or "", _INCORRECT_COMMENTS["customer-support"])
    batch: list[dict] = []
    for row in rows:
        reviewer = rng.choice(reviewers)
        reviewed_at = _aware(row.reviewed_at)
        blind = False
        if rng.random() < 0.06:
            # A second look that overturned the first verdict: the audit trail keeps both.
            first_at = _aware(row.completed_at) + (reviewed_at - _aware(row.completed_at)) / 2
            first = "incorrect" if row.verdict == "correct" else "correct"
            batch.append({"outcome_pk": row.id, "reviewer": rng.choice(reviewers), "reviewed_at": first_at,
                          "verdict": first, "comment": "", "blind": False})
            comment = "Second look: " + (rng.choice(wrong) if row.verdict == "incorrect" else "was fine after all.")
        else:
            comment = rng.choice(wrong) if row.verdict == "incorrect" else rng.choice(_CORRECT_COMMENTS)
            pair = _first_of_a_pair(row, reviewer, reviewers)
            if pair is not None:
                # The final review is then a blind second one (SPEC "Reviews"): what agreement is measured on.
                batch.append(pair)
                blind = True
        batch.append({"outcome_pk": row.id, "reviewer": reviewer, "reviewed_at": reviewed_at,
                      "verdict": row.verdict, "comment": comment, "blind": blind})
        if len(batch) >= BATCH_SIZE:
            session.execute(insert(Review.__table__), batch)
            batch = []
    if batch:
        session.execute(insert(Review.__table__), batch)


def _first_of_a_pair(row, second: str, reviewers: tuple[str, ...]) -> dict | None:
    """For about 10% of reviewed completed outcomes, a first review by someone else, before the final one.

    Drawn from the outcome id alone (the main stream of draws stays as it was). Reviewers agree on most
    correct outcomes and on three incorrect ones in four, as two careful people would.
    """
    others = [r for r in reviewers if r != second]
    if row.status != "completed" or not others:
        return None
    draw = random.Random(f"{row.outcome_id}:pair")
    if draw.random() >= 0.10:
        return None
    agree = draw.random() < (0.97 if row.verdict == "correct" else 0.75)
    verdict = row.verdict if agree else ("incorrect" if row.verdict == "correct" else "correct")
    completed = _aware(row.completed_at)
    return {"outcome_pk": row.id, "reviewer": draw.choice(others), "reviewed_at": completed + (_aware(row.reviewed_at) - completed) / 3,
            "verdict": verdict, "comment": "", "blind": False}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _create(session: Session, scenario: Scenario, setup: _Setup, seed: int, today: date, until: datetime) -> Account:
    since = today - timedelta(days=setup.since_days)
    account = create_account(
        session,
        scenario.slug,
        scenario.name,
        SEED_PLANS[setup.plan],
        template=setup.jobs[0].template,
        since=since,
        seats=setup.seats,
        hourly_cost=Decimal(setup.hourly_cost),
        monthly_budget=Decimal(setup.monthly_budget),
        target_completion_rate=Decimal(setup.target_completion_rate),
        target_accuracy=Decimal(setup.target_accuracy),
    )
    # Deterministic creation time, so a reload looks like the same account.
    account.created_at = datetime.combine(since, time(8), tzinfo=UTC)
    jobs = [session.execute(select(Job).where(Job.account_id == account.id)).scalar_one()]
    for job_setup in setup.jobs[1:]:
        jobs.append(create_job(session, account, job_setup.template))
    for job in jobs:
        job.created_at = account.created_at
    session.flush()
    # Core inserts on the table: the ORM bulk path splits a batch into one statement
    # per distinct pattern of NULL columns, which costs seconds on PostgreSQL.
    # The account's rollups are computed once at the end, in the same transaction.
    with bulk_write(session, [account.id]):
        for job, rows in zip(jobs, _draw(setup, scenario.slug, seed, since, today, until), strict=True):
            batch: list[dict] = []
            # Its own stream, so the outcomes drawn above stay exactly as they were.
            words = random.Random(f"{seed}:{scenario.slug}:{job.slug}:summaries")
            for row in rows:
                row["account_id"], row["job_id"] = account.id, job.id
                row["summary"], row["url"] = _judge_by(job.template or "", scenario.slug, row, words)
                batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    session.execute(insert(Outcome.__table__), batch)
                    batch = []
            if batch:
                session.execute(insert(Outcome.__table__), batch)
            rng = random.Random(f"{seed}:{scenario.slug}:{job.slug}:reviews")
            write_reviews(session, job, rng, setup.reviewers)
    rebuild_spans(session.connection(), account.id)
    return account


def delete_demo(session: Session) -> int:
    """Delete the demo accounts with everything they own; return how many were deleted.

    Accounts whose slug is not a scenario's are never touched. Nothing is committed.
    """
    ids = list(session.execute(select(Account.id).where(Account.slug.in_([s.slug for s in SCENARIOS]))).scalars())
    if not ids:
        return 0
    plan_ids = list(session.execute(select(Subscription.plan_id).where(Subscription.account_id.in_(ids))).scalars())
    job_ids = select(Job.id).where(Job.account_id.in_(ids))
    outcome_ids = select(Outcome.id).where(Outcome.account_id.in_(ids))
    # Explicit deletes, child tables first, rather than trusting every backend to cascade;
    # the accounts' rollups go in the same transaction.
    session.execute(delete(ClosedInvoice).where(ClosedInvoice.account_id.in_(ids)))
    session.execute(delete(IncorrectSpan).where(IncorrectSpan.account_id.in_(ids)))
    with bulk_write(session, ids):
        session.execute(delete(Review).where(Review.outcome_pk.in_(outcome_ids)))
        session.execute(delete(Outcome).where(Outcome.account_id.in_(ids)))
    session.execute(delete(JobStep).where(JobStep.job_id.in_(job_ids)))
    session.execute(delete(Job).where(Job.account_id.in_(ids)))
    session.execute(delete(PlanChange).where(PlanChange.subscription_id.in_(select(Subscription.id).where(Subscription.account_id.in_(ids)))))
    session.execute(delete(Subscription).where(Subscription.account_id.in_(ids)))
    session.execute(delete(Account).where(Account.id.in_(ids)))
    if plan_ids:
        session.execute(delete(Plan).where(Plan.id.in_(plan_ids)))
    session.expire_all()
    return len(ids)


def load_demo(
    session: Session,
    *,
    today: date | None = None,
    reset: bool = False,
    seed: int = DEMO_SEED,
) -> list[Account]:
    """Create the demo accounts that do not exist yet, and commit.

    Parameters
    ----------
    session : Session
    today : date, optional
        The last day of history (default: the current UTC date). History ends
        at the present moment when ``today`` is the real today, else at 12:00 UTC
        of ``today``; nothing completes later.
    reset : bool
        Delete the demo accounts (jobs, outcomes, reviews, subscription, plan)
        first and regenerate them. Other accounts are never touched.
    seed : int
        The same ``(seed, today)`` always gives the same rows.

    Returns
    -------
    list of Account
        One per scenario, in the order of :data:`SCENARIOS`; existing demo
        accounts are returned as they are.
    """
    now = utcnow()
    today = today or now.date()
    until = _until(today, now)
    if reset:
        delete_demo(session)
    slugs = [s.slug for s in SCENARIOS]
    existing = {a.slug: a for a in session.execute(select(Account).where(Account.slug.in_(slugs))).scalars()}
    accounts = []
    for scenario in SCENARIOS:
        account = existing.get(scenario.slug)
        if account is None:
            account = _create(session, scenario, _SETUPS[scenario.slug], seed, today, until)
        accounts.append(account)
    session.commit()
    return accounts


__all__ = [
    "DEMO_SEED", "SCENARIOS", "Profile", "Scenario", "delete_demo", "generate_outcomes", "load_demo", "write_reviews",
]
