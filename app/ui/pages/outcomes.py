"""Outcomes: the review queue, a filterable table with CSV export, and the detail of one outcome.

The view, the queue's kind and the table's filters are bound to the page address
(``bind="query-params"``, each as its picker shows it: ``status=Failed``), so a
copied link opens the same list; a value the page does not offer is ignored.
"""

from __future__ import annotations

import html

import streamlit as st

from app.domain.errors import OverseerError
from app.domain.stats import wilson_half_width
from app.domain.steps import STATUSES, STEPS, VERDICTS
from app.ui import components, data, theme
from app.ui import live, paint
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


def _figures():
    """What a review moves: the range's accuracy, this month's bill, and reviewer agreement."""
    summ = data.summary(slug, ctx.start, ctx.end, as_of=ctx.as_of)
    inv = data.invoice(slug, ctx.as_of.year, ctx.as_of.month, ctx.as_of)
    kappa = data.agreement(slug, ctx.start, ctx.end, as_of=ctx.as_of)
    return summ, inv, kappa


def _quality_strip(summ, inv, kappa) -> None:
    """The figures a review changes, so the overseer sees them move."""
    acc_rate = summ.accuracy
    plan_half = fmt.points(None if not acc_rate.denominator else wilson_half_width(acc_rate.value, acc_rate.denominator))
    components.kpi_row(
        [
            (
                "Accuracy",
                acc_rate.format(),
                (f"{plan_half} points · " if acc_rate.denominator else "") + fmt.rate_with_sample(acc_rate),
                fmt.ACCURACY_HELP + " " + (fmt.interval(acc_rate) + "." if acc_rate.denominator else ""),
                "kpi_accuracy",
            ),
            (
                "Review coverage",
                summ.review_coverage.format(),
                f"{summ.reviewed:,} reviewed of {summ.completed:,} completed" if summ.completed else "no completed outcomes",
                "Of the completed outcomes in the range, the share someone has reviewed. "
                "Escalated and failed outcomes are reviewed too, but do not count here.",
                "kpi_coverage",
            ),
            (
                "Agreement",
                kappa.format(),
                fmt.kappa_caption(kappa),
                fmt.KAPPA_HELP,
                "kpi_kappa",
            ),
            (
                "Billable",
                fmt.count(summ.billable),
                f"in {ctx.range_label}",
                "Completed outcomes in the range not reviewed incorrect: what the bill counts.",
                "kpi_billable",
            ),
            (
                # The currency in the label: five tiles share the row, and "730.00 USD" did not fit one.
                f"Bill so far, {inv.currency}",
                fmt.money(inv.total, None),
                fmt.month_name(ctx.as_of.year, ctx.as_of.month),
                "This month's invoice to date. An outcome reviewed incorrect is not billed, or is credited if it was.",
                "kpi_bill",
            ),
        ]
    )


def _why(row, second: bool) -> str:
    """Why the outcome is in the queue, and whether its verdict counts toward accuracy and the bill."""
    if second:
        return (
            ":material/group: **Second review.** Someone has reviewed this outcome; their verdict stays hidden until "
            "you give yours. Your verdict counts toward accuracy and the bill (the latest review is the one in force), "
            "and the two verdicts measure how far reviewers agree."
        )
    if row.status == "completed":
        return (
            ":material/fact_check: **In the accuracy sample.** Your verdict counts toward accuracy and the bill: "
            "an outcome marked incorrect is not billed, or is credited if it was."
        )
    label = theme.STATUS_LABELS.get(row.status, row.status).lower()
    return (
        f":material/school: **{theme.STATUS_LABELS.get(row.status, row.status)}: to learn why the AI gave up.** "
        f"A {label} outcome is never billed and is not part of accuracy: your verdict does not change either."
    )


def _summary_block(row) -> None:
    """What the AI did (as plain text, never Markdown or HTML) and the link to the source record."""
    st.markdown("**What the AI did**")
    if row.summary:
        lines = [fmt.text(line) for line in row.summary.splitlines()]
        st.markdown("  \n".join(lines), help=None)
    else:
        st.caption("No summary was imported for this outcome (add a `summary` column to the import).")
    if row.url:
        st.markdown(
            f'<a href="{html.escape(row.url, quote=True)}" target="_blank" rel="noopener noreferrer" '
            f'class="overseer-source-link">Open the source record ↗</a> '
            f'<span style="color:#5A6478;font-size:0.85rem">{fmt.text(row.url)}</span>',
            unsafe_allow_html=True,
        )


def _focus_verdicts(key: str, token: str, *, scroll: bool) -> None:
    """Put the keyboard focus on the verdict buttons of the item just opened (Streamlit cannot focus natively).

    A small script in the page itself (``st.html``, not iframed); ``token`` changes with the item, so the
    script runs again only when the item changes, not on every rerun. ``scroll`` brings the card into view,
    after a review or a skip; a page just opened keeps its figures in view.
    """
    st.html(
        f"""<span data-focus-token="{html.escape(token, quote=True)}" hidden></span><script>
(function () {{
  var tries = 0;
  function focus() {{
    var button = document.querySelector('.st-key-correct_{key} button');
    var card = document.querySelector('.st-key-card_{key}');
    if (button && card) {{
      button.focus({{preventScroll: true}});
      if ({"true" if scroll else "false"}) {{
        // The card's top, with the line above it (what the last review changed), comes into view.
        var above = card.parentElement.previousElementSibling || card;
        above.scrollIntoView({{block: 'start'}});
      }}
      return;
    }}
    if (tries++ < 40) setTimeout(focus, 50);
  }}
  focus();
}})();
</script>""",
        unsafe_allow_javascript=True,
        width="content",
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
        c1, c2, c3 = st.columns([1, 1, 1])
        correct = c1.form_submit_button(
            "Mark correct", icon=":material/check:", type="primary", width="stretch", key=f"correct_{key}"
        )
        incorrect = c2.form_submit_button("Mark incorrect", icon=":material/close:", width="stretch", key=f"incorrect_{key}")
        skip = c3.form_submit_button(
            "Skip", icon=":material/skip_next:", width="stretch", key=f"skip_{key}",
            help="Leave this outcome for someone else and open the next one.",
        ) if key == "queue" else False
    if skip:
        st.session_state.setdefault("_queue_skipped", []).append(row.pk)
        st.session_state["_queue_scroll"] = True
        data.release_claim(slug, row.pk, _reviewer())
        st.rerun()
    if correct or incorrect:
        verdict = "correct" if correct else "incorrect"
        before = _figures()
        try:
            blind = data.save_review(slug, row.job_slug, row.outcome_id, verdict, _reviewer(), comment or "")
        except OverseerError as exc:
            st.error(fmt.text(exc))
            return
        summ_b, inv_b, kappa_b = before
        st.session_state["_review_flash"] = (
            f"Outcome {fmt.text(row.outcome_id)} marked {verdict}" + (" (second review)" if blind else "") + ".",
            (summ_b.accuracy, inv_b.total, inv_b.currency, kappa_b),
        )
        st.session_state["_queue_scroll"] = True
        st.rerun()


def _reviewer() -> str:
    return data.reviewer_name(st.session_state.get("reviewer"))


def _detail(job_slug: str, outcome_id: str, key: str, *, second: bool = False, claim_note: str = "") -> None:
    det = data.outcome_detail(slug, job_slug, outcome_id)
    row = det.row
    with st.container(border=True, key=f"card_{key}"):
        badges = components.status_badge(row.status) + ("" if second else " " + components.verdict_badge(row.verdict))
        st.markdown(f"#### {fmt.text(row.outcome_id)} &nbsp; {badges}", unsafe_allow_html=True)
        st.caption(
            f"{fmt.text(det.job.name)} · started {fmt.moment(row.started_at)}"
            + (f" · closed {fmt.moment(row.completed_at)}" if row.completed_at else "")
            + (f" · handed to a person at **{fmt.step_title(row.handoff_step)}**" if row.handoff_step else "")
        )
        if key == "queue":
            st.markdown(_why(row, second))
        if claim_note:
            st.caption(claim_note)
        _summary_block(row)
        _review_form(row, key)
        st.markdown("**Step trail** — who performed each step of the job map")
        components.step_trail(row, det.steps)
        st.markdown("**Review history**")
        if second:
            st.caption(":material/visibility_off: Hidden until you give your verdict, so the two reviews stay independent.")
        elif det.reviews:
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


summ, inv, kappa = _figures()
_quality_strip(summ, inv, kappa)
paint.rest(height=600)

view = st.segmented_control(
    "View",
    ["Review queue", "All outcomes"],
    default="Review queue",
    key="view",
    bind="query-params",
    required=True,
    label_visibility="collapsed",
)


def _flash() -> None:
    """What the last review changed (set by the review form before its rerun), said where the eyes are."""
    flash = st.session_state.pop("_review_flash", None)
    if flash:
        said, (acc_before, bill_before, currency, kappa_before) = flash
        change = fmt.review_change(acc_before, summ.accuracy, bill_before, inv.total, currency, kappa_before, kappa)
        st.toast(said, icon=":material/check_circle:")
        st.success(f"{said} {change}.", icon=":material/check_circle:")


def _precision(plan) -> None:
    """Where accuracy's precision stands against the account's target, and how many reviews remain."""
    target = fmt.points(plan.target)
    now = fmt.points(plan.half_width)
    if plan.reviewed == 0:
        headline = f"**Accuracy precision:** nothing reviewed yet; target {target} points."
    else:
        headline = f"**Accuracy precision:** {now} points now, target {target}."
    if plan.remaining == 0:
        detail = "Reached: accuracy is as precise as the target asks." + (
            " One completed outcome stays in the queue while any is unreviewed." if plan.unreviewed else ""
        )
    elif plan.reachable:
        detail = (
            f"{fmt.plural(plan.remaining, 'more review')} of completed outcomes bring it within {target} points "
            f"(at the current accuracy); they are in the queue as the sample."
        )
    else:
        detail = (
            f"{fmt.plural(plan.remaining, 'more review')} would be needed, but the range has only "
            f"{fmt.plural(plan.unreviewed, 'unreviewed completed outcome')}: all of them are in the queue. "
            "Widen the date range, or set a wider precision target on the Billing page."
        )
    st.markdown(f"{headline} {detail}")
    done = min(plan.reviewed, plan.needed)
    st.progress(
        done / plan.needed if plan.needed else 1.0,
        text=f"{plan.reviewed:,} of {plan.needed:,} reviews needed for {target} points",
    )


def _taken_note(claim) -> str:
    return f"{fmt.text(claim.reviewer)} until {claim.expires_at:%H:%M} UTC"


if view == "Review queue":
    reviewer = _reviewer()
    counts = data.queue_counts(slug, ctx.start, ctx.end, as_of=ctx.as_of, reviewer=reviewer)
    with st.container(border=True, key="queue_plan"):
        _precision(counts.plan)
    st.markdown(
        f"**{counts.total:,} outcomes wait for a review** in {ctx.range_label}: "
        f"{counts.escalated:,} escalated, {counts.failed:,} failed, "
        f"{counts.sampled:,} completed in the accuracy sample"
        + (f", and {counts.second:,} waiting for a second reviewer." if counts.second else ".")
    )
    c1, c2 = st.columns([1, 1])
    kinds = {
        "All": None, "Escalated": "escalated", "Failed": "failed", "Completed (sample)": "completed",
        "Second reviews": "second",
    }
    kind_label = c1.selectbox(
        "Show", list(kinds), key="queue", bind="query-params",
        help="Which part of the queue to work through. Escalated and failed outcomes show why the AI gave up; "
        "the completed sample is what accuracy and the bill are judged on; second reviews measure agreement.",
    )
    if data.current_principal().local:
        c2.text_input("Reviewer", key="reviewer", value="overseer", help="Your name, saved with every review.")
    else:
        c2.caption(f"Reviews are saved as **{fmt.text(data.current_principal().email)}**.")
    reviewer = _reviewer()
    _flash()
    if counts.total == 0:
        components.empty(
            "Nothing to review in this range.",
            "Escalated and failed outcomes, and a sample of completed ones, land here until someone reviews them.",
            icon=":material/task_alt:",
        )
    else:
        kind = kinds[kind_label]
        skipped = tuple(st.session_state.get("_queue_skipped", ()))
        current = None
        if acc.can_edit:
            current = data.claim_next(slug, ctx.start, ctx.end, reviewer, kind=kind, as_of=ctx.as_of, skip=skipped)
        page = data.review_queue(slug, ctx.start, ctx.end, None, kind, QUEUE_PAGE, 0, ctx.as_of, reviewer)
        claims = data.live_claims(slug)
        if not page.rows:
            components.empty("Nothing of this kind waits for you.", "Pick another kind above.")
        elif current is None and acc.can_edit:
            components.empty(
                "Every outcome waiting here is open in another reviewer's hands (or skipped).",
                "Claims last 5 minutes: try again shortly, or pick another kind above.",
                icon=":material/group:",
            )
        else:
            row = current or page.rows[0]
            second = row.verdict != "unreviewed" and row.status == "completed"
            note = ""
            if current is not None:
                note = (
                    f":material/lock_clock: Open for you until {claims[row.pk].expires_at:%H:%M} UTC: "
                    "other reviewers skip it meanwhile."
                    if row.pk in claims else ""
                )
            _detail(row.job_slug, row.outcome_id, "queue", second=second, claim_note=note)
            if current is not None:
                _focus_verdicts("queue", f"{row.pk}:{len(skipped)}", scroll=st.session_state.pop("_queue_scroll", False))
        if page.rows:
            with st.expander(f"Next in the queue ({len(page.rows)} of {page.total:,} shown)"):
                table = _rows_table(page.rows)
                for item, r in zip(table, page.rows):
                    claim = claims.get(r.pk)
                    item["Taken by"] = "" if claim is None else f"{claim.reviewer} until {claim.expires_at:%H:%M} UTC"
                    if r.verdict != "unreviewed":
                        item["Verdict"] = "Hidden (second review)"
                st.dataframe(table, hide_index=True, width="stretch")
else:
    _flash()
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
    flt = data.OutcomeFilter(
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
