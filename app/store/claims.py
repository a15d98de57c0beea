"""Claims: an outcome opened from the review queue is taken for the other reviewers for 5 minutes (SPEC "Reviews").

A claim is one row of ``review_claim`` per outcome (unique ``outcome_pk``),
written by one atomic ``INSERT … ON CONFLICT (outcome_pk) DO UPDATE … WHERE``
that takes the row only when it is free, expired, or already the reviewer's
own: of two reviewers asking for the same outcome at once, exactly one gets
it, on SQLite (one writer at a time) and on PostgreSQL (the second insert
waits on the unique index for the first to commit, then finds it taken).
:func:`claim_next` walks the queue in order and takes the first outcome it
can, so two reviewers opening the queue at once never get the same item.

Claims change no figure: they are written through the session's connection,
which the data-version hooks (:mod:`app.core.data_version`) do not count, so
opening an item clears no cache anywhere; the pages read claims afresh on
every run instead of caching them. A review releases the
reviewer's claim (:func:`release`, in the review's own transaction).
Times come from :func:`app.core.clock.now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.core.clock import stored_utc
from app.domain.errors import OverseerError
from app.models import Account, ReviewClaim
from app.store.outcomes import OutcomeRow, review_queue

CLAIM_MINUTES = 5
_TABLE = ReviewClaim.__table__
# How far down the queue one call looks for an outcome nobody holds.
_LOOK_AHEAD = 50


@dataclass(frozen=True)
class Claim:
    """Who holds an outcome of the queue, and until when (aware UTC)."""

    outcome_pk: int
    reviewer: str
    expires_at: datetime


def _check_reviewer(reviewer: str) -> str:
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise OverseerError("a claim needs a reviewer")
    return reviewer


def try_claim(session: Session, account: Account, outcome_pk: int, reviewer: str, now: datetime) -> bool:
    """Take ``outcome_pk`` for ``reviewer`` until ``now`` + 5 minutes, unless someone else holds it; whether it was taken.

    Atomic on both backends (see the module). Nothing is committed.
    """
    reviewer = _check_reviewer(reviewer)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = {
        "account_id": account.id, "outcome_pk": outcome_pk, "reviewer": reviewer,
        "claimed_at": now, "expires_at": now + timedelta(minutes=CLAIM_MINUTES),
    }
    stmt = insert(_TABLE).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.outcome_pk],
        set_={k: stmt.excluded[k] for k in ("account_id", "reviewer", "claimed_at", "expires_at")},
        where=or_(_TABLE.c.expires_at <= now, _TABLE.c.reviewer == reviewer),
    )
    # RETURNING, not rowcount: drivers disagree on the rowcount of an upsert (psycopg reports -1).
    return session.connection().execute(stmt.returning(_TABLE.c.outcome_pk)).first() is not None


def release(session: Session, outcome_pk: int, reviewer: str) -> None:
    """Give back ``reviewer``'s claim on ``outcome_pk``, if they hold it. Nothing is committed."""
    session.connection().execute(delete(_TABLE).where(_TABLE.c.outcome_pk == outcome_pk, _TABLE.c.reviewer == reviewer))


def live_claims(session: Session, account: Account, now: datetime) -> dict[int, Claim]:
    """Every claim of the account not expired at ``now``, by outcome."""
    rows = session.connection().execute(
        select(_TABLE.c.outcome_pk, _TABLE.c.reviewer, _TABLE.c.expires_at).where(
            _TABLE.c.account_id == account.id, _TABLE.c.expires_at > now
        )
    )
    return {pk: Claim(pk, who, stored_utc(until)) for pk, who, until in rows}


def claim_next(
    session: Session,
    account: Account,
    reviewer: str,
    start: date,
    end: date,
    now: datetime,
    *,
    kind: str | None = None,
    job_slug: str | None = None,
    as_of: datetime | None = None,
    skip: tuple[int, ...] = (),
) -> OutcomeRow | None:
    """The outcome of the queue ``reviewer`` works on now, claimed for them; None when nothing is left for them.

    The first outcome of the queue (:func:`app.store.outcomes.review_queue`, as
    ``reviewer`` sees it) that they already hold, else the first one nobody
    else holds, which is claimed; their other claims in the account are given
    back. ``skip`` lists outcomes (by ``pk``) to pass over. Call it in a writing
    transaction (:func:`app.core.db.run_in_transaction`); nothing is committed.
    """
    reviewer = _check_reviewer(reviewer)
    page = review_queue(
        session, account, start, end, job_slug=job_slug, kind=kind, limit=_LOOK_AHEAD, as_of=as_of, reviewer=reviewer
    )
    held = live_claims(session, account, now)
    rows = [r for r in page.rows if r.pk not in skip]
    for row in rows:
        claim = held.get(row.pk)
        if claim is not None and claim.reviewer == reviewer:
            return row
    for row in rows:
        claim = held.get(row.pk)
        if claim is not None and claim.reviewer != reviewer:
            continue
        if try_claim(session, account, row.pk, reviewer, now):
            mine = [pk for pk, c in held.items() if c.reviewer == reviewer and pk != row.pk]
            if mine:
                session.connection().execute(
                    delete(_TABLE).where(_TABLE.c.outcome_pk.in_(mine), _TABLE.c.reviewer == reviewer)
                )
            return row
    return None


__all__ = ["CLAIM_MINUTES", "Claim", "claim_next", "live_claims", "release", "try_claim"]
