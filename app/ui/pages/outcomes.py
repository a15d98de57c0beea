"""Outcomes: the review queue, a filterable table with CSV export, and the detail of one outcome.

The view, the queue's kind and the table's filters are bound to the page address
(``bind="query-params"``, each as its picker shows it: ``status=Failed``), so a
copied link opens the same list; a value the page does not offer is ignored.
"""

from __future__ import annotations

import streamlit as st

from app.domain.errors import OverseerError
from app.domain.steps import STATUSES, STEPS, VERDICTS
from app.store.outcomes import OutcomeFilter
from app.ui import components, data, theme
from app.ui import live
from app.ui import format as fmt
from app.ui.frame import page_header, require_account

PAGE_SIZE = 50
QUEUE_PAGE = 25

ctx = require_account()
slug, acc = ctx.slug, ctx.account
page_header("Outcomes", ctx)
live.watch()  # the "Live" mark: new data redraws the page without a reload

jobs = data.jobs(slug)
job_names = {j.slug: j.name for j in jobs}


def _quality_strip() -> None:
    """The figures a review changes, so the overseer sees them move."""
    summ = data.summary(slug, ctx.start, ctx.end, as_of=ctx.as_of)
    inv = data.invoice(slug, ctx.as_of.year, ctx.as_of.month, ctx.as_of)
    components.kpi_row(
        [
            (
                "Accuracy",
                summ.accuracy.format(),
                (fmt.interval(summ.accuracy) + " · " if summ.accuracy.denominator else "") + fmt.rate_with_sample(summ.accuracy),
                "Correct / reviewed, among completed outcomes in the range.",
                "kpi_accuracy",
            ),
            (
                "Review coverage",
                summ.review_coverage.format(),
                f"{summ.reviewed:,} of {summ.completed:,} completed outcomes reviewed" if summ.completed else "no completed outcomes",
            ),
            (
                "Billable outcomes",
                fmt.count(summ.billable),
                f"in {ctx.range_label}",
                "Completed and not reviewed incorrect.",
                "kpi_billable",
            ),
            (
                "Bill so far",
                fmt.money(inv.total, inv.currency),
                fmt.month_name(ctx.as_of.year, ctx.as_of.month),
                "An outcome reviewed incorrect is not billed (or is credited if it was).",
                "kpi_bill",
            ),
        ]
    )


def _review_form(row, key: str) -> None:
    """Mark an outcome correct or incorrect, with a comment."""
    if row.status == "open":
        st.caption("This outcome is still open: it can be reviewed once it is closed.")
        return
    if not acc.can_edit:
        st.caption(":material/lock: Only an admin of this account can review its outcomes.")
        return
    with st.form(key=f"review_{key}", clear_on_submit=True, border=False):
        comment = st.text_input(
            "Comment (optional)",
            key=f"comment_{key}",
            placeholder="What was right or wrong?",
            max_chars=5000,
        )
        c1, c2, _ = st.columns([1, 1, 3])
        correct = c1.form_submit_button(
            "Mark correct", icon=":material/check:", type="primary", width="stretch", key=f"correct_{key}"
        )
        incorrect = c2.form_submit_button("Mark incorrect", icon=":material/close:", width="stretch", key=f"incorrect_{key}")
    if correct or incorrect:
        verdict = "correct" if correct else "incorrect"
        reviewer = (st.session_state.get("reviewer") or "").strip() or "overseer"
        try:
            data.save_review(slug, row.job_slug, row.outcome_id, verdict, reviewer, comment or "")
        except OverseerError as exc:
            st.error(fmt.text(exc))
            return
        st.session_state["_review_flash"] = f"Outcome {fmt.text(row.outcome_id)} marked {verdict}."
        st.rerun()


def _detail(job_slug: str, outcome_id: str, key: str) -> None:
    det = data.outcome_detail(slug, job_slug, outcome_id)
    row = det.row
    with st.container(border=True):
        st.markdown(
            f"#### {fmt.text(row.outcome_id)} &nbsp; {components.status_badge(row.status)} {components.verdict_badge(row.verdict)}",
            unsafe_allow_html=True,
        )
        st.caption(
            f"{fmt.text(det.job.name)} · started {fmt.moment(row.started_at)}"
            + (f" · closed {fmt.moment(row.completed_at)}" if row.completed_at else "")
            + (f" · handed to a person at **{fmt.step_title(row.handoff_step)}**" if row.handoff_step else "")
        )
        st.markdown("**Step trail** — who performed each step of the job map")
        components.step_trail(row, det.steps)
        st.markdown("**Review history**")
        if det.reviews:
            st.dataframe(
                [
                    {
                        "When": fmt.moment(r.reviewed_at),
                        "Reviewer": r.reviewer,
                        "Verdict": theme.VERDICT_LABELS.get(r.verdict, r.verdict),
                        "Comment": r.comment,
                    }
                    for r in det.reviews
                ],
                hide_index=True,
                width="stretch",
            )
        else:
            st.caption("Not reviewed yet.")
        _review_form(row, key)


def _rows_table(rows) -> list[dict]:
    return [
        {
            "Outcome": r.outcome_id,
            "Job": job_names.get(r.job_slug, r.job_slug),
            "Status": theme.STATUS_LABELS.get(r.status, r.status),
            "Verdict": theme.VERDICT_LABELS.get(r.verdict, r.verdict),
            "Date": r.day,
            "Handoff step": fmt.step_title(r.handoff_step) if r.handoff_step else "",
            "Steps by AI": f"{r.performed_by_ai} of {len(STEPS)}",
        }
        for r in rows
    ]


def _label(r) -> str:
    return f"{r.outcome_id} · {theme.STATUS_LABELS.get(r.status, r.status)} · {fmt.day(r.day)}"


flash = st.session_state.pop("_review_flash", None)
if flash:
    st.toast(flash, icon=":material/check_circle:")
    st.success(flash)

_quality_strip()

view = st.segmented_control(
    "View",
    ["Review queue", "All outcomes"],
    default="Review queue",
    key="view",
    bind="query-params",
    required=True,
    label_visibility="collapsed",
)

if view == "Review queue":
    counts = data.queue_counts(slug, ctx.start, ctx.end, as_of=ctx.as_of)
    st.markdown(
        f"**{counts.total:,} outcomes wait for a review** in {ctx.range_label}: "
        f"{counts.escalated:,} escalated, {counts.failed:,} failed, and {counts.sampled:,} completed ones picked as a sample."
    )
    if counts.total == 0:
        components.empty(
            "Nothing to review in this range.",
            "Escalated and failed outcomes, and a sample of completed ones, land here until someone reviews them.",
            icon=":material/task_alt:",
        )
    else:
        c1, c2, c3 = st.columns([2, 2, 2])
        kinds = {"All": None, "Escalated": "escalated", "Failed": "failed", "Completed (sample)": "completed"}
        kind_label = c1.selectbox("Show", list(kinds), key="queue", bind="query-params")
        if data.current_principal().local:
            c2.text_input("Reviewer", key="reviewer", value="overseer", help="Your name, saved with every review.")
        else:
            c2.caption(f"Reviews are saved as **{fmt.text(data.current_principal().email)}**.")
        page = data.review_queue(slug, ctx.start, ctx.end, None, kinds[kind_label], QUEUE_PAGE, 0, ctx.as_of)
        if not page.rows:
            components.empty("Nothing of this kind waits for a review.", "Pick another kind above.")
        else:
            labels = {f"{r.job_slug}|{r.outcome_id}": r for r in page.rows}
            pick = c3.selectbox(
                f"Outcome ({len(page.rows)} of {page.total:,} shown)",
                list(labels),
                format_func=lambda k: _label(labels[k]),
                key="queue_pick",
            )
            row = labels.get(pick) or page.rows[0]
            _detail(row.job_slug, row.outcome_id, "queue")
            with st.expander(f"Next in the queue ({len(page.rows)} shown)"):
                st.dataframe(_rows_table(page.rows), hide_index=True, width="stretch")
else:
    with st.container(border=True):
        f1, f2, f3, f4, f5 = st.columns([2, 2, 2, 2, 2])
        statuses = f1.multiselect(
            "Status", list(STATUSES), format_func=lambda s: theme.STATUS_LABELS[s], key="status", bind="query-params",
            placeholder="Any",
        )
        verdicts = f2.multiselect(
            "Verdict", list(VERDICTS), format_func=lambda v: theme.VERDICT_LABELS[v], key="verdict", bind="query-params",
            placeholder="Any",
        )
        job = f3.selectbox(
            "Job", [None, *job_names], format_func=lambda j: "Any job" if j is None else job_names[j], key="filter_job",
            bind="query-params",
        )
        handoff = f4.selectbox(
            "Handoff step", [None, *STEPS], format_func=lambda s: "Any" if s is None else fmt.step_title(s), key="handoff",
            bind="query-params",
        )
        search = f5.text_input("Outcome id contains", key="q", bind="query-params", placeholder="e.g. T-1042")
    flt = OutcomeFilter(
        start=ctx.start,
        end=ctx.end,
        statuses=tuple(statuses),
        verdicts=tuple(verdicts),
        job_slug=job,
        handoff_step=handoff,
        search=search or "",
    )
    total = data.outcome_status_counts(slug, flt, ctx.as_of)
    n = sum(total.values())
    if n == 0:
        components.empty(
            f"No outcome matches these filters in {ctx.range_label}.",
            "Clear a filter, or widen the date range in the sidebar.",
            icon=":material/filter_alt_off:",
        )
    else:
        pages = (n + PAGE_SIZE - 1) // PAGE_SIZE
        top = st.columns([3, 1, 1])
        top[0].markdown(
            f"**{fmt.plural(n, 'outcome')}** · "
            + " · ".join(f"{total[s]:,} {theme.STATUS_LABELS[s].lower()}" for s in STATUSES if total[s])
        )
        page_no = top[1].number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1, step=1, key="f_page")
        top[2].download_button(
            "Export CSV",
            data=data.export_csv(slug, flt, ctx.as_of),
            file_name=f"outcomes-{slug}-{ctx.start.isoformat()}-{ctx.end.isoformat()}.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            help="Every outcome matching the filters (not only this page). Cells a spreadsheet would run as a formula are prefixed with an apostrophe.",
            key="export",
        )
        page = data.outcomes_page(slug, flt, PAGE_SIZE, (int(page_no) - 1) * PAGE_SIZE, ctx.as_of)
        event = st.dataframe(
            _rows_table(page.rows),
            hide_index=True,
            width="stretch",
            on_select="rerun",
            selection_mode="single-row",
            key="outcome_table",
            column_config={"Date": st.column_config.DateColumn("Date", format="D MMM YYYY", help="Completed on, or started on while open (UTC)")},
        )
        labels = {f"{r.job_slug}|{r.outcome_id}": r for r in page.rows}
        selected = [i for i in (event.selection.rows if event else []) if i < len(page.rows)]
        pick = st.selectbox(
            "Open an outcome",
            list(labels),
            format_func=lambda k: _label(labels[k]),
            key="detail_pick",
            index=None,
            placeholder="Click a row above, or pick an outcome of this page, to see its steps and reviews",
        )
        chosen = page.rows[selected[0]] if selected else (labels[pick] if pick in labels else None)
        if chosen is not None:
            _detail(chosen.job_slug, chosen.outcome_id, "detail")
