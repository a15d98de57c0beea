"""Outcome listings for the dashboard: filtered and paginated in SQL, the review queue, counts.

Rules chosen where SPEC is silent:

- an outcome belongs to a date range by its ``completed_at``, or its
  ``started_at`` while it is open (the same rule as the metrics:
  :func:`app.domain.outcome_rules.outcome_day`);
- listings are newest first (by that date, then by arrival);
- the review queue (SPEC "Reviews") holds the exceptions that nobody has
  reviewed yet — escalated and failed outcomes — then a sample of unreviewed
  completed outcomes, then the second reviews waiting for this reviewer. The
  sample is as large as accuracy needs to reach the account's precision target
  (:class:`SamplePlan`), at least one while any completed outcome is
  unreviewed, taken in a fixed hash order of the outcomes (the same for every
  reviewer, on every backend). A second review is a reviewed completed outcome
  that falls in the account's second-review share (another fixed hash), was
  reviewed in Overseer by someone else, by nobody blind yet, and never by this
  reviewer; it leaves the queue once someone gives it a blind second verdict;
- nothing after ``as_of`` is listed (SPEC "Billing over time"), as in the
  metrics (:mod:`app.store.metrics`): with ``as_of`` given, an outcome completed
  after it, or started after it while open, is left out whole (no history of
  statuses is kept), and one whose latest review came after it is listed,
  filtered and queued with the verdict in force at ``as_of`` (its latest review
  made at or before it, else unreviewed) and that review's time. Without
  ``as_of`` every stored row and its current verdict is listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, false, func, literal, or_
from sqlmodel import Session, select

from sqlalchemy import BigInteger, exists

from app.domain.errors import OverseerError
from app.domain.ingest_rows import MAX_OUTCOME_ID
from app.domain.ingest_rows import UNSTORABLE as _UNSTORABLE
from app.domain.stats import wilson_half_width, wilson_sample_size
from app.domain.steps import STATUSES, STEPS, VERDICTS
from app.domain.outcome_rules import outcome_day
from app.models import Account, Job, Outcome, Review
from app.store.billing import aware_utc
from app.store.outcome_sql import dated_between

MAX_PAGE_SIZE = 500
# Knuth's multiplicative hash: spreads consecutive ids over 2^32 places; the sample takes them in
# that order. The second-review share uses another odd multiplier, so the two are independent.
_HASH_MULTIPLIER = 2654435761
_SECOND_MULTIPLIER = 2246822519
_HASH_SPACE = 2**32


@dataclass(frozen=True)
class OutcomeFilter:
    """What the outcome table shows. Empty tuples mean "any"."""

    start: date
    end: date
    statuses: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    job_slug: str | None = None
    handoff_step: str | None = None
    search: str = ""

    def __post_init__(self):
        if self.end < self.start:
            raise OverseerError(f"the date range ends ({self.end}) before it starts ({self.start})")
        bad = [s for s in self.statuses if s not in STATUSES]
        if bad:
            raise OverseerError(f"unknown status {bad[0]!r}; expected one of {', '.join(STATUSES)}")
        bad = [v for v in self.verdicts if v not in VERDICTS]
        if bad:
            raise OverseerError(f"unknown verdict {bad[0]!r}; expected one of {', '.join(VERDICTS)}")
        if self.handoff_step is not None and self.handoff_step not in STEPS:
            raise OverseerError(f"unknown step {self.handoff_step!r}; expected one of {', '.join(STEPS)}")


@dataclass(frozen=True)
class OutcomeRow:
    """One outcome as listed (no review history; see ``app.store.reviews``)."""

    job_slug: str
    job_name: str
    outcome_id: str
    status: str
    verdict: str
    started_at: datetime
    completed_at: datetime | None
    handoff_step: str | None
    reviewed_at: datetime | None
    steps: dict[str, str | None] = field(default_factory=dict)
    summary: str | None = None
    url: str | None = None
    pk: int | None = None

    @property
    def day(self) -> date:
        return outcome_day(self.completed_at, self.started_at)

    @property
    def performed_by_ai(self) -> int:
        return sum(1 for v in self.steps.values() if v == "ai")


@dataclass(frozen=True)
class OutcomePage:
    rows: list[OutcomeRow]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class SamplePlan:
    """How many completed outcomes must be reviewed for accuracy to reach the precision target (SPEC "Reviews").

    Attributes
    ----------
    correct, reviewed : int
        Completed outcomes in the range judged correct, and judged at all.
    unreviewed : int
        Completed outcomes in the range with no verdict.
    target : float
        The precision target, a share (0.05: the 95% Wilson interval within ±5 points).
    needed : int
        Reviews at which the current accuracy's interval is that narrow
        (:func:`app.domain.stats.wilson_sample_size`; 0.5 is planned while nothing is reviewed).
    """

    correct: int
    reviewed: int
    unreviewed: int
    target: float
    needed: int

    @classmethod
    def of(cls, correct: int, reviewed: int, unreviewed: int, target: float) -> SamplePlan:
        share = correct / reviewed if reviewed else None
        return cls(correct, reviewed, unreviewed, target, wilson_sample_size(share, target))

    @property
    def remaining(self) -> int:
        """Reviews still needed for the target (0 once reached)."""
        return max(self.needed - self.reviewed, 0)

    @property
    def size(self) -> int:
        """Unreviewed completed outcomes in the queue: what remains, at least 1 while any is unreviewed."""
        return min(self.unreviewed, max(self.remaining, 1)) if self.unreviewed else 0

    @property
    def reachable(self) -> bool:
        """Whether reviewing every completed outcome of the range would reach the target."""
        return self.reviewed + self.unreviewed >= self.needed

    @property
    def half_width(self) -> float | None:
        """The precision now: half the width of the current accuracy's 95% Wilson interval (None: nothing reviewed)."""
        return wilson_half_width(self.correct / self.reviewed, self.reviewed) if self.reviewed else None


@dataclass(frozen=True)
class QueueCounts:
    escalated: int
    failed: int
    sampled: int
    second: int = 0
    plan: SamplePlan | None = None

    @property
    def total(self) -> int:
        return self.escalated + self.failed + self.sampled + self.second


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=timezone.utc),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=timezone.utc),
    )


def _in_range(start: date, end: date):
    return dated_between(*_bounds(start, end))


def _stored_by(as_of: datetime | None) -> list:
    """SQL conditions: the outcome is dated at or before ``as_of`` (none without it)."""
    if as_of is None:
        return []
    return [or_(Outcome.completed_at <= as_of, and_(Outcome.completed_at.is_(None), Outcome.started_at <= as_of))]


def _verdict(as_of: datetime | None):
    """SQL expression: the verdict in force at ``as_of`` (the stored verdict without it).

    Only an outcome whose latest review is after ``as_of`` reads its review
    history (none when ``as_of`` is now); the latest review at or before
    ``as_of`` wins, the one recorded last on a tie, as in the metrics.
    """
    if as_of is None:
        return Outcome.verdict
    then = (
        select(Review.verdict)
        .where(Review.outcome_pk == Outcome.id, Review.reviewed_at <= as_of)
        .order_by(Review.reviewed_at.desc(), Review.id.desc())
        .limit(1)
        .correlate(Outcome)
        .scalar_subquery()
    )
    return case((Outcome.reviewed_at > as_of, func.coalesce(then, "unreviewed")), else_=Outcome.verdict)


def _reviewed_at(as_of: datetime | None):
    """SQL expression: the time of the review in force at ``as_of`` (the stored one without it)."""
    if as_of is None:
        return Outcome.reviewed_at
    then = (
        select(func.max(Review.reviewed_at))
        .where(Review.outcome_pk == Outcome.id, Review.reviewed_at <= as_of)
        .correlate(Outcome)
        .scalar_subquery()
    )
    return case((Outcome.reviewed_at > as_of, then), else_=Outcome.reviewed_at)


def _conditions(account: Account, flt: OutcomeFilter, as_of: datetime | None = None) -> list:
    conds = [Outcome.account_id == account.id, _in_range(flt.start, flt.end), *_stored_by(as_of)]
    if flt.statuses:
        conds.append(Outcome.status.in_(flt.statuses))
    if flt.verdicts:
        conds.append(_verdict(as_of).in_(flt.verdicts))
    if flt.job_slug:
        conds.append(Job.slug == flt.job_slug)
    if flt.handoff_step:
        conds.append(Outcome.handoff_step == flt.handoff_step)
    text = (flt.search or "").strip()
    if text and (len(text) > MAX_OUTCOME_ID or _UNSTORABLE.search(text)):
        # No stored id is longer, or holds a control character or a surrogate (imports refuse them), so
        # nothing matches; asked as it is, PostgreSQL would refuse a NUL rather than answer.
        conds.append(false())
    elif text:
        conds.append(func.lower(Outcome.outcome_id).contains(text.lower(), autoescape=True))
    return conds


def _order():
    return (func.coalesce(Outcome.completed_at, Outcome.started_at).desc(), Outcome.id.desc())


def _row(outcome: Outcome, job_slug: str, job_name: str, verdict: str | None = None, reviewed_at=None) -> OutcomeRow:
    """The listed row of ``outcome``; ``verdict`` and ``reviewed_at``, when given, those in force at ``as_of``."""
    return OutcomeRow(
        job_slug=job_slug,
        job_name=job_name,
        outcome_id=outcome.outcome_id,
        status=outcome.status,
        verdict=outcome.verdict if verdict is None else verdict,
        started_at=_utc(outcome.started_at),
        completed_at=_utc(outcome.completed_at),
        handoff_step=outcome.handoff_step,
        reviewed_at=_utc(outcome.reviewed_at if verdict is None else reviewed_at),
        steps={s: getattr(outcome, f"step_{s}") for s in STEPS},
        summary=outcome.summary,
        url=outcome.url,
        pk=outcome.id,
    )


def outcome_row(outcome: Outcome, job_slug: str, job_name: str) -> OutcomeRow:
    """The listed row of ``outcome`` as it stands now (its current verdict and review time), times in UTC."""
    return _row(outcome, job_slug, job_name)


def _listed(as_of: datetime | None):
    """What a listing selects: the outcome, its job's slug and name, and its verdict and review time at ``as_of``."""
    return select(Outcome, Job.slug, Job.name, _verdict(as_of), _reviewed_at(as_of)).join(Job, Job.id == Outcome.job_id)


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise OverseerError(f"a page holds 1 to {MAX_PAGE_SIZE} outcomes, asked for {limit}")
    if offset < 0:
        raise OverseerError(f"the page offset must not be negative, got {offset}")


def count_outcomes(session: Session, account: Account, flt: OutcomeFilter, *, as_of: datetime | None = None) -> int:
    """How many outcomes match ``flt``; with ``as_of`` (aware), as they stood then."""
    as_of = None if as_of is None else aware_utc(as_of)
    stmt = (
        select(func.count())
        .select_from(Outcome)
        .join(Job, Job.id == Outcome.job_id)
        .where(*_conditions(account, flt, as_of))
    )
    return int(session.exec(stmt).one())


def list_outcomes(
    session: Session,
    account: Account,
    flt: OutcomeFilter,
    *,
    limit: int = 50,
    offset: int = 0,
    as_of: datetime | None = None,
) -> OutcomePage:
    """One page of the outcomes matching ``flt``, newest first, and how many match in all.

    Parameters
    ----------
    as_of : datetime, optional
        Aware; nothing after it is listed, and verdicts are those in force then
        (see the module's rules). None: every stored row, current verdicts.
    """
    _check_page(limit, offset)
    as_of = None if as_of is None else aware_utc(as_of)
    stmt = _listed(as_of).where(*_conditions(account, flt, as_of)).order_by(*_order()).limit(limit).offset(offset)
    rows = [_row(o, slug, name, verdict, reviewed) for o, slug, name, verdict, reviewed in session.exec(stmt)]
    return OutcomePage(rows=rows, total=count_outcomes(session, account, flt, as_of=as_of), offset=offset, limit=limit)


def iter_outcomes(
    session: Session, account: Account, flt: OutcomeFilter, *, batch: int = 1000, as_of: datetime | None = None
) -> Iterator[OutcomeRow]:
    """Every outcome matching ``flt``, newest first, read from the database in batches (for exports).

    With ``as_of`` (aware), as :func:`list_outcomes` lists them.
    """
    as_of = None if as_of is None else aware_utc(as_of)
    stmt = _listed(as_of).where(*_conditions(account, flt, as_of)).order_by(*_order()).execution_options(yield_per=batch)
    for o, slug, name, verdict, reviewed in session.exec(stmt):
        yield _row(o, slug, name, verdict, reviewed)


def _hash(multiplier: int):
    """SQL: the outcome's place in a fixed pseudo-random order, 0 to 2^32 - 1, the same on every backend."""
    return (Outcome.id * literal(multiplier, BigInteger)) % literal(_HASH_SPACE, BigInteger)


def _second_share(share) -> object:
    """SQL: the outcome falls in the second-review share (a fraction of the hash space)."""
    return _hash(_SECOND_MULTIPLIER) < literal(int(float(share) * _HASH_SPACE), BigInteger)


QUEUE_KINDS: tuple[str, ...] = ("escalated", "failed", "completed", "second")


def sample_plan(
    session: Session, account: Account, start: date, end: date, *, job_slug: str | None = None, as_of: datetime | None = None
) -> SamplePlan:
    """Where the range's accuracy stands against the account's precision target (from the metrics' own counts)."""
    from app.store import metrics
    from app.store.accounts import get_job

    job_id = get_job(session, account, job_slug).id if job_slug else None
    summ = metrics.summary(session, account.id, start, end, job_id=job_id, as_of=as_of)
    return SamplePlan.of(summ.correct, summ.reviewed, summ.completed - summ.reviewed, float(account.target_precision))


def _base(account: Account, start: date, end: date, job_slug: str | None, as_of: datetime | None) -> list:
    conds = [Outcome.account_id == account.id, _in_range(start, end), *_stored_by(as_of)]
    if job_slug:
        conds.append(Job.slug == job_slug)
    return conds


def _sample_ids(account: Account, start: date, end: date, job_slug: str | None, as_of: datetime | None, size: int):
    """SQL: the ids of the completed sample, the first ``size`` unreviewed completed outcomes in hash order."""
    return (
        select(Outcome.id)
        .join(Job, Job.id == Outcome.job_id)
        .where(*_base(account, start, end, job_slug, as_of), Outcome.status == "completed", _verdict(as_of) == "unreviewed")
        .order_by(_hash(_HASH_MULTIPLIER), Outcome.id)
        .limit(max(size, 0))
    )


def _second_condition(account: Account, reviewer: str | None, as_of: datetime | None):
    """SQL: a reviewed completed outcome in the second-review share that waits for a blind second verdict from ``reviewer``."""
    if not reviewer or float(account.second_review_share) <= 0:
        return false()
    made = [Review.outcome_pk == Outcome.id]
    if as_of is not None:
        made.append(Review.reviewed_at <= as_of)
    return and_(
        Outcome.status == "completed",
        _verdict(as_of).in_(("correct", "incorrect")),
        _second_share(account.second_review_share),
        exists().where(*made, Review.source == "app", Review.reviewer != reviewer),
        ~exists().where(*made, or_(Review.blind.is_(True), Review.reviewer == reviewer)),
    )


def _queue_parts(
    session: Session, account: Account, start: date, end: date, job_slug: str | None, as_of: datetime | None,
    reviewer: str | None,
) -> tuple[SamplePlan, dict[str, object]]:
    """The sample plan, and the SQL condition of each part of the queue."""
    plan = sample_plan(session, account, start, end, job_slug=job_slug, as_of=as_of)
    unreviewed = _verdict(as_of) == "unreviewed"
    parts = {
        "escalated": and_(Outcome.status == "escalated", unreviewed),
        "failed": and_(Outcome.status == "failed", unreviewed),
        "completed": Outcome.id.in_(_sample_ids(account, start, end, job_slug, as_of, plan.size)) if plan.size else false(),
        "second": _second_condition(account, reviewer, as_of),
    }
    return plan, parts


def review_queue(
    session: Session,
    account: Account,
    start: date,
    end: date,
    *,
    job_slug: str | None = None,
    kind: str | None = None,
    limit: int = 20,
    offset: int = 0,
    as_of: datetime | None = None,
    reviewer: str | None = None,
) -> OutcomePage:
    """Outcomes waiting for a review in the range: escalated, failed, the completed sample, then second reviews.

    ``kind`` keeps one part of the queue: ``escalated``, ``failed``, ``completed`` (the sample) or
    ``second`` (second reviews). ``reviewer`` is who asks: second reviews are only offered to someone
    who has not reviewed the outcome (none without a reviewer). ``total`` counts the queue as filtered.
    With ``as_of`` (aware), the queue as it stood then: nothing after it, and the verdicts in force then.
    The sample is in hash order, the same for every reviewer; each part newest first otherwise.
    """
    _check_page(limit, offset)
    if kind is not None and kind not in QUEUE_KINDS:
        raise OverseerError(f"unknown part of the review queue {kind!r}; expected one of {', '.join(QUEUE_KINDS)}")
    as_of = None if as_of is None else aware_utc(as_of)
    plan, parts = _queue_parts(session, account, start, end, job_slug, as_of, reviewer)
    chosen = [parts[kind]] if kind is not None else list(parts.values())
    conds = [*_base(account, start, end, job_slug, as_of), or_(*chosen)]
    priority = case(
        (Outcome.status == "escalated", 0), (Outcome.status == "failed", 1),
        (_verdict(as_of) == "unreviewed", 2), else_=3,
    )
    stmt = _listed(as_of).where(*conds).order_by(priority, *_order()).limit(limit).offset(offset)
    rows = [_row(o, slug, name, verdict, reviewed) for o, slug, name, verdict, reviewed in session.exec(stmt)]
    counts = _counts(session, account, start, end, job_slug, as_of, plan, parts)
    total = counts.total if kind is None else getattr(counts, {"completed": "sampled"}.get(kind, kind))
    return OutcomePage(rows=rows, total=total, offset=offset, limit=limit)


def _counts(session, account, start, end, job_slug, as_of, plan: SamplePlan, parts: dict) -> QueueCounts:
    labelled = [func.sum(case((cond, 1), else_=0)).label(name) for name, cond in parts.items()]
    stmt = select(*labelled).select_from(Outcome).join(Job, Job.id == Outcome.job_id).where(
        *_base(account, start, end, job_slug, as_of), or_(*parts.values())
    )
    row = session.exec(stmt).one()
    got = {name: int(value or 0) for name, value in zip(parts, row)}
    return QueueCounts(
        escalated=got["escalated"], failed=got["failed"], sampled=got["completed"], second=got["second"], plan=plan
    )


def queue_counts(
    session: Session,
    account: Account,
    start: date,
    end: date,
    *,
    job_slug: str | None = None,
    as_of: datetime | None = None,
    reviewer: str | None = None,
) -> QueueCounts:
    """How many outcomes wait in the review queue, by kind, with the sample plan; with ``as_of`` (aware), as it stood then."""
    as_of = None if as_of is None else aware_utc(as_of)
    plan, parts = _queue_parts(session, account, start, end, job_slug, as_of, reviewer)
    return _counts(session, account, start, end, job_slug, as_of, plan, parts)


def is_second_review(session: Session, account: Account, outcome: Outcome, reviewer: str | None) -> bool:
    """Whether ``reviewer`` would give ``outcome`` a blind second verdict (it waits in their queue as one)."""
    stmt = select(func.count()).select_from(Outcome).where(Outcome.id == outcome.id, _second_condition(account, reviewer, None))
    return bool(session.exec(stmt).one())


def status_counts(
    session: Session, account: Account, flt: OutcomeFilter, *, as_of: datetime | None = None
) -> dict[str, int]:
    """Matching outcomes by status (every status present, zeros included); with ``as_of`` (aware), as they stood then."""
    as_of = None if as_of is None else aware_utc(as_of)
    stmt = (
        select(Outcome.status, func.count())
        .select_from(Outcome)
        .join(Job, Job.id == Outcome.job_id)
        .where(*_conditions(account, flt, as_of))
        .group_by(Outcome.status)
    )
    found = {status: int(n) for status, n in session.exec(stmt)}
    return {s: found.get(s, 0) for s in STATUSES}
