"""billing over time: incorrect spans from the review history, each account's grace period, and the final invoices of closed months

Every review keeps its time; the spans are computed from them here, once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from app.models import ExactDecimal


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on both backends: SQLite's batch mode would copy the account table, and
    # dropping the old copy cascades to every job and outcome while foreign keys are enforced.
    op.add_column('account', sa.Column('grace_days', sa.Integer(), nullable=False, server_default='3'))
    op.create_table(
        'closed_invoice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('plan', sa.JSON(), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('total', ExactDecimal(), nullable=False),
        sa.Column('billable', sa.Integer(), nullable=False),
        sa.Column('own_billable', sa.Integer(), nullable=False),
        sa.Column('free_used', sa.Integer(), nullable=False),
        sa.Column('free_remaining', sa.Integer(), nullable=False),
        sa.Column('credits', sa.JSON(), nullable=False),
        sa.Column('late', sa.JSON(), nullable=False),
        sa.Column('settled', sa.JSON(), nullable=False),
        sa.Column('activated_on', sa.Date(), nullable=True),
        sa.Column('cutoff', sa.JSON(), nullable=True),
        sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('closed_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'year', 'month'),
    )
    op.create_index('ix_closed_invoice_account_id', 'closed_invoice', ['account_id'])
    op.create_table(
        'incorrect_span',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('outcome_pk', sa.Integer(), nullable=False),
        sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['outcome_pk'], ['outcome.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_incorrect_span_account_id', 'incorrect_span', ['account_id'])
    op.create_index('ix_incorrect_span_outcome_pk', 'incorrect_span', ['outcome_pk'])
    from app.store.spans import rebuild_spans

    rebuild_spans(op.get_bind())


def downgrade() -> None:
    op.drop_index('ix_incorrect_span_outcome_pk', table_name='incorrect_span')
    op.drop_index('ix_incorrect_span_account_id', table_name='incorrect_span')
    op.drop_table('incorrect_span')
    op.drop_index('ix_closed_invoice_account_id', table_name='closed_invoice')
    op.drop_table('closed_invoice')
    op.execute('ALTER TABLE account DROP COLUMN grace_days')
