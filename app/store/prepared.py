"""Statements built once and run many times: what an evaluation of an account's figures is made of.

Building a SQLAlchemy statement (its expressions, then its cache key) costs more
in Python than SQLite takes to answer most of the small aggregate queries
billing and the metrics run, and the ORM's result handling adds as much again.
The queries an alert evaluation runs (:func:`app.store.alerts.alert_inputs`)
are therefore built once, with their values as named bound parameters
(:func:`params`, usually inside a function memoised by the statement's shape),
and the column reads among them go straight to the session's connection
(:func:`rows`), after the same autoflush the ORM would do. The SQL sent is the
same as before, so are the results, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.engine import Result
from sqlmodel import Session

__all__ = ["params", "rows"]


def params(*names: str) -> list:
    """Bound parameters called ``names``; their values are given when the statement runs."""
    return [bindparam(name) for name in names]


def rows(session: Session, stmt, **values) -> Result:
    """Run a column query built once (no ORM entities) with ``values`` for its bound parameters.

    Pending changes are flushed first, as :meth:`Session.execute` does for an ORM
    query (unless autoflush is off), so the figures include them.
    """
    if session.autoflush:
        session.flush()
    return session.connection().execute(stmt, values)
