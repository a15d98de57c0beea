"""Overseer's dashboard: the entry script (page config, sidebar, navigation).

Run with ``streamlit run app/streamlit_app.py`` (or ``overseer start``).
"""

from __future__ import annotations

import sys
from pathlib import Path

# ``streamlit run app/streamlit_app.py`` puts app/ on sys.path, not the repository root.
_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from app.ui import data  # noqa: E402
from app.ui.frame import show_error, sidebar  # noqa: E402

st.set_page_config(page_title="Overseer", page_icon=":material/visibility:", layout="wide", initial_sidebar_state="expanded")

PAGES = Path(__file__).resolve().parent / "ui" / "pages"


# Every page is listed here: st.Page raises StreamlitPageNotFoundError for a missing file, so a page
# that is lost fails the app (and every test) instead of silently leaving the navigation.
pages = {
    "Your AI": [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
        st.Page(PAGES / "outcomes.py", title="Outcomes", icon=":material/fact_check:", url_path="outcomes"),
        st.Page(PAGES / "job_map.py", title="Job map", icon=":material/route:", url_path="job-map"),
        st.Page(PAGES / "billing.py", title="Billing", icon=":material/receipt_long:", url_path="billing"),
    ],
    "Product team": [
        st.Page(PAGES / "portfolio.py", title="Portfolio", icon=":material/grid_view:", url_path="portfolio"),
    ],
    "Sales": [
        st.Page(PAGES / "demo.py", title="Demo", icon=":material/play_circle:", url_path="demo"),
        st.Page(PAGES / "value.py", title="Value delivered", icon=":material/savings:", url_path="value"),
        st.Page(PAGES / "pricing.py", title="Pricing simulator", icon=":material/calculate:", url_path="pricing"),
        st.Page(PAGES / "trial.py", title="Trial", icon=":material/hourglass_top:", url_path="trial"),
    ],
    "Data": [
        st.Page(PAGES / "import_data.py", title="Import", icon=":material/upload_file:", url_path="import"),
    ],
}

page = st.navigation(pages, position="sidebar")
st.logo(str(Path(__file__).resolve().parent / "ui" / "logo.svg"), size="large")
try:
    data.sync_with_database()
    sidebar()
    page.run()
except Exception as exc:  # noqa: BLE001 - no traceback ever reaches the browser
    show_error(exc)
