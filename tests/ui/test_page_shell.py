"""app.ui.page_shell: a page's own address gets Streamlit's index.html, with the script that names the server's base first."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit import file_util

from app.ui import page_shell

INDEX = (Path(file_util.get_static_dir()) / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def client():
    with TestClient(Starlette(routes=page_shell.ROUTES)) as c:
        yield c


@pytest.mark.parametrize("path", page_shell.PAGE_PATHS)
def test_a_page_address_is_streamlits_index_with_the_base_script_first(client, path):
    resp = client.get(f"/{path}", params={"account": "Acme Support"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert resp.headers["cache-control"] == "no-cache"
    body = resp.text
    # Nothing of Streamlit's page is changed: taking the one added line out gives it back.
    assert body.replace(f"\n    {page_shell._BASE_SCRIPT}", "", 1) == INDEX
    script = body.index("window.__streamlit")
    assert body.index("<head>") < script < body.index("<script type=\"module\"")
    assert "BACKEND_BASE_URL" in body[script:body.index("</script>", script)]


def test_head_is_answered_too(client):
    resp = client.head("/billing")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/", "/favicon.png", "/billing/_stcore/health", "/billing/x", "/Billing"])
def test_every_other_address_is_left_to_streamlit(client, path):
    # Only the pages' own addresses: Streamlit answers the rest (here, with no Streamlit behind, a 404).
    assert client.get(path).status_code == 404


def test_an_index_without_a_head_is_served_unchanged(monkeypatch, tmp_path):
    (tmp_path / "index.html").write_text("<html><body>app</body></html>", encoding="utf-8")
    monkeypatch.setattr(file_util, "get_static_dir", lambda: str(tmp_path))
    page_shell.html.cache_clear()
    try:
        with TestClient(Starlette(routes=page_shell.ROUTES)) as c:
            assert c.get("/billing").text == "<html><body>app</body></html>"
    finally:
        page_shell.html.cache_clear()
