"""What an outcome *is*, on plain values: billable now, autonomous, and its day.

Each rule is written once here, in Python, and once as SQL beside it in
:mod:`app.store.outcome_sql` (same names, same arguments as columns);
``tests/store/test_outcome_rules.py`` checks on random rows, on SQLite and
PostgreSQL, that the two agree. Every metric, rollup, import delta, value
figure and demo check uses these, so a rule changes in one place.

- :func:`billable_now` — status ``completed`` and the *current* verdict not
  ``incorrect``: what the pages count as billable. It is not what an invoice
  bills: billing follows the review history, the verdict in force at each
  moment (:mod:`app.domain.verdicts`, :mod:`app.store.billing`).
- :func:`autonomous` — completed with no step performed by a human (the
  autonomous rate's numerator).
- :func:`outcome_day` — the UTC day of ``completed_at``, or of
  ``started_at`` while the outcome is open: the day every metric, rollup and
  listing files it under.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timezone

COMPLETED = "completed"
INCORRECT = "incorrect"
HUMAN = "human"


def billable_now(status: str, verdict: str) -> bool:
    """Whether an outcome counts as billable on the pages, by its current verdict.

    Parameters
    ----------
    status : str
        ``open``, ``completed``, ``escalated`` or ``failed``.
    verdict : str
        The current (latest) verdict: ``correct``, ``incorrect`` or ``unreviewed``.

    Returns
    -------
    bool
        Completed and not reviewed ``incorrect``. Invoices do not use this:
        they bill by the verdict in force at each moment (:mod:`app.domain.verdicts`).
    """
    return status == COMPLETED and verdict != INCORRECT


def autonomous(status: str, handoff_step: str | None, performers: Iterable[str | None]) -> bool:
    """Whether an outcome was delivered by the AI alone (SPEC "autonomous rate").

    Parameters
    ----------
    status : str
        The outcome's status.
    handoff_step : str or None
        The step where a person took over, if one did.
    performers : iterable of str or None
        Who performed each step (``"ai"``, ``"human"``, or None when nobody did).

    Returns
    -------
    bool
        Completed, not handed off, and no step performed by a human.
    """
    return status == COMPLETED and not handoff_step and HUMAN not in performers


def outcome_day(completed_at: datetime | None, started_at: datetime) -> date:
    """The UTC day an outcome belongs to: of ``completed_at``, or of ``started_at`` while open.

    Parameters
    ----------
    completed_at : datetime or None
        None while the outcome is open. A naive time is taken as UTC, as stored.
    started_at : datetime

    Returns
    -------
    date
    """
    moment = started_at if completed_at is None else completed_at
    # Stored times are UTC already (aware or naive); only another offset needs converting.
    if moment.tzinfo is not None and moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    return moment.date()
