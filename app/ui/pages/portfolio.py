"""Portfolio (product team): coverage across accounts, where the AI hands off, quality by job, trials."""

from __future__ import annotations

import streamlit as st

from app.ui import charts, components, data, paint
from app.ui import format as fmt
from app.ui.frame import context, no_accounts

ctx = context()
st.title("Portfolio")
st.caption(f"Every account · {ctx.range_label}")

accounts = data.accounts()
if not accounts:
    no_accounts()
    paint.stop()
names = {a.slug: a.name for a in accounts}

head = data.portfolio_headline(ctx.start, ctx.end, ctx.as_of)
low, most = head.lowest, head.most_handoffs
trials_total = head.on_trial + head.paid_after_trial
components.kpi_row(
    [
        (
            "Accounts",
            fmt.count(len(accounts)),
            f"{head.on_trial:,} on a free allowance" if trials_total else "none has a free allowance",
            "Every account you may see.",
        ),
        (
            "Trials now paid",
            f"{head.paid_after_trial:,} of {trials_total:,}" if trials_total else fmt.DASH,
            f"{head.converted:,} converted before the allowance ran out" if trials_total else "no trial to convert",
            "Accounts with a free allowance whose paid plan has started: when the allowance ran out, or on an "
            "early conversion (table below).",
        ),
        (
            "Lowest AI share",
            low.ai_share.format() if low else fmt.DASH,
            f"{fmt.step_title(low.step)} · {low.ai_runs:,} of {low.runs:,} runs" if low else f"no step ran in {ctx.range_label}",
            "The step the AI covers least: its runs by the AI / its runs at all, summed over every account and job "
            "in the range (ranking below).",
        ),
        (
            "Outcomes handed off",
            fmt.count(head.handoffs),
            f"most at {fmt.text(most.name)} ({most.handoffs:,})" if most else f"none in {ctx.range_label}",
            "Outcomes handed to a person at some step, every account together, in the range.",
        ),
    ]
)
paint.rest(height=600)

st.subheader("Trials and conversion")
trials = data.trials(ctx.as_of)
if not trials:
    components.empty("No account has a free allowance.", "Trials appear here when an account's plan gives free outcomes.")
else:
    st.dataframe(
        [
            {
                "Account": t.name,
                "Plan": t.plan,
                "Since": t.started_on,
                "Free outcomes used": t.free_used / t.free_total if t.free_total else None,
                "Used": f"{t.free_used:,} of {t.free_total:,}",
                "Status": (
                    f"Paid since {fmt.day(t.activated_on)}" + (" (converted)" if t.activated_by == "conversion" else "")
                    if t.activated_on
                    else f"Trial · {t.free_remaining:,} free left"
                ),
            }
            for t in trials
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Free outcomes used": st.column_config.ProgressColumn(
                "Progress to paid", min_value=0.0, max_value=1.0, format="percent",
                help="Share of the free allowance used; the paid plan starts when it runs out (or on conversion).",
            ),
            "Since": st.column_config.DateColumn("Trial started", format="D MMM YYYY"),
        },
    )

st.subheader("Where the AI covers least")
ranked_steps, ranked_accounts = data.portfolio_rankings(ctx.start, ctx.end, ctx.as_of)
if not ranked_steps:
    components.empty(f"No step ran in {ctx.range_label}.", "Widen the date range in the sidebar.")
else:
    st.caption(
        "Observed AI share: runs of the step by the AI / runs of the step at all, summed over every account and job "
        f"in {ctx.range_label}, so a busy account weighs what it ran. Lowest first."
    )
    left, right = st.columns(2)
    with left:
        st.dataframe(
            [
                {
                    "#": i,
                    "Step": fmt.step_title(r.step),
                    "Observed AI share": r.ai_share.value * 100,
                    "AI runs of runs": f"{r.ai_runs:,} of {r.runs:,}",
                    "Handoffs": r.handoffs,
                    "Accounts": r.accounts,
                }
                for i, r in enumerate(ranked_steps, start=1)
            ],
            hide_index=True,
            width="stretch",
            key="ranked_steps",
            column_config={
                "#": st.column_config.NumberColumn(width="small"),
                "Observed AI share": st.column_config.ProgressColumn(min_value=0.0, max_value=100.0, format="%.1f%%"),
            },
        )
        st.download_button(
            "Download steps (CSV)",
            data=data.portfolio_export(ctx.start, ctx.end, ctx.as_of, "steps"),
            file_name=data.portfolio_export_name("steps", ctx.start, ctx.end),
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            key="export_steps",
        )
    with right:
        st.dataframe(
            [
                {
                    "#": i,
                    "Account": a.name,
                    "Handoffs": a.handoffs,
                    "Most at": f"{fmt.step_title(a.top_step)} ({a.top_step_handoffs:,})" if a.top_step else fmt.DASH,
                }
                for i, a in enumerate(ranked_accounts, start=1)
            ],
            hide_index=True,
            width="stretch",
            key="ranked_accounts",
            column_config={"#": st.column_config.NumberColumn(width="small")},
        )
        st.download_button(
            "Download accounts (CSV)",
            data=data.portfolio_export(ctx.start, ctx.end, ctx.as_of, "accounts"),
            file_name=data.portfolio_export_name("accounts", ctx.start, ctx.end),
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            key="export_accounts",
        )

st.subheader("Job-map coverage")
matrix = data.coverage_matrix(ctx.start, ctx.end, ctx.as_of)
if matrix.empty:
    components.empty("No job maps yet.", "Create a job on the **Job map** page.")
else:
    which = st.segmented_control(
        "Coverage",
        ["Observed", "Configured"],
        default="Observed",
        key="coverage_view",
        required=True,
        help="Configured: automated = 100%, assisted = 50%, manual = 0%. Observed: runs of the step by the AI / runs at all, in the date range.",
    )
    heat_height = charts.heatmap_height(len(matrix[["account_name", "job_name"]].drop_duplicates()))
    if which == "Observed":
        paint.chart(
            lambda: charts.coverage_heatmap(matrix, "observed_ai_share", "Observed AI share by step (— : the step never ran in the range)"),
            key="chart_heat_observed",
            height=heat_height,
        )
    else:
        paint.chart(
            lambda: charts.coverage_heatmap(matrix, "configured_weight", "Configured coverage by step"),
            key="chart_heat_configured",
            height=heat_height,
        )
    st.download_button(
        "Download coverage by step (CSV)",
        data=data.portfolio_export(ctx.start, ctx.end, ctx.as_of, "coverage"),
        file_name=data.portfolio_export_name("coverage", ctx.start, ctx.end),
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="export_coverage",
    )

st.subheader("Where people take over")
top = data.top_handoff_steps(ctx.start, ctx.end, 10, ctx.as_of)
if top.empty:
    components.empty(f"No outcome reached a step in {ctx.range_label}.", "Widen the date range in the sidebar.")
else:
    job_names = {(r.account_slug, r.job_slug): r.job_name for r in matrix.drop_duplicates(["account_slug", "job_slug"]).itertuples()}
    multi_job = len({*zip(top["account_slug"], top["job_slug"], strict=True)}) > len({*top["account_slug"]})
    frame = top.copy()
    frame["label"] = [
        f"{names.get(a, a)} · {fmt.step_title(s)}" + (f" · {job_names.get((a, j), j)}" if multi_job else "")
        for a, j, s in zip(frame["account_slug"], frame["job_slug"], frame["step"], strict=True)
    ]
    frame["Outcomes"] = [f"{h:,} of {r:,} handed off" for h, r in zip(frame["handoffs"], frame["reached"], strict=True)]
    paint.chart(
        lambda: charts.handoff_bars(frame, "label", "handoff_rate", ["Outcomes"]),
        key="chart_handoffs",
        height=charts.handoff_bars_height(len(frame)),
    )

st.subheader("Completion and accuracy by job")
quality = data.job_quality(ctx.start, ctx.end, ctx.as_of)
if quality.empty:
    components.empty("No jobs yet.")
else:
    st.dataframe(
        [
            {
                "Account": names.get(r.account_slug, r.account_slug),
                "Job": r.job_name,
                "Closed outcomes": int(r.closed),
                "Completion rate": fmt.share(r.completion_rate),
                "Accuracy": fmt.share(r.accuracy),
                "Accuracy 95% interval": (
                    f"{fmt.share(r.accuracy_low)} – {fmt.share(r.accuracy_high)}" if r.accuracy_low is not None else fmt.DASH
                ),
                "Reviewed": int(r.accuracy_n),
            }
            for r in quality.itertuples(index=False)
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Completion rate": st.column_config.TextColumn(help="Completed / closed"),
            "Accuracy": st.column_config.TextColumn(help="Correct / reviewed, among completed outcomes"),
        },
    )
