"""the review loop: something to judge by (summary, url), the precision target, second reviews and claims

Adds the outcome's ``summary`` and ``url`` (SPEC "Data in"), the account's precision target and
second-review share (SPEC "Reviews"), ``review.blind`` (a second opinion given without seeing the
first verdict) and the ``review_claim`` table (an outcome opened from the queue, taken for 5 minutes).
Stored data is kept as it is: existing outcomes have no summary or url, existing reviews are not blind.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

from app.models import ExactDecimal


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on both backends (as 0007): SQLite's batch mode would copy the account
    # table, and dropping the old copy cascades to every job and outcome.
    op.add_column('account', sa.Column('target_precision', ExactDecimal(), nullable=False, server_default='0.05'))
    op.add_column('account', sa.Column('second_review_share', ExactDecimal(), nullable=False, server_default='0.10'))
    op.add_column('outcome', sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
    op.add_column('outcome', sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True))
    op.add_column('review', sa.Column('blind', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'review_claim',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('outcome_pk', sa.Integer(), nullable=False),
        sa.Column('reviewer', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['outcome_pk'], ['outcome.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('outcome_pk'),
    )
    op.create_index('ix_review_claim_account_id', 'review_claim', ['account_id'])


def downgrade() -> None:
    op.drop_index('ix_review_claim_account_id', table_name='review_claim')
    op.drop_table('review_claim')
    op.execute('ALTER TABLE review DROP COLUMN blind')
    op.execute('ALTER TABLE outcome DROP COLUMN url')
    op.execute('ALTER TABLE outcome DROP COLUMN summary')
    op.execute('ALTER TABLE account DROP COLUMN second_review_share')
    op.execute('ALTER TABLE account DROP COLUMN target_precision')
