"""Job map: the eight steps, how much the AI covers, where people take over; edit the map."""

from __future__ import annotations

import streamlit as st

from app.domain.errors import OverseerError
from app.domain.steps import COVERAGE_LEVELS
from app.ui import charts, components, data, paint, theme
from app.ui import format as fmt
from app.ui.frame import page_header, picker_as_text, require_account

ctx = require_account()
slug = ctx.slug
page_header("Job map", ctx)

flash = st.session_state.pop("_jobmap_flash", None)
if flash:
    st.toast(flash, icon=":material/check_circle:")
    st.success(flash)

jobs = data.jobs(slug)
templates = data.templates()


def _new_job_form() -> None:
    if not ctx.account.can_edit:
        st.caption(":material/lock: Only an admin of this account can add jobs.")
        return
    missing = {k: v for k, v in templates.items() if k not in {j.slug for j in jobs}}
    if not missing:
        st.caption("Every template is in use by this account.")
        return
    with st.form("new_job", border=False):
        tpl = st.selectbox("Template", list(missing), format_func=lambda k: missing[k], key="new_job_template")
        if st.form_submit_button("Create job", icon=":material/add:", key="new_job_create"):
            try:
                job_slug = data.add_job(slug, tpl)
            except OverseerError as exc:
                st.error(fmt.text(exc))
                return
            st.session_state["_jobmap_flash"] = f"Job “{missing[tpl]}” created from its template."
            st.session_state["_jobmap_select"] = job_slug
            st.rerun()


if not jobs:
    components.empty("This account has no job yet.", "Create one from a template: its job map starts with sensible coverage levels.")
    _new_job_form()
    paint.stop()

names = {j.slug: j.name for j in jobs}
wanted = st.session_state.pop("_jobmap_select", None)
if wanted in names:
    st.session_state["job"] = wanted
if not paint.charts_now() and "job" not in st.query_params:
    job_slug = jobs[0].slug  # the picker's first option, as a new session without ?job= gets it
    picker_as_text("Job", names[job_slug])
else:
    job_slug = st.selectbox("Job", list(names), format_func=lambda s: names[s], key="job", bind="query-params")
job = next(j for j in jobs if j.slug == job_slug)
steps = data.job_map(slug, job_slug)
stats = data.step_stats(slug, ctx.start, ctx.end, job_slug, as_of=ctx.as_of)
summ = data.summary(slug, ctx.start, ctx.end, job_slug, as_of=ctx.as_of)
coverage = data.configured_coverage(slug, job_slug)

counts = {lvl: sum(1 for s in steps if s.coverage == lvl) for lvl in COVERAGE_LEVELS}
components.kpi_row(
    [
        (
            "Configured coverage",
            fmt.share(coverage),
            f"{counts['automated']} automated · {counts['assisted']} assisted · {counts['manual']} manual",
            "(automated steps + ½ × assisted steps) / 8",
            "kpi_coverage",
        ),
        (
            "Outcomes",
            fmt.count(summ.outcomes),
            f"unit: {fmt.text(job.outcome_unit)} · in {ctx.range_label}",
            "One outcome is one " + fmt.text(job.outcome_unit) + ". Change the unit under “Edit this job map”.",
        ),
        (
            "Autonomous rate",
            summ.autonomous_rate.format(),
            f"{summ.autonomous:,} of {summ.closed:,} closed with no step by a person" if summ.closed else "no closed outcomes in the range",
        ),
        (
            "Escalation rate",
            summ.escalation_rate.format(),
            f"{summ.escalated:,} of {summ.closed:,} closed outcomes" if summ.closed else "no closed outcomes in the range",
        ),
    ]
)

st.caption(fmt.coverage_explained(counts["automated"], counts["assisted"], coverage))
paint.chart(lambda: charts.job_map(steps, stats, title=f"{job.name} — job map"), key="chart_jobmap",
            height=charts.JOB_MAP_HEIGHT)
if summ.outcomes == 0:
    st.caption(f"No outcomes of this job in {ctx.range_label}: observed AI shares and handoff rates show “—”.")

paint.rest(height=400)

weakest = data.weakest_step(slug, ctx.start, ctx.end, ctx.as_of, job_slug)
if weakest is not None:
    st.markdown(":material/front_hand: " + fmt.weakest_step_sentence(weakest, False))
by_step = {s.step: s for s in stats}
# The figures first and the free text last, so the numbers stay in view at 1280 px; the text wraps in its cell.
st.dataframe(
    [
        {
            "Step": fmt.step_title(s.step),
            "Coverage": theme.COVERAGE_SHORT.get(s.coverage, s.coverage),
            "Observed AI share": by_step[s.step].ai_share.format(),
            "Handoff rate": by_step[s.step].handoff_rate.format(),
            "Handoffs": by_step[s.step].handoffs,
            "Runs": by_step[s.step].runs,
            "What happens": s.description,
        }
        for s in steps
    ],
    hide_index=True,
    width="stretch",
    key="jobmap_table",
    column_config={
        "Step": st.column_config.TextColumn(width="small"),
        "Handoffs": st.column_config.NumberColumn(width="small"),
        "Runs": st.column_config.NumberColumn(width="small"),
        "What happens": st.column_config.TextColumn(width="medium"),
        "Coverage": st.column_config.TextColumn(width="small"),
        "Observed AI share": st.column_config.TextColumn(help="Runs of the step by the AI / runs of the step at all"),
        "Handoff rate": st.column_config.TextColumn(help="Outcomes handed to a person at this step / outcomes that reached it"),
    },
)

left, right = st.columns([3, 1])
if not ctx.account.can_edit:
    st.caption(":material/lock: Only an admin of this account can edit its job maps.")
    paint.stop()
with left:
    with st.expander("Edit this job map", icon=":material/edit:"):
        with st.form(f"edit_{job_slug}", border=False):
            c1, c2 = st.columns(2)
            name = c1.text_input("Job name", value=job.name, max_chars=200, key=f"name_{job_slug}")
            unit = c2.text_input(
                "Outcome unit", value=job.outcome_unit, max_chars=100, key=f"unit_{job_slug}", help="e.g. “resolved ticket”"
            )
            edits = {}
            for s in steps:
                a, b = st.columns([1, 3])
                level = a.selectbox(
                    fmt.step_title(s.step),
                    list(COVERAGE_LEVELS),
                    index=list(COVERAGE_LEVELS).index(s.coverage) if s.coverage in COVERAGE_LEVELS else 2,
                    format_func=lambda lv: theme.COVERAGE_SHORT[lv],
                    key=f"cov_{job_slug}_{s.step}",
                )
                text = b.text_area(
                    f"What happens at “{fmt.step_title(s.step)}”",
                    value=s.description,
                    max_chars=2000,
                    height=68,
                    key=f"desc_{job_slug}_{s.step}",
                )
                edits[s.step] = {"coverage": level, "description": text}
            saved = st.form_submit_button("Save job map", type="primary", icon=":material/save:", key=f"save_{job_slug}")
        if saved:
            try:
                data.save_job_map(slug, job_slug, name=name, outcome_unit=unit, steps=edits)
            except OverseerError as exc:
                st.error(f"Not saved: {fmt.text(exc)}")
            else:
                st.session_state["_jobmap_flash"] = "Job map saved. Every page now shows the new map."
                st.rerun()
with right:
    with st.expander("New job from a template", icon=":material/add:"):
        _new_job_form()
