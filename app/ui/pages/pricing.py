"""Pricing simulator (sales): the prospect's monthly cost under four pricing models, side by side.

Every amount is :func:`app.domain.simulator.compare`'s, which quotes each plan
with the billing engine (``overseer quote``), cached by :func:`app.ui.data.price_comparison`;
the page only lays it out.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import plotly.graph_objects as go
import streamlit as st

from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS, PlanSpec, parse_plan
from app.domain.simulator import MAX_VOLUME, Comparison
from app.ui import components, data, paint, theme
from app.ui import format as fmt
from app.ui.frame import context

CHART_HEIGHT = 420
ORDER = ("seat", "usage", "freemium", "hybrid")
COLORS = {"seat": "#8A94A6", "usage": "#E8A33D", "freemium": "#2F5BEA", "hybrid": "#2E9E6B", "custom": "#9B51E0"}
MODEL = {
    "seat": "Seat-based",
    "usage": "Usage-based",
    "freemium": "Outcome-based freemium",
    "hybrid": "Hybrid",
}
SHORT = {"seat": "Seat-based", "usage": "Usage-based", "freemium": "Freemium", "hybrid": "Hybrid"}
# The fields a seller edits for each model, as (plan field, label, kind, help).
FIELDS = {
    "seat": (("seat_price", "Price per seat", "money", "Charged for every seat, each month."),),
    "usage": (("task_price", "Price per task", "money", "A task is any outcome started, whatever its status."),),
    "freemium": (
        ("free_outcomes", "Free outcomes", "count", "One-time allowance during the trial; the simulator prices a month after it."),
        ("base_fee", "Base fee per month", "money", None),
        ("outcome_price", "Price per outcome", "money", None),
    ),
    "hybrid": (
        ("base_fee", "Base fee per month", "money", None),
        ("included_outcomes", "Outcomes included", "count", "Outcomes covered by the base fee each month."),
        ("outcome_price", "Price per outcome beyond", "money", None),
    ),
}


def _plan_editor(key: str) -> PlanSpec:
    """The inputs of one plan; raises OverseerError naming the broken rule."""
    seed = SEED_PLANS[key].to_json()
    values = dict(seed)
    for field, label, kind, help_text in FIELDS[key]:
        wkey = f"sim_{key}_{field}"
        if kind == "count":
            values[field] = int(st.number_input(label, min_value=0, max_value=1_000_000, value=int(seed[field]), step=1, key=wkey, help=help_text))
        else:
            text = st.text_input(label, value=str(Decimal(seed[field]).quantize(Decimal("0.01"))), key=wkey, help=help_text)
            values[field] = text.strip()
    try:
        return parse_plan(values)
    except OverseerError as exc:
        raise OverseerError(f"{MODEL[key]}: {exc}") from None


def _prefill(ctx) -> tuple[int, int, Decimal, str]:
    """Volume, seats and tasks per outcome from the account's last 30 days, and where they came from."""
    slug = ctx.account.slug if ctx.account is not None else None
    if slug is None:
        return 300, 5, Decimal("1.10"), "Example volumes; load the demo or pick an account to start from its figures."
    today = ctx.as_of.date()
    summ = data.summary(slug, today - timedelta(days=29), today, as_of=ctx.as_of)
    sub, _spec = data.plan(slug)
    seats = sub.seats or 5
    if summ.billable == 0:
        return 300, seats, Decimal("1.10"), f"{fmt.text(ctx.account.name)} has no billable outcomes in the last 30 days: example volumes."
    tpo = (Decimal(summ.tasks) / Decimal(summ.billable)).quantize(Decimal("0.01"))
    return (
        min(summ.billable, MAX_VOLUME),
        seats,
        max(Decimal("1.00"), tpo),
        f"Started from {fmt.text(ctx.account.name)}'s last 30 days: {summ.billable:,} billable outcomes, {summ.tasks:,} tasks started "
        f"(about {max(Decimal('1.00'), tpo)} per outcome)"
        + (f", {sub.seats} seats." if sub.seats else f"; its plan has no seats, so the seat count starts at {seats}."),
    )


def _chart(cmp: Comparison, names: dict[str, str], currency: str) -> go.Figure:
    fig = go.Figure()
    for key, points in cmp.curves.items():
        fig.add_scatter(
            x=[v for v, _ in points],
            y=[float(t) for _, t in points],
            name=fmt.chart_text(names[key]),
            mode="lines",
            line=dict(color=COLORS.get(key, theme.MUTED), width=2.5),
            customdata=[fmt.money(t, currency) for _, t in points],
            hovertemplate="%{x:,} outcomes: %{customdata}<extra>" + fmt.chart_text(names[key]) + "</extra>",
        )
    if cmp.break_evens:
        fig.add_scatter(
            x=[e.volume for e in cmp.break_evens],
            y=[float(e.cost_a) for e in cmp.break_evens],
            name="Break-even",
            mode="markers",
            marker=dict(symbol="circle-open", size=13, line=dict(width=2.5), color=theme.TARGET),
            customdata=[
                f"{fmt.chart_text(names[e.cheaper_above])} cheaper than {fmt.chart_text(names[e.cheaper_below])} from {e.volume:,} outcomes"
                f" ({fmt.money(e.cost_a, currency)} vs {fmt.money(e.cost_b, currency)} there)"
                for e in cmp.break_evens
            ],
            hovertemplate="%{customdata}<extra>Break-even</extra>",
        )
    fig.add_vline(
        x=cmp.prospect.outcomes, line=dict(color=theme.TARGET, width=1.5, dash="dash"),
        annotation_text=f"Prospect: {cmp.prospect.outcomes:,}", annotation_position="top left",
        annotation_font=dict(size=12, color=theme.TARGET),
    )
    for e in cmp.changes:
        fig.add_vline(
            x=e.volume, line=dict(color=theme.MUTED, width=1, dash="dot"),
            annotation_text=f"{e.volume:,}", annotation_position="bottom right",
            annotation_font=dict(size=11, color=theme.MUTED),
        )
    fig.update_layout(
        title=dict(text="Monthly cost by volume — circles mark break-even volumes", x=0, xanchor="left", font=dict(size=16)),
        template="plotly_white",
        height=CHART_HEIGHT,
        margin=dict(l=10, r=10, t=84, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.01, xanchor="left", x=0),
        hoverlabel=dict(bgcolor="white", font_size=13),
        font=dict(family="Source Sans Pro, Helvetica, Arial, sans-serif", size=13, color=theme.TARGET),
    )
    fig.update_xaxes(title_text="Billable outcomes per month", tickformat=",d", rangemode="tozero")
    fig.update_yaxes(title_text=f"Monthly cost ({currency})", tickformat=",.0f", rangemode="tozero")
    return fig


ctx = context()
st.title("Pricing simulator")
st.caption(
    "What the prospect would pay each month under four pricing models, for their volume. "
    "A month after the trial: the free outcomes are used up. Every figure comes from the billing engine — "
    "the same as `overseer quote`."
)
slug = ctx.account.slug if ctx.account is not None else None
outcomes0, seats0, tpo0, source = _prefill(ctx)
suffix = slug or "none"

with st.container(border=True):
    c1, c2, c3 = st.columns(3)
    outcomes = c1.number_input(
        "Billable outcomes per month", min_value=0, max_value=MAX_VOLUME, value=outcomes0, step=10, key=f"sim_outcomes_{suffix}",
        help="Completed outcomes not reviewed incorrect: what outcome-based plans charge for.",
    )
    seats = c2.number_input(
        "Seats", min_value=0, max_value=100_000, value=seats0, step=1, key=f"sim_seats_{suffix}",
        help="People who would hold a seat under seat-based pricing.",
    )
    tpo_text = c3.text_input(
        "Tasks per billable outcome", value=f"{tpo0}", key=f"sim_tpo_{suffix}",
        help="Every outcome started is a task, whatever its status (escalated, failed and open ones too), so usually a bit above 1.",
    )
    st.caption(source)

with st.expander("Plans — edit any price", icon=":material/tune:", expanded=False):
    cols = st.columns(4)
    plans: dict[str, PlanSpec] = {}
    errors: list[str] = []
    for col, key in zip(cols, ORDER, strict=True):
        with col:
            st.markdown(f"**{MODEL[key]}**")
            try:
                plans[key] = _plan_editor(key)
            except OverseerError as exc:
                errors.append(str(exc))
    st.caption("Amounts in USD, up to 6 decimals for unit prices. Each line is rounded to cents half-up, as on an invoice.")
    custom = st.text_area(
        "A fifth plan to compare, as JSON (optional)",
        value="",
        height=110,
        key="sim_custom_json",
        placeholder='{"name": "Tiered", "base_fee": "100.00", "tiers": [{"up_to": 500, "unit_price": "1.00"}, '
        '{"up_to": null, "unit_price": "0.60"}], "tiers_mode": "graduated"}',
        help="SPEC's plan shape: name, currency, free_outcomes, base_fee, included_outcomes, outcome_price or tiers "
        "(graduated or volume), seat_price, task_price. Amounts as strings.",
    )
    if custom.strip():
        try:
            raw = json.loads(custom)
        except json.JSONDecodeError as exc:
            errors.append(f"The fifth plan is not valid JSON: {exc.msg} at line {exc.lineno}.")
        else:
            try:
                plans["custom"] = parse_plan(raw)
            except OverseerError as exc:
                errors.append(f"The fifth plan: {exc}")

for message in errors:
    st.error(fmt.text(message), icon=":material/error:")
try:
    tpo = Decimal(tpo_text.strip())
except (InvalidOperation, ValueError):
    st.error(f"Tasks per billable outcome must be a number such as 1.2, got “{fmt.text(tpo_text)}”.", icon=":material/error:")
    paint.stop()
if errors:
    paint.stop()

today = ctx.as_of.date()
try:
    cmp = data.price_comparison(
        tuple((k, json.dumps(plans[k].to_json(), sort_keys=True)) for k in plans),
        int(outcomes), int(seats), str(tpo), today.year, today.month,
    )
except OverseerError as exc:
    st.error(fmt.text(exc), icon=":material/error:")
    paint.stop()

names = {k: MODEL.get(k) or plans[k].name for k in plans}
data.remember_quote(slug, cmp, names)  # the one-page summary quotes the volume typed here
cur = cmp.costs[0].invoice.currency
low = min(c.total for c in cmp.costs)
tiles = []
for c in cmp.costs:
    if c.key in cmp.cheapest:
        caption = ":material/star: **Cheapest**" + (" (tied)" if len(cmp.cheapest) > 1 else "") + " at this volume"
    else:
        caption = f"{fmt.money(c.total - low, cur)} more than the cheapest"
    charged = [ln for ln in c.invoice.lines if ln.amount]
    if len(charged) > 1:
        caption += " · " + " + ".join(fmt.money(ln.amount, None) for ln in charged)
    tiles.append((fmt.text(names[c.key]), fmt.money(c.total, cur), caption, None, f"sim_cost_{c.key}"))
components.kpi_row(tiles)

cheapest_names = " and ".join(fmt.text(names[k]) for k in cmp.cheapest)
sentence = f"At **{cmp.prospect.outcomes:,}** outcomes a month ({cmp.prospect.tasks():,} tasks, {cmp.prospect.seats:,} seats), **{cheapest_names}** costs least."
above = cmp.change_above()
below = cmp.change_at_or_below()
if above is not None:
    sentence += f" From **{above.volume:,}** outcomes a month, {fmt.text(names[above.after])} becomes the cheapest."
if below is not None:
    sentence += f" Below **{below.volume:,}**, {fmt.text(names[below.before])} would be."
st.markdown(sentence, help="The break-even volumes nearest to the prospect's, where the cheapest plan changes.")

paint.chart(lambda: _chart(cmp, names, cur), key="sim_chart", height=CHART_HEIGHT)

st.subheader("Break-even volumes")
if cmp.break_evens:
    st.dataframe(
        [
            {
                "Plans compared": f"{SHORT.get(e.a, names[e.a])} vs {SHORT.get(e.b, names[e.b])}",
                "Break-even": e.volume,
                "Cheaper below": names[e.cheaper_below],
                "Cheaper from there": names[e.cheaper_above],
                "Costs there": f"{fmt.money(e.cost_a, None)} · {fmt.money(e.cost_b, None)}",
            }
            for e in cmp.break_evens
        ],
        hide_index=True,
        width="stretch",
        key="sim_break_evens",
        column_config={
            "Break-even": st.column_config.NumberColumn(help="Billable outcomes per month", format="%d outcomes"),
            "Costs there": st.column_config.TextColumn(help=f"Both plans' monthly cost at the break-even volume, in {cur}"),
        },
    )
    st.caption(
        f"Every whole volume from 0 to {cmp.max_volume:,} outcomes a month was priced; a break-even is the first volume "
        "from which the other plan costs no more (until the next one)."
    )
else:
    st.info(f"No two plans swap order between 0 and {cmp.max_volume:,} outcomes a month.", icon=":material/info:")

st.subheader("How each figure is built")
cols = st.columns(2)
for i, c in enumerate(cmp.costs):
    with cols[i % 2], st.expander(f"{fmt.text(names[c.key])} — {fmt.money(c.total, cur)}"):
        rows = [
            {"Line": ln.description, "Qty": ln.quantity, "Unit price": str(ln.unit_price), "Amount": fmt.money(ln.amount, None)}
            for ln in c.invoice.lines
        ]
        if rows:
            st.dataframe(rows, hide_index=True, width="stretch")
        else:
            st.caption("No line: nothing is charged at this volume.")
        st.caption("The same figure from the command line:")
        st.code(
            f"overseer quote --plan {c.key}.json --outcomes {cmp.prospect.outcomes} --free-remaining 0 "
            f"--seats {cmp.prospect.seats} --tasks {cmp.prospect.tasks()} --month {cmp.year:04d}-{cmp.month:02d}",
            language="bash",
            wrap_lines=True,
        )
