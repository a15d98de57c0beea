"""SQLModel tables.

All times are timezone-aware UTC datetimes (SQLModel refuses naive ones).
Money is stored exactly: NUMERIC on PostgreSQL, text on SQLite (whose NUMERIC
is a float).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, Index, Numeric, String, Text, UniqueConstraint, false
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
    # SPEC "Reviews": the completed sample is sized so that accuracy's 95% Wilson interval is no wider
    # than ± this share (0.05: ±5 points); this share of the reviewed sample goes to a second reviewer.
    target_precision: Decimal = Field(
        default=Decimal("0.05"), sa_column=Column(ExactDecimal(), nullable=False, server_default="0.05")
    )
    second_review_share: Decimal = Field(
        default=Decimal("0.10"), sa_column=Column(ExactDecimal(), nullable=False, server_default="0.10")
    )
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
    # Something to judge by (SPEC "Data in"): what the AI did, as plain text, and a link to the source record.
    summary: str | None = Field(default=None, max_length=2000)
    url: str | None = Field(default=None, max_length=2048)
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
    # A second opinion given from the review queue without seeing the earlier verdict (SPEC "Reviews"):
    # what reviewer agreement (Cohen's kappa) is measured on.
    blind: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class ReviewClaim(SQLModel, table=True):
    """An outcome opened from the review queue by ``reviewer``, taken for the others until ``expires_at``.

    One row per outcome at most; an expired row is taken over by the next reviewer
    (:mod:`app.store.claims`). Claims change no figure.
    """

    __tablename__ = "review_claim"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    outcome_pk: int = Field(foreign_key="outcome.id", unique=True, ondelete="CASCADE")
    reviewer: str = Field(max_length=254)
    claimed_at: datetime
    expires_at: datetime


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


# --- Alert states and notifications (see app.domain.alert_states, app.store.alert_states, app.store.outbox)


class AlertState(SQLModel, table=True):
    """Each rule's state in an account (``OK``, ``WARNING``, ``ALERT``, ``NO_DATA``), as last evaluated.

    Its row is locked while a transaction decides whether the state changed, so two
    servers evaluating one account at once record one change, not two.
    """

    __tablename__ = "alert_state"

    account_id: int = Field(foreign_key="account.id", primary_key=True, ondelete="CASCADE")
    rule: str = Field(primary_key=True, max_length=16)
    state: str = Field(max_length=8)
    value: Decimal | None = money_field(None, nullable=True)
    threshold: Decimal | None = money_field(None, nullable=True)
    changed_at: datetime
    evaluated_at: datetime


class AlertEvent(SQLModel, table=True):
    """One change of a rule's state: the history the Notifications page shows."""

    __tablename__ = "alert_event"
    __table_args__ = (Index("ix_alert_event_account_at", "account_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    rule: str = Field(max_length=16)
    from_state: str = Field(max_length=8)
    to_state: str = Field(max_length=8)
    value: Decimal | None = money_field(None, nullable=True)
    threshold: Decimal | None = money_field(None, nullable=True)
    message: str = Field(default="", max_length=1000)
    at: datetime


class NotifyChannel(SQLModel, table=True):
    """Where an account's events go: a webhook (``target`` is its URL) or e-mail (comma-separated addresses).

    A webhook's ``secret`` signs every message (Standard Webhooks needs it in the
    clear to sign); it is shown once, when the channel is made, and never again.
    A removed channel keeps its row (``removed_at``) so its delivery log stays.
    """

    __tablename__ = "notify_channel"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=8)
    target: str = Field(max_length=2000)
    secret: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="", max_length=254)
    removed_at: datetime | None = None


class OutboxEvent(SQLModel, table=True):
    """An event to send, written in the same transaction as the change that caused it (the outbox).

    ``body`` is the exact JSON sent, fixed here so every retry sends the same bytes
    under the same ``msg_id`` (the ``webhook-id``).
    """

    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_account_created", "account_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    type: str = Field(max_length=32)
    msg_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class Delivery(SQLModel, table=True):
    """One event to one channel: ``pending`` until ``delivered``, ``failed`` (schedule over) or ``cancelled``.

    A worker claims a due delivery by setting ``lease_owner`` and ``lease_until``
    (under ``FOR UPDATE SKIP LOCKED`` on PostgreSQL); a lease left by a worker that
    died lapses at ``lease_until`` and the delivery is claimed again.
    """

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="outbox_event.id", index=True, ondelete="CASCADE")
    channel_id: int = Field(foreign_key="notify_channel.id", index=True, ondelete="CASCADE")
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    last_error: str = Field(default="", max_length=500)
    created_at: datetime
    finished_at: datetime | None = None


class DeliveryAttempt(SQLModel, table=True):
    """One try at a delivery: when, the HTTP status (none for e-mail or when no answer came), how long, what failed."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True, ondelete="CASCADE")
    at: datetime
    status_code: int | None = None
    latency_ms: int = 0
    ok: bool = False
    error: str = Field(default="", max_length=500)


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
