"""The one server: the dashboard and the API (``/api/v1``) on one port, as one ASGI app.

A page opened at its own address (``/billing``) gets Streamlit's page naming the server's base (:mod:`app.ui.page_shell`).
``overseer start`` runs it with ``streamlit run app/server.py``; for deployments,
``uvicorn app.server:app`` serves the same (README "Running for many users").
Background work joins through :mod:`app.background`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# ``streamlit run app/server.py`` puts app/ on sys.path, not the repository root.
_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from app.api.endpoints import ROUTES as API_ROUTES  # noqa: E402
from app.background import lifespan  # noqa: E402
from app.ui.page_shell import ROUTES as PAGE_ROUTES  # noqa: E402

ENTRY = Path(__file__).resolve().parent / "streamlit_app.py"
# The API, and each page's own address served with where the server is (app.ui.page_shell).
ROUTES = [*API_ROUTES, *PAGE_ROUTES]

# Keep this line as it is: `streamlit run` finds the App by reading the script for "app = st.App(...)".
app = st.App(ENTRY, routes=ROUTES, lifespan=lifespan)
