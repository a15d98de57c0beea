"""A database-wide data version, so that every app server knows when its caches are stale.

Streamlit's caches live in one process; with several app servers behind a load
balancer, a review saved through one must show in the others. Every session
that writes bumps ``data_version.version`` in the same transaction as its
writes; each page run reads that one row and clears the process's caches when
the version moved (see :func:`app.ui.data.sync_with_database`).
"""

from __future__ import annotations

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from app.models import DataVersion

_WROTE = "overseer_wrote"
_TABLE = DataVersion.__table__
_BUMP = update(_TABLE).where(_TABLE.c.id == 1).values(version=_TABLE.c.version + 1)


@event.listens_for(Session, "do_orm_execute")
def _note_statement_write(state) -> None:
    # Core inserts/updates/deletes run through Session.execute (bulk imports, demo loads).
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_flush")
def _note_flush_write(session: Session, _context) -> None:
    # Still the pre-flush state here: what this flush inserted, changed or deleted.
    if session.new or session.dirty or session.deleted:
        session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    # Also called for a savepoint's commit: the transaction's own commit bumps once for all of them.
    if session.in_nested_transaction():
        return
    if not (session.info.pop(_WROTE, False) or session.new or session.dirty or session.deleted):
        return
    # Core, on the session's connection: an ORM update would first look for DataVersion objects to
    # synchronise, a cost paid on every commit of every write.
    bump(session.connection())
    # The bump itself is a write statement: forget it, or the next read-only commit would bump again.
    session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_WROTE, None)


def bump(connection) -> None:
    """Move the data version on, in ``connection``'s transaction (for writes made through a bare connection)."""
    connection.execute(_BUMP)


def current_version(session: Session) -> int:
    """The data version now stored (0 before anything was written)."""
    return session.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar() or 0
