"""A warm process before the first visitor: the pages' imports, the first chart of each kind, the first connection.

A server just started would otherwise make its first visitor wait for all of it (the
benchmark's "first open"): importing pandas, plotly and the data layer, plotly loading
its templates and validators for the first figure (Altair its schema), pyarrow for the first table,
migrating and opening the database. :func:`lifespan` is one of
:data:`app.background.STARTERS`: the server says it is healthy only once it has run.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path

log = logging.getLogger("overseer.ui")

PAGES = Path(__file__).resolve().parent / "pages"
ENTRY = Path(__file__).resolve().parents[1] / "streamlit_app.py"


def page_imports() -> list[str]:
    """Every module the entry script and the pages import at their top (read from their source, so it keeps up)."""
    names: set[str] = set()
    for script in [ENTRY, *sorted(PAGES.glob("*.py"))]:
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                # ``from app.ui import charts``: charts is a module of its own.
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(names)


def warm() -> float:
    """Import what the pages import, build one chart of each kind and one table off screen, open the database; returns seconds."""
    began = time.perf_counter()
    for name in page_imports():
        try:
            importlib.import_module(name)
        except ImportError:  # ``from x import function``: not a module, and x is imported already
            pass
    # Imported here, not at the top: the point is to pay for them on the lifespan's thread, not in
    # whatever imports app.background (the server module, tests of the starters).
    import pandas as pd
    import plotly.io as pio
    import pyarrow as pa

    from app.ui import charts, data, overview_charts

    day = pd.Timestamp("2026-01-01").date()
    frame = pd.DataFrame({"day": [day], "completed": [1], "escalated": [0], "failed": [0], "open": [0]})
    overview_charts.daily_outcomes(frame).to_dict()  # Altair's schema, as the Overview's first chart needs it
    pio.to_json(charts.allowance_gauge(1, 30))  # plotly's templates and validators, as the other pages' first chart
    pa.Table.from_pandas(frame)  # the first st.dataframe converts through Arrow
    data.data_version()  # the process's engine: migrated (once a process), connected, one read
    took = time.perf_counter() - began
    log.info("warmed the process for its first visitor in %.1f s", took)
    return took


@asynccontextmanager
async def lifespan(app=None):
    """Warm the process (on a thread: the event loop stays free) before the server takes its first visitor.

    A failure is logged, never fatal: the first visitor then pays for what was not warmed, and a
    database that cannot be used is said on the page as usual.
    """
    try:
        await asyncio.to_thread(warm)
    except Exception:  # noqa: BLE001 - warming is an optimisation; the pages report real problems
        log.exception("warming the process failed; the first visitor pays for it")
    yield
