"""Open pages stay current: a "Live" mark that polls the data version and redraws the page when it moved.

A page calls :func:`watch` once. It draws a small "Live" mark inside a fragment that
reruns on a timer (:data:`EVERY`); each rerun reads only the database's data version
(:func:`app.ui.data.data_version`, one primary-key read), so it costs nothing while
nothing changed. When an import, a review, the API or another server wrote, the whole
page reruns: the entry script clears this process's caches
(:func:`app.ui.data.sync_with_database`) and every figure is read again, with no reload
and the page's filters kept.
"""

from __future__ import annotations

import streamlit as st

from app.ui import data

#: How often an open page checks for new data (SPEC-level promise: new figures within 10 s).
EVERY = "5s"
_SEEN = "_live_seen_version"


def watch() -> None:
    """Show the "Live" mark and keep the page current (call once per page run, near the title)."""
    # The version this page run's figures were read at: the fragment compares against it.
    st.session_state[_SEEN] = data.data_version()
    _poll()


@st.fragment(run_every=EVERY)
def _poll() -> None:
    seen = st.session_state.get(_SEEN)
    version = data.data_version()
    if seen is not None and version != seen:
        st.session_state[_SEEN] = version
        st.rerun(scope="app")
    with st.container(key="live_mark"):
        st.markdown(
            ":green-badge[:material/radio_button_checked: Live]",
            help="This page checks for new data every few seconds and updates itself: outcomes sent through the API, "
            "imports and reviews made by anyone show without a reload.",
        )
