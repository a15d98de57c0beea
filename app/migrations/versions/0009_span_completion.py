"""incorrect spans carry their outcome's completion time, so billing reads them without the outcomes

Billing reads every incorrect span of an account at each figure; joining each span to its
outcome to learn when it completed cost more than the rest of the Overview. The span keeps a
copy (``completed_at``, NULL while the outcome is not completed), indexed with the account.
Spans are derived data: they are rebuilt from the reviews, which fills the copy.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('incorrect_span', sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.create_index('ix_incorrect_span_account_completed', 'incorrect_span', ['account_id', 'completed_at'])
    from app.store.spans import rebuild_spans

    rebuild_spans(op.get_bind())


def downgrade() -> None:
    op.drop_index('ix_incorrect_span_account_completed', table_name='incorrect_span')
    with op.batch_alter_table('incorrect_span') as batch:
        batch.drop_column('completed_at')
