"""The one server: app/server.py is the st.App of the dashboard and the API, and its lifespan runs the starters."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import re
from pathlib import Path

from app import background

SERVER = Path(__file__).resolve().parents[2] / "app" / "server.py"


def test_streamlit_run_can_find_the_app():
    # `streamlit run app/server.py` serves it as an ASGI app only when the source says "app = st.App(...)".
    assert re.search(r"^app = st\.App\(ENTRY, routes=ROUTES, lifespan=lifespan\)$", SERVER.read_text(), re.M)


def test_the_lifespan_enters_every_starter_and_leaves_them_in_reverse(monkeypatch):
    seen = []

    def starter(name):
        @contextlib.asynccontextmanager
        async def run(app):
            seen.append(f"start {name} {app}")
            yield
            seen.append(f"stop {name}")

        return run

    monkeypatch.setattr(background, "STARTERS", [starter("a"), starter("b")])

    async def serve():
        async with background.lifespan("the app") as state:
            seen.append(f"serving {state}")

    # On a thread of its own: the browser tests' Playwright keeps an event loop running on the main thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, serve()).result(timeout=60)
    assert seen == ["start a the app", "start b the app", "serving {}", "stop b", "stop a"]


def test_the_server_runs_the_notification_worker():
    from app.notify import worker

    assert worker.lifespan in background.STARTERS
