"""A one-page summary of an account a seller sends after the call: coverage, results, value, bill.

The page is one self-contained HTML file: styles inline, charts drawn as
static inline SVG (plotly.js alone weighed 4.8 MB; the page now stays well
under 1 MB), no request to any server when it is opened (so it works from a
mail attachment, offline). Every piece of text
from the database is HTML-escaped; plotly escapes what goes into its figures.
Every figure comes from the store and the billing engine, the same functions
the dashboard uses.
"""

from __future__ import annotations

import html
import math
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session

from app.domain.money import format_money
from app.domain.stats import Rate, format_share
from app.domain.steps import STEPS, configured_coverage
from app.models import Account
from app.store.accounts import get_subscription, job_steps, list_jobs
from app.store.billing import aware_utc, billing_state, invoice_for_month
from app.store.metrics import step_stats, summary
from app.store.reviews import agreement
from app.store.value import monthly_value, return_multiple, value_delivered

DASH = "—"
_BLUE, _GREEN, _GREY, _INK = "#2F5BEA", "#2E9E6B", "#C9CED8", "#1B2333"
_COVERAGE = {"automated": ("Automated", "#2F5BEA"), "assisted": ("Assisted", "#8FA8F5"), "manual": ("Manual", "#C9CED8")}

_STYLE = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1B2333;margin:0;background:#F4F6FA}
main{max-width:1000px;margin:0 auto;padding:28px 32px;background:#fff}
h1{font-size:26px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #E3E7EF;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
.sub{color:#5A6478;font-size:14px;margin-bottom:12px}
.kpis{display:flex;gap:12px;flex-wrap:wrap}
.kpi{flex:1 1 170px;border:1px solid #E3E7EF;border-radius:8px;padding:10px 12px}
.kpi .l{font-size:12px;color:#5A6478;text-transform:uppercase;letter-spacing:.03em}
.kpi .v{font-size:22px;font-weight:600;margin:2px 0}
.kpi .c{font-size:12px;color:#5A6478}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #E3E7EF} th{background:#F4F6FA}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.tag{display:inline-block;border-radius:6px;padding:0 6px;color:#fff;font-size:12px}
.note{font-size:12px;color:#5A6478;margin-top:24px}
svg.chart{display:block;margin:8px 0}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _day(d: date | datetime | None) -> str:
    return DASH if d is None else f"{d.day} {d.strftime('%b %Y')}"


def _hours(hours: Decimal) -> str:
    return f"{hours:,.1f} h"


def _multiple(value: Decimal | None) -> str:
    return DASH if value is None else f"{value:,.1f}×"


def _kpis(items: list[tuple[str, str, str]]) -> str:
    cells = "".join(
        f'<div class="kpi"><div class="l">{_e(label)}</div><div class="v">{_e(value)}</div><div class="c">{_e(caption)}</div></div>'
        for label, value, caption in items
    )
    return f'<div class="kpis">{cells}</div>'


def _table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f'<th class="{"n" if i in numeric else ""}">{_e(h)}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"n" if i in numeric else ""}">{_e(c)}</td>' for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _nice_top(top: float) -> float:
    """The axis top at or above ``top`` whose quarters are round numbers (240 for 213: ticks 60, 120, 180)."""
    if top <= 0:
        return 1.0
    step = top / 4
    magnitude = 10 ** math.floor(math.log10(step))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * magnitude >= step:
            return 4 * m * magnitude
    return top


def _svg_bars(
    title: str,
    categories: list[str],
    bars: list[list[tuple[float, str, str]]],
    legend: list[tuple[str, str]],
    *,
    y_max: float,
    y_label: str,
    tick=None,
    height: int = 260,
) -> str:
    """A static bar chart as inline SVG: one group of bars per category.

    Parameters
    ----------
    title : str
    categories : list of str
        The x labels.
    bars : list of list of (value, colour, tooltip)
        Per category, its bars side by side.
    legend : list of (name, colour)
    y_max : float
        The top of the y axis (> 0).
    y_label : str
    tick : callable, optional
        Formats a y tick value; default whole numbers (two decimals on an axis under 4).

    Returns
    -------
    str
        An ``<svg>`` element (every text escaped), with a ``<title>`` tooltip on each bar.
    """
    width, left, right, top, bottom = 920, 64, 12, 44, 34
    y_max = _nice_top(y_max)
    if tick is None:
        tick = (lambda v: f"{v:,.0f}") if y_max >= 4 else (lambda v: f"{v:,.2f}")
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = y_max if y_max > 0 else 1.0
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{_e(title)}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f'<text x="0" y="16" font-size="15" font-weight="600" fill="{_INK}">{_e(title)}</text>',
    ]
    x = left + plot_w
    for name, colour in reversed(legend):
        w = 18 + 7 * len(name)
        x -= w + 12
        out.append(f'<rect x="{x}" y="24" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{x + 16}" y="34" fill="{_INK}">{_e(name)}</text>')
    for i in range(5):
        v = y_max * i / 4
        y = top + plot_h - plot_h * i / 4
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#E3E7EF"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#5A6478">{_e(tick(v))}</text>')
    out.append(f'<text x="12" y="{top + plot_h / 2:.1f}" transform="rotate(-90 12 {top + plot_h / 2:.1f})" '
               f'text-anchor="middle" fill="#5A6478">{_e(y_label)}</text>')
    n = max(1, len(categories))
    slot = plot_w / n
    for i, (label, group) in enumerate(zip(categories, bars, strict=True)):
        k = max(1, len(group))
        bar_w = min(48.0, slot * 0.7 / k)
        x0 = left + slot * i + (slot - bar_w * k) / 2
        for j, (value, colour, tip) in enumerate(group):
            h = plot_h * max(0.0, min(value, y_max)) / y_max
            out.append(f'<rect x="{x0 + j * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
                       f'height="{h:.1f}" fill="{colour}"><title>{_e(tip)}</title></rect>')
        out.append(f'<text x="{left + slot * (i + 0.5):.1f}" y="{height - 12}" text-anchor="middle" fill="{_INK}">{_e(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def _rate(rate: Rate, noun: str) -> tuple[str, str]:
    if rate.denominator == 0:
        return DASH, f"no {noun} outcomes yet"
    return rate.format(), f"{rate.numerator:,} of {rate.denominator:,} {noun}"


def summary_html(
    session: Session,
    account: Account,
    *,
    start: date,
    end: date,
    as_of: datetime,
    quote: dict | None = None,
    link: str | None = None,
) -> str:
    """The account's one-page summary as a self-contained HTML document.

    Parameters
    ----------
    session : Session
    account : Account
    start, end : date
        The period of the results, coverage and value sections (inclusive, UTC).
    as_of : datetime
        Timezone-aware: the bill is the month of ``as_of``, with its projection.
    quote : dict, optional
        The pricing simulator's quote at the volume typed: ``outcomes``, ``seats``,
        ``tasks``, ``plans`` (``(name, total, currency)`` each, the billing engine's
        totals) and ``cheapest`` (names).
    link : str, optional
        The account's address in Overseer, shown as a link.

    Returns
    -------
    str
        A complete HTML document, tens of kilobytes (charts are static SVG). With a
        free allowance it also holds the first bill after the trial
        (:func:`app.store.trial.trial_status`), or the actual first bill once the plan is paid.

    Raises
    ------
    OverseerError
        A range that ends before it starts, or a naive ``as_of``.
    """
    as_of = aware_utc(as_of)
    cur = account.currency
    sub, plan = get_subscription(session, account)
    summ = summary(session, account.id, start, end, as_of=as_of)
    jobs = list_jobs(session, account)
    period = f"{_day(start)} – {_day(end)}" if start != end else _day(start)
    parts: list[str] = []

    parts.append(f"<h1>{_e(account.name)}</h1>")
    parts.append(
        f'<div class="sub">Outcome summary · {_e(period)} (UTC) · plan: {_e(plan.name)} · '
        f"prepared {_e(as_of.strftime('%d %b %Y, %H:%M'))} UTC</div>"
    )

    # Results
    parts.append("<h2>Results</h2>")
    comp, comp_c = _rate(summ.completion_rate, "closed")
    auto, auto_c = _rate(summ.autonomous_rate, "closed")
    acc = summ.accuracy.format()
    acc_c = (
        f"{summ.correct:,} correct of {summ.reviewed:,} reviewed" if summ.reviewed else "no reviewed outcomes yet"
    )
    bounds = summ.accuracy.wilson()
    if bounds:
        acc_c += f" · 95% CI {format_share(bounds[0])}–{format_share(bounds[1])}"
    kappa = agreement(session, account, start, end, as_of=as_of)
    parts.append(
        _kpis(
            [
                ("Outcomes", f"{summ.outcomes:,}", f"{summ.completed:,} completed · {summ.escalated:,} escalated · {summ.failed:,} failed · {summ.open:,} open"),
                ("Completion rate", comp, comp_c),
                ("Autonomous rate", auto, auto_c + (" with no human step" if summ.closed else "")),
                ("Accuracy", acc, acc_c),
                ("Reviewer agreement", kappa.format(), kappa.reading()),
            ]
        )
    )

    # Coverage
    parts.append("<h2>Job-map coverage</h2>")
    for job in jobs:
        steps = job_steps(session, job)
        stats = {s.step: s for s in step_stats(session, account.id, start, end, job_id=job.id, as_of=as_of)}
        cov = configured_coverage([s.coverage for s in steps])
        parts.append(
            f"<h3>{_e(job.name)} <span class=\"sub\">· configured coverage {_e(format_share(float(cov)))} · "
            f"outcome unit: {_e(job.outcome_unit)}</span></h3>"
        )
        by_name = {st.step: st for st in steps}
        ordered = [by_name[name] for name in STEPS if name in by_name]
        parts.append(
            _svg_bars(
                "Observed AI share of each step, coloured by configured coverage",
                [st.step.capitalize() for st in ordered],
                [
                    [(
                        (stats[st.step].ai_share.value or 0) * 100,
                        _COVERAGE.get(st.coverage, (st.coverage, _GREY))[1],
                        f"{st.step.capitalize()}: AI share {stats[st.step].ai_share.format()}",
                    )]
                    for st in ordered
                ],
                [(label, colour) for label, colour in _COVERAGE.values()],
                y_max=100,
                y_label="Runs performed by the AI",
                tick=lambda v: f"{v:.0f}%",
                height=280,
            )
        )
        rows = [
            [
                s.step.capitalize(),
                _COVERAGE.get(s.coverage, (s.coverage, ""))[0],
                stats[s.step].ai_share.format(),
                stats[s.step].handoff_rate.format(),
                s.description,
            ]
            for s in steps
        ]
        parts.append(_table(["Step", "Coverage", "AI share", "Handoff rate", "What the step is"], rows, {2, 3}))

    # Value
    report = value_delivered(session, account, start, end, as_of=as_of)
    months = monthly_value(session, account, as_of=as_of)
    bill_total = sum((m.bill for m in months), Decimal(0))
    value_total = sum((m.value for m in months), Decimal(0))
    parts.append("<h2>Value delivered</h2>")
    parts.append(
        _kpis(
            [
                ("Hours saved", _hours(report.hours), f"in {period}, from {report.billable:,} billable outcomes"),
                ("Value delivered", format_money(report.money, cur), f"at {format_money(report.hourly_cost, cur)} per hour of a person's time"),
                ("Since the start", format_money(value_total, cur), f"against {format_money(bill_total, cur)} billed"),
                ("Return multiple", _multiple(return_multiple(months)), "value delivered / amount billed, since the start"),
            ]
        )
    )
    if months:
        shown = months[-12:]  # a year of months keeps the bars readable
        labels = [date(m.year, m.month, 1).strftime("%b %Y") for m in shown]
        top = max([float(m.value) for m in shown] + [float(m.bill) for m in shown] + [0.0])
        parts.append(
            _svg_bars(
                "Value delivered and the bill, by month (the last month is to date)",
                labels,
                [
                    [
                        (float(m.value), _GREEN, f"{lab}: value delivered {format_money(m.value, cur)}"),
                        (float(m.bill), _BLUE, f"{lab}: bill {format_money(m.bill, cur)}"),
                    ]
                    for lab, m in zip(labels, shown, strict=True)
                ],
                [("Value delivered", _GREEN), ("Bill", _BLUE)],
                y_max=top or 1.0,
                y_label=cur,
            )
        )
    by_step = [(s, h, n) for s, h, n in report.by_step()]
    parts.append(
        _table(
            ["Step", "Runs by the AI", "Hours saved"],
            [[s.capitalize(), f"{n:,}", _hours(h)] for s, h, n in by_step],
            {1, 2},
        )
    )

    # Bill
    state = billing_state(session, account, as_of=as_of)
    inv = invoice_for_month(session, account, as_of.year, as_of.month, as_of=as_of)
    month_label = as_of.strftime("%B %Y")
    parts.append(f"<h2>Bill · {_e(month_label)}</h2>")
    proj = inv.projected
    free_caption = (
        f"{state.free_used:,} of {state.free_total:,} free outcomes used" if state.free_total else "no free allowance on this plan"
    )
    parts.append(
        _kpis(
            [
                ("Bill so far", format_money(inv.total, cur), f"{inv.billable:,} billable outcomes this month"),
                ("Projected bill", format_money(proj.total, cur) if proj else DASH,
                 f"80% range {format_money(proj.low, cur)} – {format_money(proj.high, cur)}" if proj else ""),
                ("Free outcomes left", f"{state.free_remaining:,}" if state.free_total else DASH, free_caption),
                ("Paid plan active since", _day(state.activated_on) if state.activated_on else "not yet",
                 "" if state.activated_on else "nothing is owed until the free allowance runs out"),
            ]
        )
    )
    lines = [[ln.description, f"{ln.quantity:,}", str(ln.unit_price), format_money(ln.amount)] for ln in inv.lines]
    lines.append(["Total", "", "", format_money(inv.total, cur)])
    parts.append(_table(["Line", "Quantity", "Unit price", "Amount"], lines, {1, 2, 3}))
    seats = f" · {sub.seats:,} seats" if sub.seats else ""
    parts.append(f'<div class="sub">Plan: {_e(plan.name)}{_e(seats)} · subscribed since {_e(_day(sub.started_on))}</div>')

    if quote:
        parts.append(f"<h2>Price quoted · {quote['outcomes']:,} outcomes a month</h2>")
        parts.append(
            f'<div class="sub">From the pricing simulator: a steady month after the trial (free outcomes used up), '
            f"{quote['outcomes']:,} billable outcomes, {quote['tasks']:,} tasks, {quote['seats']:,} seats.</div>"
        )
        cheapest = set(quote.get("cheapest", ()))
        parts.append(
            _table(
                ["Plan", "Monthly cost"],
                [[name + (" (cheapest)" if name in cheapest else ""), format_money(total, currency)]
                 for name, total, currency in quote["plans"]],
                {1},
            )
        )
    if state.free_total:
        from app.store.trial import trial_status

        trial = trial_status(session, account, as_of=as_of)
        if trial.activation_invoice is not None:
            first = trial.activation_invoice
            parts.append(f"<h2>First bill on the paid plan · {_e(date(first.year, first.month, 1).strftime('%B %Y'))}</h2>")
            parts.append(f'<div class="sub">The paid plan began on {_e(_day(trial.activated_on))}: '
                         f"{first.billable:,} billable outcomes that month, {first.free_used:,} of them free.</div>")
        else:
            first = trial.first_bill
            parts.append(f"<h2>First bill after the trial · {_e(date(first.year, first.month, 1).strftime('%B %Y'))}</h2>")
            parts.append(
                f'<div class="sub">The first full month on {_e(trial.target_plan.name)}, at the trial\'s pace of '
                f"{trial.pace:,.1f} billable outcomes a day: {trial.first_bill_outcomes:,} outcomes.</div>"
            )
        rows = [[ln.description, f"{ln.quantity:,}", str(ln.unit_price), format_money(ln.amount)] for ln in first.lines]
        rows.append(["Total", "", "", format_money(first.total, first.currency)])
        parts.append(_table(["Line", "Quantity", "Unit price", "Amount"], rows, {1, 2, 3}))
    if link:
        parts.append(f'<p class="sub">Open the live figures in Overseer: <a href="{_e(link)}">{_e(link)}</a></p>')

    parts.append(
        '<p class="note">Definitions. Completion rate: completed / closed outcomes. Autonomous rate: completed with no '
        "step performed by a person / closed. Accuracy: correct / reviewed completed outcomes (unreviewed outcomes never "
        "count), with its 95% Wilson interval. Reviewer agreement: Cohen's kappa between two reviewers who judged the same "
        "outcome without seeing each other's verdict (1 = always agree, 0 = no better than chance), with the words of "
        "Landis and Koch. Billable outcome: completed and not reviewed incorrect. Value delivered: "
        "for every billable outcome, the minutes a person would spend on each step the AI performed, times the hourly "
        "cost. A rate with nothing to count is shown as “—”. All times are UTC.</p>"
    )
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(account.name)} · Overseer summary</title>"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


__all__ = ["summary_html"]
