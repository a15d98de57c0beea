"""``overseer notify bench``: how long evaluating the alert states of many accounts takes.

Builds ``accounts`` accounts on the seed plans, each with a month of completed
outcomes (0 to 45 of them, a tenth failed, 8% with the verdict incorrect on
the outcome row, no review history), quality targets and a budget, so the rules land in every state; then times :func:`app.store.alert_states.evaluate_all`
twice: the first pass records every account's first states (writes), the
second finds nothing changed (reads only), as the worker's passes mostly do.
Each pass prints its wall time and the CPU time of this process (on a busy
machine the wall time also counts the other processes' share of the cores).

The database is ``DATABASE_URL`` when set (a database of its own, please: it is
filled with benchmark accounts), else a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import os
import platform
import random
import sqlite3
import tempfile
import time
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert

TARGET_SECONDS = 10.0


def build(engine, accounts: int, *, seed: int = 7) -> int:
    """Make ``accounts`` accounts with outcomes; returns how many outcomes were stored."""
    from sqlmodel import Session

    from app.core import clock
    from app.domain.plans import SEED_PLANS
    from app.models import Outcome
    from app.store.accounts import create_account, list_jobs
    from app.store.rollups import rebuild_rollups

    rng = random.Random(seed)
    now = clock.now()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = max(1, int((now - month_start).total_seconds()) - 60)
    plans = ["freemium", "hybrid", "freemium", "usage"]
    total = 0
    with Session(engine, expire_on_commit=False) as session:
        for i in range(accounts):
            plan = SEED_PLANS[plans[i % len(plans)]]
            account = create_account(
                session, f"bench-{i:05d}", f"Bench {i}", plan, since=month_start.date() - timedelta(days=40),
                monthly_budget=Decimal(rng.choice([50, 100, 500])), target_accuracy=Decimal("0.9"),
                target_completion_rate=Decimal("0.8"),
            )
            (job,) = list_jobs(session, account)
            rows = []
            for k in range(rng.randint(0, 45)):
                done = month_start + timedelta(seconds=rng.randrange(span))
                bad = rng.random() < 0.08
                rows.append({
                    "account_id": account.id, "job_id": job.id, "outcome_id": f"B-{i}-{k}",
                    "started_at": done - timedelta(minutes=30), "completed_at": done,
                    "status": "completed" if rng.random() < 0.9 else "failed",
                    "verdict": "incorrect" if bad else "correct", "reviewed_at": done + timedelta(minutes=5),
                    "updated_at": done,
                    **{f"step_{s}": "ai" for s in ("define", "locate", "prepare", "confirm", "execute", "monitor", "modify", "conclude")},
                })
            if rows:
                session.execute(insert(Outcome), rows)
                total += len(rows)
            if i % 100 == 99:
                session.commit()
        session.commit()
        rebuild_rollups(session)
        session.commit()
    return total


def run(accounts: int = 1000, workdir: str | None = None) -> dict:
    """Build the accounts, time two passes of :func:`evaluate_all`, print and return the figures."""
    from app.core.db import make_engine, migrate
    from app.store.alert_states import evaluate_all

    url = os.environ.get("DATABASE_URL")
    folder = workdir or tempfile.mkdtemp(prefix="overseer-notify-bench-")
    engine = make_engine(url or f"sqlite:///{os.path.join(folder, 'bench.db')}")
    migrate(engine)
    started = time.perf_counter()
    outcomes = build(engine, accounts)
    built = time.perf_counter() - started
    timings, cpu, reports = [], [], []
    for _ in range(2):
        t0, c0 = time.perf_counter(), time.process_time()
        reports.append(evaluate_all(engine, close_months=False))
        timings.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    figures = {
        "accounts": reports[0].accounts,
        "outcomes": outcomes,
        "first_pass_s": round(timings[0], 2),
        "first_pass_cpu_s": round(cpu[0], 2),
        "second_pass_cpu_s": round(cpu[1], 2),
        "first_pass_changes": reports[0].changes,
        "second_pass_s": round(timings[1], 2),
        "second_pass_changes": reports[1].changes,
        "database": engine.dialect.name,
        "built_s": round(built, 1),
    }
    print(
        f"Alert states of {figures['accounts']:,} accounts ({outcomes:,} outcomes) on {engine.dialect.name}"
        f"{' ' + sqlite3.sqlite_version if engine.dialect.name == 'sqlite' else ''}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores:"
    )
    print(f"  first pass (every state recorded): {timings[0]:.2f} s ({cpu[0]:.2f} s of CPU), {reports[0].changes:,} changes of state")
    print(f"  second pass (nothing changed):     {timings[1]:.2f} s ({cpu[1]:.2f} s of CPU), {reports[1].changes:,} changes of state")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"  load average when it ended: {load:.1f} (the wall times count other processes' share of the cores)")
    verdict = "met" if max(timings) < TARGET_SECONDS else "NOT met"
    print(f"  target: under {TARGET_SECONDS:g} s for {accounts:,} accounts: {verdict}")
    engine.dispose()
    return figures
