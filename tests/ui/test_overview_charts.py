"""The Overview's Vega-Lite charts (app/ui/overview_charts.py): what each draws, from the figures it is given."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.ui import charts, data, overview_charts, theme
from tests.ui.conftest import make_app, no_errors

STATUSES = ["Completed", "Escalated", "Failed", "Open"]


def _daily(first: date, counts: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"day": first + timedelta(days=i), "completed": c, "escalated": e, "failed": f, "open": o}
            for i, (c, e, f, o) in enumerate(counts)
        ]
    )


def _rows(spec: dict) -> list[dict]:
    """The rows of a single-view chart's inline data (Altair puts them in the spec's datasets)."""
    return spec["datasets"][spec["data"]["name"]]


def _tick_days(axis: dict) -> list[tuple[date, int]]:
    return [(date(t["year"], t["month"], t["date"]), t["hours"]) for t in axis["values"]]


def test_daily_outcomes_draws_every_status_of_every_day():
    frame = _daily(date(2026, 11, 1), [(8, 0, 0, 0), (34, 2, 1, 0), (0, 0, 0, 5)])
    spec = overview_charts.daily_outcomes(frame).to_dict()  # to_dict() checks the spec against Vega-Lite's schema
    rows = _rows(spec)
    assert len(rows) == 3 * 4
    by = {(r["day"], r["status"]): r["outcomes"] for r in rows}
    assert by[("2026-11-02", "Completed")] == 34 and by[("2026-11-02", "Escalated")] == 2
    assert by[("2026-11-02", "Failed")] == 1 and by[("2026-11-03", "Open")] == 5
    assert sum(r["outcomes"] for r in rows) == int(frame[["completed", "escalated", "failed", "open"]].sum().sum())
    assert {r["day_label"] for r in rows} == {"1 Nov 2026", "2 Nov 2026", "3 Nov 2026"}
    assert spec["title"]["text"] == "Outcomes per day, by status"


def test_daily_outcomes_stacks_completed_first_in_the_legend_order_and_colours():
    spec = overview_charts.daily_outcomes(_daily(date(2026, 11, 1), [(1, 1, 1, 1)])).to_dict()
    enc = spec["encoding"]
    assert enc["color"]["scale"]["domain"] == STATUSES
    assert enc["color"]["scale"]["range"] == [theme.STATUS_COLORS[s.lower()] for s in STATUSES]
    assert enc["y"]["stack"] == "zero" and enc["order"] == {"field": "order", "sort": "ascending", "type": "quantitative"}
    order = {r["status"]: r["order"] for r in _rows(spec)}
    assert sorted(order, key=order.get) == STATUSES  # completed at the bottom of each bar
    assert [t["title"] for t in enc["tooltip"]] == ["Day", "Status", "Outcomes"]


def test_daily_outcomes_days_are_utc():
    # A browser's time zone must not move a bar to the day before: the scale and the time unit are UTC.
    x = overview_charts.daily_outcomes(_daily(date(2026, 11, 1), [(1, 0, 0, 0)] * 3)).to_dict()["encoding"]["x"]
    assert x["scale"]["type"] == "utc" and x["timeUnit"] == "utcyearmonthdate"
    assert all(t["utc"] for t in x["axis"]["values"])


def test_a_short_range_has_a_tick_under_each_day_and_one_day_has_room_around_it():
    x = overview_charts.daily_outcomes(_daily(date(2026, 11, 19), [(3, 1, 0, 0)] * 4)).to_dict()["encoding"]["x"]
    assert _tick_days(x["axis"]) == [(date(2026, 11, 19 + i), 12) for i in range(4)]  # noon: the middle of its bar
    one = overview_charts.daily_outcomes(_daily(date(2026, 11, 19), [(3, 1, 0, 0)])).to_dict()["encoding"]["x"]
    assert _tick_days(one["axis"]) == [(date(2026, 11, 19), 12)]
    low, high = one["scale"]["domain"]
    assert (date(low["year"], low["month"], low["date"]), date(high["year"], high["month"], high["date"])) == (
        date(2026, 11, 18), date(2026, 11, 21))


def test_a_month_has_a_tick_a_week():
    x = overview_charts.daily_outcomes(_daily(date(2026, 11, 1), [(1, 0, 0, 0)] * 30)).to_dict()["encoding"]["x"]
    assert [d for d, _ in _tick_days(x["axis"])] == [date(2026, 11, d) for d in (1, 8, 15, 22, 29)]


@given(st.integers(min_value=1, max_value=3_000))
def test_an_axis_of_any_length_has_one_to_ten_ticks(days):
    step = overview_charts.tick_step(days)
    ticks = len(range(0, days, step))
    assert 1 <= ticks <= max(days if days <= charts.DAY_TICKS_UP_TO else 10, 1)
    if days <= charts.DAY_TICKS_UP_TO:
        assert step == 1
    if days > 21:
        assert step % 7 == 0  # every tick on the same weekday


def _rates(weekly: bool = True) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": [date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9)],
            "weekly": [weekly] * 3,
            "completion": [1.0, 0.9, 0.905],
            "completion_k": [10, 90, 181],
            "completion_n": [10, 100, 200],
            "accuracy": [None, 0.75, 1.0],
            "accuracy_k": [0, 3, 2],
            "accuracy_n": [0, 4, 2],
        }
    )


def _layers(spec: dict) -> list[dict]:
    return spec["layer"]


def test_rates_over_time_draws_each_rate_with_its_counts_and_skips_periods_without_one():
    spec = overview_charts.rates_over_time(_rates(), Decimal("0.85"), Decimal("0.9")).to_dict()
    lines = _layers(spec)[0]
    rows = spec["datasets"][lines["data"]["name"]]
    completion = [r for r in rows if r["series"] == "Completion rate"]
    accuracy = [r for r in rows if r["series"] == "Accuracy"]
    assert [r["rate"] for r in completion] == [1.0, 0.9, 0.905]
    assert [r["period"] for r in accuracy] == ["2026-11-02", "2026-11-09"]  # no reviewed outcome in the first week
    assert completion[2]["counts"] == "181 completed of 200 closed" and completion[2]["rate_label"] == "90.5%"
    assert accuracy[0]["counts"] == "3 correct of 4 reviewed" and accuracy[0]["rate_label"] == "75.0%"
    assert lines["encoding"]["color"]["scale"] == {
        "domain": ["Completion rate", "Accuracy"], "range": [theme.STATUS_COLORS["completed"], theme.PRIMARY]}
    assert [t["title"] for t in lines["encoding"]["tooltip"]] == ["Week starting", "Rate", "Value", "Outcomes"]
    assert spec["title"]["text"] == "Completion rate and accuracy per week"
    assert lines["encoding"]["x"]["title"] == "Week starting (UTC)"
    assert [d for d, _ in _tick_days(lines["encoding"]["x"]["axis"])] == [
        date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9)]


def _target_labels(spec: dict) -> dict[str, str]:
    """Each target line's label and its colour."""
    out = {}
    for layer in _layers(spec)[1:]:
        if layer["mark"]["type"] == "text":
            label = spec["datasets"][layer["data"]["name"]][0]["label"]
            out[label] = layer["mark"]["color"]
    return out


def test_rates_over_time_draws_the_targets_the_account_has():
    both = overview_charts.rates_over_time(_rates(), Decimal("0.85"), Decimal("0.9")).to_dict()
    assert _target_labels(both) == {
        "Completion target 85.0%": theme.STATUS_COLORS["completed"], "Accuracy target 90.0%": theme.PRIMARY}
    rules = [layer for layer in _layers(both) if layer["mark"]["type"] == "rule"]
    assert sorted(both["datasets"][r["data"]["name"]][0]["target"] for r in rules) == [0.85, 0.9]
    assert all(r["mark"]["strokeDash"] for r in rules)
    assert both["title"]["subtitle"] == "against the account's targets, dashed"

    one = overview_charts.rates_over_time(_rates(), None, Decimal("0.95")).to_dict()
    assert _target_labels(one) == {"Accuracy target 95.0%": theme.PRIMARY}
    none = overview_charts.rates_over_time(_rates(), None, None).to_dict()
    assert len(none["layer"]) == 1 and none["title"]["subtitle"] == ""


def test_daily_rates_say_day_and_tick_each_day():
    spec = overview_charts.rates_over_time(_rates(weekly=False).iloc[1:], None, None).to_dict()
    x = spec["layer"][0]["encoding"]["x"]
    assert spec["title"]["text"] == "Completion rate and accuracy per day"
    assert x["title"] == "Day (UTC)" and x["scale"]["type"] == "utc"
    # 2 and 9 Nov: an axis of eight days, a tick on each, at midnight (a point sits on its day's start).
    assert _tick_days(x["axis"]) == [(date(2026, 11, 2) + timedelta(days=i), 0) for i in range(8)]


@pytest.mark.parametrize("weekly", [True, False])
def test_no_rate_at_all_still_draws_an_empty_chart(weekly):
    empty = _rates(weekly).iloc[0:0]
    spec = overview_charts.rates_over_time(empty, Decimal("0.85"), None).to_dict()
    assert spec["datasets"][spec["layer"][0]["data"]["name"]] == []
    assert spec["title"]["text"].endswith("day")  # no period to say it is weekly


def test_every_chart_is_as_high_as_its_place():
    # The first run keeps a chart's place at charts.HEIGHT: the chart that replaces it is as high.
    daily = overview_charts.daily_outcomes(_daily(date(2026, 11, 1), [(1, 0, 0, 0)])).to_dict()
    rates = overview_charts.rates_over_time(_rates(), None, None).to_dict()
    assert daily["height"] == rates["height"] == charts.HEIGHT


# --- on the page ------------------------------------------------------------------------------


def _chart_rows(element) -> list[pd.DataFrame]:
    """A page's Vega-Lite chart's data as the browser gets it: Arrow, one dataset per view."""
    return [pa.ipc.open_stream(d.data.data).read_pandas() for d in element.proto.datasets]


def test_the_overview_charts_draw_the_figures_its_tiles_show(demo_engine):
    at = make_app(account="Globex Helpdesk")
    at.run()
    no_errors(at)
    daily, rates = at.get("vega_lite_chart")

    [bars] = _chart_rows(daily)
    outcomes = next(m.value for m in at.main.metric if m.label == "Outcomes")
    assert f"{int(bars['outcomes'].sum()):,}" == outcomes
    per_status = bars.groupby("status")["outcomes"].sum()
    # The tile's caption: "634 completed · 44 escalated · 18 failed · 7 open".
    caption = next(c.value for c in at.main.caption if " completed · " in c.value)
    assert caption == " · ".join(f"{per_status[s]:,} {s.lower()}" for s in STATUSES)

    # Each point is the data layer's rate for its period, and its hover text the counts behind it.
    slug = next(a.slug for a in data.accounts() if a.name == "Globex Helpdesk")
    as_of = data.as_of_key()
    trends = data.overview(slug, as_of.date().replace(day=1), as_of.date(), as_of).trends  # the page's default range
    lines = _chart_rows(rates)[0]  # the first layer's; the targets' come after
    for col, name in (("completion", "Completion rate"), ("accuracy", "Accuracy")):
        drawn = lines[lines["series"] == name]
        expected = trends[trends[col].notna()]
        assert list(drawn["rate"]) == pytest.approx([float(v) for v in expected[col]])
        k_word, n_word = ("completed of", "closed") if col == "completion" else ("correct of", "reviewed")
        assert list(drawn["counts"]) == [
            f"{int(k):,} {k_word} {int(n):,} {n_word}" for k, n in zip(expected[f"{col}_k"], expected[f"{col}_n"], strict=True)]
    assert len(lines) > 2
