"""The UI's structure: pages reach the database only through the data layer (app/ui/data/), the domain
knows nothing of Streamlit or the database, every page is in the navigation (a missing one fails
loudly), and page switches keep the URL-bound account."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.ui.conftest import REPO, make_app, no_errors

APP_DIR = REPO / "app"
PAGES_DIR = APP_DIR / "ui" / "pages"
SALES = ("demo.py", "pricing.py", "value.py", "trial.py")
# What pages see of the app: the entry script, the pages, and the helpers beside them (not the data layer).
PAGE_SIDE = sorted(
    str(p.relative_to(APP_DIR))
    for p in [APP_DIR / "streamlit_app.py", *PAGES_DIR.glob("*.py"), *(APP_DIR / "ui").glob("*.py")]
)
DOMAIN = sorted(str(p.relative_to(APP_DIR)) for p in (APP_DIR / "domain").rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


@pytest.mark.parametrize("name", sorted(p.name for p in PAGES_DIR.glob("*.py")))
def test_no_page_opens_a_session_or_caches_by_itself(name):
    path = PAGES_DIR / name
    imports = _imports(path)
    assert not {m for m in imports if m.startswith(("sqlmodel", "sqlalchemy", "app.core.db"))}, imports
    assert not re.search(r"st\.cache_(data|resource)", path.read_text()), "cache reads in app/ui/data/"


def _reaches(imports: set[str], prefixes: tuple[str, ...]) -> set[str]:
    return {m for m in imports if m in prefixes or m.startswith(tuple(f"{p}." for p in prefixes))}


@pytest.mark.parametrize("name", PAGE_SIDE)
def test_pages_import_nothing_from_the_store_or_the_database(name):
    # Anywhere in the file, inside functions too: what a page needs of the store, app.ui.data re-exports.
    imports = _imports(APP_DIR / name)
    assert not _reaches(imports, ("app.store", "app.core.db", "sqlalchemy", "sqlmodel")), imports


@pytest.mark.parametrize("name", DOMAIN)
def test_the_domain_knows_neither_streamlit_nor_the_database(name):
    imports = _imports(APP_DIR / name)
    assert not _reaches(imports, ("streamlit", "sqlalchemy", "sqlmodel")), imports


@pytest.mark.parametrize("name", SALES)
def test_sales_pages_call_only_the_data_layer(name):
    imports = _imports(PAGES_DIR / name)
    assert not {m for m in imports if m.startswith(("app.store", "app.core"))}, imports


def test_demo_uses_the_sidebars_account_labels():
    text = (PAGES_DIR / "demo.py").read_text()
    assert "account_labels" in text and "def _labels" not in text


def test_switch_page_goes_through_the_frame_helper():
    # Plain st.switch_page(page) refuses while ?account= is bound to the picker; frame.switch_page does not.
    for path in [APP_DIR / "streamlit_app.py", *(APP_DIR / "ui").rglob("*.py")]:
        if path.name == "frame.py":
            continue
        assert "st.switch_page" not in path.read_text(), path


def _calls_st_stop(path: Path) -> list[int]:
    """Lines that call ``st.stop()``."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "stop"
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "st"
    ]


@pytest.mark.parametrize("name", [n for n in PAGE_SIDE if n != "ui/paint.py"])
def test_runs_stop_through_paint_stop(name):
    # A run that st.stop() ends is unfinished for Streamlit: it keeps the fragments and timers of the
    # runs before it, and a first run's ask for the next run then blanked the page (app.ui.paint.stop).
    assert not _calls_st_stop(APP_DIR / name)


def test_the_stop_check_finds_st_stop(tmp_path):
    script = tmp_path / "page.py"
    script.write_text("import streamlit as st\nfrom app.ui import paint\nif True:\n    st.stop()\npaint.stop()\n")
    assert _calls_st_stop(script) == [4]


def test_every_page_file_is_in_the_navigation():
    entry = (APP_DIR / "streamlit_app.py").read_text()
    listed = set(re.findall(r'_page\("([a-z_]+\.py)"', entry))
    assert listed == {p.name for p in PAGES_DIR.glob("*.py")}
    assert "exists()" not in entry


def test_every_page_address_is_served_with_its_base():
    # app.ui.page_shell serves each page's own address (all but the default page's, "/") with the
    # script that tells Streamlit where its server is; a page left out would pay a 404 on a direct visit.
    from app.ui import page_shell

    calls = [n for n in ast.walk(ast.parse((APP_DIR / "streamlit_app.py").read_text()))
             if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "_page"]
    paths = {c.args[3].value for c in calls if not any(k.arg == "default" for k in c.keywords)}
    assert len(calls) == len(paths) + 1
    assert sorted(page_shell.PAGE_PATHS) == sorted(paths)


def test_a_missing_page_file_fails_the_app(engine, tmp_path):
    # A copy of the app whose pages folder lacks trial.py: the navigation must raise, not leave it out.
    app = tmp_path / "app"
    pages = app / "ui" / "pages"
    pages.mkdir(parents=True)
    (app / "streamlit_app.py").write_text((APP_DIR / "streamlit_app.py").read_text())
    for image in ("logo.svg", "icon.svg"):
        (app / "ui" / image).write_text((APP_DIR / "ui" / image).read_text())
    for page in PAGES_DIR.glob("*.py"):
        if page.name != "trial.py":
            (pages / page.name).write_text(page.read_text())
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(app / "streamlit_app.py"), default_timeout=30)
    at.run()
    assert at.exception


@pytest.mark.parametrize(
    ("button", "title"),
    [
        ("demo_open_hybrid-over", "Overview"),
        ("demo_focus_hybrid-over", "Pricing simulator"),
        ("demo_guide_3", "Value delivered"),
    ],
)
def test_demo_buttons_switch_page_while_the_account_is_in_the_url(demo_engine, button, title):
    from app.ui import data

    names = {a.slug: a.name for a in data.accounts()}
    # ?account= bound to the sidebar's picker: a plain st.switch_page(page) would raise here.
    at = make_app(account=names["trial-midway"], range=["2026-10-01", "2026-10-31"])
    at.run()
    at.switch_page("ui/pages/demo.py").run()
    no_errors(at)
    at.button(key=button).click().run()
    no_errors(at)
    assert at.title[0].value == title
    target = "converted-freemium" if button == "demo_guide_3" else "hybrid-over"
    assert at.sidebar.selectbox(key="account").value == target
    # the picker writes its value back into the URL (and drops it for its default, the first account)
    expected = None if target == next(iter(names)) else names[target]
    got = at.query_params.get("account")
    assert (got[0] if isinstance(got, list) else got) == expected
    assert at.query_params.get("range") == ["2026-10-01", "2026-10-31"]


def _displayed_by_magic(path: Path) -> list[int]:
    """Lines of statements Streamlit's "magic" would write on the page: a bare expression that is not a call or a docstring."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and (body := node.body) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and not isinstance(node.value, (ast.Call, ast.Yield, ast.YieldFrom, ast.Await))
        and id(node.value) not in docstrings
    ]


@pytest.mark.parametrize("name", PAGE_SIDE)
def test_nothing_relies_on_magic_which_is_off(name):
    # Magic is off (.streamlit/config.toml): its syntax-tree rewrite ran again for every visitor of an
    # idle server. A bare expression would silently stop showing, so none may be written.
    import tomllib

    assert tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())["runner"]["magicEnabled"] is False
    assert not _displayed_by_magic(APP_DIR / name)


def test_the_magic_check_finds_a_bare_expression(tmp_path):
    script = tmp_path / "page.py"
    script.write_text('"""Doc."""\nimport streamlit as st\nx = 1\nx\nst.write(x)\n"a string on its own"\n')
    assert _displayed_by_magic(script) == [4, 6]
