"""Demo mode (sales): start the demo from nothing, pick a scenario, share its link, reset it after a live edit.

The scenarios are :data:`app.store.demo.SCENARIOS`; loading and resetting go
through :func:`app.ui.data.load_demo`. A scenario's link opens the overview
with ``?account=<account name>``: the sidebar's account picker is bound to
that query parameter and carries the account by its name as shown.
"""

from __future__ import annotations

import streamlit as st

from app.domain.errors import OverseerError
from app.ui import data, links, paint, tour
from app.ui import format as fmt
from app.ui.frame import account_labels, context, switch_page

OVERVIEW = "ui/pages/overview.py"
# The page each scenario is best shown on first, after the overview.
FOCUS = {
    "trial-midway": ("ui/pages/trial.py", "Trial readiness", ":material/hourglass_top:"),
    "converted-freemium": ("ui/pages/value.py", "Value delivered", ":material/savings:"),
    "hybrid-over": ("ui/pages/pricing.py", "Pricing simulator", ":material/calculate:"),
    "sliding-accuracy": ("ui/pages/outcomes.py", "Outcomes to review", ":material/fact_check:"),
}
GUIDE = tuple((step.slug, step.page, step.title, step.text) for step in tour.STEPS)


def _pick(slug: str) -> None:
    # A callback runs before the script, so the sidebar's account picker (bound to ?account=) can still be set.
    st.session_state["account"] = slug


def _go(page: str, label: str, slug: str, icon: str, key: str) -> None:
    """A link-styled button that opens ``page`` on the scenario's account."""
    if st.button(label, icon=icon, key=key, on_click=_pick, args=(slug,), type="tertiary"):
        switch_page(page)


def _load(reset: bool) -> None:
    with st.spinner("Restoring the demo accounts…" if reset else "Loading the demo accounts…"):
        try:
            data.load_demo(reset=reset)
        except OverseerError as exc:
            st.error(fmt.text(exc), icon=":material/error:")
            return
    st.session_state["_demo_flash"] = (
        "The demo is restored: every demo account is back to its original data." if reset else "The demo is ready: pick a scenario."
    )
    st.rerun()


ctx = context()
scenarios = data.demo_scenarios()
accounts = data.accounts()
labels = account_labels(accounts)  # as the sidebar's picker shows them (and puts them in ?account=)
loaded = [s for s in scenarios if s.slug in labels]

st.title("Demo")
flash = st.session_state.pop("_demo_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")
    if "restored" in flash:
        # The reset button sits at the bottom of the page: a toast is seen wherever the page is scrolled.
        st.toast(flash, icon=":material/check_circle:")

if not loaded:
    st.caption("Show a prospect what the AI delivers, what it is worth and what it would cost — without preparing anything.")
    with st.container(border=True):
        st.subheader("Start the demo")
        st.markdown(
            f"One click loads {len(scenarios)} realistic customer accounts with months of outcomes, reviews and bills. "
            "Nothing else in the database is touched."
        )
        for s in scenarios:
            st.markdown(f"- **{s.name}** — {s.headline}")
        if st.button("Start the demo", type="primary", icon=":material/play_arrow:", key="demo_start"):
            _load(reset=False)
    paint.stop()

st.caption("Pick a scenario to show. Each has a link you can share: it opens the overview on that account.")

if not st.session_state.get("_demo_guide_hidden"):
    with st.container(border=True, key="demo_guide"):
        head, close = st.columns([6, 1])
        head.markdown("##### :material/tour: A five-minute path through the demo")
        if close.button("Hide", icon=":material/close:", key="demo_guide_hide", help="Hide the guide (it comes back with “Show the guide”)."):
            st.session_state["_demo_guide_hidden"] = True
            st.rerun()
        for i, (slug, page, title, text) in enumerate(GUIDE, start=1):
            if slug not in labels:
                continue
            link, words = st.columns([5, 8], vertical_alignment="center")
            with link:
                if st.button(f"{i}. {title} · {fmt.text(labels[slug])}", icon=":material/arrow_forward:", key=f"demo_guide_{i}",
                             on_click=tour.start, args=(slug,), type="tertiary"):
                    switch_page(page)
            words.markdown(text)
else:
    if st.button("Show the guide", icon=":material/tour:", key="demo_guide_show"):
        st.session_state["_demo_guide_hidden"] = False
        st.rerun()

base, problem = links.base_url()
if problem:
    st.warning(fmt.text(problem) + " — the links below use this page's own address.", icon=":material/link_off:")
rows = [loaded[i : i + 2] for i in range(0, len(loaded), 2)]
for row in rows:
    cols = st.columns(2)
    for col, s in zip(cols, row, strict=False):
        with col, st.container(border=True, key=f"demo_card_{s.slug}"):
            label = labels[s.slug]
            sub, spec = data.plan(s.slug)
            st.subheader(s.name)
            st.markdown(f"**{s.headline}**")
            st.caption(f"Plan: {fmt.text(spec.name)}" + (f" · {sub.seats} seats" if sub.seats else "") + f" · since {fmt.day(sub.started_on)}")
            st.markdown(s.description)
            a, b = st.columns(2)
            with a:
                _go(OVERVIEW, "Open the overview", s.slug, ":material/dashboard:", f"demo_open_{s.slug}")
            with b:
                page, title, icon = FOCUS.get(s.slug, (OVERVIEW, "Overview", ":material/dashboard:"))
                _go(page, title, s.slug, icon, f"demo_focus_{s.slug}")
            link = links.account_link(base, label)
            st.caption("Link to share (opens the overview on this account):")
            st.code(link, language=None, wrap_lines=True)

st.divider()
with st.container(border=True, key="demo_reset_box"):
    a, b = st.columns([3, 1], vertical_alignment="center")
    a.markdown(
        "**Reset the demo** after a live edit (a review, new minutes per step, an import): the demo accounts get their "
        "original data back. Accounts that are not part of the demo are never touched."
    )
    if b.button("Reset the demo", icon=":material/restart_alt:", key="demo_reset", width="stretch"):
        _load(reset=True)
