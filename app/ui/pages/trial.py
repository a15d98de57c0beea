"""Trial (sales): how far a trial account is towards conversion, whether it is ready, and its first bill after it.

Figures come from :func:`app.store.trial.trial_status` through :func:`app.ui.data.trial_status`
(the billing engine prices the bills).
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from app.domain.plans import SEED_PLANS, PlanSpec
from app.ui import components, data, paint, theme
from app.ui import format as fmt
from app.ui.frame import require_account


def _target_share(target) -> str:
    return "no target set" if target is None else f"target {fmt.share(target)}"


ctx = require_account()
slug, acc = ctx.slug, ctx.account
as_of = ctx.as_of
st.title("Trial")
st.caption(f"**{fmt.text(acc.name)}** · the trial so far and the first bill after it · as of {fmt.moment(as_of)}")

sub, own = data.plan(slug)
choices: dict[str, PlanSpec | None] = {"own": None}
for key in ("hybrid", "freemium"):
    if SEED_PLANS[key] != own:
        choices[key] = SEED_PLANS[key]

status = data.trial_status(slug, as_of)
if not status.in_trial:
    if status.free_total == 0:
        st.info(f"{fmt.text(acc.name)} is on **{fmt.text(own.name)}**, which has no free allowance: there is no trial to follow.", icon=":material/info:")
    else:
        st.info(
            f"{fmt.text(acc.name)}'s trial is over: the paid plan has been active since **{fmt.day(status.activated_on)}**. "
            f"The figures below are those of its {fmt.plural(status.days_in_trial, 'day')} of trial.",
            icon=":material/info:",
        )
    trials = [t for t in data.trials(as_of) if t.activated_on is None and t.free_total]
    if trials:
        st.markdown("Accounts still in trial: " + ", ".join(f"**{fmt.text(t.name)}** ({t.free_used} of {t.free_total} free outcomes used)" for t in trials) + " — pick one in the sidebar.")
    if status.free_total == 0:
        paint.stop()

readiness = status.readiness
ready_text, ready_sentence = fmt.readiness(readiness)
components.kpi_row(
    [
        (
            "Free outcomes used",
            f"{status.free_used:,} of {status.free_total:,}" if status.free_total else fmt.DASH,
            (f"{status.allowance_used.format()} of the allowance · {status.free_remaining:,} left" if status.free_total else "no free allowance"),
            None,
            "trial_used",
        ),
        (
            "Days in trial",
            fmt.count(status.days_in_trial),
            f"since {fmt.day(status.started_on)}" + ("" if status.in_trial else f" · ended {fmt.day(status.activated_on)}"),
            "Day 1 is the subscription's first day; the trial ends the day the paid plan becomes active.",
            "trial_days",
        ),
        (
            "Free outcomes run out",
            fmt.day(status.runs_out_on),
            ("projected at the current pace" if status.in_trial else "the day the paid plan began")
            if status.runs_out_on
            else "not at the current pace this month",
            None,
            "trial_runs_out",
        ),
        (
            "Conversion readiness",
            ready_text,
            ready_sentence.split(": ", 1)[-1] if ": " in ready_sentence else "",
            "Completion rate and accuracy over the trial, against the account's targets (set on the Billing page). "
            "Ready only when each target set is met with its 95% interval clear of it.",
            "trial_ready",
        ),
    ]
)
if readiness.state in ("likely", "no targets"):
    st.warning(ready_sentence, icon=":material/rule:")
elif readiness.state == "ready":
    st.success(ready_sentence, icon=":material/verified:")

if status.free_total:
    st.progress(min(1.0, status.free_used / status.free_total), text=f"{status.free_used:,} of {status.free_total:,} free outcomes used")

left, right = st.columns(2)
with left:
    st.subheader("Against the targets")
    for check in status.checks:
        rate = check.rate
        if check.name == "Completion rate":
            sample = fmt.rate_with_sample(rate, "closed", "completed")
        else:
            sample = fmt.rate_with_sample(rate)
        interval = f" · {fmt.interval(rate)}" if check.name == "Accuracy" and rate.denominator else ""
        if check.met is None:
            mark, colour = "No target", theme.MUTED
        elif check.met:
            mark, colour = "Met", theme.STATUS_COLORS["completed"]
        else:
            mark, colour = "Below target", theme.STATUS_COLORS["failed"]
        with st.container(border=True):
            a, b = st.columns([3, 1])
            a.metric(check.name, rate.format(), help=None)
            a.caption(f"{sample}{interval} · {_target_share(check.target)}")
            b.markdown(components.badge(mark, colour), unsafe_allow_html=True)
            if check.met and check.confident is False:
                more = check.more_to_be_sure
                a.caption(
                    f":material/info: Met on a small sample: the 95% interval reaches down to {fmt.share(rate.wilson()[0])}. "
                    + (f"{more:,} more {'reviewed' if check.name == 'Accuracy' else 'closed'} outcomes at this rate would clear the target."
                       if more else "At exactly its target, more outcomes cannot make it surer.")
                )
    st.caption(f"Over the trial: {status.billable:,} billable outcomes, {status.pace:,.1f} a day.")

def _lines(inv, key: str) -> None:
    st.dataframe(
        [
            {"Line": ln.description, "Quantity": ln.quantity, "Unit price": str(ln.unit_price), "Amount": fmt.money(ln.amount, None)}
            for ln in inv.lines
        ]
        or [{"Line": "Nothing charged", "Quantity": 0, "Unit price": "0", "Amount": "0.00"}],
        hide_index=True,
        width="stretch",
        key=key,
    )


with right:
    if status.activation_invoice is not None:
        inv = status.activation_invoice
        st.subheader("The first bill on the paid plan")
        st.metric(fmt.month_name(inv.year, inv.month), fmt.money(inv.total, inv.currency))
        st.caption(
            f"The invoice of the month the paid plan began ({fmt.day(status.activated_on)})"
            + (", so far" if (inv.year, inv.month) == (as_of.year, as_of.month) else "")
            + f": {inv.billable:,} billable outcomes, {inv.free_used:,} of them free."
        )
        _lines(inv, "trial_activation_bill")
        paint.stop()
    st.subheader("The first bill after conversion")
    labels = {"own": f"Its plan — {own.name}"}
    labels.update({k: f"{SEED_PLANS[k].name}" for k in choices if k != "own"})
    target_key = st.selectbox("Plan it would move to", list(choices), format_func=lambda k: labels[k], key=f"trial_target_{slug}")
    first = data.trial_status(slug, as_of, target_key) if target_key != "own" else status
    inv = first.first_bill
    month = fmt.month_name(inv.year, inv.month)
    st.metric(f"{month}, the first full month", fmt.money(inv.total, inv.currency))
    free_used_first = next((ln.quantity for ln in inv.lines if ln.description == "Free outcomes"), 0)
    st.caption(
        f"{first.first_bill_outcomes:,} outcomes at the trial's pace of {first.pace:,.1f} a day, "
        f"on {fmt.text(first.target_plan.name)}" + (f" with {sub.seats} seats" if sub.seats else "")
        + f", converted by {fmt.day(date(inv.year, inv.month, 1))}"
        + (f"; the {free_used_first:,} free outcomes still left then are used first." if free_used_first else ".")
    )
    _lines(inv, "trial_first_bill")
    proj = status.this_month.projected
    if proj is not None:
        st.caption(
            f"This month ({fmt.month_name(as_of.year, as_of.month)}), on its own plan: "
            f"{fmt.money(status.this_month.total, status.this_month.currency)} so far, "
            f"{fmt.money(proj.total, status.this_month.currency)} projected "
            f"(80% range {fmt.money(proj.low, None)} – {fmt.money(proj.high, None)})."
        )
