"""Alerts of an account at a moment: the figures read here, the rules in :mod:`app.domain.alerts`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.domain.alerts import QUALITY_WINDOW_DAYS, Alert, evaluate_alerts
from app.domain.summary import Summary
from app.models import Account
from app.store.billing import billing_context, month_usage
from app.store.metrics import summary
from app.store.projection import project_usage

__all__ = ["alert_inputs", "alerts_for", "recent_quality"]


def alerts_for(session: Session, account: Account, *, as_of: datetime) -> list[Alert]:
    """Every alert that holds for ``account`` at ``as_of``, most urgent first.

    Parameters
    ----------
    session : Session
    account : Account
    as_of : datetime
        Aware UTC time the alerts are evaluated at.

    Returns
    -------
    list of Alert
        Critical before warning; within a severity, budget, allowance, accuracy, completion.
    """
    return evaluate_alerts(account, **alert_inputs(session, account, as_of=as_of))


def alert_inputs(session: Session, account: Account, *, as_of: datetime) -> dict:
    """The figures the alerts judge, as keyword arguments of :func:`app.domain.alerts.evaluate_alerts`.

    Shared with the alert states (:mod:`app.store.alert_states`), so a state and the page's alert
    list are computed from the same figures.
    """
    ctx = billing_context(session, account, as_of=as_of)
    return {
        "state": ctx.state,
        "projection": project_usage(ctx, month_usage(ctx, ctx.as_of.year, ctx.as_of.month)),
        "recent": recent_quality(session, account, as_of=as_of),
        "as_of": as_of,
    }


def recent_quality(session: Session, account: Account, *, as_of: datetime) -> Summary:
    """The summary of the last ``QUALITY_WINDOW_DAYS`` days up to ``as_of``, which quality alerts judge."""
    end = as_of.date()
    return summary(session, account.id, end - timedelta(days=QUALITY_WINDOW_DAYS - 1), end, as_of=as_of)
