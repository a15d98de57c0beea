"""Overview (customer): what the AI delivered, how well, and what it costs."""

from __future__ import annotations

import streamlit as st

from app.ui import charts, components, data
from app.ui import live, overview_charts, paint
from app.ui import format as fmt
from app.ui.frame import page_header, require_account

ctx = require_account()
slug, acc = ctx.slug, ctx.account
page_header("Overview", ctx)
live.watch()  # the "Live" mark: new data redraws the page without a reload

figures = data.overview(slug, ctx.start, ctx.end, ctx.as_of)
components.alerts(figures.alerts)

summ = figures.summary
jobs = data.jobs(slug)

acc_rate = summ.accuracy
components.kpi_row(
    [
        (
            "Outcomes",
            fmt.count(summ.outcomes),
            f"{summ.completed:,} completed · {summ.escalated:,} escalated · {summ.failed:,} failed · {summ.open:,} open",
            "Outcomes dated in the range: by completion, or by start while still open.",
        ),
        (
            "Completion rate",
            summ.completion_rate.format(),
            f"{summ.completed:,} of {summ.closed:,} closed outcomes" if summ.closed else "no closed outcomes yet",
            "Completed with the AI in charge / closed (completed, escalated or failed).",
        ),
        (
            "Autonomous rate",
            summ.autonomous_rate.format(),
            f"{summ.autonomous:,} of {summ.closed:,} by the AI alone" if summ.closed else "no closed outcomes yet",
            "Completed, not handed off, and with no step performed by a person / closed.",
        ),
        (
            "Accuracy",
            acc_rate.format(),
            (fmt.interval(acc_rate) + " · " if acc_rate.denominator else "") + fmt.rate_with_sample(acc_rate),
            "Correct / reviewed, among completed outcomes; unreviewed outcomes never count. "
            "The interval is the 95% Wilson interval.",
            "kpi_accuracy",
        ),
    ]
)

# This month's money, whatever the range.
as_of = ctx.as_of
state = figures.billing
inv = figures.invoice
proj = inv.projected
month = fmt.month_name(as_of.year, as_of.month)
own = figures.own_month
if own is not None:
    # A whole month: the count its invoice bills as its own (SPEC "One billable count").
    billable_tile = (
        "Billable outcomes",
        fmt.count(own.billed),
        fmt.later_reviews(own) or f"in {ctx.range_label}, as on its invoice",
        f"Outcomes completed in {fmt.month_name(own.year, own.month)} that its invoice bills: completed and not "
        "reviewed incorrect when the month ended. Later reviews do not change this count: their credits and "
        "charges land in the months they were made, as the caption says.",
        "kpi_billable",
    )
else:
    billable_tile = (
        "Billable outcomes",
        fmt.count(summ.billable),
        f"in {ctx.range_label}",
        "Completed and not reviewed incorrect now (as of the figures' time), dated in the range. For a whole "
        "calendar month this is the count on its invoice instead.",
        "kpi_billable",
    )
components.kpi_row(
    [
        (
            "Free outcomes left",
            fmt.count(state.free_remaining) if state.free_total else fmt.DASH,
            (f"of {state.free_total:,} free outcomes" if state.free_total else "this plan has no free allowance")
            + (f" · runs out ~{fmt.day(proj.allowance_runs_out)}" if proj and proj.allowance_runs_out and state.free_remaining else ""),
            "The account's free outcomes not used yet: each billable outcome uses one, in the order they completed, "
            "until none are left; then the paid plan starts. The date is when the projection expects them to run out.",
        ),
        (
            "Bill so far",
            fmt.money(inv.total, inv.currency),
            f"{month} · {inv.billable:,} billable outcomes",
            "Completed outcomes not reviewed incorrect, priced by your plan.",
            "kpi_bill",
        ),
        (
            "Projected bill",
            fmt.money(proj.total, inv.currency) if proj else fmt.DASH,
            f"80% range {fmt.money(proj.low, inv.currency)} – {fmt.money(proj.high, inv.currency)} · ~{proj.outcomes:,} outcomes"
            if proj
            else "",
            f"At the pace of the last 14 days, priced with the same rules. {fmt.RANGE_MEANING}",
        ),
        billable_tile,
    ]
)

weakest = data.weakest_step(slug, ctx.start, ctx.end, as_of)
if weakest is not None:
    with st.container(border=True, key="weakest_step"):
        said, link = st.columns([4, 1], vertical_alignment="center")
        said.markdown(":material/front_hand: " + fmt.weakest_step_sentence(weakest, len(jobs) > 1))
        link.page_link(
            "ui/pages/job_map.py", label="Open the Job map", icon=":material/account_tree:",
            query_params={"job": weakest.job_slug},
        )

frame = figures.daily
if summ.outcomes == 0:
    components.empty(
        f"No outcomes in {ctx.range_label}.",
        "Widen the date range in the sidebar, or bring outcomes in on the **Import** page.",
    )
else:
    left, right = st.columns(2)
    with left:
        paint.chart(lambda: overview_charts.daily_outcomes(frame), key="chart_daily", height=charts.HEIGHT)
    with right:
        rates = figures.trends
        if rates["completion"].notna().any() or rates["accuracy"].notna().any():
            paint.chart(
                lambda: overview_charts.rates_over_time(rates, acc.target_completion_rate, acc.target_accuracy),
                key="chart_rates",
                height=charts.HEIGHT,
            )
        else:
            components.empty("No closed outcomes in this range yet, so there is no rate to draw.")

if len(jobs) > 1:
    paint.rest(height=300)
    st.subheader("By job")
    rows = []
    for job, js in figures.jobs:
        rows.append(
            {
                "Job": job.name,
                "Outcomes": js.outcomes,
                "Completion rate": js.completion_rate.format(),
                "Autonomous rate": js.autonomous_rate.format(),
                "Accuracy": js.accuracy.format(),
                "Reviewed": f"{js.reviewed:,} of {js.completed:,}",
                "Billable": js.billable,
            }
        )
    st.dataframe(rows, hide_index=True, width="stretch")
