"""The Overview's two charts, in Vega-Lite: outcomes per day by status, and the rates against their targets.

Every other chart is plotly (:mod:`app.ui.charts`). These two are Vega-Lite because the Overview is
the page an overseer opens to check a number, and its charts come straight after its figures: a new
visitor's browser fetches Streamlit's chart code when the first chart arrives, and plotly's is a
4.7 MB chunk whose evaluation alone holds the browser's one thread for 0.8 to 0.9 s. Streamlit's
Vega-Lite code is about a sixth of that. Measured in Chromium (README "Performance"), a bare page's
one small chart was drawn 0.4 s sooner in Vega-Lite than in plotly. Nothing these two charts show
needs plotly: stacked bars, lines with points, dashed target lines with their labels, hover text.

They look like the plotly charts: title at the top left, legend in a row under it, the same colours
(:mod:`app.ui.theme`), and the same height on the page (:data:`app.ui.charts.HEIGHT`), which the
first run keeps as the chart's place.

Days are UTC: every time scale is ``utc``, so a browser in any time zone shows the days the tables do.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import altair as alt
import pandas as pd

from app.ui import format as fmt
from app.ui import theme
from app.ui.charts import DAY_TICKS_UP_TO, HEIGHT
from app.ui.charts import FONT as PLOTLY_FONT

BAR_SHARE = 0.85  # of its day that a bar fills (plotly's bargap 0.15)
FONT = PLOTLY_FONT["family"]  # the app's own font, as every chart


def _utc(d: date, hours: int = 0) -> alt.DateTime:
    """``hours`` past midnight UTC of ``d``, as Vega-Lite takes a time in a spec.

    Not milliseconds since the epoch: Streamlit's Vega reads a number there as a year.
    """
    return alt.DateTime(year=d.year, month=d.month, date=d.day, hours=hours, utc=True)


def _date(value) -> date:
    # A date, so its isoformat() is date-only ("2026-11-01"): Vega-Lite parses that as midnight UTC,
    # whatever the browser's time zone.
    return pd.Timestamp(value).date()


def tick_step(days: int) -> int:
    """Days between two ticks on an axis of ``days`` days: every day up to :data:`DAY_TICKS_UP_TO`, then at most ten ticks.

    Past three weeks a tick falls a whole number of weeks apart, so each lands on the same weekday.
    """
    if days <= DAY_TICKS_UP_TO:
        return 1
    if days <= 21:
        return 2 if days <= 16 else 3
    return 7 * -(-days // 70)  # ceil(days / 70) weeks: at most ten ticks


def _title(text: str, subtitle: str | None) -> alt.Title:
    return alt.Title(text, subtitle=subtitle or "", anchor="start", fontSize=16, font=FONT, color=theme.TARGET,
                     subtitleFont=FONT, subtitleFontSize=13, subtitleColor=theme.MUTED, offset=10)


def _finish(chart, title: str, subtitle: str | None = None) -> alt.TopLevelMixin:
    # The whole chart, title and legend included, is HEIGHT high: Streamlit fits a chart of the
    # column's width to the height its spec asks for.
    return (
        chart.properties(title=_title(title, subtitle), height=HEIGHT)
        .configure(font=FONT, background="white")
        .configure_axis(labelColor=theme.TARGET, titleColor=theme.TARGET, labelFontSize=12, titleFontSize=13,
                        titleFontWeight="normal", gridColor="#EBEEF2", domainColor="#C9CED8", tickColor="#C9CED8")
        .configure_legend(orient="top", direction="horizontal", title=None, labelFontSize=13,
                          labelColor=theme.TARGET, symbolSize=120, columnPadding=18, offset=8)
        .configure_view(stroke=None)
    )


def daily_outcomes(frame: pd.DataFrame) -> alt.TopLevelMixin:
    """Stacked bars: outcomes per day by status (:func:`app.store.metrics.daily` columns ``day, completed, escalated, failed, open``).

    Completed sits at the bottom of each bar, then escalated, failed and open, in the legend's order.
    Hovering a part says its day, its status and its count.
    """
    statuses = list(theme.STATUS_LABELS)
    days = [_date(d) for d in frame["day"]]
    rows = [
        {
            "day": d.isoformat(),
            "day_label": fmt.day(d),
            "status": theme.STATUS_LABELS[status],
            "order": statuses.index(status),
            "outcomes": int(row[status]),
        }
        for d, (_, row) in zip(days, frame.iterrows(), strict=True)
        for status in statuses
    ]
    data = pd.DataFrame(rows, columns=["day", "day_label", "status", "order", "outcomes"])
    x = alt.X("utcyearmonthdate(day):T", title="Day (UTC)", scale=_day_scale(days, bars=True),
              axis=alt.Axis(values=_day_ticks(days, noon=True), format="%d %b", grid=False, labelAngle=0))
    bars = alt.Chart(data).mark_bar(width=alt.RelativeBandSize(BAR_SHARE)).encode(
        x=x,
        y=alt.Y("outcomes:Q", stack="zero", title="Outcomes", axis=alt.Axis(format=",d", tickMinStep=1)),
        color=alt.Color("status:N", scale=alt.Scale(domain=[theme.STATUS_LABELS[s] for s in statuses],
                                                    range=[theme.STATUS_COLORS[s] for s in statuses])),
        order=alt.Order("order:Q", sort="ascending"),
        tooltip=[alt.Tooltip("day_label:N", title="Day"), alt.Tooltip("status:N", title="Status"),
                 alt.Tooltip("outcomes:Q", title="Outcomes", format=",d")],
    )
    return _finish(bars, "Outcomes per day, by status")


def _day_ticks(days: list[date], *, noon: bool):
    """Ticks for ``days``, one per :func:`tick_step` days from the first; at noon, under the day's bar, for bars.

    No days: Vega-Lite's own ticks (``alt.Undefined``), on an axis with nothing on it.
    """
    if not days:
        return alt.Undefined
    first, last = min(days), max(days)
    span = (last - first).days + 1
    return [_utc(first + timedelta(days=i), 12 if noon else 0) for i in range(0, span, tick_step(span))]


def _day_scale(days: list[date], *, bars: bool) -> alt.Scale:
    """A UTC time scale; one day alone gets room around it (a bar of the whole plot's width reads as no chart)."""
    if len(set(days)) != 1:
        # A line's first and last points sit on the plot's edges: room for their markers.
        return alt.Scale(type="utc") if bars else alt.Scale(type="utc", padding=8)
    one = days[0]
    if bars:  # its bar in the middle third
        return alt.Scale(type="utc", domain=[_utc(one - timedelta(days=1)), _utc(one + timedelta(days=2))])
    return alt.Scale(type="utc", domain=[_utc(one - timedelta(days=1)), _utc(one + timedelta(days=1))])


SERIES = (
    # column, legend name, colour, "k <word> n <word>" in the hover text
    ("completion", "Completion rate", theme.STATUS_COLORS["completed"], "completed of", "closed"),
    ("accuracy", "Accuracy", theme.PRIMARY, "correct of", "reviewed"),
)


def rates_over_time(rates: pd.DataFrame, target_completion: Decimal | None, target_accuracy: Decimal | None) -> alt.TopLevelMixin:
    """Completion rate and accuracy per period (:func:`app.domain.trends.rates_by_period`), with the account's targets as dashed lines.

    A period with no closed (or no reviewed) outcome has no point: the line joins the periods that
    have one. Hovering a point says its period, its rate and the counts behind it.
    """
    weekly = bool(len(rates) and rates["weekly"].iloc[0])
    period_word = "Week starting" if weekly else "Day"
    rows = []
    for col, name, _, k_word, n_word in SERIES:
        for _, row in rates.iterrows():
            value = row[col]
            if value is None or pd.isna(value):
                continue
            period = _date(row["period"])
            rows.append({
                "period": period.isoformat(),
                "period_label": fmt.day(period),
                "series": name,
                "rate": float(value),
                "rate_label": fmt.share(value),
                "counts": f"{int(row[f'{col}_k']):,} {k_word} {int(row[f'{col}_n']):,} {n_word}",
            })
    data = pd.DataFrame(rows, columns=["period", "period_label", "series", "rate", "rate_label", "counts"])
    periods = sorted({_date(p) for p in rates["period"]}) if len(rates) else []
    if weekly:
        ticks = [_utc(p) for p in periods] or alt.Undefined
    else:
        ticks = _day_ticks(periods, noon=False)
    y_scale = alt.Scale(domain=[0, 1.05], clamp=True)
    lines = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=40, filled=True), strokeWidth=2).encode(
        x=alt.X("period:T", title=f"{period_word} (UTC)", scale=_day_scale(periods, bars=False),
                axis=alt.Axis(values=ticks, format="%d %b", grid=False, labelAngle=0)),
        y=alt.Y("rate:Q", title="Share of outcomes", scale=y_scale,
                axis=alt.Axis(format=".0%", values=[0, 0.2, 0.4, 0.6, 0.8, 1.0])),
        color=alt.Color("series:N", scale=alt.Scale(domain=[s[1] for s in SERIES], range=[s[2] for s in SERIES])),
        tooltip=[alt.Tooltip("period_label:N", title=period_word), alt.Tooltip("series:N", title="Rate"),
                 alt.Tooltip("rate_label:N", title="Value"), alt.Tooltip("counts:N", title="Outcomes")],
    )
    layers = [lines]
    for target, name, colour, below in (
        (target_completion, "Completion target", theme.STATUS_COLORS["completed"], True),
        (target_accuracy, "Accuracy target", theme.PRIMARY, False),
    ):
        if target is None:
            continue
        line = pd.DataFrame({"target": [float(target)], "label": [f"{name} {fmt.share(target)}"]})
        base = alt.Chart(line).encode(y=alt.Y("target:Q", scale=y_scale))
        layers.append(base.mark_rule(color=colour, strokeDash=[5, 4], strokeWidth=1))
        # The completion target's label under its line at the left, the accuracy target's over its line at the
        # right: the two targets are often close, and their labels then stay apart.
        layers.append(
            base.mark_text(
                align="left" if below else "right", baseline="top" if below else "bottom", dy=3 if below else -3,
                fontSize=11, color=colour, font=FONT,
            ).encode(x=alt.value(2) if below else alt.value("width"), text="label:N")
        )
    title = "Completion rate and accuracy per " + ("week" if weekly else "day")
    return _finish(alt.layer(*layers), title, "against the account's targets, dashed" if len(layers) > 1 else None)
