"""End-to-end fixtures: the real app (``streamlit run``) on a demo database, driven by headless Chromium.

Without Debian's Chromium at ``/usr/bin/chromium`` (or the Playwright package)
the tests are skipped locally; with ``OVERSEER_REQUIRE_BROWSER=1`` (set by
``.ci/run``) they fail instead, so CI never skips them silently.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.bench_browser import CHROMIUM, CHROMIUM_ARGS, serve
from app.bench_browser import free_port as _free_port  # noqa: F401 - tests/e2e/oidc.py takes it from here

REPO = Path(__file__).resolve().parents[2]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
# Browser tests run at a fixed moment, so the demo (generated relative to "now") holds the same rows
# whatever day the suite runs on. Only test_demo_today.py runs on the real clock (or on the
# OVERSEER_NOW the suite itself was started with, as CI does to try awkward dates).
E2E_NOW = "2026-11-24T12:00:00+00:00"


def pinned_env(**extra: str) -> dict:
    """The environment of an app under test: this one, at :data:`E2E_NOW`, importing this checkout."""
    return {**os.environ, "PYTHONPATH": str(REPO), "OVERSEER_NOW": E2E_NOW, **extra}


def _unavailable(reason: str):
    if os.environ.get("OVERSEER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {reason}")
    pytest.skip(reason)


def load_demo_into(env: dict) -> None:
    """Load the demo into the database ``env["DATABASE_URL"]`` names, in a child process."""
    loader = subprocess.run(
        [sys.executable, "-c", "from app.core.db import session_scope\n"
         "from app.store.demo import load_demo\n"
         "with session_scope() as s:\n    load_demo(s)\n"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert loader.returncode == 0, loader.stderr


@contextmanager
def running_app(
    env: dict,
    log_path: Path,
    *,
    port: int | None = None,
    extra_args: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    script: str | Path = "app/streamlit_app.py",
) -> Iterator[str]:
    """Start ``streamlit run`` with ``env``, wait for its health check, yield its base URL, stop it.

    ``port`` fixes the port (a free one by default; sign-in needs the one its redirect URI
    names), ``extra_args`` are more server options (e.g. ``["--secrets.files", path]``),
    ``extra_env`` is laid over ``env``, and ``script`` is another entry script (tests only).
    The benchmark starts its servers the same way (:func:`app.bench_browser.serve`).
    """
    with serve(REPO / script, {**env, **(extra_env or {})}, log_path, port=port, extra_args=extra_args) as base:
        yield base


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}")


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """A SQLite file holding the demo, generated at :data:`E2E_NOW`; tests may read it to know what to expect."""
    require_chromium()
    path = tmp_path_factory.mktemp("e2e") / "e2e.db"
    load_demo_into(pinned_env(DATABASE_URL=f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def app_server(demo_database):
    """Base URL of a running app on :func:`demo_database`."""
    env = pinned_env(DATABASE_URL=f"sqlite:///{demo_database}")
    with running_app(env, demo_database.parent / "server.log") as base:
        yield base


@pytest.fixture(scope="session")
def chromium_browser():
    """The session's one headless Chromium, without starting the shared demo app."""
    require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def browser(app_server, chromium_browser):
    """The session's Chromium, once the shared demo app (``app_server``) runs."""
    return chromium_browser


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def wait_idle(pg, settle_ms: int = 300) -> None:
    """Wait until the script has finished running (and stays finished for a moment)."""
    pg.wait_for_selector(IDLE, timeout=60_000)
    pg.wait_for_timeout(settle_ms)
    pg.wait_for_selector(IDLE, timeout=60_000)


def open_page(pg, base: str, path: str = "") -> None:
    """Open a page and wait until its script ran: the page title and the sidebar's date range are drawn."""
    pg.goto(f"{base}/{path}")
    pg.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    pg.wait_for_selector("[data-testid='stSidebar'] [data-testid='stDateInput']", timeout=60_000)
    wait_idle(pg, 800)


def no_failure(pg) -> None:
    """No exception, no error message, and no "Page not found" dialog on the page."""
    assert pg.locator("[data-testid='stException']").count() == 0
    assert "Something went wrong" not in pg.inner_text("[data-testid='stMain']")
    assert "Page not found" not in pg.inner_text("body")
