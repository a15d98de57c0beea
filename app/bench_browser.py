"""``overseer bench --browser``: how soon pages show their figures in Chromium, beside a bare Streamlit page.

Everything is timed from the browser's side: a small probe, installed in every page before
Streamlit's own code, looks at each animation frame for figures (``st.metric`` values, or a
table's canvas) and charts that are on screen, and stamps the frame's time
(``performance.now()``, milliseconds from the navigation's start). The probe also keeps the
Performance API's resource and paint entries, so a run can say when the charts' library arrived.

Measured, at about 1 million outcomes (the scale test's account), median of ``rounds``:

- *new visitor*: a fresh browser context (nothing cached, a new session) on a running server,
  for a bare page with one ``st.metric`` (the floor: Streamlit itself) and for Overseer's pages,
  interleaved, so the ratio to the bare page holds on a noisy machine;
- *first open*: the Overview opened on a server just started (``streamlit run app/server.py``,
  as ``overseer start`` runs it);
- *charts complete*: when the Overview's last chart is drawn.

Servers listen on 127.0.0.1 only; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("OVERSEER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
#: The benchmark account: the scale test's (``app.bench._build`` with 1,000,000 asked gives 1,018,505).
SLUG, ACCOUNT = "scale", "Benchmark scale"
DEFAULT_SIZE = 1_000_000
#: The moment the account is built up to and the server runs at, so a kept database shows the same figures.
NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
START_TIMEOUT_S = 120
PAGE_TIMEOUT_S = 120
SETTLE_MS = 600

#: (name, URL path, what its headline is): "metrics" are the st.metric values in the first screen;
#: "table" is the first table drawn (for a page with no tiles; the Portfolio has had tiles since 2026-11-30).
PAGES = [
    ("Overview", "", "metrics"),
    ("Billing", "billing", "metrics"),
    ("Outcomes", "outcomes", "metrics"),
    ("Job map", "job-map", "metrics"),
    ("Portfolio", "portfolio", "metrics"),
]
#: The key suffix of a chart's place in a first run (app.ui.paint.chart): the page is done when none is left.
PLACE_SUFFIX = "_place"
#: The files of Streamlit's chart code (its plotly chunk; its Vega-Lite element and vega-embed with Vega
#: and Vega-Lite): "charts' code loaded" is when the last of them a page asked for arrived.
CHART_CODE = ("PlotlyChart.", "ArrowVegaLiteChart.", "embed.")
BARE_SCRIPT = 'import streamlit as st\n\nst.metric("Outcomes", "1,018,505")\n'

# Installed before any of the page's own scripts. Each frame it stamps, once, every figure, table and
# chart that is on screen (connected, laid out, not hidden, drawn); a figure (label and value) keeps the
# time it first showed when a rerun puts up a new node for it. `__benchDone()` says when the script run
# has finished, the headline is drawn, every chart is drawn and nothing changed for a while.
PROBE = """
(() => {
  const seen = new Map();
  const figures = new Map();  // a figure's label and value: first on screen (a rerun may put up a new node)
  const gaps = new Set();  // figures that left the screen after showing (a flicker)
  let lastChange = 0;
  const shown = el => el.isConnected && el.getClientRects().length > 0
    && (!el.checkVisibility || el.checkVisibility({opacityProperty: true, visibilityProperty: true}));
  const CHARTS = "[data-testid='stPlotlyChart'], [data-testid='stVegaLiteChart'], [data-testid='stArrowVegaLiteChart']";
  const DRAWN = ".main-svg, canvas, svg.marks";
  const PLACES = "[class*='st-key-'][class*='%(place)s']";  // app.ui.paint.chart's places
  const FIGURES = "[data-testid='stMain'] [data-testid='stMetricValue']";  // the page's, not the sidebar's
  const figureOf = el => (el.closest("[data-testid='stMetric']") || el).textContent;
  function stamp(el, now) { if (!seen.has(el)) { seen.set(el, now); lastChange = now; } }
  function frame() {
    const now = performance.now();
    const onScreen = new Set();
    for (const el of document.querySelectorAll(FIGURES)) {
      if (el.textContent.trim() && shown(el)) onScreen.add(figureOf(el));
      if (seen.has(el) || !el.textContent.trim() || !shown(el)) continue;
      const figure = figureOf(el);
      if (!figures.has(figure)) figures.set(figure, now);
      stamp(el, figures.get(figure));
    }
    for (const figure of figures.keys()) if (!onScreen.has(figure)) gaps.add(figure);  // shown, then gone
    for (const el of document.querySelectorAll("[data-testid='stDataFrame']")) {
      const c = el.querySelector("canvas");
      if (c && shown(c)) stamp(el, now);
    }
    for (const el of document.querySelectorAll(CHARTS)) {
      const d = el.querySelector(DRAWN);
      if (d && shown(d)) stamp(el, now);
    }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
  new MutationObserver(() => { lastChange = Math.max(lastChange, performance.now()); })
    .observe(document, {subtree: true, childList: true});
  const app = () => document.querySelector("[data-testid='stApp']");
  const times = sel => [...document.querySelectorAll(sel)].map(el => seen.get(el));
  window.__benchReport = (headline, viewportHeight) => {
    let head = [];
    if (headline === "metrics") {
      head = [...document.querySelectorAll(FIGURES)]
        .filter(el => el.getBoundingClientRect().top < viewportHeight).map(el => seen.get(el));
    } else {
      head = times("[data-testid='stDataFrame']").slice(0, 1);
    }
    const charts = times(CHARTS);
    const res = performance.getEntriesByType("resource").map(r => ({
      name: r.name.split("/").pop(), start: r.startTime, end: r.responseEnd, size: r.transferSize || r.encodedBodySize}));
    const paint = Object.fromEntries(performance.getEntriesByType("paint").map(p => [p.name, p.startTime]));
    return {head, charts, res, paint, count: head.length, gaps: [...gaps]};
  };
  window.__benchDone = (headline) => {
    const a = app();
    if (!a || a.getAttribute("data-test-script-state") !== "notRunning") return false;
    const sel = headline === "metrics" ? FIGURES : "[data-testid='stDataFrame']";
    const head = [...document.querySelectorAll(sel)];
    if (!head.length || head.some(el => !seen.has(el))) return false;
    if ([...document.querySelectorAll(CHARTS)].some(el => !seen.has(el))) return false;
    if (document.querySelector("[data-testid='stSkeleton']")) return false;
    if (document.querySelector(PLACES)) return false;  // a chart's place, its chart still to come
    return performance.now() - lastChange > %(settle)d;
  };
})();
""" % {"settle": SETTLE_MS, "place": PLACE_SUFFIX}


@dataclass
class Sample:
    """One page load, in seconds from the navigation's start."""

    headline: float
    charts: float | None
    first_paint: float | None
    chart_code_end: float | None  # the charts' library (plotly's chunk, or Vega-Lite's) arrived
    flickers: int = 0  # figures that left the screen after they had shown
    resources: list[dict] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(script: Path, env: dict, log_path: Path, *, port: int | None = None, extra_args=(),
          timeout_s: float = START_TIMEOUT_S) -> Iterator[str]:
    """``streamlit run script`` on 127.0.0.1 until its health check says ok; yields the base URL, then stops it."""
    port = port or free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *map(str, extra_args)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                        if resp.read().decode().strip() == "ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{script.name} did not start:\n{log_path.read_text()[-4000:]}")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def measure(browser, url: str, headline: str = "metrics") -> Sample:
    """Open ``url`` in a fresh context (nothing cached, a new session) and time it from the browser."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(PROBE)
        page = context.new_page()
        page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_S * 1000)
        page.wait_for_function(f"window.__benchDone && window.__benchDone({headline!r})",
                               timeout=PAGE_TIMEOUT_S * 1000, polling=100)
        if page.locator("[data-testid='stException']").count():
            raise RuntimeError(f"{url} shows an exception")
        got = page.evaluate(f"window.__benchReport({headline!r}, {VIEWPORT['height']})")
    finally:
        context.close()
    if not got["head"] or any(t is None for t in got["head"]):
        raise RuntimeError(f"{url}: no headline figures were drawn")
    charts = [t for t in got["charts"] if t is not None]
    code = [r["end"] for r in got["res"] if r["name"].startswith(CHART_CODE)]
    return Sample(
        headline=max(got["head"]) / 1000,
        charts=max(charts) / 1000 if charts else None,
        first_paint=(got["paint"].get("first-contentful-paint") or 0) / 1000 or None,
        chart_code_end=max(code) / 1000 if code else None,
        flickers=len(got["gaps"]),
        resources=got["res"],
    )


def build(workdir: Path, size: int) -> tuple[str, int]:
    """The benchmark database (kept in ``workdir`` and reused when its size matches); its URL and outcome count."""
    from app.bench import HISTORY_DAYS, _build
    from app.core.db import make_engine, migrate

    db = workdir / f"overseer-{size}.db"
    meta = workdir / f"overseer-{size}.json"
    url = f"sqlite:///{db}"
    if db.exists() and meta.exists():
        return url, json.loads(meta.read_text())["outcomes"]
    db.unlink(missing_ok=True)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    print(f"Building an account of about {size:,} outcomes in {db} ...", flush=True)
    rows, took = _build(url, SLUG, size, NOW.date() - timedelta(days=HISTORY_DAYS), NOW, workdir / "bench.csv",
                        insert=True)
    (workdir / "bench.csv").unlink(missing_ok=True)
    meta.write_text(json.dumps({"outcomes": rows}))
    print(f"  {rows:,} outcomes in {took:.0f} s", flush=True)
    return url, rows


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _s(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


def run(size: int = DEFAULT_SIZE, rounds: int = 5, workdir: Path | None = None, detail: bool = False) -> dict:
    """Measure and print the table; returns the medians (seconds) by row name."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise RuntimeError("the browser benchmark needs Playwright: pip install -e '.[test]'") from None
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"the browser benchmark needs Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="overseer-bench-browser-") as tmp:
        work = Path(workdir) if workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        url, outcomes = build(work, size)
        bare = work / "bare_metric.py"
        bare.write_text(BARE_SCRIPT)
        env = {**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": url, "OVERSEER_NOW": NOW.isoformat()}
        server = REPO / "app" / "server.py"
        query = "?account=" + ACCOUNT.replace(" ", "+")
        visitor: dict[str, list[Sample]] = {"bare": [], **{name: [] for name, _, _ in PAGES}}
        first: list[Sample] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for i in range(rounds):  # a server just started, each time: the first visitor's Overview
                    with serve(server, env, work / "first.log") as base:
                        first.append(measure(browser, f"{base}/{query}"))
                    print(f"  first open {i + 1}/{rounds}: {_s(first[-1].headline)}", flush=True)
                with serve(bare, env, work / "bare.log") as bare_base, serve(server, env, work / "server.log") as base:
                    for name, path, kind in PAGES:  # a running server has served these pages before
                        measure(browser, f"{base}/{path}{query}", kind)
                    measure(browser, bare_base)
                    for i in range(rounds):  # interleaved, so the ratio holds on a busy machine
                        visitor["bare"].append(measure(browser, bare_base))
                        for name, path, kind in PAGES:
                            visitor[name].append(measure(browser, f"{base}/{path}{query}", kind))
                        print(f"  new visitors {i + 1}/{rounds}: bare {_s(visitor['bare'][-1].headline)}, "
                              + ", ".join(f"{n} {_s(visitor[n][-1].headline)}" for n, _, _ in PAGES), flush=True)
            finally:
                browser.close()
    floor = _median(s.headline for s in visitor["bare"])
    medians = {"bare": floor}
    print(f"\nFigures on screen in Chromium, {outcomes:,} outcomes, median of {rounds} "
          f"(ratio: to the bare page, measured in the same run)\n")
    print("| page | headline figures, new visitor | × bare page | charts complete | first contentful paint "
          "| charts' code loaded | figures that flickered |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in ["bare", *[n for n, _, _ in PAGES]]:
        samples = visitor[name]
        head = _median(s.headline for s in samples)
        medians[name] = head
        medians[f"{name} charts"] = _median(s.charts for s in samples)
        label = "bare page, one `st.metric`" if name == "bare" else name
        print(f"| {label} | {_s(head)} | {head / floor:.2f}× | {_s(medians[f'{name} charts'])} "
              f"| {_s(_median(s.first_paint for s in samples))} | {_s(_median(s.chart_code_end for s in samples))} "
              f"| {sum(s.flickers for s in samples)} |")
    medians["first open"] = _median(s.headline for s in first)
    medians["first open charts"] = _median(s.charts for s in first)
    print(f"| Overview, first open of a just-started server | {_s(medians['first open'])} "
          f"| {medians['first open'] / floor:.2f}× | {_s(medians['first open charts'])} "
          f"| {_s(_median(s.first_paint for s in first))} | {_s(_median(s.chart_code_end for s in first))} "
          f"| {sum(s.flickers for s in first)} |")
    if detail:
        print("\nOverview, last new visitor: resources (start → end, KiB)")
        for r in sorted(visitor["Overview"][-1].resources, key=lambda r: r["start"]):
            print(f"  {r['start'] / 1000:6.2f} → {r['end'] / 1000:6.2f}  {r['size'] / 1024:8.0f}  {r['name'][:70]}")
    return medians
