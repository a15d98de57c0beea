"""Small building blocks shared by pages: KPI tiles, alerts, badges, empty states."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import streamlit as st

from app.core.config import max_import_mb
from app.ui import format as fmt
from app.ui import theme


def kpi(label: str, value: str, caption: str = "", help: str | None = None, key: str | None = None) -> None:
    """A bordered tile: the figure, and one line of context under it (as tall as its row)."""
    with st.container(border=True, key=key, height="stretch"):
        st.metric(label, value, help=help)
        st.caption(caption or "\u00a0")


# On a phone a row of tiles wraps to one tile a line: two side by side left captions three words wide.
# A figure wider than its tile wraps at its space instead of ending in "…": a big account's bill
# ("278,964.00 USD") did not fit a quarter of the page at 1280 px.
_TILE_ROW_STYLE = (
    "<style>@media (max-width: 640px) { [class*='st-key-kpi_row_'] > [data-testid='stLayoutWrapper'] "
    "{ flex: 1 1 100% !important; min-width: 100% !important; } } "
    "[class*='st-key-kpi_row_'] [data-testid='stMetricValue'] > div "
    "{ white-space: normal; overflow: visible; text-overflow: clip; }</style>"
)


def kpi_row(items: Sequence[tuple]) -> None:
    """A row of :func:`kpi` tiles: each item is ``(label, value, caption[, help[, key]])``; one a line on a phone."""
    st.html(_TILE_ROW_STYLE)
    labels = "|".join(str(item[0]) for item in items)
    with st.container(horizontal=True, gap="small", key=f"kpi_row_{hashlib.sha1(labels.encode()).hexdigest()[:10]}"):
        for item in items:
            kpi(*item)


def alerts(items: Sequence) -> None:
    """SPEC alerts, most urgent first (the store already ordered them)."""
    for a in items:
        if a.severity == "critical":
            st.error(a.message, icon=theme.SEVERITY_ICONS["critical"])
        else:
            st.warning(a.message, icon=theme.SEVERITY_ICONS["warning"])


def badge(text: str, colour: str) -> str:
    """Inline markdown for a coloured label, e.g. a status."""
    return f'<span style="background:{colour};color:white;border-radius:0.5rem;padding:0.1rem 0.5rem;font-size:0.85rem;font-weight:600">{text}</span>'


def status_badge(status: str) -> str:
    return badge(theme.STATUS_LABELS.get(status, status), theme.STATUS_COLORS.get(status, theme.MUTED))


def verdict_badge(verdict: str) -> str:
    return badge(theme.VERDICT_LABELS.get(verdict, verdict), theme.VERDICT_COLORS.get(verdict, theme.MUTED))


def empty(message: str, next_step: str = "", *, icon: str = ":material/info:") -> None:
    """An empty state: what is missing, and what to do next."""
    st.info(f"{message}" + (f"\n\n{next_step}" if next_step else ""), icon=icon)


def step_trail(row, steps) -> None:
    """Who performed each step of an outcome, in job-map order, with the handoff marked."""
    cols = st.columns(len(steps))
    for col, step in zip(cols, steps, strict=True):
        performer = row.steps.get(step.step)
        handed = row.handoff_step == step.step
        if performer == "ai":
            mark, colour = "AI", theme.COVERAGE_COLORS["automated"]
        elif performer == "human":
            mark, colour = "Person", theme.STATUS_COLORS["escalated"]
        else:
            mark, colour = "Not done", theme.COVERAGE_COLORS["manual"]
        with col:
            st.markdown(
                f'<div title="{fmt.text(step.description)}" style="border-top:6px solid {colour};padding-top:0.3rem">'
                f"<b>{fmt.step_title(step.step)}</b><br><span style='font-size:0.85rem'>{mark}"
                + (" · <b>handoff</b>" if handed else "")
                + "</span></div>",
                unsafe_allow_html=True,
            )


def upload_limit_mb() -> int:
    """The largest import file, in MB (:func:`app.core.config.max_import_mb`, one setting for the page and the CLI).

    The Import page passes it to ``st.file_uploader(max_upload_size=…)`` (the browser refuses a bigger
    file before sending it), says it in the uploader's help, and checks it again on the server.
    """
    return max_import_mb()


def invoice_rows(lines: Sequence, total, currency: str, *, total_label: str = "Total") -> list[dict]:
    """Invoice lines as table rows, ending with the total (the sum of the lines).

    Parameters
    ----------
    lines : sequence of Line
        Each with description, quantity, unit_price (None: no unit price) and amount.
    total : Decimal
        The invoice's (or projection's) total; equal to the sum of the amounts.
    currency : str
    total_label : str, optional
        The last row's item.

    Returns
    -------
    list of dict
        Rows with Item, Quantity, Unit price and Amount, as text (a table shows them as given).
    """
    rows = [
        {
            "Item": line.description,
            "Quantity": f"{line.quantity:,}",
            "Unit price": fmt.money(line.unit_price, currency) if line.unit_price is not None else "",
            "Amount": fmt.money(line.amount, currency),
        }
        for line in lines
    ]
    rows.append({"Item": total_label, "Quantity": "", "Unit price": "", "Amount": fmt.money(total, currency)})
    return rows
