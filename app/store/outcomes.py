"""Outcome listings for the dashboard: filtered and paginated in SQL, the review queue, counts.

Rules chosen where SPEC is silent:

- an outcome belongs to a date range by its ``completed_at``, or its
  ``started_at`` while it is open (the same rule as the metrics:
  :func:`app.domain.outcome_rules.outcome_day`);
- listings are newest first (by that date, then by arrival);
- the review queue holds the exceptions that nobody has reviewed yet —
  escalated and failed outcomes — followed by a deterministic sample of
  unreviewed completed outcomes: those whose id falls in the first
  ``SAMPLE_PERCENT`` buckets of a multiplicative hash. The sample is the same
  on every page load and on every backend, and an outcome leaves the queue as
  soon as it is reviewed;
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

from app.domain.errors import OverseerError
from app.domain.ingest_rows import MAX_OUTCOME_ID
from app.domain.ingest_rows import UNSTORABLE as _UNSTORABLE
from app.domain.steps import STATUSES, STEPS, VERDICTS
from app.domain.outcome_rules import outcome_day
from app.models import Account, Job, Outcome, Review
from app.store.billing import aware_utc
from app.store.outcome_sql import dated_between

SAMPLE_PERCENT = 10
MAX_PAGE_SIZE = 500
_HASH_MULTIPLIER = 2654435761  # Knuth's multiplicative hash: spreads consecutive ids over the buckets


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
class QueueCounts:
    escalated: int
    failed: int
    sampled: int

    @property
    def total(self) -> int:
        return self.escalated + self.failed + self.sampled


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
    )


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


def _sampled():
    return (Outcome.id * literal(_HASH_MULTIPLIER)) % 100 < SAMPLE_PERCENT


def _queue_condition(as_of: datetime | None = None):
    return and_(
        _verdict(as_of) == "unreviewed",
        or_(
            Outcome.status.in_(("escalated", "failed")),
            and_(Outcome.status == "completed", _sampled()),
        ),
    )


QUEUE_KINDS: tuple[str, ...] = ("escalated", "failed", "completed")


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
) -> OutcomePage:
    """Outcomes waiting for a review in the range: escalated and failed first, then the sample of completed.

    ``kind`` keeps one part of the queue: ``escalated``, ``failed`` or ``completed`` (the sample).
    ``total`` counts the queue as filtered. With ``as_of`` (aware), the queue as it stood then:
    nothing after it, and the verdicts in force then.
    """
    _check_page(limit, offset)
    if kind is not None and kind not in QUEUE_KINDS:
        raise OverseerError(f"unknown part of the review queue {kind!r}; expected one of {', '.join(QUEUE_KINDS)}")
    as_of = None if as_of is None else aware_utc(as_of)
    conds = [Outcome.account_id == account.id, _in_range(start, end), *_stored_by(as_of), _queue_condition(as_of)]
    if job_slug:
        conds.append(Job.slug == job_slug)
    if kind is not None:
        conds.append(Outcome.status == kind)
    priority = case((Outcome.status == "escalated", 0), (Outcome.status == "failed", 1), else_=2)
    stmt = _listed(as_of).where(*conds).order_by(priority, *_order()).limit(limit).offset(offset)
    rows = [_row(o, slug, name, verdict, reviewed) for o, slug, name, verdict, reviewed in session.exec(stmt)]
    counts = queue_counts(session, account, start, end, job_slug=job_slug, as_of=as_of)
    total = counts.total if kind is None else getattr(counts, "sampled" if kind == "completed" else kind)
    return OutcomePage(rows=rows, total=total, offset=offset, limit=limit)


def queue_counts(
    session: Session,
    account: Account,
    start: date,
    end: date,
    *,
    job_slug: str | None = None,
    as_of: datetime | None = None,
) -> QueueCounts:
    """How many outcomes wait in the review queue, by kind; with ``as_of`` (aware), as it stood then."""
    as_of = None if as_of is None else aware_utc(as_of)
    conds = [Outcome.account_id == account.id, _in_range(start, end), *_stored_by(as_of), _queue_condition(as_of)]
    if job_slug:
        conds.append(Job.slug == job_slug)
    stmt = (
        select(Outcome.status, func.count())
        .select_from(Outcome)
        .join(Job, Job.id == Outcome.job_id)
        .where(*conds)
        .group_by(Outcome.status)
    )
    by_status = {status: int(n) for status, n in session.exec(stmt)}
    return QueueCounts(
        escalated=by_status.get("escalated", 0),
        failed=by_status.get("failed", 0),
        sampled=by_status.get("completed", 0),
    )


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
