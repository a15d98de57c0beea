"""The small views the data layer hands the pages: frozen, picklable dataclasses (cached values are pickled).

Each is built from the store's rows by the read that returns it; none of them reaches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.models import Account, Job, JobStep
from app.store.alert_states import EventRow, StateRow
from app.store.outbox import AttemptRow, ChannelRow, DeliveryRow
from app.store.outcomes import OutcomeRow


@dataclass(frozen=True)
class AccountInfo:
    slug: str
    name: str
    currency: str
    hourly_cost: Decimal
    monthly_budget: Decimal | None
    target_completion_rate: Decimal | None
    target_accuracy: Decimal | None
    role: str = "viewer"  # the signed-in person's role in the account
    grace_days: int = 3
    target_precision: Decimal = Decimal("0.05")
    second_review_share: Decimal = Decimal("0.10")

    @classmethod
    def of(cls, a: Account, role: str) -> AccountInfo:
        """The view of the stored account ``a``, seen by someone whose role in it is ``role``."""
        return cls(
            slug=a.slug,
            name=a.name,
            currency=a.currency,
            hourly_cost=a.hourly_cost,
            monthly_budget=a.monthly_budget,
            target_completion_rate=a.target_completion_rate,
            target_accuracy=a.target_accuracy,
            role=role,
            grace_days=a.grace_days,
            target_precision=a.target_precision,
            second_review_share=a.second_review_share,
        )

    @property
    def can_edit(self) -> bool:
        """Whether the signed-in person may change the account (its admins and staff)."""
        return self.role == "admin"


@dataclass(frozen=True)
class JobInfo:
    slug: str
    name: str
    outcome_unit: str
    template: str | None

    @classmethod
    def of(cls, j: Job) -> JobInfo:
        return cls(slug=j.slug, name=j.name, outcome_unit=j.outcome_unit, template=j.template)


@dataclass(frozen=True)
class StepInfo:
    step: str
    position: int
    description: str
    coverage: str
    manual_minutes: Decimal

    @classmethod
    def of(cls, r: JobStep) -> StepInfo:
        return cls(r.step, r.position, r.description, r.coverage, Decimal(r.manual_minutes))


@dataclass(frozen=True)
class SubscriptionInfo:
    started_on: date
    converted_on: date | None
    seats: int


@dataclass(frozen=True)
class ReviewInfo:
    reviewer: str
    reviewed_at: datetime
    verdict: str
    comment: str


@dataclass(frozen=True)
class OutcomeDetail:
    row: OutcomeRow
    job: JobInfo
    steps: list[StepInfo]
    reviews: list[ReviewInfo]


@dataclass(frozen=True)
class TrialRow:
    slug: str
    name: str
    plan: str
    started_on: date
    free_total: int
    free_used: int
    free_remaining: int
    activated_on: date | None
    activated_by: str | None


@dataclass(frozen=True)
class NotificationsView:
    states: list[StateRow]
    events: list[EventRow]
    channels: list[ChannelRow]
    deliveries: list[DeliveryRow]
    attempts: list[AttemptRow]
    allow_private: bool
    smtp_configured: bool
