"""notifications: alert states and their history, channels, the outbox of events, deliveries and their attempts

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from app.models import ExactDecimal


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'alert_state',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('value', ExactDecimal(), nullable=True),
        sa.Column('threshold', ExactDecimal(), nullable=True),
        sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('evaluated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'rule'),
    )
    op.create_table(
        'alert_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('value', ExactDecimal(), nullable=True),
        sa.Column('threshold', ExactDecimal(), nullable=True),
        sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alert_event_account_at', 'alert_event', ['account_id', 'at'])
    op.create_table(
        'notify_channel',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('removed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notify_channel_account_id', 'notify_channel', ['account_id'])
    op.create_table(
        'outbox_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('msg_id', sa.String(length=64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('msg_id'),
    )
    op.create_index('ix_outbox_event_account_created', 'outbox_event', ['account_id', 'created_at'])
    op.create_table(
        'delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['outbox_event.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['channel_id'], ['notify_channel.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_delivery_due', 'delivery', ['status', 'next_attempt_at'])
    op.create_index('ix_delivery_event_id', 'delivery', ['event_id'])
    op.create_index('ix_delivery_channel_id', 'delivery', ['channel_id'])
    op.create_table(
        'delivery_attempt',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('latency_ms', sa.Integer(), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_delivery_attempt_delivery_id', 'delivery_attempt', ['delivery_id'])


def downgrade() -> None:
    for table in ('delivery_attempt', 'delivery', 'outbox_event', 'notify_channel', 'alert_event', 'alert_state'):
        op.drop_table(table)
