"""Small builders for test data, written straight into the tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert
from sqlmodel import Session

from app.domain.access import Principal
from app.models import Account, Job, Outcome

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
    session.commit()
