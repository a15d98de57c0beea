"""Human reviews of outcomes: the latest review wins, every review is kept."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlmodel import Session, select

from app.core.clock import stored_utc
from app.domain.access import Principal
from app.domain.agreement import Agreement
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
    blind: bool = False,
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
    blind : bool, optional
        A second opinion given without seeing the earlier verdict (the queue's
        second reviews): what reviewer agreement is measured on (:func:`agreement`).

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

    review = Review(
        outcome_pk=outcome.id, reviewer=reviewer, reviewed_at=at, verdict=verdict, comment=comment, source=source, blind=blind
    )
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
    blind: bool | None = None,
) -> Review:
    """A person's review in the app: an admin's verdict on one outcome, recorded in the audit trail too.

    The reviewer's claim on the outcome (:mod:`app.store.claims`) is given back in the same transaction.

    Parameters
    ----------
    actor : Principal
        Who reviews: an admin of the account.
    reviewer : str, optional
        The name saved with the review; default the actor's name (with sign-in the
        actor's e-mail address is always what the audit trail records).
    blind : bool, optional
        Whether the reviewer gave it as a blind second review; default: whether the
        outcome waits in their queue as one (:func:`app.store.outcomes.is_second_review`),
        decided on the outcome read for this review.

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
    from app.store import claims
    from app.store.outcomes import is_second_review

    outcome = get_outcome(session, account, job_slug, outcome_id, lock=True)
    before = {"verdict": outcome.verdict}
    name = (reviewer or actor.name or actor.email or "").strip()
    if blind is None:
        blind = is_second_review(session, account, outcome, name)
    review = record_review(session, outcome, verdict, name, comment, at=at, blind=blind)
    after = {"verdict": outcome.verdict, "review": verdict, "reviewer": review.reviewer, "comment": comment}
    if blind:
        after["blind"] = True
    audit.record(
        session, actor, "review", account=account, target=f"{job_slug}/{outcome_id}", at=review.reviewed_at,
        before=before, after=after,
    )
    claims.release(session, outcome.id, review.reviewer)
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




def agreement(
    session: Session, account: Account, start: date, end: date, *, job_id: int | None = None, as_of: datetime | None = None
) -> Agreement:
    """Cohen's kappa between reviewers over the completed outcomes of ``[start, end]`` reviewed by two people.

    A pair is an outcome's blind second review (the first one, made at or before
    ``as_of``) and the earliest review of the outcome by someone else made
    before it: two verdicts given independently. Outcomes are dated as in the
    metrics; with ``as_of`` (aware), nothing after it counts.
    """
    from app.store.billing import aware_utc
    from app.store.outcomes import _in_range, _stored_by

    as_of = None if as_of is None else aware_utc(as_of)
    conds = [Outcome.account_id == account.id, Outcome.status == "completed", _in_range(start, end), *_stored_by(as_of)]
    if job_id is not None:
        conds.append(Outcome.job_id == job_id)
    blind = select(Review.outcome_pk).where(Review.blind.is_(True))
    if as_of is not None:
        blind = blind.where(Review.reviewed_at <= as_of)
    stmt = (
        select(Review.outcome_pk, Review.reviewer, Review.verdict, Review.reviewed_at, Review.blind)
        .join(Outcome, Outcome.id == Review.outcome_pk)
        .where(*conds, Review.outcome_pk.in_(blind))
        .order_by(Review.outcome_pk, Review.reviewed_at, Review.id)
    )
    if as_of is not None:
        stmt = stmt.where(Review.reviewed_at <= as_of)
    history: dict[int, list] = {}
    for pk, who, verdict, _at, is_blind in session.exec(stmt):
        history.setdefault(pk, []).append((who, verdict, bool(is_blind)))
    pairs = []
    for reviews in history.values():
        for i, (who, verdict, is_blind) in enumerate(reviews):
            if not is_blind:
                continue
            first = next((v for w, v, _ in reviews[:i] if w != who), None)
            if first is not None:
                pairs.append((first, verdict))
            break
    return Agreement.of(pairs)
