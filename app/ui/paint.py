"""Figures first: a browser session's first run draws the page's headline, and leaves the rest for a second run.

Measured in Chromium (README "Performance", ``overseer bench --browser``): a new
visitor's browser has none of Streamlit's element code. It fetches each element type's
code when the first such element arrives (plotly.js is a 4.6 MB chunk whose compile
holds the browser's one thread for 1 to 4 seconds; the data grid is 1.2 MB; a picker
is a dozen small files, fetched six at a time), and it shows newly arrived tiles only
once the code of the run's elements is in. So a session's first run draws the headline
figures and, for everything else, its place; a fragment, :func:`_ask_for_next_run`,
lets the browser's own timer ask for the next run, which draws the whole page (every
later run draws it whole in line).

- :func:`chart` — a plotly chart, or its place (a box of its height) in a first run;
- :func:`rest` — called by a page where its headline ends: a first run stops there,
  leaving the rest of the page (tables, forms, the review card) in one place;
- :func:`preload` — called by the entry script first: in a first run it loads the tiles'
  code before anything else and arms the fragment, so every first run asks for the next
  one without each thing it leaves having to say so;
- :func:`stop` — ``st.stop()`` for the pages of :data:`FIGURES_FIRST`: ``st.stop()`` also
  stops the fragment, and their first run would never get its next one;
- :func:`finish` — called by the entry script after every page: the session has run.

The sidebar's pickers are left too: a first run shows what they hold as text
(:func:`app.ui.frame.picker_as_text`).

A session without a browser (AppTest) has no timer to ask for the next run, so it gets
whole pages from its first run on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import streamlit as st

from app.ui.charts import PLOTLY_CONFIG

#: How long the browser waits before asking for the next run: longer than React takes to reveal
#: tiles whose code has just arrived (it holds a reveal up to 300 ms), short beside plotly's load
#: (0.2 s was measured too: the Overview's figures then came later).
WAIT_S = 0.4
PLACE_SUFFIX = "_place"  # a chart's place: its key and this (app.bench_browser waits until none is left)
_RAN = "_paint_session_ran"  # a run of this session has finished: pages are drawn whole
_ASKED = "_paint_charts_asked"  # the fragment is waiting for the browser's tick


#: The pages whose first run is figures first (each calls :func:`rest`): their sidebar shows what its
#: pickers hold as text. On any other page the pickers are drawn at once, so a page that ends its
#: first run with ``st.stop()`` (which stops the fragment that asks for the next run too) loses nothing.
FIGURES_FIRST = ("overview", "outcomes", "job-map", "billing", "portfolio")


class Later(BaseException):
    """A first run stops after the page's headline (raised by :func:`rest` and :func:`stop`, caught by the entry script).

    A ``BaseException``, as Streamlit's own stop: a page's ``except Exception`` does not swallow it.
    """


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
        In a first run; the entry script catches it. Not ``st.stop()``, which also ends whatever the
        run would still start.
    """
    if charts_now():
        return
    with st.container(height=height, border=False, key=f"paint_rest{PLACE_SUFFIX}"):
        st.caption(":material/hourglass_top: Loading the rest of the page…")
    raise Later


def stop() -> NoReturn:
    """``st.stop()`` for the pages of :data:`FIGURES_FIRST`: in a first run, stop without stopping the next run.

    ``st.stop()`` would also stop the fragment that asks for the next run, and the sidebar's pickers,
    shown as text, would never come. The next run stops here with ``st.stop()``.
    """
    if not charts_now():
        raise Later
    st.stop()


def preload() -> None:
    """Start a browser session's first run: load the tiles' code before anything else, and arm the next run.

    Streamlit loads each element's code when the first such element arrives, and React shows an
    element whose code arrived only once the page's stream of elements quiets down. A hidden
    ``st.metric`` at the top of the sidebar, the run's first element, has the tiles' code loaded
    before the page's own tiles arrive. The fragment that asks for the next run is armed beside it,
    so every first run asks for the next one, whatever it left (charts, the rest, the pickers). A
    first run that ends in ``st.stop()`` stops it too: the pages that leave anything use :func:`stop`.
    """
    if charts_now():
        return
    with st.sidebar:
        st.html("<style>.st-key-paint_preload{display:none}</style>")
        with st.container(key="paint_preload"):
            st.metric("Loading", "…", label_visibility="collapsed")
            _ask_for_next_run()


def finish() -> None:
    """End a page run: the session has run (entry script only)."""
    st.session_state[_RAN] = True


@st.fragment(run_every=WAIT_S)
def _ask_for_next_run() -> None:
    # In the first run it only arms itself; its first rerun is the browser's timer, which ticks only
    # once the browser has taken the page in (and finish() has marked the session as run): then the
    # page runs again, whole (a new page run stops the timer).
    if st.session_state.pop(_ASKED, False):
        st.rerun()
    st.session_state[_ASKED] = True
