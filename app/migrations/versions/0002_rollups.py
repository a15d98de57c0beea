"""daily rollups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Creates the rollup tables (see :mod:`app.store.rollups`) and fills them from the
outcomes already stored, in SQL, so an upgraded database is consistent at once.
The backfill is plain SQL written here rather than imported from the app, so
that this revision keeps meaning what it meant when it was written.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

STEPS = ("define", "locate", "prepare", "confirm", "execute", "monitor", "modify", "conclude")
OUTCOME_DAY = "date(coalesce(completed_at, started_at))"


def _backfill() -> None:
    no_human = " AND ".join(f"coalesce(step_{s}, '') <> 'human'" for s in STEPS)
    op.execute(
        f"""
        INSERT INTO rollup_outcome_day (account_id, day, job_id, status, verdict, autonomous, incorrect_on, outcomes)
        SELECT account_id, day, job_id, status, verdict, autonomous, incorrect_on, count(*)
        FROM (
            SELECT account_id, {OUTCOME_DAY} AS day, job_id, status, verdict,
                   CASE WHEN status = 'completed' AND {no_human} THEN 1 ELSE 0 END AS autonomous,
                   CASE WHEN verdict = 'incorrect' AND reviewed_at IS NOT NULL THEN date(reviewed_at)
                        ELSE date('9999-12-31') END AS incorrect_on
            FROM outcome
        ) AS o
        GROUP BY account_id, day, job_id, status, verdict, autonomous, incorrect_on
        """
    )
    branches = " UNION ALL ".join(
        f"""
        SELECT account_id, {OUTCOME_DAY} AS day, job_id, '{s}' AS step,
               CASE WHEN step_{s} = 'ai' THEN 1 ELSE 0 END AS ai_runs,
               CASE WHEN step_{s} = 'human' THEN 1 ELSE 0 END AS human_runs,
               1 AS reached,
               CASE WHEN handoff_step = '{s}' THEN 1 ELSE 0 END AS handoffs,
               CASE WHEN step_{s} = 'ai' AND status = 'completed' AND verdict <> 'incorrect' THEN 1 ELSE 0 END
                   AS billable_ai_runs
        FROM outcome
        WHERE step_{s} IN ('ai', 'human') OR handoff_step = '{s}'
        """
        for s in STEPS
    )
    op.execute(
        f"""
        INSERT INTO rollup_step_day (account_id, day, job_id, step, ai_runs, human_runs, reached, handoffs, billable_ai_runs)
        SELECT account_id, day, job_id, step, sum(ai_runs), sum(human_runs), sum(reached), sum(handoffs),
               sum(billable_ai_runs)
        FROM ({branches}) AS s
        GROUP BY account_id, day, job_id, step
        """
    )
    op.execute(
        """
        INSERT INTO rollup_started_day (account_id, day, job_id, outcomes)
        SELECT account_id, day, job_id, count(*)
        FROM (SELECT account_id, date(started_at) AS day, job_id FROM outcome) AS o
        GROUP BY account_id, day, job_id
        """
    )


def upgrade() -> None:
    op.create_table('rollup_outcome_day',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('autonomous', sa.Integer(), nullable=False),
    sa.Column('incorrect_on', sa.Date(), nullable=False),
    sa.Column('outcomes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'day', 'job_id', 'status', 'verdict', 'autonomous', 'incorrect_on')
    )
    op.create_table('rollup_step_day',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('ai_runs', sa.Integer(), nullable=False),
    sa.Column('human_runs', sa.Integer(), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.Column('handoffs', sa.Integer(), nullable=False),
    sa.Column('billable_ai_runs', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'day', 'job_id', 'step')
    )
    op.create_table('rollup_started_day',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('outcomes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'day', 'job_id')
    )
    _backfill()


def downgrade() -> None:
    op.drop_table('rollup_started_day')
    op.drop_table('rollup_step_day')
    op.drop_table('rollup_outcome_day')
