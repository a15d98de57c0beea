"""The pricing simulator's figures (cached, pure but heavy) and the quote it leaves in the browser session."""

from __future__ import annotations

import json
from decimal import Decimal

import streamlit as st

from app.domain.plans import parse_plan
from app.domain.simulator import Comparison, Prospect, compare
from app.ui.data.cache import TTL

SIM_QUOTE = "_sim_quote"


@st.cache_data(ttl=TTL, show_spinner="Pricing every volume…")
def price_comparison(
    plans_json: tuple[tuple[str, str], ...], outcomes: int, seats: int, tasks_per_outcome: str, year: int, month: int
) -> Comparison:
    """Every plan priced at every volume (:func:`app.domain.simulator.compare`, pure but heavy, so cached).

    ``plans_json`` is ``((key, plan as sorted JSON), …)``, ``tasks_per_outcome`` a decimal string:
    small, hashable keys.
    """
    plans = {key: parse_plan(json.loads(text)) for key, text in plans_json}
    return compare(plans, Prospect(outcomes, seats, Decimal(tasks_per_outcome)), year=year, month=month)


def remember_quote(slug: str | None, cmp: Comparison, names: dict[str, str]) -> None:
    """Keep the pricing simulator's quote (the billing engine's totals at the volume typed) for the summary."""
    if slug is None:
        return
    st.session_state.setdefault(SIM_QUOTE, {})[slug] = {
        "outcomes": cmp.prospect.outcomes,
        "seats": cmp.prospect.seats,
        "tasks": cmp.prospect.tasks(),
        "plans": [(names[c.key], c.total, c.invoice.currency) for c in cmp.costs],
        "cheapest": [names[k] for k in cmp.cheapest],
    }


def quote_for_summary(slug: str) -> dict | None:
    """The simulator's last quote for ``slug`` in this browser session, if the seller made one."""
    return st.session_state.get(SIM_QUOTE, {}).get(slug)
