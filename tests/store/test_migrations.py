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
