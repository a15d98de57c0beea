"""Billing: the free allowance, this month's invoice and the bill to come, history, plan, budget and targets."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import streamlit as st

from app.domain.errors import OverseerError
from app.domain.plans import MAX_SEATS, SEED_PLANS, StoredPlanError
from app.ui import charts, components, data
from app.ui import live, paint
from app.ui import format as fmt
from app.ui.frame import page_header, require_account



def _plan_form() -> None:
    """An admin's plan change: a seed plan or the plan's JSON, and seats; every month shown is re-rated."""
    current = json.dumps(spec.to_json(), indent=2)
    seeds = {key: plan for key, plan in SEED_PLANS.items() if plan.currency == cur}
    choice = st.selectbox(
        "Start from",
        [None, *seeds],
        format_func=lambda k: "The current plan" if k is None else f"{seeds[k].name} (seed plan)",
        key="plan_start",
    )
    with st.form("plan_change", border=False):
        text = st.text_area(
            "Plan (JSON, as in SPEC)",
            value=current if choice is None else json.dumps(seeds[choice].to_json(), indent=2),
            height=260,
            key=f"plan_json_{choice}",
            help="Free outcomes, base fee, included outcomes, price per outcome or tiers, seat and task prices.",
        )
        seats = st.number_input("Seats", min_value=0, max_value=MAX_SEATS, value=int(sub.seats), step=1, key="plan_seats")
        nxt = (as_of.year + 1, 1) if as_of.month == 12 else (as_of.year, as_of.month + 1)
        when = st.radio(
            "Takes effect",
            ["now", nxt],
            format_func=lambda w: "Now (this month is billed in two periods)" if w == "now"
            else f"On 1 {fmt.month_name(*w)}",
            key="plan_when",
            horizontal=True,
        )
        sure = st.checkbox(
            "Change the plan (months already billed keep the plan they were billed with)", key="plan_sure"
        )
        if st.form_submit_button("Change the plan", type="primary", key="plan_save"):
            if not sure:
                st.error("Not changed: tick the box to confirm the change.")
                return
            try:
                new = data.change_plan(slug, text, int(seats), effective=None if when == "now" else when)
            except OverseerError as exc:
                st.error(f"Not changed: {fmt.text(exc)}")
            else:
                st.session_state["_billing_flash"] = (
                    f"The account is now on {fmt.text(new.name)}." if when == "now"
                    else f"The account moves to {fmt.text(new.name)} on 1 {fmt.month_name(*when)}."
                )
                st.rerun()


def _closing_section() -> None:
    """When months close, and (admins) the grace period and closing a month early."""
    st.subheader("Closing months")
    st.caption(
        f"A month's invoice is a draft until {acc.grace_days} days after the month ends; then it is final and never "
        "changes. Outcomes or reviews that arrive for a closed month are billed in the first open month."
    )
    if not acc.can_edit:
        return
    with st.expander("Grace period and closing early", icon=":material/lock_clock:"):
        with st.form("grace", border=False):
            days = st.number_input("Grace period (days after the month ends)", min_value=0, max_value=30,
                                   value=int(acc.grace_days), step=1, key="grace_days")
            if st.form_submit_button("Save the grace period", key="grace_save"):
                try:
                    data.save_grace_days(slug, int(days))
                except OverseerError as exc:
                    st.error(f"Not saved: {fmt.text(exc)}")
                else:
                    st.session_state["_billing_flash"] = f"Months now close {int(days)} days after they end."
                    st.rerun()
        open_year, open_month = status.first_open
        ended = []
        y, m = open_year, open_month
        while (y, m) < (as_of.year, as_of.month):
            ended.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        if not ended:
            st.caption(f"No month can close yet: {fmt.month_name(as_of.year, as_of.month)} has not ended.")
            return
        with st.form("close_months", border=False):
            through = st.selectbox(
                "Close every open month through", list(reversed(ended)), format_func=lambda ym: fmt.month_name(*ym),
                key="close_through",
            )
            sure = st.checkbox("Make these invoices final now: they will never change again", key="close_sure")
            if st.form_submit_button("Close months", type="primary", key="close_save"):
                if not sure:
                    st.error("Not closed: tick the box to confirm.")
                    return
                try:
                    numbers = data.close_months(slug, *through)
                except OverseerError as exc:
                    st.error(f"Not closed: {fmt.text(exc)}")
                else:
                    st.session_state["_billing_flash"] = "Final: " + ", ".join(fmt.text(n) for n in numbers) + "."
                    st.rerun()


ctx = require_account()
slug, acc = ctx.slug, ctx.account
as_of = ctx.as_of
page_header("Billing", ctx, "billing runs by calendar month (UTC); the date range does not apply here")
live.watch()  # the "Live" mark: new data redraws the page without a reload

flash = st.session_state.pop("_billing_flash", None)
if flash:
    st.toast(flash, icon=":material/check_circle:")
    st.success(flash)

try:
    sub, spec = data.plan(slug)
except StoredPlanError as exc:
    # A plan stored before today's bounds: nothing can be billed, but an admin must be able to replace it.
    st.error(fmt.text(str(exc)), icon=":material/error:")
    sub, spec = data.plan(slug, check=False)
    cur = acc.currency
    if acc.can_edit:
        with st.expander("Change the plan", icon=":material/swap_horiz:", expanded=True):
            _plan_form()
    else:
        st.caption(":material/lock: Only an admin of this account can change the plan.")
    paint.stop()
state = data.billing_state(slug, as_of)
inv = data.invoice(slug, as_of.year, as_of.month, as_of)
proj = inv.projected
cur = inv.currency
month = fmt.month_name(as_of.year, as_of.month)

if state.activated_on is not None:
    how = {"allowance": "when the free allowance ran out", "conversion": "on conversion", "plan": "from the first day"}.get(
        state.activated_by or "", ""
    )
    plan_value, plan_caption = fmt.day(state.activated_on), how
else:
    plan_value, plan_caption = "Not yet", "free trial: nothing is owed until the allowance runs out"

components.kpi_row(
    [
        ("Bill so far", fmt.money(inv.total, cur), f"{month} · {inv.billable:,} billable outcomes", None, "kpi_bill"),
        (
            "Projected bill",
            fmt.money(proj.total, cur) if proj else fmt.DASH,
            f"80% range {fmt.money(proj.low, cur)} – {fmt.money(proj.high, cur)}" if proj else "",
            "At the pace of billable outcomes over the last 14 days (or since the subscription began), "
            f"priced with the same rules. {fmt.RANGE_MEANING}",
        ),
        (
            "Free outcomes left",
            fmt.count(state.free_remaining) if state.free_total else fmt.DASH,
            f"{state.free_used:,} of {state.free_total:,} used" if state.free_total else "no free allowance on this plan",
        ),
        ("Paid plan active since", plan_value, plan_caption),
    ]
)

paint.rest(height=600)

if state.free_total:
    g, b = st.columns([1, 2])
    with g:
        paint.chart(lambda: charts.allowance_gauge(state.free_used, state.free_total), key="chart_gauge",
                    height=charts.BILLING_HEIGHT)
    with b:
        burn = data.allowance_burndown(slug, as_of)
        if len(burn) and state.free_remaining == 0 and state.activated_by == "allowance" and state.activated_on:
            # Used up: show how fast it went, not months of a flat line at zero.
            burn = burn[[d <= state.activated_on + timedelta(days=7) for d in burn["day"]]]
        if len(burn):
            paint.chart(
                lambda: charts.allowance_burndown(burn, state.free_total, proj.allowance_runs_out if proj else None, as_of.date()),
                key="chart_burndown",
                height=charts.BILLING_HEIGHT,
            )
        else:
            components.empty("The subscription has not started yet.")
        if proj and proj.allowance_runs_out and state.free_remaining:
            st.caption(f"At the current pace the free allowance runs out on **{fmt.day(proj.allowance_runs_out)}**.")
        elif state.free_remaining == 0 and state.activated_by == "allowance" and state.activated_on:
            st.caption(f"The {state.free_total:,} free outcomes were used up on **{fmt.day(state.activated_on)}**.")

early, sub_start = data.completed_before_subscription(slug, as_of)
if early:
    st.info(
        f"{fmt.plural(early, 'outcome')} completed before the subscription started on **{fmt.day(sub_start)}** "
        f"{'is' if early == 1 else 'are'} stored and shown on the other pages, but never billed: "
        "billing counts from the subscription's first day.",
        icon=":material/history:",
    )

st.subheader(f"Invoice · {month} (to date)")
status = data.month_status(slug, as_of)
first_open = fmt.month_name(*status.first_open)
if status.waiting_for_admin:
    st.warning(
        f"**{first_open}** ended before this account came to Overseer, so it and the months after it stay "
        "drafts until an admin closes them (below, under *Closing months*): their history may still be arriving.",
        icon=":material/pending_actions:",
    )
elif status.first_open == (as_of.year, as_of.month):
    st.caption(
        f":material/edit_note: Draft: it may still change until it closes by itself on "
        f"**{fmt.day(status.closes_at.date())} at {status.closes_at:%H:%M} UTC**, {acc.grace_days} days after the month ends."
    )
else:
    st.caption(
        f":material/edit_note: Draft. {first_open} is still open too and closes on "
        f"**{fmt.day(status.closes_at.date())} at {status.closes_at:%H:%M} UTC**; "
        "changes to closed months are billed in it."
    )
for late in inv.late:
    st.caption(
        f":material/schedule: Holds {late.outcomes:,} late outcomes of {fmt.month_name(late.year, late.month)}, "
        "which had closed when they arrived."
    )
if inv.lines:
    st.dataframe(components.invoice_rows(inv.lines, inv.total, cur), hide_index=True, width="stretch", key="invoice_lines")
else:
    st.caption(f"Nothing owed for {month} so far: total {fmt.money(inv.total, cur)}.")
if state.free_total:
    st.caption(f"Free outcomes used so far: {inv.free_used:,} of {state.free_total:,} · remaining: {inv.free_remaining:,}")
if proj:
    st.subheader(f"Projected bill · {month} (whole month)")
    st.markdown(
        f"**{fmt.money(proj.total, cur)}** for about **{proj.outcomes:,}** billable outcomes, "
        f"priced line by line as the invoice will be:"
    )
    st.dataframe(
        components.invoice_rows(proj.lines, proj.total, cur, total_label="Projected total"),
        hide_index=True, width="stretch", key="projected_lines",
    )
    st.markdown(fmt.projection_range(proj, cur))
    st.caption(fmt.RANGE_MEANING)

history = data.invoice_history(slug, as_of)
if history:
    # One picker and one button for every month (newest first, the current one by default) keeps the page light:
    # the PDF is made only when the button is clicked.
    by_month = {(i.year, i.month): i for i in history}

    def _pdf_label(key: tuple[int, int]) -> str:
        i = by_month[key]
        if i.status == "final":
            return f"{fmt.month_name(*key)} · final · {i.number}"
        return f"{fmt.month_name(*key)} · draft" + (" (to date)" if i.projected is not None else "")

    pick, button = st.columns([3, 1], vertical_alignment="bottom")
    with pick:
        chosen = st.selectbox("Invoice as PDF", list(reversed(by_month)), format_func=_pdf_label, key="pdf_month")
    with button:
        st.download_button(
            "Download PDF",
            data=data.invoice_pdf(slug, chosen[0], chosen[1], as_of),
            file_name=data.invoice_pdf_name(slug, by_month[chosen]),
            mime="application/pdf",
            icon=":material/picture_as_pdf:",
            on_click="ignore",
            key="invoice_pdf",
            width="stretch",
            help="A draft says on it that it may still change until its month closes; a final invoice never changes.",
        )

st.subheader("Invoice history")
if not history:
    components.empty("No invoices yet: the subscription starts later.")
else:
    paint.chart(lambda: charts.invoice_history(history, cur), key="chart_history", height=charts.BILLING_HEIGHT)
    st.dataframe(
        [
            {
                # The money first and the long status last: on a phone the first columns are what shows.
                "Month": fmt.month_name(i.year, i.month) + (" (to date)" if i.projected is not None else ""),
                "Total": fmt.money(i.total, cur),
                "Billable outcomes": i.billable,
                "Free outcomes used": i.free_used,
                "Status": f"Final · {i.number}" if i.status == "final" else "Draft",
            }
            for i in reversed(history)
        ],
        hide_index=True,
        width="stretch",
    )

left, right = st.columns(2)
with left:
    st.subheader("Plan")
    rows = [("Plan", fmt.text(spec.name)), ("Currency", spec.currency), ("Subscribed since", fmt.day(sub.started_on))]
    if spec.free_outcomes:
        rows.append(("Free outcomes (once)", f"{spec.free_outcomes:,}"))
    if spec.base_fee:
        rows.append(("Base fee per month", fmt.money(spec.base_fee, cur)))
    if spec.included_outcomes:
        rows.append(("Outcomes included per month", f"{spec.included_outcomes:,}"))
    if spec.tiers:
        for i, t in enumerate(spec.tiers, start=1):
            upto = f"up to {t.up_to:,}" if t.up_to is not None else "beyond"
            rows.append(
                (f"Tier {i} ({upto}, {spec.tiers_mode})", f"{fmt.money(t.unit_price, cur)} per outcome"
                 + (f" + {fmt.money(t.flat_fee, cur)} flat" if t.flat_fee else ""))
            )
    elif spec.outcome_price:
        rows.append(("Price per outcome beyond those", fmt.money(spec.outcome_price, cur)))
    if spec.seat_price:
        rows.append(("Price per seat per month", f"{fmt.money(spec.seat_price, cur)} × {sub.seats} seats"))
    if spec.task_price:
        rows.append(("Price per task", fmt.money(spec.task_price, cur)))
    if sub.converted_on:
        rows.append(("Converted on", fmt.day(sub.converted_on)))
    history = data.plan_history(slug)
    coming = [p for p in history if p.effective_at > as_of]
    if coming:
        rows.append(("Changes to", f"{fmt.text(coming[-1].plan.name)} on {fmt.day(coming[-1].effective_at.date())}"))
    cells = [(k, str(v).replace("|", "\\|")) for k, v in rows]
    st.markdown("\n".join(["| Term | |", "|---|---|", *(f"| {k} | **{v}** |" for k, v in cells)]))
    if len(history) > 1:
        st.caption("Plan history: " + " → ".join(
            f"{fmt.text(p.plan.name)} from {fmt.day(p.effective_at.date())}" for p in history
        ))
    if acc.can_edit:
        with st.expander("Change the plan", icon=":material/swap_horiz:"):
            _plan_form()

    _closing_section()

with right:
    st.subheader("Budget and targets")
    st.caption("Alerts fire when the projected bill passes the budget, or quality falls below a target. Leave a field empty for none.")
    if not acc.can_edit:
        st.caption(":material/lock: Only an admin of this account can change these.")
    with st.form("settings", border=True):
        budget = st.number_input(
            f"Monthly budget ({cur})",
            min_value=0.0,
            value=None if acc.monthly_budget is None else float(acc.monthly_budget),
            step=10.0,
            format="%.2f",
            key="set_budget",
            disabled=not acc.can_edit,
            placeholder="no budget",
        )
        completion = st.number_input(
            "Completion rate target (%)",
            min_value=0.0,
            max_value=100.0,
            value=None if acc.target_completion_rate is None else float(acc.target_completion_rate) * 100,
            step=0.5,
            format="%.1f",
            key="set_completion",
            disabled=not acc.can_edit,
            placeholder="no target",
        )
        accuracy = st.number_input(
            "Accuracy target (%)",
            min_value=0.0,
            max_value=100.0,
            value=None if acc.target_accuracy is None else float(acc.target_accuracy) * 100,
            step=0.5,
            format="%.1f",
            key="set_accuracy",
            disabled=not acc.can_edit,
            placeholder="no target",
        )
        precision = st.number_input(
            "Accuracy precision target (± points)",
            min_value=0.5,
            max_value=50.0,
            value=float(acc.target_precision) * 100,
            step=0.5,
            format="%.1f",
            key="set_precision",
            disabled=not acc.can_edit,
            help="How sure the accuracy figure must be: the review queue asks for enough completed outcomes that "
            "accuracy's 95% Wilson interval is no wider than this either side (±5 points: 90% means 85%–95%). "
            "A smaller number needs more reviews.",
        )
        second = st.number_input(
            "Second reviews (% of reviewed outcomes)",
            min_value=0.0,
            max_value=100.0,
            value=float(acc.second_review_share) * 100,
            step=1.0,
            format="%.0f",
            key="set_second_share",
            disabled=not acc.can_edit,
            help="This share of the completed outcomes someone reviewed goes back to the queue for a second person, "
            "who does not see the first verdict; their agreement (Cohen's kappa) shows on the Outcomes page. 0 turns it off.",
        )
        if st.form_submit_button("Save budget and targets", type="primary", key="save_settings", disabled=not acc.can_edit):
            try:
                data.save_account_settings(
                    slug,
                    monthly_budget=None if budget is None else Decimal(f"{budget:.2f}"),
                    target_completion_rate=None if completion is None else Decimal(f"{completion:.1f}") / 100,
                    target_accuracy=None if accuracy is None else Decimal(f"{accuracy:.1f}") / 100,
                    target_precision=None if precision is None else Decimal(f"{precision:.1f}") / 100,
                    second_review_share=None if second is None else Decimal(f"{second:.0f}") / 100,
                )
            except OverseerError as exc:
                st.error(f"Not saved: {fmt.text(exc)}")
            else:
                st.session_state["_billing_flash"] = "Budget and targets saved."
                st.rerun()
