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

from app.ui.frame import show_error, sidebar  # noqa: E402

st.set_page_config(page_title="Overseer", page_icon=":material/visibility:", layout="wide", initial_sidebar_state="expanded")

PAGES = Path(__file__).resolve().parent / "ui" / "pages"


def _sections(spec: dict[str, list[tuple]]) -> dict[str, list]:
    """``st.Page`` objects by section, leaving out pages whose file is not there (yet)."""
    built = {}
    for section, items in spec.items():
        pages_ = [st.Page(PAGES / name, **kwargs) for name, kwargs in items if (PAGES / name).exists()]
        if pages_:
            built[section] = pages_
    return built


pages = _sections({
    "Your AI": [
        ("overview.py", dict(title="Overview", icon=":material/dashboard:", url_path="overview", default=True)),
        ("outcomes.py", dict(title="Outcomes", icon=":material/fact_check:", url_path="outcomes")),
        ("job_map.py", dict(title="Job map", icon=":material/route:", url_path="job-map")),
        ("billing.py", dict(title="Billing", icon=":material/receipt_long:", url_path="billing")),
    ],
    "Product team": [
        ("portfolio.py", dict(title="Portfolio", icon=":material/grid_view:", url_path="portfolio")),
    ],
    "Sales": [
        ("demo.py", dict(title="Demo", icon=":material/play_circle:", url_path="demo")),
        ("value.py", dict(title="Value delivered", icon=":material/savings:", url_path="value")),
        ("pricing.py", dict(title="Pricing simulator", icon=":material/calculate:", url_path="pricing")),
        ("trial.py", dict(title="Trial", icon=":material/hourglass_top:", url_path="trial")),
    ],
    "Data": [
        ("import_data.py", dict(title="Import", icon=":material/upload_file:", url_path="import")),
    ],
})

page = st.navigation(pages, position="sidebar")
st.logo(str(Path(__file__).resolve().parent / "ui" / "logo.svg"), size="large")
try:
    sidebar()
    page.run()
except Exception as exc:  # noqa: BLE001 - no traceback ever reaches the browser
    show_error(exc)
