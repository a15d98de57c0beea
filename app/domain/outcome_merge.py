"""The merge rule: what a valid imported row does to the outcome already stored under its key.

Pure functions, shared by the file import (:mod:`app.store.ingest`), its preview on the
Import page (a dry run of the same import) and the API's ``POST /api/v1/outcomes``
(:mod:`app.api`), so an outcome reaches the same state whichever way it came.

Rules (SPEC "Data in", "Billing over time"):

- an import never reopens a closed outcome (the row is refused);
- it never clears a stored review, and never forgets a step it was not told about
  (a step or ``handoff_step`` the row does not mention keeps its stored value);
- a verdict becomes a review only when the source says something new (another
  verdict, or the same one at another time), and then only when it changes the
  verdict in force or the source changed its mind;
- a verdict new to Overseer counts from ``reviewed_at``, else from ``completed_at``
  for an outcome new to Overseer or one that was open (a backlog never turns into
  credits), else from the moment of the import;
- the stored verdict follows the latest review only (as a review made on the page).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import NamedTuple

from app.domain.ingest_rows import OutcomeRecord, RowError
from app.domain.steps import CLOSED_STATUSES, STEPS, step_column

STEP_COLUMNS: tuple[str, ...] = tuple(step_column(s) for s in STEPS)
#: An outcome's values as the rollups count them, in this order.
ROW: tuple[str, ...] = ("started_at", "completed_at", "status", "verdict", "reviewed_at", "handoff_step", *STEP_COLUMNS)
#: What a reviewer judges by (SPEC "Data in"): a row that leaves them empty keeps the stored ones.
JUDGE_BY: tuple[str, ...] = ("summary", "url")
#: An outcome's values as an import handles them: what it may change, in this order.
MUTABLE: tuple[str, ...] = (*ROW, *JUDGE_BY)
_NOBODY = (None,) * len(STEPS)


class Merge(NamedTuple):
    """What a row changes in a stored outcome.

    Attributes
    ----------
    values : dict or None
        The outcome's values after the merge (every column of :data:`MUTABLE`), or
        None when the stored row stays as it is (a review alone may still be due).
    review : tuple of (str, datetime) or None
        ``(verdict, reviewed_at)`` of the review to record, if any.
    """

    values: dict | None
    review: tuple[str, datetime] | None


def new_outcome(rec: OutcomeRecord) -> tuple[tuple, datetime | None]:
    """The values (in :data:`MUTABLE` order) of an outcome new to Overseer, and the time of its verdict.

    New to Overseer, its verdict was known when it was: from ``reviewed_at`` if the row
    gives one, else from ``completed_at``. The time is None when the row has no verdict.
    """
    steps = rec.steps
    performers = tuple(map(steps.get, STEPS)) if steps else _NOBODY
    verdict = rec.verdict
    at = (rec.reviewed_at or rec.completed_at) if verdict else None
    values = (rec.started_at, rec.completed_at, rec.status, verdict or "unreviewed", at, rec.handoff_step, *performers)
    return (*values, rec.summary, rec.url), at


def merge(
    stored: Mapping[str, object],
    rec: OutcomeRecord,
    last_imported: tuple[str | None, datetime | None],
    now: datetime,
) -> Merge | RowError | None:
    """Decide what ``rec`` does to the stored outcome ``stored``.

    Parameters
    ----------
    stored : mapping
        The stored outcome's values, at least every column of :data:`MUTABLE`.
    rec : OutcomeRecord
        A valid row for the same key.
    last_imported : tuple
        ``(verdict, reviewed_at)`` of the outcome's latest imported review,
        ``(None, None)`` if none: a file repeats its source's verdict on every
        re-import, and only a verdict the source changed may override a
        person's later review in Overseer.
    now : datetime
        The moment of the import (a changed verdict without ``reviewed_at`` counts from it).

    Returns
    -------
    Merge, RowError or None
        None when nothing changes; a :class:`RowError` when the row is refused
        (it would reopen a closed outcome).
    """
    if stored["status"] in CLOSED_STATUSES and rec.status not in CLOSED_STATUSES:
        return RowError(
            rec.line,
            "status",
            f"outcome {rec.outcome_id!r} is already {stored['status']}; an import cannot reopen a closed outcome",
        )
    wanted = {"started_at": rec.started_at, "completed_at": rec.completed_at, "status": rec.status}
    if rec.handoff_given:
        wanted["handoff_step"] = rec.handoff_step
    for step, performer in rec.steps.items():
        wanted[step_column(step)] = performer
    # An empty summary or url keeps the stored one: nothing stored is lost by an import.
    for column in JUDGE_BY:
        if getattr(rec, column) is not None:
            wanted[column] = getattr(rec, column)
    changed = any(stored[col] != value for col, value in wanted.items())
    last_verdict, last_at = last_imported
    wants_review = (
        rec.verdict is not None
        # The source said something new: another verdict, or the same one at another time.
        and (rec.verdict != last_verdict or (rec.reviewed_at is not None and rec.reviewed_at != last_at))
        # Recorded when it changes the verdict, or when the source changed its mind
        # (remembered even if a person already said the same).
        and (rec.verdict != stored["verdict"] or last_verdict is not None)
    )
    if not changed and not wants_review:
        return None
    review = None
    if wants_review:
        # An outcome that was open had no verdict to change: its verdict was known when it
        # closed. A stored verdict the file changes counts from now (SPEC "Data in").
        at = rec.reviewed_at or (rec.completed_at if stored["status"] not in CLOSED_STATUSES else now)
        review = (rec.verdict, at)
        # As record_review: the verdict follows the latest review only.
        if stored["reviewed_at"] is None or at >= stored["reviewed_at"]:
            wanted["verdict"] = rec.verdict
            wanted["reviewed_at"] = at
            changed = True
    if not changed:
        return Merge(None, review)
    merged = {col: stored[col] for col in MUTABLE}
    merged.update(wanted)
    return Merge(merged, review)

