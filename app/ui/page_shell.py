"""The HTML a browser gets when it opens a page's own address (``/billing``), telling Streamlit where its server is.

Streamlit's frontend does not know which part of the address is the app's base and which the
page: on ``/billing`` it first asks ``/billing/_stcore/health``, gets a 404, and only then
``/_stcore/health``. Measured from the browser (``overseer bench --browser``), that wrong guess held
every page but the Overview (whose address is ``/``) back by about 0.12 s, a tenth of a new
visitor's wait. Streamlit reads the base from ``window.__streamlit.BACKEND_BASE_URL`` when a page
sets it before Streamlit's own script runs; these routes serve Streamlit's ``index.html`` with
that set to the address without its last segment, the page's.

Only the addresses of the dashboard's pages (:data:`PAGE_PATHS`, one segment each) are served so;
every other address is left to Streamlit. Under ``server.baseUrlPath`` the routes do not match, and
the page loads as before.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

#: Every page's ``url_path`` in the navigation (``app/streamlit_app.py``) but the default one, whose
#: address is ``/`` (``tests/ui/test_structure.py`` holds the two lists together).
PAGE_PATHS = (
    "outcomes", "job-map", "billing", "value", "trial", "import", "members", "api-keys",
    "audit", "notifications", "portfolio", "demo", "pricing",
)

# Runs before Streamlit's script (the first in <head>): the page's address is the base and one segment.
_BASE_SCRIPT = (
    "<script>window.__streamlit = Object.assign({}, window.__streamlit, "
    '{BACKEND_BASE_URL: location.origin + location.pathname.replace(/[^/]*$/, "")});</script>'
)


@cache
def html() -> str:
    """Streamlit's ``index.html`` with the base script first in its ``<head>`` (unchanged if it has none)."""
    from streamlit import file_util

    index = (Path(file_util.get_static_dir()) / "index.html").read_text(encoding="utf-8")
    head = index.find("<head>")
    if head < 0:  # another Streamlit's page: it still works, with the wrong guess first
        return index
    head += len("<head>")
    return f"{index[:head]}\n    {_BASE_SCRIPT}{index[head:]}"


async def _page(request: Request) -> HTMLResponse:
    # As Streamlit serves index.html: never cached, since it names the hashed bundles of this version.
    return HTMLResponse(html(), headers={"Cache-Control": "no-cache"})


ROUTES = [Route(f"/{path}", _page, methods=["GET", "HEAD"]) for path in PAGE_PATHS]
