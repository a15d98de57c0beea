"""Cached reads across every account the principal may see: the Portfolio and Trials pages."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from app.domain import rankings
from app.domain.rankings import AccountRank, PortfolioHeadline, StepRank
from app.store import accounts as accounts_store
from app.store import billing, portfolio
from app.ui.data.cache import scoped_cache
from app.ui.data.principal import who
from app.ui.data.session import open_session
from app.ui.data.views import TrialRow


@scoped_cache
def coverage_matrix(start: date, end: date, as_of: datetime | None = None) -> pd.DataFrame:
    with open_session() as s:
        return portfolio.coverage_matrix(s, who(), start, end, as_of=as_of)


@scoped_cache
def top_handoff_steps(start: date, end: date, limit: int = 10, as_of: datetime | None = None) -> pd.DataFrame:
    with open_session() as s:
        return portfolio.top_handoff_steps(s, who(), start, end, limit=limit, as_of=as_of)


@scoped_cache
def job_quality(start: date, end: date, as_of: datetime | None = None) -> pd.DataFrame:
    with open_session() as s:
        return portfolio.job_quality(s, who(), start, end, as_of=as_of)


@scoped_cache
def portfolio_rankings(start: date, end: date, as_of: datetime | None = None) -> tuple[list[StepRank], list[AccountRank]]:
    """Steps by observed AI share across accounts (lowest first) and accounts by handoffs (most first).

    Returns
    -------
    tuple of (list of StepRank, list of AccountRank)
        See :mod:`app.domain.rankings`.
    """
    with open_session() as s:
        rows = portfolio.step_rows(s, who(), start, end, as_of=as_of)
    return rankings.rank_steps_by_ai_share(rows), rankings.rank_accounts_by_handoffs(rows)


@scoped_cache
def trials(as_of: datetime) -> list[TrialRow]:
    """Every account with a free allowance: how far along it is towards the paid plan."""
    rows = []
    with open_session() as s:
        for acc in accounts_store.list_accounts(s, principal=who()):
            sub, spec = accounts_store.get_subscription(s, acc)
            if spec.free_outcomes == 0 and sub.converted_on is None:
                continue
            state = billing.billing_state(s, acc, as_of=as_of)
            rows.append(
                TrialRow(
                    slug=acc.slug,
                    name=acc.name,
                    plan=spec.name,
                    started_on=sub.started_on,
                    free_total=state.free_total,
                    free_used=state.free_used,
                    free_remaining=state.free_remaining,
                    activated_on=state.activated_on,
                    activated_by=state.activated_by,
                )
            )
    return rows


def portfolio_headline(start: date, end: date, as_of: datetime) -> PortfolioHeadline:
    """The Portfolio's tiles (:func:`app.domain.rankings.portfolio_headline`), from the two cached reads above."""
    steps, accounts = portfolio_rankings(start, end, as_of)
    return rankings.portfolio_headline(steps, accounts, [t.activated_by if t.activated_on else None for t in trials(as_of)])
