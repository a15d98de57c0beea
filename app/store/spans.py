"""Keeping each outcome's incorrect spans (:mod:`app.domain.verdicts`) in step with its reviews.

Every write that adds reviews calls :func:`refresh_spans` for the outcomes it
reviewed, in its own transaction; :func:`rebuild_spans` recomputes an account's
(or every account's) spans from all reviews, for the demo, ``overseer rollups
rebuild`` and the migration that introduced them. Each span also carries its
outcome's ``completed_at`` (while the outcome is completed), so billing reads an
account's spans alone; a write that changes an outcome's status or completion
time calls :func:`sync_completion`.
"""

from __future__ import annotations

from collections.abc import Collection
from itertools import groupby

from sqlalchemy import case, delete, insert, select, update

from app.domain.outcome_rules import COMPLETED
from app.domain.verdicts import incorrect_spans
from app.models import IncorrectSpan, Outcome, Review

_CHUNK = 500


def _spans_rows(rows) -> list[dict]:
    spans = []
    for (pk, account_id, completed_at), reviews in groupby(rows, key=lambda r: (r[0], r[1], r[2])):
        for span in incorrect_spans((at, verdict) for *_, at, verdict in reviews):
            spans.append({
                "account_id": account_id, "outcome_pk": pk, "started_at": span.start, "ended_at": span.end,
                "completed_at": completed_at,
            })
    return spans


def _completion():
    """SQL: the outcome's ``completed_at`` while it is completed, else NULL (what a span keeps of it)."""
    return case((Outcome.status == COMPLETED, Outcome.completed_at), else_=None)


def _reviews_of(where) -> object:
    return (
        select(Review.outcome_pk, Outcome.account_id, _completion(), Review.reviewed_at, Review.verdict)
        .join(Outcome, Outcome.id == Review.outcome_pk)
        .where(*where)
        .order_by(Review.outcome_pk, Review.reviewed_at, Review.id)
    )


def refresh_spans(conn, outcome_pks: Collection[int]) -> None:
    """Recompute the spans of ``outcome_pks`` from their reviews, on ``conn`` (nothing is committed)."""
    pks = sorted(set(outcome_pks))
    for i in range(0, len(pks), _CHUNK):
        chunk = pks[i : i + _CHUNK]
        conn.execute(delete(IncorrectSpan).where(IncorrectSpan.outcome_pk.in_(chunk)))
        spans = _spans_rows(conn.execute(_reviews_of([Review.outcome_pk.in_(chunk)])))
        if spans:
            conn.execute(insert(IncorrectSpan), spans)


def sync_completion(conn, outcome_pks: Collection[int]) -> None:
    """Copy the status and completion time of ``outcome_pks`` onto their spans, on ``conn`` (nothing is committed).

    For writes that change outcomes without reviewing them (an import moving an
    outcome to completed, or changing its completion time).
    """
    pks = sorted(set(outcome_pks))
    for i in range(0, len(pks), _CHUNK):
        chunk = pks[i : i + _CHUNK]
        completed = select(_completion()).where(Outcome.id == IncorrectSpan.outcome_pk).scalar_subquery()
        conn.execute(update(IncorrectSpan).where(IncorrectSpan.outcome_pk.in_(chunk)).values(completed_at=completed))


def rebuild_spans(conn, account_id: int | None = None) -> None:
    """Recompute the spans of one account (or all) from every review (nothing is committed)."""
    where_span = [] if account_id is None else [IncorrectSpan.account_id == account_id]
    conn.execute(delete(IncorrectSpan).where(*where_span))
    # Only outcomes ever reviewed incorrect can have a span.
    judged = select(Review.outcome_pk).where(Review.verdict == "incorrect")
    where = [Review.outcome_pk.in_(judged)] + ([] if account_id is None else [Outcome.account_id == account_id])
    spans = _spans_rows(conn.execute(_reviews_of(where)))
    for i in range(0, len(spans), 5000):
        conn.execute(insert(IncorrectSpan), spans[i : i + 5000])


__all__ = ["rebuild_spans", "refresh_spans", "sync_completion"]
