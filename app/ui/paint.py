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

- :func:`chart` — a chart (plotly or Altair), or its place (a box of its height) in a first run;
- :func:`rest` — called by a page where its headline ends: a first run stops there,
  leaving the rest of the page (tables, forms, the review card) in one place;
- :func:`stop` — ``st.stop()`` for every page: the run ends there as a run that reached its end;
- :func:`begin` — called by the entry script first, in every run: whether this run is the
  session's first, and that the session has run (written before the page can end the run);
- :func:`preload` — called by the entry script next: in a first run it loads the tiles'
  code (and the Overview's page link's) before anything else and arms the fragment, so every
  first run asks for the next one without each thing it leaves having to say so (a page that
  stops too: the fragment is armed before the page runs).

The sidebar's pickers are left too: a first run shows what they hold as text
(:func:`app.ui.frame.picker_as_text`).

A session without a browser (AppTest) has no timer to ask for the next run, so it gets
whole pages from its first run on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import altair as alt
import streamlit as st

from app.ui.charts import PLOTLY_CONFIG

#: How long the browser waits before asking for the next run: longer than React takes to reveal
#: tiles whose code has just arrived (it holds a reveal up to 300 ms), short beside plotly's load
#: (0.2 s was measured too: the Overview's figures then came later).
WAIT_S = 0.4
PLACE_SUFFIX = "_place"  # a chart's place: its key and this (app.bench_browser waits until none is left)
_RAN = "_paint_session_ran"  # a run of this session has begun: every later run draws whole pages
_FIRST = "_paint_first_run"  # this run is the session's first (set by begin() at the start of every run)
_ASKED = "_paint_charts_asked"  # the fragment is waiting for the browser's tick


#: The pages whose first run is figures first (each calls :func:`rest`): their sidebar shows what its
#: pickers hold as text. On any other page the pickers are drawn at once.
FIGURES_FIRST = ("overview", "outcomes", "job-map", "billing", "portfolio")
#: The pages whose headline holds an ``st.page_link`` (the Overview's weakest step): its code is
#: loaded with the tiles'. Asked for when the link arrived, after the tiles, it held them back
#: (Chromium shows a run's elements once all their code is in).
LINK_FIRST = ("overview",)


class Stop(BaseException):
    """The page run ends here (raised by :func:`stop`, and by :func:`rest` in a first run; caught by the entry script).

    A ``BaseException``, as Streamlit's own stop: a page's ``except Exception`` does not swallow it.
    """


def _browser() -> bool:
    # A browser session has the headers of its websocket's request; AppTest's has none.
    return bool(st.context.headers)


def url_path(page: st.Page) -> str:
    """The name :data:`FIGURES_FIRST` and :data:`LINK_FIRST` know ``page`` by (the default page's address is the root's empty path)."""
    return page.url_path or "overview"


def charts_now() -> bool:
    """Whether this run draws the whole page (every run but a browser session's first)."""
    return not st.session_state.get(_FIRST) or not _browser()


def chart(build: Callable[[], object], *, key: str, height: int) -> None:
    """Draw the chart ``build()`` returns (full width), or, in a session's first run, its place.

    ``build()`` returns a plotly figure or an Altair chart (:mod:`app.ui.overview_charts`), drawn as
    built (an Altair chart with its own configuration, not Streamlit's theme). ``height`` is the
    chart's height in pixels, so the page does not move when the chart replaces its place; the chart
    is not built in a run that leaves it.
    """
    if charts_now():
        figure = build()
        if isinstance(figure, alt.TopLevelMixin):
            st.altair_chart(figure, width="stretch", key=key, theme=None)
        else:
            st.plotly_chart(figure, width="stretch", key=key, config=PLOTLY_CONFIG)
        return
    with st.container(height=height, border=False, key=f"{key}{PLACE_SUFFIX}"):
        st.caption(":material/bar_chart: Drawing the chart…")


def rest(*, height: int) -> None:
    """The page's headline ends here: in a browser session's first run, stop, leaving the rest for the next run.

    The rest's place (a box of ``height`` pixels, about what it fills of the first screen) says it is
    coming. Nothing is dropped: the next run, which the browser asks for as for the charts, draws the
    whole page.

    Raises
    ------
    Stop
        In a first run (through :func:`stop`); the entry script catches it, and the run ends as at
        the page's end.
    """
    if charts_now():
        return
    with st.container(height=height, border=False, key=f"paint_rest{PLACE_SUFFIX}"):
        st.caption(":material/hourglass_top: Loading the rest of the page…")
    stop()


def stop() -> NoReturn:
    """End the page run here, as ``st.stop()`` would, but as a run that reached its end (the entry script catches it).

    Streamlit treats a run that ``st.stop()`` ended as unfinished: it keeps the fragments and the
    browser's timers of the runs before it, and refuses every write of session state after the stop.
    A first run's ask for the next run (:func:`_ask_for_next_run`) then went on ticking after a
    later run had stopped, ran against a page that no longer had its place, and left the page blank
    in Chromium. Every page stops through this function (``tests/ui/test_structure.py``).

    Raises
    ------
    Stop
        Always.
    """
    raise Stop


def begin() -> None:
    """Start a page run (entry script, before anything else): is it the session's first, and the session has run.

    Both are written now, not when the run ends: once a page had called ``st.stop()``, Streamlit
    raised ``StopException`` at every later write of session state in that run, so a "has run"
    written at the end of a run that stopped was lost. Every run of such a page (the Demo page on an
    empty database, the Import page until a file is chosen) was then a first run that armed the
    fragment again, and the browser reran the page about twice a second for as long as it was open.
    """
    st.session_state[_FIRST] = not st.session_state.get(_RAN)
    st.session_state[_RAN] = True


def preload(page: st.Page) -> None:
    """Start a browser session's first run of ``page``: load the tiles' code before anything else, and arm the next run.

    Streamlit loads each element's code when the first such element arrives, and React shows an
    element whose code arrived only once the page's stream of elements quiets down. A hidden
    ``st.metric`` at the top of the sidebar, the run's first element, has the tiles' code loaded
    before the page's own tiles arrive. The fragment that asks for the next run is armed beside it,
    before the page runs, so every first run asks for the next one, whatever it left (charts, the
    rest, the pickers) and however it ended (its end, :func:`rest` or :func:`stop`). On the
    pages of :data:`LINK_FIRST`, a hidden ``st.page_link`` loads the link's code beside the tiles'.
    """
    if charts_now():
        return
    with st.sidebar:
        st.html("<style>.st-key-paint_preload{display:none}</style>")
        with st.container(key="paint_preload"):
            st.metric("Loading", "…", label_visibility="collapsed")
            if url_path(page) in LINK_FIRST:
                st.page_link(page, label=page.title)
            _ask_for_next_run()


@st.fragment(run_every=WAIT_S)
def _ask_for_next_run() -> None:
    # In the first run it only arms itself; its first rerun is the browser's timer, which ticks only
    # once the browser has taken the page in: then the page runs again, whole (begin() marked the
    # session as run), and that run does not arm it again, which stops the timer.
    if st.session_state.pop(_ASKED, False):
        st.rerun()
    st.session_state[_ASKED] = True
