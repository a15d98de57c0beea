"""autonomous means not handed off too: the daily rollups are recomputed with SPEC's rule

An outcome completed after a hand-off was counted as autonomous when no step was marked as a
person's; SPEC's autonomous rate leaves out every hand-off. The rollups are derived data, so
they are rebuilt from the stored outcomes (nothing else changes).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from sqlalchemy import delete

    from app.store import rollups

    conn = op.get_bind()
    for table in rollups.TABLES:
        conn.execute(delete(table))
    rollups._apply(conn, [], 1)


def downgrade() -> None:
    # The rollups stay as upgrade left them: the earlier rule only differs for handed-off outcomes.
    pass
