"""The process-wide engine (``app.core.db.get_engine``) when several threads ask for it at once.

A server's first API request and its notification worker both open the database at start-up, each on
its own thread: the one engine must be made and migrated once, and the migration must not break.
"""

from __future__ import annotations

import threading

from sqlalchemy import inspect

from app.core import db


def _at_once(work, args_list) -> list[str]:
    """Run ``work(*args)`` for each args on its own thread, all released together; the errors they raised."""
    start = threading.Barrier(len(args_list))
    errors: list[str] = []

    def run(*args) -> None:
        start.wait(timeout=30)
        try:
            work(*args)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_threads_asking_at_once_get_one_migrated_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    monkeypatch.setattr(db, "_ENGINE", None)
    got = []
    errors = _at_once(lambda: got.append(db.get_engine()), [()] * 6)
    try:
        assert errors == []
        assert len(got) == 6 and len({id(e) for e in got}) == 1
        assert "alembic_version" in inspect(got[0]).get_table_names()
    finally:
        if got:
            got[0].dispose()
        monkeypatch.setattr(db, "_ENGINE", None)


def test_migrations_of_two_databases_at_once_do_not_break_each_other(tmp_path):
    engines = [db.make_engine(f"sqlite:///{tmp_path / f'db{i}.db'}") for i in range(4)]
    errors = _at_once(db.migrate, [(e,) for e in engines])
    try:
        assert errors == []
        assert all("alembic_version" in inspect(e).get_table_names() for e in engines)
    finally:
        for e in engines:
            e.dispose()
