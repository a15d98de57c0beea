"""Every figure and trend of the Overview page, computed in one call.

The page and the benchmark (``overseer bench``) both use :func:`overview_figures`,
so what is measured is what a customer waits for.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlmodel import Session

from app.domain.alerts import Alert, evaluate_alerts
from app.domain.invoice import Invoice
from app.domain.summary import Summary
from app.domain.trends import rates_by_period
from app.models import Account, Job
from app.store.alerts import recent_quality
from app.store.billing import BillingState, OwnMonthCounts, billing_context, invoice_in, own_month_counts
from app.store.metrics import daily, job_summaries, summary


@dataclass(frozen=True)
class OverviewFigures:
    """This period's results, the allowance, the bill so far with its projection, trends and alerts.

    ``own_month`` is set when the period is one whole calendar month that has
    started by ``as_of``: its billable outcomes are then those of its invoice
    (SPEC "One billable count"), with what later reviews did to them.
    """

    summary: Summary
    daily: pd.DataFrame
    trends: pd.DataFrame
    jobs: list[tuple[Job, Summary]]
    billing: BillingState
    invoice: Invoice
    alerts: list[Alert]
    own_month: OwnMonthCounts | None = None


def overview_figures(session: Session, account: Account, start: date, end: date, *, as_of: datetime) -> OverviewFigures:
    """Compute the Overview page's figures for ``account``.

    Parameters
    ----------
    session : Session
    account : Account
    start, end : date
        The period shown (both days included, UTC).
    as_of : datetime
        Aware UTC "now": the invoice is the one of the month containing it,
        with its projection.

    Returns
    -------
    OverviewFigures
    """
    # One billing context for the allowance, the invoice and its projection: the rollups are read once.
    ctx = billing_context(session, account, as_of=as_of)
    state = ctx.state
    # The current month's invoice carries the projection; the alerts reuse both.
    invoice = invoice_in(ctx, ctx.as_of.year, ctx.as_of.month)
    # Nothing after as_of counts: the range's figures stop at it too (app.store.metrics).
    days = daily(session, account.id, start, end, as_of=ctx.as_of)
    return OverviewFigures(
        summary=summary(session, account.id, start, end, as_of=ctx.as_of),
        daily=days,
        trends=rates_by_period(days),
        jobs=job_summaries(session, account.id, start, end, as_of=ctx.as_of),
        billing=state,
        invoice=invoice,
        own_month=own_month_counts(ctx, start.year, start.month) if whole_month(start, end, ctx.as_of) else None,
        alerts=evaluate_alerts(
            account, state=state, projection=invoice.projected, recent=recent_quality(session, account, as_of=as_of),
            as_of=as_of,
        ),
    )


def whole_month(start: date, end: date, as_of: datetime) -> bool:
    """True when ``[start, end]`` is one whole calendar month that has started by ``as_of``."""
    last = calendar.monthrange(start.year, start.month)[1]
    return start.day == 1 and end == start.replace(day=last) and start <= as_of.date()
