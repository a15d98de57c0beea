"""``overseer bench --api``: what the API costs, through a real server.

Measures, on one database (``DATABASE_URL``, else a fresh SQLite file in the work folder):

- outcomes a second through ``POST /api/v1/outcomes`` in batches of 1,000, sent one batch
  after another by one client, beside :func:`app.store.ingest.ingest_file` importing the
  same rows (as a CSV file) into another account of the same database;
- the latency (p50, p99) of single-outcome POSTs from 16 concurrent clients, each with its
  own key and connection;
- the peak memory (maximum resident set) of the server process, and of the file import.

The server is the one users run: ``uvicorn app.server:app`` (dashboard and API), on a free
loopback port, with the rate limit raised out of the way (``OVERSEER_API_RATE``) since the
point is the server's own speed. Its "now" (``OVERSEER_NOW``) is the end of the generated
history, so no generated time lies in the future.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, time as dtime, timedelta, timezone
from pathlib import Path

from app import bench
from app.core import clock

BATCH = 1000
DEFAULT_ROWS = 20_000
DEFAULT_CLIENTS = 16
DEFAULT_SINGLES = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_of(pid: int) -> float:
    """Peak resident memory of process ``pid`` in MiB (Linux ``VmHWM``), 0 when unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _items(csv_path: Path) -> list[dict]:
    with csv_path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _keys(url: str, slug: str, count: int) -> list[str]:
    from sqlmodel import Session

    from app.core.db import make_engine
    from app.domain.access import Principal
    from app.store.accounts import get_account
    from app.store.api_keys import create_key

    engine = make_engine(url)
    operator = Principal.operator()
    with Session(engine, expire_on_commit=False) as session:
        account = get_account(session, slug, principal=operator)
        keys = [create_key(session, operator, account, "write", f"bench {n}")[1] for n in range(count)]
        session.commit()
    engine.dispose()
    return keys


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(rows: int = DEFAULT_ROWS, clients: int = DEFAULT_CLIENTS, singles: int = DEFAULT_SINGLES,
        workdir: Path | None = None, out=None) -> dict:
    """Run the API benchmark and print its table; return the figures.

    Parameters
    ----------
    rows : int
        Outcomes sent through the API in batches of 1,000 (and imported from a file).
    clients : int
        Concurrent clients of the single-outcome POSTs.
    singles : int
        Single-outcome POSTs per client.
    """
    import httpx

    from app.core.db import make_engine, migrate

    out = out or sys.stdout
    owned = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="overseer-bench-api-")) if owned else Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench-api.db'}"
    if not os.environ.get("DATABASE_URL"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(workdir / "bench-api.db") + suffix).unlink(missing_ok=True)
    engine = make_engine(url)
    migrate(engine)
    backend = bench.engine_label(engine)
    engine.dispose()
    bench._delete_bench_accounts(url)

    today = clock.now().date()
    until = datetime.combine(today, dtime(12, 0), tzinfo=timezone.utc)
    since = today - timedelta(days=60)
    results: dict = {"machine": bench.machine(), "backend": backend, "rows": rows}
    print(f"Overseer API benchmark on {backend}; {results['machine']}", file=out, flush=True)
    server = None
    try:
        # The same rows twice: a file for ingest_file into one account, JSON items for the API into another.
        file_csv = workdir / "bench-file.csv"
        count, _ = bench._build(url, "bench-file", rows, since, until, file_csv, insert=False)
        api_csv = workdir / "bench-http.csv"
        bench._build(url, "bench-http", rows, since, until, api_csv, insert=False)
        items = _items(file_csv)  # the file account's rows, sent to the API account (job slugs are the same)
        ingest = bench._in_child(bench._ingest_step, url, "bench-file", str(file_csv))
        results["ingest"] = {"rows": ingest["rows"], "seconds": ingest["seconds"], "peak_mib": ingest["peak_mib"]}
        print(f"  ingest_file: {ingest['rows']:,} rows in {ingest['seconds']:.2f} s", file=out, flush=True)

        keys = _keys(url, "bench-http", clients)
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": url, "OVERSEER_NOW": until.isoformat(),
               "OVERSEER_API_RATE": "100000", "OVERSEER_API_BURST": "100000", "PYTHONPATH": str(bench_root())}
        log = open(workdir / "server.log", "w")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.server:app", "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning"],
            cwd=bench_root(), env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{(workdir / 'server.log').read_text()[-3000:]}")
            time.sleep(0.3)

        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys[0]}"}, timeout=120) as client:
            began = time.perf_counter()
            sent = 0
            for start in range(0, len(items), BATCH):
                response = client.post("/api/v1/outcomes", json={"outcomes": items[start:start + BATCH]})
                body = response.json()
                if response.status_code != 200 or body["invalid"]:
                    raise RuntimeError(f"a batch was refused: {response.status_code} {str(body)[:500]}")
                sent += body["inserted"] + body["updated"] + body["unchanged"]
            seconds = time.perf_counter() - began
        results["batches"] = {"rows": sent, "seconds": seconds}
        print(f"  API batches of {BATCH:,}: {sent:,} outcomes in {seconds:.2f} s", file=out, flush=True)

        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        gate = threading.Barrier(clients)

        def single(n: int) -> None:
            mine = []
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys[n]}"}, timeout=60) as c:
                c.get("/api/v1/openapi.json")  # the connection is open before timing starts
                gate.wait(timeout=60)
                for i in range(singles):
                    item = {"outcome_id": f"S-{n}-{i}", "job": items[0]["job"], "started_at": items[0]["started_at"],
                            "completed_at": items[0]["completed_at"] or "", "status": items[0]["status"],
                            "verdict": "", "handoff_step": ""}
                    t0 = time.perf_counter()
                    response = c.post("/api/v1/outcomes", json={"outcomes": [item]})
                    mine.append(time.perf_counter() - t0)
                    if response.status_code != 200:
                        with lock:
                            failures.append(f"{response.status_code} {response.text[:200]}")
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=single, args=(n,)) for n in range(clients)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
        results["singles"] = {
            "clients": clients, "requests": len(latencies), "failures": len(failures), "seconds": wall,
            "p50": _quantile(latencies, 0.5), "p99": _quantile(latencies, 0.99),
            "mean": statistics.fmean(latencies) if latencies else 0.0,
        }
        results["server_peak_mib"] = _peak_of(server.pid)
        if failures:
            print(f"  {len(failures)} single POSTs failed, first: {failures[0]}", file=out)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        bench._delete_bench_accounts(url)
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)
    print_table(results, out)
    return results


def bench_root() -> Path:
    """The repository root (where ``app/`` lives), for the server's working directory."""
    return Path(__file__).resolve().parents[1]


def print_table(results: dict, out=None) -> None:
    """The API benchmark's figures as one Markdown table (as kept in the README)."""
    out = out or sys.stdout
    ingest, batches, singles = results["ingest"], results["batches"], results["singles"]
    file_rate = ingest["rows"] / ingest["seconds"]
    api_rate = batches["rows"] / batches["seconds"]
    print("", file=out)
    print("| step | outcomes | time | outcomes/s | latency p50 | latency p99 | peak memory |", file=out)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |", file=out)
    print(f"| `ingest_file` (CSV) | {ingest['rows']:,} | {ingest['seconds']:.2f} s | {file_rate:,.0f} | | | "
          f"{ingest['peak_mib']:,.0f} MiB |", file=out)
    print(f"| API, batches of {BATCH:,}, 1 client | {batches['rows']:,} | {batches['seconds']:.2f} s | {api_rate:,.0f} "
          f"({api_rate / file_rate:.2f}× the file import) | | | {results['server_peak_mib']:,.0f} MiB (server) |", file=out)
    print(f"| API, single outcomes, {singles['clients']} clients | {singles['requests']:,} | {singles['seconds']:.2f} s | "
          f"{singles['requests'] / singles['seconds']:,.0f} | {singles['p50'] * 1000:,.1f} ms | "
          f"{singles['p99'] * 1000:,.1f} ms | |", file=out)
    if singles["failures"]:
        print(f"\n{singles['failures']} of the single POSTs failed.", file=out)
