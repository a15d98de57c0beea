"""Small builders for test data, written straight into the tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select
from sqlmodel import Session

from app.domain.access import Principal
from app.models import Account, Job, Outcome, Review
from app.store.spans import refresh_spans

# Tests that are not about access act as the command line does: every right.
OPERATOR = Principal.operator()

_counter = iter(range(1, 10**9))


def at(text: str) -> datetime:
    """``"2026-11-21T10:00"`` → aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def add_outcomes(session: Session, account: Account, job: Job, completed: list[datetime], **fields) -> None:
    """One completed, autonomous outcome per time in ``completed`` (overridable with ``fields``)."""
    rows = []
    for moment in completed:
        row = {
            "account_id": account.id,
            "job_id": job.id,
            "outcome_id": f"T-{next(_counter)}",
            "started_at": moment - timedelta(minutes=20),
            "completed_at": moment,
            "status": "completed",
            "verdict": "unreviewed",
            "updated_at": moment,
        }
        row.update({f"step_{s}": "ai" for s in ("define", "locate", "prepare", "confirm", "execute", "monitor", "modify", "conclude")})
        row.update(fields)
        rows.append(row)
    if rows:
        session.execute(insert(Outcome), rows)
        record_verdicts(session, account, [r["outcome_id"] for r in rows if r["verdict"] != "unreviewed"])
    session.commit()


def record_verdicts(session: Session, account: Account, outcome_ids: list[str]) -> None:
    """One review per given outcome, saying its stored verdict at its stored ``reviewed_at``, as the app would
    have recorded it (billing reads the review history, not the outcome's latest verdict)."""
    if not outcome_ids:
        return
    session.flush()
    stored = session.execute(
        select(Outcome.id, Outcome.verdict, Outcome.reviewed_at, Outcome.completed_at)
        .where(Outcome.account_id == account.id, Outcome.outcome_id.in_(outcome_ids))
    ).all()
    reviews = [
        {"outcome_pk": pk, "reviewer": "test", "reviewed_at": reviewed_at or completed_at, "verdict": verdict,
         "comment": "", "source": "app"}
        for pk, verdict, reviewed_at, completed_at in stored
    ]
    session.execute(insert(Review), reviews)
    refresh_spans(session.connection(), [r["outcome_pk"] for r in reviews])
