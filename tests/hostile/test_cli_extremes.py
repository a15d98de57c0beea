"""The corpus of ``extremes.py`` through the command line, on SQLite and PostgreSQL.

Every case: exit status 2, exactly one line on standard error and nothing on standard output, no
traceback, nothing written to the database (every table's row count is unchanged) and no file or
folder left behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlmodel import Session, SQLModel

from app.cli import main
from app.core import db as core_db
from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account
from tests.hostile.extremes import ARGUMENTS, DATABASE_URLS, GOOD_PLAN, NOWS, PLANS

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def acme(engine):
    with Session(engine, expire_on_commit=False) as s:
        create_account(s, "acme", "Acme", SEED_PLANS["freemium"], since=date(2026, 11, 1))
        s.commit()
    return engine


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in SQLModel.metadata.sorted_tables}


def refused(capsys, argv) -> str:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code == 2, (code, out, err)
    assert out == "", out
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("overseer: error: "), err
    assert len(lines[0]) < 600, lines[0][:200]
    return lines[0]


@pytest.mark.parametrize("case, plan", PLANS, ids=[c for c, _ in PLANS])
def test_a_hostile_plan_is_refused_by_every_command_and_writes_nothing(acme, tmp_path, capsys, case, plan):
    path = tmp_path / "plan.json"
    path.write_bytes(plan if isinstance(plan, bytes) else plan.encode("utf-8", "surrogatepass"))
    before = counts(acme)
    message = refused(capsys, ["account", "add", "new", "--name", "New", "--plan", path])
    assert message == refused(capsys, ["quote", "--plan", path, "--outcomes", "10"]), "the same rule, whatever the command"
    assert counts(acme) == before


def test_the_bounds_themselves_are_accepted(acme, tmp_path, capsys):
    """The largest plan inside every bound is stored and billed on both databases."""
    path = tmp_path / "plan.json"
    tiers = [{"up_to": 1_000_000_000, "unit_price": "1000000000", "flat_fee": "1000000000"},
             {"up_to": None, "unit_price": "999999999.999999"}]
    path.write_text(__import__("json").dumps({**GOOD_PLAN, "name": "ü" * 200, "free_outcomes": 1_000_000_000,
                                              "base_fee": "1000000000.000000", "seat_price": "1000000000", "tiers": tiers}))
    assert main(["account", "add", "big", "--name", "B" * 200, "--plan", str(path), "--since", "1970-01-01"]) == 0
    assert main(["invoice", "--account", "big", "--month", "2100-12", "--as-of", "2100-12-31T23:59:59Z"]) == 0
    assert main(["quote", "--plan", str(path), "--outcomes", "1000000000", "--free-remaining", "0",
                 "--seats", "1000000", "--tasks", "1000000000", "--json"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("case, argv", ARGUMENTS, ids=[c for c, _ in ARGUMENTS])
def test_extreme_arguments_are_refused_and_write_nothing(acme, tmp_path, capsys, case, argv):
    plan = tmp_path / "plan.json"
    plan.write_text(__import__("json").dumps(GOOD_PLAN))
    (tmp_path / "folder").mkdir()
    argv = [a.replace("{plan}", str(plan)).replace("{folder}", str(tmp_path / "folder")) for a in argv]
    before = counts(acme)
    message = refused(capsys, argv)
    assert counts(acme) == before
    if case.startswith(("ingest /dev/null", "ingest a folder")):
        assert "no such file" not in message


@pytest.mark.parametrize("now", NOWS)
def test_an_unusable_overseer_now_stops_every_command(acme, monkeypatch, capsys, now):
    monkeypatch.setenv("OVERSEER_NOW", now)
    before = counts(acme)
    for argv in (["invoice", "--account", "acme", "--month", "2026-11"], ["member", "list"],
                 ["account", "add", "new", "--name", "New", "--plan", REPO / "data" / "plans" / "freemium.json"]):
        assert "OVERSEER_NOW" in refused(capsys, argv)
    assert counts(acme) == before


@pytest.mark.parametrize("argv", [
    ["member", "set", "a\udcffb@example.com", "--account", "acme", "--role", "admin"],
    ["account", "add", "new", "--name", "N\udce9w", "--plan", str(REPO / "data" / "plans" / "freemium.json")],
    ["ingest", "/tmp/\udcff.csv", "--account", "acme"],
    ["invoice", "--account", "ac\udcffme", "--month", "2026-11"],
])
def test_arguments_that_are_not_utf8_are_refused(acme, capsys, argv):
    before = counts(acme)
    assert "not valid UTF-8" in refused(capsys, argv)
    assert counts(acme) == before


def test_header_only_csv_is_nothing_to_import_and_leaves_no_audit_entry(acme, tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("outcome_id,job,started_at,completed_at,status,verdict,handoff_step\n")
    before = counts(acme)
    code = main(["ingest", str(path), "--account", "acme"])
    out, err = capsys.readouterr()
    assert code == 0 and '"written": false' in out and err.strip() == "overseer: the file holds no outcomes; nothing to import"
    assert counts(acme) == before


def test_deep_and_huge_jsonl_rows_are_row_errors_and_valid_only_keeps_the_rest(acme, tmp_path, capsys):
    good = '{"outcome_id": "G-%d", "job": "customer-support", "started_at": "2026-11-02T10:00:00Z", "status": "open"}'
    lines = [good % 1, "[" * 50_000 + "]" * 50_000, '{"outcome_id": ' + "9" * 5000 + ', "job": "customer-support"}', good % 2]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code = main(["ingest", str(path), "--account", "acme"])
    out, err = capsys.readouterr()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    code = main(["ingest", str(path), "--account", "acme", "--valid-only"])
    out, err = capsys.readouterr()
    report = __import__("json").loads(out)
    assert code == 0 and report["inserted"] == 2
    assert [(e["line"], e["column"]) for e in report["rejected"]] == [(2, None), (3, None)]
    assert "levels deep" in report["rejected"][0]["reason"] and "5,000 characters" in report["rejected"][1]["reason"]


# --- database URLs ---------------------------------------------------------------------------------


def _refused_everywhere(capsys, monkeypatch, url: str, folder: Path) -> str:
    """Each command that opens the database refuses ``url`` with one line, leaving ``folder`` as it was."""
    core_db.set_engine(None)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(folder)
    before = sorted(p.name for p in folder.iterdir())
    messages = {refused(capsys, argv) for argv in (["migrate"], ["member", "list"], ["demo"],
                                                   ["invoice", "--account", "acme", "--month", "2026-11"])}
    assert sorted(p.name for p in folder.iterdir()) == before, "no stray file or folder"
    assert len(messages) == 1, messages  # the same line, whatever the command
    message = messages.pop()
    assert "Traceback" not in message and "secret" not in message
    return message


@pytest.mark.parametrize("url", DATABASE_URLS)
def test_an_unusable_database_url_is_one_line_on_every_command(capsys, monkeypatch, tmp_path, url):
    message = _refused_everywhere(capsys, monkeypatch, url, tmp_path)
    assert any(word in message for word in ("DATABASE_URL", "database")), message


def test_sqlite_files_that_cannot_be_used(capsys, monkeypatch, tmp_path, sqlite_template):
    (tmp_path / "not-a-database.db").write_text("hello, I am a text file\n" * 100)
    (tmp_path / "regular").write_text("x")
    cases = {
        f"sqlite:///{tmp_path}/not-a-database.db": "is not a SQLite database",
        f"sqlite:///{tmp_path}/regular/sub/overseer.db": "cannot be created",
        f"sqlite:///file:{tmp_path}/missing/x.db?mode=ro&uri=true": "cannot be opened",
    }
    for url, words in cases.items():
        assert words in _refused_everywhere(capsys, monkeypatch, url, tmp_path)
    assert not (tmp_path / "file:").exists() and not (Path.cwd() / "file:").exists()


def test_a_database_stamped_by_a_newer_overseer(engine, capsys, monkeypatch, tmp_path):
    with engine.begin() as conn:
        known = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    try:
        url = engine.url.render_as_string(hide_password=False)
        message = _refused_everywhere(capsys, monkeypatch, url, tmp_path)
        assert "newer version of Overseer" in message and "9999_from_the_future" in message
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": known})


def test_a_percent_in_the_url_reaches_the_database(engine, capsys, monkeypatch, tmp_path):
    """A password holding %40 once broke Alembic's configuration; now the URL works as given."""
    if engine.dialect.name == "sqlite":
        folder = tmp_path / "100%40 sure"
        folder.mkdir()
        url = f"sqlite:///{folder}/overseer.db"
    else:
        # Trust authentication ignores the password: what matters is that the URL, % and all, gets through.
        url = engine.url.set(password="p@ss%word").render_as_string(hide_password=False)
        assert "%40" in url and "%25" in url
    core_db.set_engine(None)
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0, capsys.readouterr().err
    assert main(["member", "list"]) == 0
    capsys.readouterr()
    core_db.get_engine().dispose()
    core_db.set_engine(None)


def _cli(args: list, cwd: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=cwd, capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **env}, timeout=120,
    )


def test_real_non_utf8_bytes_on_the_command_line(tmp_path):
    """Bytes as the shell hands them over, in a file name and in a value: one line, no UnicodeEncodeError."""
    url = f"sqlite:///{tmp_path}/overseer.db"
    bad = tmp_path.as_posix().encode() + b"/\xff\xfe.csv"
    Path(os.fsdecode(bad)).write_bytes(b"outcome_id,job,started_at,completed_at,status,verdict,handoff_step\n")
    for args in (["ingest", bad, "--account", "acme"], ["staff", "add", b"a\xe9@example.com"]):
        done = _cli(args, tmp_path, DATABASE_URL=url)
        assert done.returncode == 2 and b"Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.splitlines()) == 1 and b"not valid UTF-8" in done.stderr
    done = _cli(["member", "list"], tmp_path, DATABASE_URL=os.fsdecode(b"sqlite:///\xff/x.db"))
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and b"Traceback" not in done.stderr, done.stderr


def test_a_sqlite_uri_leaves_no_stray_folder(tmp_path):
    done = _cli(["member", "list"], tmp_path, DATABASE_URL="sqlite:///file:x?mode=ro&uri=true")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and b"Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", ["1e40", "9" * 5000, "١٠", "1_0", "-5", "0", "2000000", "\u0085", "nan"])
def test_an_unusable_import_limit_falls_back_to_the_default(monkeypatch, value):
    """A limit that cannot be read never lifts the limit (README, Configuration)."""
    from app.core.config import DEFAULT_MAX_IMPORT_MB, max_import_mb

    monkeypatch.setenv("OVERSEER_MAX_IMPORT_MB", value)
    assert max_import_mb() == DEFAULT_MAX_IMPORT_MB
