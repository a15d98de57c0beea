"""SQLModel tables.

All times are timezone-aware UTC datetimes (SQLModel refuses naive ones).
Money is stored exactly: NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC
is a float).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, Index, Numeric, String, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from app.core import clock


def utcnow() -> datetime:
    """Now as an aware UTC datetime (the storage convention), from :func:`app.core.clock.now`."""
    return clock.now()


class ExactDecimal(TypeDecorator):
    """A Decimal column that never passes through a float."""

    impl = Numeric(18, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 6))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(str(value))


def money_field(default=None, nullable: bool = False):
    return Field(default=default, sa_column=Column(ExactDecimal(), nullable=nullable))


class Account(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(64), unique=True, nullable=False, index=True))
    name: str = Field(max_length=200)
    currency: str = Field(default="USD", max_length=3)
    hourly_cost: Decimal = money_field(Decimal("40.00"))
    monthly_budget: Decimal | None = money_field(None, nullable=True)
    target_completion_rate: Decimal | None = money_field(None, nullable=True)
    target_accuracy: Decimal | None = money_field(None, nullable=True)
    # Days after a month ends before its invoice is final (SPEC "Billing over time"), 0-30.
    grace_days: int = Field(default=3, sa_column_kwargs={"server_default": "3"})
    created_at: datetime = Field(default_factory=utcnow)


class Plan(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    currency: str = Field(default="USD", max_length=3)
    free_outcomes: int = 0
    base_fee: Decimal = money_field(Decimal(0))
    included_outcomes: int = 0
    outcome_price: Decimal = money_field(Decimal(0))
    tiers: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    tiers_mode: str = Field(default="graduated", max_length=16)
    seat_price: Decimal = money_field(Decimal(0))
    task_price: Decimal = money_field(Decimal(0))


class Subscription(SQLModel, table=True):
    """An account on a plan. One per account: a plan change replaces ``plan_id``."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", unique=True, ondelete="CASCADE")
    plan_id: int = Field(foreign_key="plan.id")
    started_on: date
    converted_on: date | None = None
    seats: int = 0


class IncorrectSpan(SQLModel, table=True):
    """A time during which an outcome's verdict in force was ``incorrect`` (``[started_at, ended_at)``).

    Derived from the outcome's reviews (:mod:`app.domain.verdicts`) whenever they
    change (:mod:`app.store.spans`); billing reads these few rows instead of
    every review.
    """

    __tablename__ = "incorrect_span"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    outcome_pk: int = Field(foreign_key="outcome.id", index=True, ondelete="CASCADE")
    started_at: datetime
    ended_at: datetime | None = None
    # The outcome's completed_at while it is completed, else None: a copy kept in step by
    # app.store.spans, so billing reads the spans of an account without joining its outcomes.
    completed_at: datetime | None = None

    __table_args__ = (Index("ix_incorrect_span_account_completed", "account_id", "completed_at"),)


class ClosedInvoice(SQLModel, table=True):
    """A month's final invoice, stored when the month closed; never changed afterwards.

    Besides the invoice itself (lines, totals, free outcomes used and left, the
    plan it was rated with), it keeps what later months need to tell what came
    late: ``own_billable``, the month's own billing units at closing (outcomes
    billed in it, charges made in it); ``credits``, the credits made in it by
    source month (``{"YYYY-MM": k}``); ``settled``, what this invoice billed for
    earlier closed months that changed after they closed
    (``{"YYYY-MM": {"outcomes": n, "credits": {"YYYY-MM": k}}}``); ``late``, the
    late outcomes it holds (``[{"month": "YYYY-MM", "outcomes": n}]``); and the
    allowance's state at closing (``activated_on``, ``cutoff`` as
    ``[completed_at ISO, outcome id]`` once the allowance ran out).
    """

    __tablename__ = "closed_invoice"
    __table_args__ = (UniqueConstraint("account_id", "year", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    year: int
    month: int
    number: str = Field(max_length=100)
    currency: str = Field(max_length=3)
    plan: dict = Field(sa_column=Column(JSON, nullable=False))
    lines: list = Field(sa_column=Column(JSON, nullable=False))
    total: Decimal = money_field(Decimal(0))
    billable: int = 0
    own_billable: int = 0
    free_used: int = 0
    free_remaining: int = 0
    credits: dict = Field(sa_column=Column(JSON, nullable=False))
    late: list = Field(sa_column=Column(JSON, nullable=False))
    settled: dict = Field(sa_column=Column(JSON, nullable=False))
    activated_on: date | None = None
    cutoff: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    closed_at: datetime
    closed_by: str = Field(max_length=320)


class PlanChange(SQLModel, table=True):
    """A plan (and seats) the subscription is on from ``effective_at``: every plan it has been on, and any to come.

    The subscription's own ``plan_id`` and ``seats`` follow the change in force
    now; billing rates each month with the changes in force in it.
    """

    __tablename__ = "plan_change"

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id", index=True, ondelete="CASCADE")
    plan_id: int = Field(foreign_key="plan.id")
    seats: int = 0
    effective_at: datetime
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", max_length=320)


class Job(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("account_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    slug: str = Field(max_length=64)
    name: str = Field(max_length=200)
    outcome_unit: str = Field(max_length=100)
    template: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class JobStep(SQLModel, table=True):
    __tablename__ = "job_step"
    __table_args__ = (UniqueConstraint("job_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True, ondelete="CASCADE")
    step: str = Field(max_length=16)
    position: int
    description: str = Field(default="", max_length=2000)
    coverage: str = Field(default="manual", max_length=16)
    manual_minutes: Decimal = money_field(Decimal(0))


class Outcome(SQLModel, table=True):
    """One instance of a job, keyed by ``(account, job, outcome_id)``.

    ``verdict`` and ``reviewed_at`` mirror the latest :class:`Review`; the
    ``step_*`` columns say who performed each step (``ai``, ``human`` or NULL).
    """

    __table_args__ = (
        UniqueConstraint("job_id", "outcome_id"),
        # Covers every column of the billing predicate, so counting a busy day's billed outcomes reads
        # the index alone: what is left of a page's cost that grows with the outcomes per day.
        Index("ix_outcome_account_completed", "account_id", "completed_at", "status", "verdict", "reviewed_at"),
        Index("ix_outcome_account_started", "account_id", "started_at"),
        Index("ix_outcome_job_completed", "job_id", "completed_at"),
        # Credits look up outcomes reviewed incorrect within a month.
        Index("ix_outcome_account_reviewed", "account_id", "reviewed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    job_id: int = Field(foreign_key="job.id", ondelete="CASCADE")
    outcome_id: str = Field(max_length=200)
    started_at: datetime
    completed_at: datetime | None = None
    status: str = Field(max_length=16)
    verdict: str = Field(default="unreviewed", max_length=16)
    reviewed_at: datetime | None = None
    handoff_step: str | None = Field(default=None, max_length=16)
    step_define: str | None = Field(default=None, max_length=8)
    step_locate: str | None = Field(default=None, max_length=8)
    step_prepare: str | None = Field(default=None, max_length=8)
    step_confirm: str | None = Field(default=None, max_length=8)
    step_execute: str | None = Field(default=None, max_length=8)
    step_monitor: str | None = Field(default=None, max_length=8)
    step_modify: str | None = Field(default=None, max_length=8)
    step_conclude: str | None = Field(default=None, max_length=8)
    updated_at: datetime = Field(default_factory=utcnow)


class Review(SQLModel, table=True):
    """A human verdict on an outcome. Every review is kept; the latest wins."""

    id: int | None = Field(default=None, primary_key=True)
    outcome_pk: int = Field(foreign_key="outcome.id", index=True, ondelete="CASCADE")
    reviewer: str = Field(max_length=200)
    reviewed_at: datetime = Field(default_factory=utcnow)
    verdict: str = Field(max_length=16)
    comment: str = Field(default="", max_length=5000)
    # "app" for a person in Overseer, "import" for a verdict carried by an imported file.
    source: str = Field(default="app", max_length=16)


# --- Daily rollups (see app.store.rollups) ---------------------------------------------------
# Every figure is read from these tables; they are maintained in the same transaction as every
# write to ``outcome``. Dimensions are NOT NULL so that each combination is one primary key, which
# the upserts that apply a batch's delta ("ON CONFLICT ... DO UPDATE") rely on.

# "Never reviewed incorrect": later than any review, so "incorrect_on <= day" needs no NULL test.
NEVER_REVIEWED = date(9999, 12, 31)


class RollupOutcomeDay(SQLModel, table=True):
    """Outcomes per account, day, job, status, verdict, autonomy and day of an incorrect verdict.

    ``day`` is the UTC date of ``completed_at``, else ``started_at`` (the metrics' date);
    ``autonomous`` is 1 for a completed outcome with no step performed by a human;
    ``incorrect_on`` is the UTC date of the review that made the outcome incorrect,
    :data:`NEVER_REVIEWED` otherwise.
    """

    __tablename__ = "rollup_outcome_day"

    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    day: date = Field(primary_key=True)
    job_id: int = Field(foreign_key="job.id", primary_key=True, ondelete="CASCADE")
    status: str = Field(primary_key=True, max_length=16)
    verdict: str = Field(primary_key=True, max_length=16)
    autonomous: int = Field(primary_key=True)
    incorrect_on: date = Field(primary_key=True)
    outcomes: int = 0


class RollupStepDay(SQLModel, table=True):
    """Per account, day (as in :class:`RollupOutcomeDay`), job and step: who performed it.

    ``reached`` counts outcomes in which the step was performed or handed off, so
    a row whose ``reached`` is 0 holds nothing; ``billable_ai_runs`` counts the
    completed outcomes not reviewed incorrect in which the AI performed the step.
    """

    __tablename__ = "rollup_step_day"

    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    day: date = Field(primary_key=True)
    job_id: int = Field(foreign_key="job.id", primary_key=True, ondelete="CASCADE")
    step: str = Field(primary_key=True, max_length=16)
    ai_runs: int = 0
    human_runs: int = 0
    reached: int = 0
    handoffs: int = 0
    billable_ai_runs: int = 0


class RollupStartedDay(SQLModel, table=True):
    """Outcomes started per account, UTC day of ``started_at`` and job (the tasks of usage pricing)."""

    __tablename__ = "rollup_started_day"

    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    day: date = Field(primary_key=True)
    job_id: int = Field(foreign_key="job.id", primary_key=True, ondelete="CASCADE")
    outcomes: int = 0


class DataVersion(SQLModel, table=True):
    """One row whose ``version`` every writing transaction bumps (see :mod:`app.core.data_version`)."""

    __tablename__ = "data_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0


# --- People, their rights, and what they changed (see app.domain.access, app.store.members, app.store.audit)


class User(SQLModel, table=True):
    """Someone who signs in; known by the e-mail address their identity provider vouches for.

    ``staff`` people (Overseer's own product and sales team) see every account.
    """

    __tablename__ = "app_user"  # "user" is a reserved word in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False))
    name: str = Field(default="", max_length=200)
    staff: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime | None = None


class Membership(SQLModel, table=True):
    """A user's role in one account: ``viewer`` (reads) or ``admin`` (also changes and reviews)."""

    __table_args__ = (UniqueConstraint("user_id", "account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """One change to what an account is billed or shown: who, when, what, before and after.

    ``account_id`` is empty for changes that concern no single account (loading the demo,
    making someone staff). ``actor`` is an e-mail address, or a label such as
    ``command line (alice@host)`` for changes made outside the app.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_account_at", "account_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(max_length=254)
    account_id: int | None = Field(default=None, foreign_key="account.id", ondelete="CASCADE")
    action: str = Field(max_length=32)
    target: str = Field(default="", max_length=300)
    before: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ApiKey(SQLModel, table=True):
    """A key that lets a program call the API for one account (see :mod:`app.store.api_keys`).

    Only a SHA-256 hash of the key is stored; ``prefix`` (its first characters, not
    secret) identifies it in lists and in the audit trail. ``scope`` is ``write``
    (may also read) or ``read``. A revoked key keeps its row, so the list and the
    audit trail still name it.
    """

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    name: str = Field(default="", max_length=200)
    prefix: str = Field(sa_column=Column(String(16), unique=True, nullable=False))
    key_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    scope: str = Field(max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", max_length=254)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
