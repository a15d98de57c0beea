"""Value delivered (sales and customers): hours and money the AI saved, against the bill.

SPEC's "value delivered": for every billable outcome, the minutes a person
would spend on each step the AI performed, times the account's hourly cost.
Figures come from :mod:`app.store.value` through :mod:`app.ui.data`; this page
lays them out and writes the edits (minutes per step, hourly cost) back through it.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal, InvalidOperation

import plotly.graph_objects as go
import streamlit as st

from app.domain.errors import OverseerError
from app.ui import components, data, links, paint, theme
from app.ui import format as fmt
from app.ui.frame import account_labels, require_account

CHART_HEIGHT = 360


def _hours(h: Decimal) -> str:
    return f"{h:,.1f} h"


def _multiple(m: Decimal | None) -> str:
    return fmt.DASH if m is None else f"{m:,.1f}×"


def _month_label(m) -> str:
    return fmt.month_name(m.year, m.month)


ctx = require_account()
slug, acc = ctx.slug, ctx.account
as_of = ctx.as_of
st.title("Value delivered")
st.caption(
    f"**{fmt.text(acc.name)}** · hours of people's work the AI did, priced at the account's hourly cost, against the bill · "
    "by calendar month (UTC); the date range does not apply here"
)

flash = st.session_state.pop("_value_flash", None)
if flash:
    st.toast(flash, icon=":material/check_circle:")
    st.success(flash)

months = data.value_months(slug, as_of)
if not months:
    components.empty("The subscription has not started yet, so there is no month to show.")
    paint.stop()

labels = {f"{m.year:04d}-{m.month:02d}": m for m in months}
keys = list(labels)[::-1]
month_col, download_col = st.columns([1, 1], vertical_alignment="bottom")
with download_col:
    st.download_button(
        "Download the one-page summary (HTML)",
        data=data.summary_html(
            slug, ctx.start, ctx.end, as_of, quote=data.quote_for_summary(slug),
            link=links.account_link(links.base_url()[0], account_labels(data.accounts())[slug]),
        ),
        file_name=f"{slug}-summary-{as_of.date().isoformat()}.html",
        mime="text/html",
        on_click="ignore",
        icon=":material/download:",
        key="value_summary_download",
        width="stretch",
        help=f"Coverage, results, value and bill of {fmt.text(acc.name)} over {ctx.range_label} (the sidebar's date range), "
        "with this month's bill and the charts — one self-contained file to send after the call.",
    )
picked = month_col.selectbox(
    "Month", keys, format_func=lambda k: _month_label(labels[k]) + (" (to date)" if k == keys[0] else ""), key=f"value_month_{slug}"
)
month = labels[picked]
first = date(month.year, month.month, 1)
last = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
report = data.value_report(slug, first, min(last, as_of.date()) if first <= as_of.date() else last, as_of)
cur = acc.currency

components.kpi_row(
    [
        ("Hours saved", _hours(month.hours), f"from {month.billable:,} billable outcomes", "Minutes a person would spend on each step the AI performed, over every billable outcome.", "value_hours"),
        ("Value delivered", fmt.money(month.value, cur), f"at {fmt.money(acc.hourly_cost, cur)} per hour of a person's time", None, "value_money"),
        ("Bill", fmt.money(month.bill, cur), "the month's invoice" + (" so far" if picked == keys[0] else ""), None, "value_bill"),
        (
            "Return multiple",
            _multiple(month.multiple),
            "value delivered / bill" if month.bill > 0 else "nothing billed this month",
            "How many times over the AI's work pays for the bill. “—” when there is no bill to compare with.",
            "value_multiple",
        ),
    ]
)

left, right = st.columns(2)
with left:
    fig = go.Figure()
    xs = [date(m.year, m.month, 1).strftime("%b %Y") for m in months]
    fig.add_bar(x=xs, y=[float(m.value) for m in months], name="Value delivered", marker_color=theme.STATUS_COLORS["completed"],
                customdata=[[fmt.money(m.value, cur), _hours(m.hours)] for m in months],
                hovertemplate="%{x}<br>%{customdata[0]} · %{customdata[1]}<extra>Value delivered</extra>")
    fig.add_bar(x=xs, y=[float(m.bill) for m in months], name="Bill", marker_color=theme.PRIMARY,
                customdata=[[fmt.money(m.bill, cur), _multiple(m.multiple)] for m in months],
                hovertemplate="%{x}<br>%{customdata[0]} · return %{customdata[1]}<extra>Bill</extra>")
    fig.update_layout(barmode="group", template="plotly_white", height=CHART_HEIGHT, margin=dict(l=10, r=10, t=84, b=10),
                      title=dict(text="Value delivered and the bill, by month", x=0, font=dict(size=16)),
                      legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0))
    fig.update_yaxes(title_text=f"Amount ({cur})", tickformat=",.0f")
    paint.chart(lambda fig=fig: fig, key="value_months_chart", height=CHART_HEIGHT)
    total = data.return_multiple(months)
    st.caption(
        f"Since the subscription began: {fmt.money(sum((m.value for m in months), Decimal(0)), cur)} of value for "
        f"{fmt.money(sum((m.bill for m in months), Decimal(0)), cur)} billed — a return multiple of {_multiple(total)}."
    )

jobs = data.jobs(slug)
with right:
    job_names = {j.slug: j.name for j in jobs}
    job_slug = None
    if len(jobs) > 1:
        job_slug = st.selectbox("Job", list(job_names), format_func=lambda s: job_names[s], key=f"value_job_{slug}")
    elif jobs:
        job_slug = jobs[0].slug
    shown = report.for_job(job_slug) if job_slug else report
    coverage_of = {s.step: s.coverage for s in shown.steps}
    steps = [(st_, h, n) for st_, h, n in shown.by_step()]
    fig = go.Figure()
    for level in ("automated", "assisted", "manual"):
        chosen = [(s_, h, n) for s_, h, n in steps if coverage_of.get(s_) == level]
        fig.add_bar(
            y=[fmt.step_title(s_) for s_, _, _ in chosen], x=[float(h) for _, h, _ in chosen], orientation="h",
            name=theme.COVERAGE_SHORT[level], marker_color=theme.COVERAGE_COLORS[level],
            text=[_hours(h) for _, h, _ in chosen], textposition="auto",
            customdata=[[n, fmt.money(h * shown.hourly_cost, cur)] for _, h, n in chosen],
            hovertemplate="%{y}: %{text} · %{customdata[1]}<br>%{customdata[0]:,} runs by the AI<extra></extra>",
        )
    fig.update_yaxes(categoryorder="array", categoryarray=[fmt.step_title(s_) for s_, _, _ in steps][::-1])
    fig.update_xaxes(title_text="Hours saved", tickformat=",.0f", rangemode="tozero")
    title = "Hours saved by step" + (f" — {fmt.chart_text(job_names[job_slug])}" if job_slug and len(jobs) > 1 else "")
    fig.update_layout(template="plotly_white", height=CHART_HEIGHT, margin=dict(l=10, r=10, t=84, b=10), barmode="stack",
                      title=dict(text=title + f", {_month_label(month)}", x=0, font=dict(size=16)),
                      legend=dict(orientation="h", yanchor="bottom", y=1.01, x=0, traceorder="normal"))
    paint.chart(lambda fig=fig: fig, key="value_steps_chart", height=CHART_HEIGHT)
    paying = report.steps_paying(month.bill)
    if month.bill <= 0:
        st.caption("Nothing is billed this month: every hour saved is free value.")
    elif paying is None:
        st.caption(f"The value of the steps the AI performed does not cover this month's bill of {fmt.money(month.bill, cur)} yet.")
    else:
        names = ", ".join(fmt.step_title(s_) for s_ in paying)
        st.caption(
            f"**{names}** alone {'pays' if len(paying) == 1 else 'pay'} for this month's bill of {fmt.money(month.bill, cur)}; "
            "every other covered step is value on top."
        )

st.dataframe(
    [
        {
            "Month": _month_label(m) + (" (to date)" if i == len(months) - 1 else ""),
            "Billable outcomes": m.billable,
            "Hours saved": _hours(m.hours),
            "Value delivered": fmt.money(m.value, cur),
            "Bill": fmt.money(m.bill, cur),
            "Net": fmt.money(m.net, cur),
            "Return multiple": _multiple(m.multiple),
        }
        for i, m in enumerate(months)
    ][::-1],
    hide_index=True,
    width="stretch",
    key="value_table",
)

st.subheader("What an hour and a step are worth")
if not jobs:
    components.empty("This account has no job yet, so there are no steps to price.")
else:
    edit_job = job_slug or jobs[0].slug
    step_rows = data.job_map(slug, edit_job)
    with st.form(f"value_edit_{slug}_{edit_job}", border=True):
        hourly = st.columns([1, 2])[0].text_input(
            f"Hourly cost of a person's time ({cur})", value=f"{acc.hourly_cost:.2f}", key=f"value_hourly_{slug}", disabled=not acc.can_edit,
            help="Salary plus overheads for one hour of the people who would otherwise do the work.",
        )
        st.caption(
            f"Minutes a person spends on each step of **{fmt.text(job_names.get(edit_job, edit_job))}**, for one outcome, by hand"
            + (" — pick another job above to edit its steps." if len(jobs) > 1 else ".")
        )
        editor_key = f"value_minutes_{slug}_{edit_job}"
        st.data_editor(
            [
                {
                    "Step": fmt.step_title(s.step),
                    "Coverage": theme.COVERAGE_SHORT.get(s.coverage, s.coverage),
                    "Minutes by hand": float(s.manual_minutes),
                    "What happens": s.description,
                }
                for s in step_rows
            ],
            hide_index=True,
            width="stretch",
            disabled=["Step", "Coverage", "What happens"],
            column_config={
                "Minutes by hand": st.column_config.NumberColumn(min_value=0, max_value=10_080, step=0.5, format="%.1f", required=True),
                "What happens": st.column_config.TextColumn(width="large"),
            },
            key=editor_key,
        )
        if not acc.can_edit:
            st.caption(":material/lock: Only an admin of this account can change these.")
        saved = st.form_submit_button(
            "Save and recompute", type="primary", icon=":material/save:", key=f"value_save_{slug}", disabled=not acc.can_edit
        )
    if saved:
        edits = st.session_state.get(editor_key, {}).get("edited_rows", {})
        minutes = {}
        for index, change in edits.items():
            if "Minutes by hand" in change and change["Minutes by hand"] is not None:
                try:
                    minutes[step_rows[int(index)].step] = Decimal(str(change["Minutes by hand"]))
                except (InvalidOperation, ValueError):
                    minutes[step_rows[int(index)].step] = change["Minutes by hand"]
        try:
            data.save_value_inputs(slug, edit_job, minutes=minutes, hourly_cost=hourly)
        except OverseerError as exc:
            st.error(f"Not saved: {fmt.text(exc)}", icon=":material/error:")
        else:
            st.session_state["_value_flash"] = "Saved. Hours and value are recomputed on every page."
            st.rerun()

