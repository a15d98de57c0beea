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

from app.core import clock  # noqa: E402
from app.ui import data  # noqa: E402
from app.ui.auth import gate, user_panel  # noqa: E402
from app.ui import paint, tour  # noqa: E402
from app.ui.frame import account_labels, show_error, sidebar  # noqa: E402

LOGO = Path(__file__).resolve().parent / "ui" / "logo.svg"
ICON = LOGO.with_name("icon.svg")  # the logo's eye alone: a tab icon is square
PAGES = LOGO.parent / "pages"

# The tab's icon is the logo's, sent with the page: a Material icon there is fetched from
# fonts.gstatic.com by every visitor's browser (and fails where the dashboard has no internet).
st.set_page_config(page_title="Overseer", page_icon=str(ICON), layout="wide", initial_sidebar_state="auto")


# Every page is listed here: st.Page raises StreamlitPageNotFoundError for a missing file, so a page
# that is lost fails the app (and every test) instead of silently leaving the navigation. Who sees
# which page is decided below; the data layer checks every read and write again, whatever the page.
def _page(file: str, title: str, icon: str, url_path: str, **kwargs) -> st.Page:
    return st.Page(PAGES / file, title=title, icon=icon, url_path=url_path, **kwargs)


def navigation(who) -> dict[str, list[st.Page]]:
    """The pages ``who`` may open, by section."""
    any_admin = who.sees_every_account or any(role == "admin" for _, role in who.roles)
    your_ai = [
        _page("overview.py", "Overview", ":material/dashboard:", "overview", default=True),
        _page("outcomes.py", "Outcomes", ":material/fact_check:", "outcomes"),
        _page("job_map.py", "Job map", ":material/route:", "job-map"),
        _page("billing.py", "Billing", ":material/receipt_long:", "billing"),
    ]
    value = _page("value.py", "Value delivered", ":material/savings:", "value")
    trial = _page("trial.py", "Trial", ":material/hourglass_top:", "trial")
    account = []
    if any_admin:
        account = [
            _page("import_data.py", "Import", ":material/upload_file:", "import"),
            _page("members.py", "Members", ":material/group:", "members"),
            _page("api_keys.py", "API keys", ":material/key:", "api-keys"),
            _page("audit.py", "Audit trail", ":material/history:", "audit"),
            _page("notifications.py", "Notifications", ":material/notifications:", "notifications"),
        ]
    if not who.sees_every_account:
        return {"Your AI": [*your_ai, value, trial], **({"Manage": account} if account else {})}
    return {
        "Your AI": your_ai,
        "Product team": [_page("portfolio.py", "Portfolio", ":material/grid_view:", "portfolio")],
        "Sales": [
            _page("demo.py", "Demo", ":material/play_circle:", "demo"),
            value,
            _page("pricing.py", "Pricing simulator", ":material/calculate:", "pricing"),
            trial,
        ],
        "Manage": account,
    }


def _run() -> None:
    """One run of the app: who it is for, the navigation, the sidebar and the page."""
    try:
        clock.check()  # an unreadable OVERSEER_NOW is said once, plainly, before any figure uses it
        data.sync_with_database()  # first: a membership changed on another server must count in this run
        who = gate()
    except Exception as exc:  # noqa: BLE001 - no traceback ever reaches the browser
        show_error(exc)
        paint.stop()
    page = st.navigation(navigation(who), position="sidebar")
    st.logo(str(LOGO), size="large")
    paint.begin()  # whether this run is the session's first, before the page can end it
    paint.preload(page)  # the tiles' code, before the page's tiles
    try:
        ctx = sidebar(pickers_as_text=paint.url_path(page) in paint.FIGURES_FIRST)
        user_panel(who)  # below the account picker, which matters more on every page
        tour.bar(page.url_path, account_labels(data.accounts()), ctx)  # "Next: …" on the demo's guided path
        page.run()
    except Exception as exc:  # noqa: BLE001 - no traceback ever reaches the browser
        show_error(exc)


try:
    _run()
except paint.Stop:
    # The run ended early (paint.stop, or paint.rest in a first run, whose rest comes with the next run),
    # and reaches its end here: Streamlit cleans up after a run that finished, not after st.stop().
    pass
