"""The benchmark runs end to end at a tiny size and prints its table."""

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
