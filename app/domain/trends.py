"""Rates over time, from the daily counts the metrics engine aggregates in SQL."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from app.domain.stats import Rate

WEEKLY_ABOVE_DAYS = 14
TREND_COLUMNS = ["period", "completion", "completion_k", "completion_n", "accuracy", "accuracy_k", "accuracy_n", "weekly"]


def rates_by_period(daily: pd.DataFrame) -> pd.DataFrame:
    """Completion rate and accuracy per day, or per week (from Monday) over ranges longer than two weeks.

    A day's rates are too noisy to read over a long range; a week's are not.

    Parameters
    ----------
    daily : DataFrame
        One row per day with ``day``, ``completed``, ``closed``, ``correct``
        and ``incorrect`` counts (:func:`app.store.metrics.daily`).

    Returns
    -------
    DataFrame
        Columns ``period`` (first day), ``completion`` / ``accuracy`` (share,
        NaN without a denominator: no point is drawn), their numerators ``*_k`` and denominators
        ``*_n``, and ``weekly``.
    """
    if daily.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    weekly = len(daily) > WEEKLY_ABOVE_DAYS
    periods = [d - timedelta(days=d.weekday()) for d in daily["day"]] if weekly else list(daily["day"])
    grouped = daily.assign(period=periods).groupby("period", sort=True)[["completed", "closed", "correct", "incorrect"]].sum()
    records = []
    for period, row in grouped.iterrows():
        completion = Rate(int(row["completed"]), int(row["closed"]))
        accuracy = Rate(int(row["correct"]), int(row["correct"]) + int(row["incorrect"]))
        records.append(
            {
                "period": period,
                "completion": completion.value,
                "completion_k": completion.numerator,
                "completion_n": completion.denominator,
                "accuracy": accuracy.value,
                "accuracy_k": accuracy.numerator,
                "accuracy_n": accuracy.denominator,
                "weekly": weekly,
            }
        )
    return pd.DataFrame.from_records(records, columns=TREND_COLUMNS)
