"""The review queue's claims: who reviews, and which outcome they hold for 5 minutes.

Not cached: claims change with every reviewer's page run. A claim writes, but changes no figure,
so no cache is cleared.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from app.core.db import run_in_transaction
from app.store import claims as claims_store
from app.store.claims import Claim
from app.store.outcomes import OutcomeRow
from app.ui.data.principal import who
from app.ui.data.session import account_in, account_session
from app.ui.data.times import now


def reviewer_name(typed: str | None = None) -> str:
    """Who reviews in this browser session: the signed-in person's address, or in local mode the name typed."""
    principal = who()
    if not principal.local:
        return principal.email
    return (typed or "").strip() or "overseer"


def claim_next(slug: str, start: date, end: date, reviewer: str, *, kind: str | None = None,
               as_of: datetime | None = None, skip: tuple[int, ...] = ()) -> OutcomeRow | None:
    """The outcome of the queue this reviewer works on, claimed for 5 minutes (:func:`app.store.claims.claim_next`)."""

    def work(s: Session) -> OutcomeRow | None:
        return claims_store.claim_next(s, account_in(s, slug), reviewer, start, end, now(), kind=kind, as_of=as_of, skip=skip)

    return run_in_transaction(work)


def live_claims(slug: str) -> dict[int, Claim]:
    """Who holds which outcome of the account's queue now (outcome pk → :class:`app.store.claims.Claim`)."""
    with account_session(slug) as (s, acc):
        return claims_store.live_claims(s, acc, now())


def release_claim(slug: str, outcome_pk: int, reviewer: str) -> None:
    """Give back the reviewer's claim on an outcome (a skipped item)."""
    with account_session(slug, write=True) as (s, _):
        claims_store.release(s, outcome_pk, reviewer)
