"""Human reviews of outcomes: the latest review wins, every review is kept."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import Session, select

from app.core.clock import stored_utc
from app.domain.access import Principal
from app.domain.errors import NotFound, OverseerError
from app.domain.storable import check_storable
from app.models import Account, Outcome, Review, utcnow
from app.store import audit
from app.store.accounts import get_job
from app.store.spans import refresh_spans

REVIEW_VERDICTS: tuple[str, ...] = ("correct", "incorrect")
REVIEW_SOURCES: tuple[str, ...] = ("app", "import")
MAX_COMMENT = 5000
MAX_REVIEWER = 200


def record_review(
    session: Session,
    outcome: Outcome,
    verdict: str,
    reviewer: str,
    comment: str = "",
    *,
    at: datetime | None = None,
    source: str = "app",
) -> Review:
    """Record a review of ``outcome``.

    The outcome's ``verdict`` and ``reviewed_at`` follow the review only when
    it is the latest one (``at`` not before the stored ``reviewed_at``), so a
    back-dated review joins the audit trail without overriding a newer verdict.
    Nothing is committed: the caller owns the transaction, which also holds the
    rollup change (:mod:`app.store.rollups`) applied when the new verdict is flushed.

    Where others may write at the same time, ``outcome`` must have been read
    with ``get_outcome(..., lock=True)`` in the same transaction, as
    :func:`review_outcome` does: decided on a row read before a concurrent
    review committed, the outcome could keep that review's verdict under this
    one's time.

    Parameters
    ----------
    session : Session
    outcome : Outcome
        A stored outcome that is closed (completed, escalated or failed).
    verdict : {"correct", "incorrect"}
    reviewer : str
        Who reviewed it; not empty, at most 200 characters.
    comment : str, optional
        At most 5000 characters.
    at : datetime, optional
        When the review was made (aware; converted to UTC). Default: now.
    source : {"app", "import"}, optional
        Where the verdict came from: a person in Overseer, or an imported file.

    Returns
    -------
    Review
        The new review, flushed (so with an id).

    Raises
    ------
    OverseerError
        Unknown verdict, an open outcome, an empty or over-long reviewer,
        an over-long comment, or a naive ``at``.
    """
    if source not in REVIEW_SOURCES:
        raise OverseerError(f"review source {source!r} is not one of {', '.join(REVIEW_SOURCES)}")
    if verdict not in REVIEW_VERDICTS:
        raise OverseerError(f"verdict {verdict!r} is not one of {', '.join(REVIEW_VERDICTS)}")
    if outcome.status == "open":
        raise OverseerError(f"outcome {outcome.outcome_id!r} is still open; only closed outcomes can be reviewed")
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise OverseerError("a review needs a reviewer")
    if len(reviewer) > MAX_REVIEWER:
        raise OverseerError(f"reviewer has {len(reviewer)} characters; at most {MAX_REVIEWER} are allowed")
    check_storable(reviewer, "the reviewer")
    comment = comment or ""
    if len(comment) > MAX_COMMENT:
        raise OverseerError(f"comment has {len(comment)} characters; at most {MAX_COMMENT} are allowed")
    check_storable(comment, "the comment", lines=True)
    if at is None:
        at = utcnow()
    elif at.utcoffset() is None:
        raise OverseerError("a review time must carry a time zone (UTC)")
    else:
        at = at.astimezone(timezone.utc)
    if outcome.id is None:
        session.add(outcome)
        session.flush()

    review = Review(outcome_pk=outcome.id, reviewer=reviewer, reviewed_at=at, verdict=verdict, comment=comment, source=source)
    session.add(review)
    # ">=": two reviews at the same instant resolve to the one recorded last.
    if outcome.reviewed_at is None or at >= outcome.reviewed_at:
        outcome.verdict = verdict
        outcome.reviewed_at = at
        outcome.updated_at = utcnow()
        session.add(outcome)
    session.flush()
    refresh_spans(session.connection(), [outcome.id])
    return review


def review_outcome(
    session: Session,
    actor: Principal,
    account: Account,
    job_slug: str,
    outcome_id: str,
    verdict: str,
    *,
    reviewer: str | None = None,
    comment: str = "",
    at: datetime | None = None,
) -> Review:
    """A person's review in the app: an admin's verdict on one outcome, recorded in the audit trail too.

    Parameters
    ----------
    actor : Principal
        Who reviews: an admin of the account.
    reviewer : str, optional
        The name saved with the review; default the actor's name (with sign-in the
        actor's e-mail address is always what the audit trail records).

    Raises
    ------
    Forbidden
        ``actor`` is a viewer.
    NotFound
        No such job or outcome in the account.
    OverseerError
        As :func:`record_review`. Nothing is changed.
    """
    actor.require_admin(account.id, "review outcomes")
    outcome = get_outcome(session, account, job_slug, outcome_id, lock=True)
    before = {"verdict": outcome.verdict}
    review = record_review(session, outcome, verdict, reviewer or actor.name or actor.email, comment, at=at)
    audit.record(
        session, actor, "review", account=account, target=f"{job_slug}/{outcome_id}", at=review.reviewed_at,
        before=before, after={"verdict": outcome.verdict, "review": verdict, "reviewer": review.reviewer, "comment": comment},
    )
    return review


def get_outcome(session: Session, account: Account, job_slug: str, outcome_id: str, *, lock: bool = False) -> Outcome:
    """The outcome ``outcome_id`` of the account's job ``job_slug``.

    ``lock`` reads it ``FOR UPDATE`` (PostgreSQL), so a review decides "the latest wins" on a value no
    concurrent review or import can change before the commit.

    Raises
    ------
    NotFound
        No such job in the account, or no such outcome in the job.
    """
    job = get_job(session, account, job_slug)
    query = select(Outcome).where(Outcome.job_id == job.id, Outcome.outcome_id == outcome_id)
    if lock:
        query = query.with_for_update()
    outcome = session.exec(query).first()
    if outcome is None:
        raise NotFound(f"job {job_slug!r} of account {account.slug!r} has no outcome {outcome_id!r}")
    return outcome


def review_history(session: Session, outcome: Outcome) -> list[Review]:
    """Every review of ``outcome``, newest first (ties: the one recorded last first)."""
    stmt = select(Review).where(Review.outcome_pk == outcome.id).order_by(Review.reviewed_at.desc(), Review.id.desc())
    return list(session.exec(stmt))


def last_imported_reviews(session: Session, outcome_pks: list[int]) -> dict[int, tuple[str, datetime]]:
    """For each outcome, ``(verdict, reviewed_at)`` of its latest imported review (outcomes with none are absent)."""
    if not outcome_pks:
        return {}
    stmt = (
        select(Review.outcome_pk, Review.verdict, Review.reviewed_at)
        .where(Review.outcome_pk.in_(outcome_pks), Review.source == "import")
        .order_by(Review.outcome_pk, Review.reviewed_at, Review.id)
    )
    # Rows come oldest first per outcome, so the last assignment wins.
    return {pk: (verdict, stored_utc(at)) for pk, verdict, at in session.exec(stmt)}


