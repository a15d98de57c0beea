"""Figures first: a browser session's first run leaves its charts for a second run, asked for once the page is up.

Measured in Chromium (README "Performance", ``overseer bench --browser``): a new
visitor's browser has none of plotly.js (a 4.6 MB chunk Streamlit loads when the
first chart arrives), and compiling it and drawing the first chart hold the browser's
one thread for 1.5 to 4 seconds. A tile whose value had arrived just before waits
behind it. So the session's first run draws every chart's place (a box of its
height) and no chart; the page's figures go to the browser alone. A fragment,
:func:`_ask_for_charts`, lets the browser's own timer ask for the rest: its first
tick reruns the page with the charts (every later run draws them in line).

- :func:`chart` — a plotly chart, or its place in the session's first run;
- :func:`finish` — called by the entry script after every page: it remembers that the
  session has run, and asks for the charts a first run left.

- :func:`rest` — called by a page where its headline ends: a session's first run stops
  there and leaves the rest of the page (tables, forms, the review card) for the next
  run. Measured the same way, every element type below the headline had the browser
  load its code (the data grid alone is 1.2 MB) before it showed the headline's tiles.

A session without a browser (AppTest) has no timer to ask for the next run, so it gets
whole pages from its first run on.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.ui.charts import PLOTLY_CONFIG

#: How long the browser waits before asking for the charts: longer than React takes to reveal
#: tiles whose code has just arrived (it holds a reveal up to 300 ms), short beside plotly's load.
WAIT_S = 0.4
PLACE_SUFFIX = "_place"  # a chart's place: its key and this (app.bench_browser waits until none is left)
_RAN = "_paint_session_ran"  # a run of this session has finished: charts are drawn in line
_LEFT = "_paint_charts_left"  # this run left charts in their places
_ASKED = "_paint_charts_asked"  # the fragment is waiting for the browser's tick


class Later(Exception):
    """A session's first run stops after the page's headline (raised by :func:`rest`, caught by the entry script)."""


def _browser() -> bool:
    # A browser session has the headers of its websocket's request; AppTest's has none.
    return bool(st.context.headers)


def charts_now() -> bool:
    """Whether this run draws the whole page (every run but a browser session's first)."""
    return bool(st.session_state.get(_RAN)) or not _browser()


def chart(build: Callable[[], object], *, key: str, height: int) -> None:
    """Draw the plotly figure ``build()`` returns (full width), or, in a session's first run, its place.

    ``height`` is the figure's height in pixels (its layout's), so the page does not move when the
    chart replaces its place; the figure is not built in a run that leaves it.
    """
    if charts_now():
        st.plotly_chart(build(), width="stretch", key=key, config=PLOTLY_CONFIG)
        return
    st.session_state[_LEFT] = True
    with st.container(height=height, border=False, key=f"{key}{PLACE_SUFFIX}"):
        st.caption(":material/bar_chart: Drawing the chart…")


def rest(*, height: int) -> None:
    """The page's headline ends here: in a browser session's first run, stop, leaving the rest for the next run.

    The rest's place (a box of ``height`` pixels, about what it fills of the first screen) says it is
    coming. Nothing is dropped: the next run, which the browser asks for as for the charts, draws the
    whole page. A page calls it at its top level, never inside a ``try`` that catches ``Exception``.

    Raises
    ------
    Later
        In a first run; the entry script catches it. Not ``st.stop()``: that would also stop the
        fragment that asks for the next run.
    """
    if charts_now():
        return
    st.session_state[_LEFT] = True
    with st.container(height=height, border=False, key=f"paint_rest{PLACE_SUFFIX}"):
        st.caption(":material/hourglass_top: Loading the rest of the page…")
    raise Later


def preload() -> None:
    """In a session's first run, start the browser loading the tiles' code before anything else (entry script).

    Streamlit loads each element's code when the first such element arrives, and React shows an
    element whose code arrived only once the page's stream of elements quiets down. A hidden
    ``st.metric`` at the top of the sidebar, the run's first element, has the tiles' code loaded
    before the page's own tiles arrive.
    """
    if charts_now():
        return
    with st.sidebar:
        st.html("<style>.st-key-paint_preload{display:none}</style>")
        with st.container(key="paint_preload"):
            st.metric("Loading", "…", label_visibility="collapsed")


def finish() -> None:
    """End a page run: the session has run; ask the browser for the charts this run left (entry script only)."""
    st.session_state[_RAN] = True
    if st.session_state.pop(_LEFT, False):
        _ask_for_charts()


@st.fragment(run_every=WAIT_S)
def _ask_for_charts() -> None:
    # In the page's run it only arms itself; its first rerun is the browser's timer, which runs only
    # once the browser has taken the page in: then the whole page runs again, with its charts (a new
    # page run stops the timer).
    if st.session_state.pop(_ASKED, False):
        st.rerun()
    st.session_state[_ASKED] = True
