"""Plotly figure builders: every chart has a title, axis labels and hover text a customer understands.

Builders take figures the domain already computed (counts, rates, invoices)
and only lay them out. Colours come from :mod:`app.ui.theme`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from app.domain.steps import STEPS
from app.ui import format as fmt
from app.ui import theme

PLOTLY_CONFIG = {"displayModeBar": False, "displaylogo": False}
#: A chart's height in pixels unless its builder says otherwise (pages keep a chart's place at its height).
HEIGHT = 340
JOB_MAP_HEIGHT = 250
BILLING_HEIGHT = 300  # the allowance gauge and burn-down, and the invoice history


def heatmap_height(rows: int) -> int:
    """The coverage heat map's height for ``rows`` jobs."""
    return max(220, 90 + 34 * rows)


def handoff_bars_height(bars: int) -> int:
    """The handoff chart's height for ``bars`` steps."""
    return max(260, 90 + 30 * bars)

#: Streamlit's own font ("Source Sans", which the page has loaded), then what stands in for it.
FONT = dict(family='"Source Sans", "Source Sans Pro", Helvetica, Arial, sans-serif', size=13, color=theme.TARGET)


def _layout(fig: go.Figure, title: str, *, height: int = HEIGHT, xtitle: str | None = None, ytitle: str | None = None) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0, xanchor="left", y=0.98, yanchor="top", yref="container", font=dict(size=16)),
        template="plotly_white",
        font=FONT,
        height=height,
        margin=dict(l=10, r=10, t=84, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0, title=None),
        hoverlabel=dict(bgcolor="white", font_size=13),
    )
    if xtitle is not None:
        fig.update_xaxes(title_text=xtitle)
    if ytitle is not None:
        fig.update_yaxes(title_text=ytitle)
    return fig


def _days(values) -> list[str]:
    return [fmt.day(d) for d in values]


#: Days that each get a tick; above it plotly's own ticks are a day apart or more (the Overview's Vega-Lite
#: charts: app.ui.overview_charts.tick_step).
DAY_TICKS_UP_TO = 10


def _day_axis(fig: go.Figure, days) -> None:
    """One tick per day on a short day axis.

    Left to itself, plotly puts ticks every 12 hours on an axis of a day or
    two, and with a day format they read "19 Nov 19 Nov 20 Nov". Up to
    ``DAY_TICKS_UP_TO`` days each day gets exactly one tick (and one day alone
    a day's width of axis around it).
    """
    days = sorted({pd.Timestamp(d).date() for d in days if d is not None and not pd.isna(d)})
    if not days or (days[-1] - days[0]).days + 1 > DAY_TICKS_UP_TO:
        return
    every = [days[0] + pd.Timedelta(days=i) for i in range((days[-1] - days[0]).days + 1)]
    every = [d.date() if hasattr(d, "date") else d for d in every]
    fig.update_xaxes(tickvals=every, ticktext=[f"{d.day:02d} {d.strftime('%b')}" for d in every])
    if len(every) == 1:
        one = pd.Timestamp(every[0])
        fig.update_xaxes(range=[one - pd.Timedelta(hours=18), one + pd.Timedelta(hours=18)])


def job_map(steps: Sequence, stats: Sequence, *, title: str = "Job map") -> go.Figure:
    """The eight steps left to right, coloured by coverage level, labelled with observed AI share and handoff rate.

    ``steps``: :class:`app.ui.data.StepInfo` in order; ``stats``: :class:`app.domain.summary.StepStat` in the same order.
    """
    by_step = {s.step: s for s in stats}
    fig = go.Figure()
    width, gap, height = 1.0, 0.28, 1.0
    xs, ys, hover = [], [], []
    for i, step in enumerate(steps):
        x0 = i * (width + gap)
        colour = theme.COVERAGE_COLORS.get(step.coverage, theme.MUTED)
        text_colour = "white" if step.coverage == "automated" else theme.TARGET
        fig.add_shape(
            type="rect", x0=x0, x1=x0 + width, y0=0, y1=height,
            fillcolor=colour, line=dict(color="white", width=2), layer="below",
        )
        if i < len(steps) - 1:
            fig.add_annotation(
                x=x0 + width + gap - 0.02, y=height / 2, ax=x0 + width + 0.02, ay=height / 2,
                xref="x", yref="y", axref="x", ayref="y", text="", showarrow=True,
                arrowhead=2, arrowsize=1.2, arrowwidth=1.5, arrowcolor=theme.MUTED,
            )
        stat = by_step.get(step.step)
        ai = stat.ai_share.format() if stat else fmt.DASH
        handoff = stat.handoff_rate.format() if stat else fmt.DASH
        fig.add_annotation(
            x=x0 + width / 2, y=height * 0.78, text=f"<b>{fmt.step_title(step.step)}</b>",
            showarrow=False, font=dict(size=14, color=text_colour),
        )
        fig.add_annotation(
            x=x0 + width / 2, y=height * 0.58, text=theme.COVERAGE_SHORT.get(step.coverage, step.coverage),
            showarrow=False, font=dict(size=11, color=text_colour),
        )
        fig.add_annotation(
            x=x0 + width / 2, y=height * 0.36, text=f"AI {ai}",
            showarrow=False, font=dict(size=12, color=text_colour),
        )
        fig.add_annotation(
            x=x0 + width / 2, y=height * 0.17, text=f"Handoff {handoff}",
            showarrow=False, font=dict(size=12, color=text_colour),
        )
        xs.append(x0 + width / 2)
        ys.append(height / 2)
        runs = f"{stat.ai_runs:,} by the AI, {stat.human_runs:,} by a person" if stat else "no runs"
        handoffs = f"{stat.handoffs:,} of {stat.reached:,} outcomes that reached it" if stat else ""
        hover.append(
            f"<b>{fmt.step_title(step.step)}</b> — {theme.COVERAGE_LABELS.get(step.coverage, step.coverage)}"
            f"<br>{_wrap(step.description)}"
            f"<br>Observed AI share: {ai} ({runs})"
            f"<br>Handoff rate: {handoff}" + (f" ({handoffs})" if handoffs else "")
        )
    fig.add_scatter(
        x=xs, y=ys, mode="markers", marker=dict(size=60, opacity=0), hovertext=hover,
        hoverinfo="text", showlegend=False,
    )
    for level in ("automated", "assisted", "manual"):
        fig.add_scatter(
            x=[None], y=[None], mode="markers", name=theme.COVERAGE_LABELS[level],
            marker=dict(size=12, symbol="square", color=theme.COVERAGE_COLORS[level]),
        )
    total = len(steps) * (width + gap) - gap
    fig.update_xaxes(visible=False, range=[-0.05, total + 0.05], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-0.05, height + 0.05], fixedrange=True)
    fig = _layout(fig, fmt.chart_text(title), height=JOB_MAP_HEIGHT)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.02, xanchor="left", x=0), margin=dict(l=10, r=10, t=50, b=30))
    return fig


def _wrap(text: str, width: int = 60) -> str:
    """User text wrapped into hover lines of about ``width`` characters, each escaped for plotly."""
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width and line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return "<br>".join(fmt.chart_text(line) for line in lines)


def allowance_gauge(free_used: int, free_total: int) -> go.Figure:
    """The free allowance as a gauge: outcomes used out of the total."""
    fig = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=free_used,
            number=dict(suffix=f" of {free_total:,}", font=dict(size=24), valueformat=",d"),
            gauge=dict(
                axis=dict(range=[0, free_total], tickformat=",d"),
                bar=dict(color=theme.PRIMARY),
                steps=[
                    dict(range=[0, 0.8 * free_total], color="#EEF2FD"),
                    dict(range=[0.8 * free_total, free_total], color="#FCEBD3"),
                ],
                threshold=dict(line=dict(color=theme.STATUS_COLORS["failed"], width=3), thickness=0.8, value=free_total),
            ),
        )
    )
    fig = _layout(fig, "Free outcomes used", height=BILLING_HEIGHT)
    fig.update_layout(margin=dict(l=30, r=30, t=70, b=10))
    return fig


def allowance_burndown(frame: pd.DataFrame, free_total: int, runs_out: date | None, today: date) -> go.Figure:
    """Free outcomes left per day, and the projected line to the run-out date."""
    fig = go.Figure()
    fig.add_scatter(
        x=list(frame["day"]),
        y=list(frame["remaining"]),
        name="Free outcomes left",
        mode="lines",
        line=dict(color=theme.PRIMARY, width=2, shape="hv"),
        fill="tozeroy",
        fillcolor="rgba(47,91,234,0.10)",
        customdata=_days(frame["day"]),
        hovertemplate="%{customdata}<br>%{y:,} free outcomes left<extra></extra>",
    )
    if runs_out is not None and len(frame) and int(frame["remaining"].iloc[-1]) > 0:
        last = int(frame["remaining"].iloc[-1])
        fig.add_scatter(
            x=[today, runs_out],
            y=[last, 0],
            name="Projected at the current pace",
            mode="lines+markers",
            line=dict(color=theme.STATUS_COLORS["escalated"], width=2, dash="dash"),
            customdata=[fmt.day(today), fmt.day(runs_out)],
            hovertemplate="%{customdata}<br>%{y:,} left (projected)<extra></extra>",
        )
        fig.add_annotation(
            x=runs_out, y=0, text=f"Runs out {fmt.day(runs_out)}", showarrow=True, arrowhead=2, ay=-40,
            font=dict(color=theme.STATUS_COLORS["escalated"]),
        )
    fig.update_yaxes(range=[0, free_total * 1.05 + 1], tickformat=",d")
    fig.update_xaxes(tickformat="%d %b", showgrid=False)
    _day_axis(fig, [*frame["day"], *((today, runs_out) if runs_out is not None and len(frame) and int(frame["remaining"].iloc[-1]) > 0 else ())])
    return _layout(fig, "Free allowance burn-down", height=BILLING_HEIGHT, xtitle="Day (UTC)", ytitle="Free outcomes left")


def invoice_history(invoices: Sequence, currency: str) -> go.Figure:
    """Monthly totals as bars; the current month shows the projection as a whisker."""
    months = [date(inv.year, inv.month, 1) for inv in invoices]
    totals = [float(inv.total) for inv in invoices]
    labels = [fmt.month_name(inv.year, inv.month) for inv in invoices]
    fig = go.Figure()
    fig.add_bar(
        x=months,
        y=totals,
        name="Billed so far",
        marker_color=theme.PRIMARY,
        customdata=[[lab, fmt.money(inv.total, currency), inv.billable] for lab, inv in zip(labels, invoices, strict=True)],
        hovertemplate="%{customdata[0]}<br>%{customdata[1]}<br>%{customdata[2]:,} billable outcomes<extra></extra>",
    )
    projected = [(m, inv) for m, inv in zip(months, invoices, strict=True) if inv.projected is not None]
    if projected:
        m, inv = projected[-1]
        p = inv.projected
        fig.add_scatter(
            x=[m],
            y=[float(p.total)],
            name="Projected for the month (80% range)",
            mode="markers",
            marker=dict(symbol="diamond", size=12, color=theme.STATUS_COLORS["escalated"]),
            error_y=dict(
                type="data", symmetric=False,
                array=[float(p.high - p.total)], arrayminus=[float(p.total - p.low)],
                color=theme.STATUS_COLORS["escalated"],
            ),
            customdata=[[fmt.money(p.total, currency), fmt.money(p.low, currency), fmt.money(p.high, currency)]],
            hovertemplate="Projected %{customdata[0]}<br>80% range %{customdata[1]} – %{customdata[2]}<extra></extra>",
        )
    fig.update_xaxes(tickformat="%b %Y", dtick="M1", showgrid=False)
    top = max([*totals, *(float(inv.projected.high) for inv in invoices if inv.projected is not None), 0.0])
    if top == 0:
        fig.update_yaxes(range=[0, 100], tickformat=",.0f")
    else:
        fig.update_yaxes(rangemode="tozero", tickformat=",.0f")
    return _layout(fig, "Invoices by month", height=BILLING_HEIGHT, xtitle="Month", ytitle=f"Amount ({currency})")


def coverage_heatmap(matrix: pd.DataFrame, value: str, title: str) -> go.Figure:
    """Rows: account · job; columns: the eight steps; cells: a share in [0, 1] (configured weight or observed AI share)."""
    frame = matrix.copy()
    # Account and job names are user text: escaped once here, they are the heatmap's rows and hover lines.
    frame["row"] = [f"{fmt.chart_text(a)} · {fmt.chart_text(j)}" for a, j in zip(frame["account_name"], frame["job_name"], strict=True)]
    rows = list(dict.fromkeys(frame.sort_values(["account_name", "job_name"])["row"]))
    z, text, hover = [], [], []
    for row in rows:
        sub = frame[frame["row"] == row].set_index("step")
        zr, tr, hr = [], [], []
        for step in STEPS:
            if step in sub.index:
                cell = sub.loc[step]
                v = cell[value]
                v = None if v is None or pd.isna(v) else float(v)
                zr.append(v)
                tr.append(theme.COVERAGE_SHORT.get(cell["coverage"], cell["coverage"]) if value == "configured_weight" else fmt.share(v))
                hr.append(
                    f"{row}<br>{fmt.step_title(step)}: {theme.COVERAGE_SHORT.get(cell['coverage'], cell['coverage'])}"
                    f"<br>Observed AI share: {fmt.share(None if pd.isna(cell['observed_ai_share']) else float(cell['observed_ai_share']))}"
                    f" ({int(cell['runs']):,} runs)"
                )
            else:
                zr.append(None)
                tr.append(fmt.DASH)
                hr.append(f"{row}<br>{fmt.step_title(step)}: no data")
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    observed = value != "configured_weight"
    if observed:
        # Colour by band (equal steps on the colour bar), the exact share written in the cell.
        bands = theme.SHARE_BANDS
        z = [[None if v is None else float(_band_index(v, bands)) for v in zr] for zr in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[fmt.step_title(s) for s in STEPS],
            y=rows,
            text=text,
            texttemplate="%{text}",
            hovertext=hover,
            hoverinfo="text",
            zmin=-0.5 if observed else 0,
            zmax=len(theme.SHARE_BANDS) - 0.5 if observed else 1,
            colorscale=(
                binned_scale([((i + 1) / len(theme.SHARE_BANDS), c) for i, (_, c) in enumerate(theme.SHARE_BANDS)])
                if observed
                else [[0, theme.COVERAGE_COLORS["manual"]], [0.5, theme.COVERAGE_COLORS["assisted"]], [1, theme.COVERAGE_COLORS["automated"]]]
            ),
            colorbar=(
                dict(title="AI share", tickvals=list(range(len(theme.SHARE_BANDS))), ticktext=band_labels(theme.SHARE_BANDS))
                if observed else dict(title="Weight", tickformat=".0%")
            ),
            xgap=2,
            ygap=2,
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig = _layout(fig, title, height=heatmap_height(len(rows)), xtitle="Job-map step")
    fig.update_layout(margin=dict(l=10, r=10, t=50, b=10))
    return fig


def binned_scale(bands: Sequence[tuple[float, str]]) -> list:
    """A plotly colour scale of flat bands: ``(upper edge, colour)`` each, edges rising to 1.

    A continuous scale makes 72% and 100% nearly the same blue; flat bands whose colours differ in hue and
    lightness can be told apart, and the cell's own text gives the exact share.
    """
    scale, lower = [], 0.0
    for upper, colour in bands:
        scale += [[lower, colour], [upper, colour]]
        lower = upper
    return scale


def _band_index(value: float, bands: Sequence[tuple[float, str]]) -> int:
    return next((i for i, (upper, _) in enumerate(bands) if value < upper), len(bands) - 1)


def band_of(value: float, bands: Sequence[tuple[float, str]]) -> str:
    """The colour a share gets (the band whose range holds it; 1 in the last)."""
    return bands[_band_index(value, bands)][1]


def band_labels(bands: Sequence[tuple[float, str]]) -> list[str]:
    """``["0–50%", "50–70%", …, "95–100%"]``: what each band of the colour bar holds."""
    labels, lower = [], 0.0
    for upper, _ in bands:
        labels.append(f"{lower * 100:g}–{upper * 100:g}%")
        lower = upper
    return labels


def handoff_bars(frame: pd.DataFrame, label_col: str, rate_col: str, hover_cols: Sequence[str] = ()) -> go.Figure:
    """Horizontal bars of handoff rates, highest on top."""
    frame = frame.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=[float(v) for v in frame[rate_col]],
            y=[fmt.chart_text(v) for v in frame[label_col]],
            orientation="h",
            marker_color=theme.STATUS_COLORS["escalated"],
            text=[fmt.share(float(v)) for v in frame[rate_col]],
            textposition="auto",
            hovertext=[
                "<br>".join(
                    [fmt.chart_text(r[label_col]), f"Handoff rate {fmt.share(float(r[rate_col]))}"]
                    + [f"{fmt.chart_text(c)}: {fmt.chart_text(r[c])}" for c in hover_cols]
                )
                for _, r in frame.iterrows()
            ],
            hoverinfo="text",
        )
    )
    fig.update_xaxes(tickformat=".0%", rangemode="tozero")
    fig = _layout(fig, "Steps with the highest handoff rates", height=handoff_bars_height(len(frame)), xtitle="Handoff rate: outcomes handed to a person at the step / outcomes that reached it")
    fig.update_layout(margin=dict(l=10, r=30, t=50, b=10))
    return fig
