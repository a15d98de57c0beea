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
    # The spans are filled from the reviews by 0013, once they have every column the app writes.
    op.create_table(
        'plan_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=False),
        sa.Column('seats', sa.Integer(), nullable=False),
        sa.Column('effective_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['plan.id']),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_plan_change_subscription_id', 'plan_change', ['subscription_id'])
    # The plan each account is on now becomes the plan in force since its subscription began.
    subscription = sa.table(
        'subscription', sa.column('id', sa.Integer()), sa.column('plan_id', sa.Integer()),
        sa.column('seats', sa.Integer()), sa.column('started_on', sa.Date()),
    )
    change = sa.table(
        'plan_change', sa.column('subscription_id', sa.Integer()), sa.column('plan_id', sa.Integer()),
        sa.column('seats', sa.Integer()), sa.column('effective_at', sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()), sa.column('created_by', sa.String()),
    )
    from datetime import datetime, time, timezone

    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    rows = [
        {"subscription_id": sid, "plan_id": plan_id, "seats": seats,
         "effective_at": datetime.combine(started_on, time(0), tzinfo=timezone.utc), "created_at": now,
         "created_by": "migration 0007"}
        for sid, plan_id, seats, started_on in bind.execute(
            sa.select(subscription.c.id, subscription.c.plan_id, subscription.c.seats, subscription.c.started_on)
        )
    ]
    if rows:
        bind.execute(change.insert(), rows)


def downgrade() -> None:
    op.drop_index('ix_plan_change_subscription_id', table_name='plan_change')
    op.drop_table('plan_change')
    op.drop_index('ix_incorrect_span_outcome_pk', table_name='incorrect_span')
    op.drop_index('ix_incorrect_span_account_id', table_name='incorrect_span')
    op.drop_table('incorrect_span')
    op.drop_index('ix_closed_invoice_account_id', table_name='closed_invoice')
    op.drop_table('closed_invoice')
    op.execute('ALTER TABLE account DROP COLUMN grace_days')
