"""The Alembic revisions build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.core.db import migrate


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def test_migrate_is_idempotent_and_keeps_data(engine, session):
    from app.domain.plans import SEED_PLANS
    from app.store.accounts import create_account

    create_account(session, "acme", "Acme", SEED_PLANS["hybrid"])
    session.commit()
    migrate(engine)
    assert "alembic_version" in inspect(engine).get_table_names()
    assert session.exec(app.models.Account.__table__.select()).first() is not None


def test_the_upgrade_gives_stored_spans_their_outcomes_completion(engine, tmp_path, monkeypatch):
    """Revision 0009: spans built before it (without the outcome's completion) are rebuilt with it."""
    from datetime import date, datetime, timezone

    from alembic import command
    from sqlmodel import Session, select

    from app.core.db import alembic_config
    from app.domain.plans import SEED_PLANS
    from app.models import IncorrectSpan
    from app.store.accounts import create_account
    from app.store.ingest import ingest_file

    monkeypatch.setenv("OVERSEER_NOW", "2026-11-20T12:00:00Z")
    with Session(engine, expire_on_commit=False) as session:
        account = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], template="customer-support",
                                 since=date(2026, 9, 1))
        session.commit()
        path = tmp_path / "in.csv"
        path.write_text(
            "outcome_id,job,started_at,completed_at,status,verdict,handoff_step,reviewed_at\n"
            "M-1,customer-support,2026-10-05T09:00:00Z,2026-10-05T10:00:00Z,completed,incorrect,,2026-10-05T11:00:00Z\n"
            "M-2,customer-support,2026-10-06T09:00:00Z,2026-10-06T10:00:00Z,escalated,incorrect,,2026-10-06T11:00:00Z\n",
            encoding="utf-8",
        )
        assert ingest_file(session, account, path).written
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    assert "completed_at" not in {c["name"] for c in inspect(engine).get_columns("incorrect_span")}
    migrate(engine)
    with Session(engine) as session:
        spans = session.exec(select(IncorrectSpan).order_by(IncorrectSpan.started_at)).all()
        assert [s.completed_at for s in spans] == [datetime(2026, 10, 5, 10, tzinfo=timezone.utc), None]
