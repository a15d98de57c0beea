"""The benchmark runs end to end at a tiny size and prints its table."""

from datetime import date

import pytest

from app.cli import main

pytest.importorskip("duckdb", reason="the benchmark's DuckDB reference is an optional extra")


def test_bench_prints_one_table(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    code = main(["bench", "--sizes", "300,1200", "--import-rows", "500", "--workdir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| step | outcomes | cold | warm | DuckDB cold")
    overview = [line for line in table if line.startswith("| Overview figures")]
    assert len(overview) == 2
    assert any("`ingest_file`" in line and "outcomes/s" in line for line in table)
    assert any("executemany" in line for line in table)
    assert "Database: SQLite 3." in out
    # One closing per size, timed in seconds with its peak memory, for the same outcomes as the Overview's.
    closing = [line for line in table if line.startswith("| Close one month |")]
    assert [line.split("|")[2] for line in closing] == [line.split("|")[2] for line in overview]
    assert all(line.split("|")[3].strip().endswith(" s") and "MiB" in line for line in closing)


def test_bench_names_the_database_and_its_version(engine):
    from app.bench import engine_label

    label = engine_label(engine)
    assert label.split()[0] == {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[engine.dialect.name]
    assert label.split()[1][0].isdigit()


def test_bench_refuses_bad_sizes(capsys):
    assert main(["bench", "--sizes", "10,lots"]) == 2
    assert "--sizes must be whole numbers" in capsys.readouterr().err


def test_bench_on_postgresql_compares_with_psycopg_executemany_on_the_same_database(engine, tmp_path, capsys, monkeypatch):
    if engine.dialect.name != "postgresql":
        pytest.skip("the PostgreSQL baseline runs on PostgreSQL")
    from sqlalchemy import inspect

    from app.bench import BASELINE_SCHEMA

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    code = main(["bench", "--sizes", "300", "--import-rows", "500", "--workdir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    table = [line for line in out.splitlines() if line.startswith("| ")]
    (baseline,) = [line for line in table if "executemany" in line]
    assert baseline.startswith("| plain `psycopg` `executemany` |") and "outcomes/s" in baseline
    imported = next(line for line in table if "`ingest_file`" in line)
    assert imported.split("|")[2] == baseline.split("|")[2], "both insert the same rows"
    assert "Database: PostgreSQL " in out
    # The baseline's table lived in a schema of its own, dropped afterwards.
    assert BASELINE_SCHEMA not in inspect(engine).get_schema_names()


def test_bench_builds_the_review_history_and_closes_the_last_full_month_at_overseer_now(engine, tmp_path, monkeypatch):
    """The built account has the demo's reviews and spans; the closing step closes the last full month alone."""
    from sqlalchemy import func, select
    from sqlmodel import Session

    from app.bench import _build, _close_step
    from app.core.clock import now
    from app.domain.access import Principal
    from app.models import ClosedInvoice, IncorrectSpan, Outcome, Review
    from app.store.accounts import get_account

    monkeypatch.setenv("OVERSEER_NOW", "2026-03-15T09:30:00Z")
    url = engine.url.render_as_string(hide_password=False)
    until = now().replace(hour=12, minute=0)
    rows, _ = _build(url, "bench-2000", 2000, date(2025, 9, 16), until, tmp_path / "b.csv", insert=True)
    with Session(engine) as session:
        account = get_account(session, "bench-2000", principal=Principal.operator())
        judged = session.scalar(select(func.count()).where(Outcome.account_id == account.id, Outcome.reviewed_at.is_not(None)))
        reviews = session.scalar(select(func.count()).select_from(Review).join(Outcome, Outcome.id == Review.outcome_pk)
                                 .where(Outcome.account_id == account.id))
        spans = session.scalar(select(func.count()).where(IncorrectSpan.account_id == account.id))
    assert rows >= 1500 and judged > 0
    # Every judged outcome has its review, and some an earlier opposite "first look", as in the demo.
    assert judged < reviews < 1.2 * judged
    assert spans > 0

    result = _close_step(url, "bench-2000", until.isoformat())
    assert result["month"] == "2026-02" and result["seconds"] > 0 and result["peak_mib"] > 0
    with Session(engine) as session:
        closed = session.execute(select(ClosedInvoice.year, ClosedInvoice.month).order_by(ClosedInvoice.year, ClosedInvoice.month)).all()
    assert [tuple(c) for c in closed] == [(2025, 9), (2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2)]


def test_bench_takes_its_today_from_overseer_now(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("OVERSEER_NOW", "2026-03-15T09:30:00Z")
    code = main(["bench", "--sizes", "300", "--import-rows", "0", "--workdir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "closing 2026-02 " in out
