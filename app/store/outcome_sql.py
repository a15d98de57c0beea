"""The rules of :mod:`app.domain.outcome_rules` as SQL expressions, one beside each Python twin.

Same names and arguments, columns in place of values; each defaults to the
:class:`~app.models.Outcome` columns and takes others (a rollup's ``status``
and ``verdict``) where a query reads them from elsewhere.
``tests/store/test_outcome_rules.py`` checks on random rows, on SQLite and
PostgreSQL, that every expression here answers as its twin does.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, or_

from app.domain.outcome_rules import COMPLETED, HUMAN, INCORRECT
from app.domain.steps import STEPS, step_column
from app.models import Outcome


def utc_day(column):
    """SQL expression: the UTC date of a time column.

    ``date()`` is the UTC date on both backends: SQLite stores UTC text,
    PostgreSQL sessions run in UTC (:mod:`app.core.db`).
    """
    return func.date(column)


def billable_now(status=None, verdict=None):
    """SQL twin of :func:`app.domain.outcome_rules.billable_now`: completed, current verdict not incorrect.

    Parameters
    ----------
    status, verdict : column, optional
        Default :attr:`Outcome.status` and :attr:`Outcome.verdict`.
    """
    status = Outcome.status if status is None else status
    verdict = Outcome.verdict if verdict is None else verdict
    return and_(status == COMPLETED, verdict != INCORRECT)


def _step_columns() -> list:
    return [getattr(Outcome, step_column(s)) for s in STEPS]


def autonomous(status=None, handoff_step=None, performers: Sequence | None = None):
    """SQL twin of :func:`app.domain.outcome_rules.autonomous`: completed, not handed off, no step by a human.

    Parameters
    ----------
    status, handoff_step : column, optional
        Default :attr:`Outcome.status` and :attr:`Outcome.handoff_step`.
    performers : sequence of columns, optional
        Default the eight ``step_*`` columns of :class:`Outcome`.
    """
    status = Outcome.status if status is None else status
    handoff_step = Outcome.handoff_step if handoff_step is None else handoff_step
    performers = _step_columns() if performers is None else performers
    # A step column is NULL when nobody performed the step; "!= 'human'" alone would drop those rows.
    return and_(
        status == COMPLETED, func.coalesce(handoff_step, "") == "", *(func.coalesce(p, "") != HUMAN for p in performers)
    )


def outcome_day(completed_at=None, started_at=None):
    """SQL twin of :func:`app.domain.outcome_rules.outcome_day`: UTC day of ``completed_at``, else ``started_at``.

    To select a range of days, use :func:`dated_between`, which says the same
    with range tests the indexes can serve.

    Parameters
    ----------
    completed_at, started_at : column, optional
        Default :attr:`Outcome.completed_at` and :attr:`Outcome.started_at`.
    """
    completed_at = Outcome.completed_at if completed_at is None else completed_at
    started_at = Outcome.started_at if started_at is None else started_at
    return utc_day(func.coalesce(completed_at, started_at))


def dated_between(lo, hi):
    """SQL condition: the day of :func:`outcome_day` lies in ``[lo, hi)``, bounds being UTC midnights.

    Written as two range tests rather than ``coalesce(...)`` so that the
    ``(account_id, completed_at)`` and ``(account_id, started_at)`` indexes apply.

    Parameters
    ----------
    lo, hi : datetime
        Aware UTC midnights, ``lo`` the first day's and ``hi`` the day's after the last.
    """
    return or_(
        and_(Outcome.completed_at >= lo, Outcome.completed_at < hi),
        and_(Outcome.completed_at.is_(None), Outcome.started_at >= lo, Outcome.started_at < hi),
    )
