"""The demo's guided tour: five pages a seller shows in order, each with "Next: …" and "Back to the tour".

The tour is on for a browser session once the seller starts it (a step of the
guide on the Demo page, or the landing page's demo button); the bar is drawn by
the entry script above every page of the path, so no page needs to know about it.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app.ui import data, links

DEMO = "ui/pages/demo.py"
ON = "_tour_on"


@dataclass(frozen=True)
class Step:
    slug: str  # the demo account shown
    page: str  # the page file
    url_path: str  # its url path (app/streamlit_app.py)
    title: str
    text: str


STEPS: tuple[Step, ...] = (
    Step("trial-midway", "ui/pages/overview.py", "overview", "Overview",
         "**What the AI delivered.** Completion rate, accuracy with its sample, and the free outcomes left."),
    Step("trial-midway", "ui/pages/job_map.py", "job-map", "Job map",
         "**Where it works.** The steps the AI covers, and where people take over."),
    Step("converted-freemium", "ui/pages/value.py", "value", "Value delivered",
         "**What it is worth.** Hours and money saved against the bill: the return multiple."),
    Step("hybrid-over", "ui/pages/pricing.py", "pricing", "Pricing simulator",
         "**What it would cost.** Type the prospect's volume; the chart marks the break-even volumes."),
    Step("trial-midway", "ui/pages/trial.py", "trial", "Trial",
         "**When to convert.** Readiness against the targets, and the first bill after the trial."),
)


def start(slug: str | None = None) -> None:
    """Turn the tour on (and pick ``slug`` in the sidebar): call from a button's callback, before the sidebar is drawn."""
    st.session_state[ON] = True
    if slug is not None:
        st.session_state["account"] = slug


def step_of(url_path: str) -> int | None:
    """The tour's index of the page at ``url_path``, or None when the page is not on the path."""
    return next((i for i, s in enumerate(STEPS) if s.url_path == url_path), None)


def bar(url_path: str, labels: dict[str, str], ctx) -> None:
    """Above a page of the path while the tour is on: where the seller is, "Back to the tour" and "Next: …".

    Parameters
    ----------
    url_path : str
        The page being shown.
    labels : dict
        Account slug → the name the sidebar shows, for the accounts this person sees.
    ctx : app.ui.frame.Context
        The sidebar's choice; the last step's "Next" downloads this account's one-page summary.
    """
    # Not at the top: app.ui.frame imports this module (its demo button starts the tour), an import loop.
    from app.ui.frame import switch_page

    i = step_of(url_path or STEPS[0].url_path)  # the default page (Overview) has the root's empty url path
    if not st.session_state.get(ON) or i is None:
        return
    here = STEPS[i]
    with st.container(border=True, key="tour_bar"):
        where, back, nxt = st.columns([3, 2, 4], vertical_alignment="center")
        where.markdown(f":material/tour: **Demo tour · step {i + 1} of {len(STEPS)}** — {here.title}")
        if back.button("Back to the tour", icon=":material/arrow_back:", key="tour_back", width="stretch"):
            switch_page(DEMO)
        if i + 1 < len(STEPS):
            after = STEPS[i + 1]
            # The account only when it changes: the label must fit its button.
            label = f"Next: {after.title}" + (f" · {labels[after.slug]}" if after.slug in labels and after.slug != here.slug else "")
            if nxt.button(label, icon=":material/arrow_forward:", type="primary", key="tour_next", width="stretch",
                          on_click=start, args=(after.slug if after.slug in labels else None,)):
                switch_page(after.page)
        elif ctx.account is not None:
            # The end of the path: what the seller sends after the call.
            nxt.download_button(
                "Next: the one-page summary",
                data=data.summary_html(
                    ctx.slug, ctx.start, ctx.end, ctx.as_of, quote=data.quote_for_summary(ctx.slug),
                    link=links.account_link(links.base_url()[0], labels.get(ctx.slug, ctx.slug)),
                ),
                file_name=f"{ctx.slug}-summary-{ctx.as_of.date().isoformat()}.html",
                mime="text/html",
                on_click="ignore",
                icon=":material/download:",
                type="primary",
                key="tour_next",
                width="stretch",
                help="Results, coverage, value, the price quoted in the simulator and the first bill after the trial: "
                "one file to send after the call.",
            )
