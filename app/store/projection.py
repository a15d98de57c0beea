"""The bill to come for the current month (SPEC "Projection"), read from the database.

The rules are :mod:`app.domain.projection`'s; the counts they need (the pace
window's billable outcomes and tasks, the month so far) are read by
:func:`app.store.billing.project_usage`, which the current month's invoice
uses too, so the invoice's ``projected`` and :func:`project_month` agree.
Counts are read like the invoice's: the daily rollups, made exact at
``as_of`` by the raw rows after it on its day, and the raw rows of the
window's first day on the shorter side of its start.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from app.domain.invoice import Projection
from app.models import Account
from app.store.billing import billing_context, month_usage, project_usage

__all__ = ["project_month", "project_usage"]


def project_month(session: Session, account: Account, *, as_of: datetime) -> Projection:
    """Project the bill of the month containing ``as_of``.

    Parameters
    ----------
    session : Session
    account : Account
    as_of : datetime
        Timezone-aware; the projection uses outcomes up to this moment only.

    Returns
    -------
    Projection
        Expected outcomes and total, the 80% range (``low``, ``high``) and the
        date the free allowance runs out.
    """
    ctx = billing_context(session, account, as_of=as_of)
    return project_usage(ctx, month_usage(ctx, ctx.as_of.year, ctx.as_of.month))
