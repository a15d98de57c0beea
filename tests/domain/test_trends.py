from datetime import date, timedelta

import pandas as pd

from app.domain.trends import rates_by_period


def frame(days, completed, closed, correct, incorrect, start=date(2026, 11, 2)):
    return pd.DataFrame(
        {
            "day": [start + timedelta(days=i) for i in range(days)],
            "completed": completed, "closed": closed, "correct": correct, "incorrect": incorrect,
        }
    )


def test_daily_periods_with_undefined_rates():
    out = rates_by_period(frame(3, [8, 0, 1], [10, 0, 1], [3, 0, 0], [1, 0, 0]))
    assert list(out["period"]) == [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]
    # A period with no denominator has no point (NaN in the frame, a gap in the chart).
    assert out["completion"][0] == 0.8 and pd.isna(out["completion"][1]) and out["completion"][2] == 1.0
    assert out["accuracy"][0] == 0.75 and out["accuracy"][1:].isna().all()
    assert not out["weekly"].any()


def test_long_ranges_group_by_week_from_monday():
    days = 21  # 2026-11-02 is a Monday: three whole weeks
    out = rates_by_period(frame(days, [1] * days, [2] * days, [1] * days, [0] * days))
    assert list(out["period"]) == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    assert out["completion_n"].tolist() == [14, 14, 14] and out["completion"].tolist() == [0.5] * 3
    assert out["weekly"].all()


def test_empty():
    assert rates_by_period(frame(0, [], [], [], [])).empty
