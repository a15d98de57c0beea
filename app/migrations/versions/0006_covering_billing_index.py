"""covering billing index: (account_id, completed_at) also carries status, verdict and reviewed_at

Counting the billed outcomes of one busy day (the projection window's first day, the day the free
allowance ran out) then reads the index alone instead of one table row per outcome.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_outcome_account_completed', table_name='outcome')
    op.create_index(
        'ix_outcome_account_completed', 'outcome', ['account_id', 'completed_at', 'status', 'verdict', 'reviewed_at']
    )


def downgrade() -> None:
    op.drop_index('ix_outcome_account_completed', table_name='outcome')
    op.create_index('ix_outcome_account_completed', 'outcome', ['account_id', 'completed_at'])
