"""Every write the pages make, as the signed-in principal: each commits, then clears every cache,
so the change shows at once on every page."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import BinaryIO, TypeVar

from sqlmodel import Session

from app.core.db import session_scope
from app.domain.plans import PlanSpec, StoredPlanError, parse_plan_json
from app.models import Account
from app.store import (
    account_settings,
    api_keys as keys_store,
    audit,
    closing,
    demo,
    ingest,
    jobmap,
    members as members_store,
    outbox,
    reviews,
    subscriptions,
    value,
)
from app.store.api_keys import KeyRow
from app.store.ingest import ImportReport
from app.ui.data.cache import clear_caches
from app.ui.data.principal import who
from app.ui.data.session import account_session
from app.ui.data.times import now, today


T = TypeVar("T")


def _commit(slug: str, work: Callable[[Session, Account], T]) -> T:
    """Run ``work(session, account)`` in one write transaction on the account ``slug``, commit, then clear
    every cache; return what ``work`` returned (read it inside ``work``: the session is closed after)."""
    with account_session(slug, write=True) as (s, acc):
        result = work(s, acc)
    clear_caches()
    return result


# --- reviews, job maps and the account's settings -------------------------------------------------


def save_review(slug: str, job_slug: str, outcome_id: str, verdict: str, reviewer: str, comment: str = "") -> bool:
    """Record a review as the signed-in admin; whether it was a blind second review. ``reviewer`` is the name
    typed in local mode; with sign-in the review carries the signed-in person's address, whatever was typed."""
    principal = who()

    def review(s: Session, acc: Account) -> bool:
        return reviews.review_outcome(
            s, principal, acc, job_slug, outcome_id, verdict,
            reviewer=reviewer if principal.local else principal.email, comment=comment, at=now(),
        ).blind

    return _commit(slug, review)


def save_job_map(
    slug: str, job_slug: str, *, name: str | None, outcome_unit: str | None, steps: dict[str, dict]
) -> None:
    _commit(slug, lambda s, acc: jobmap.update_job_map(
        s, acc, job_slug, actor=who(), name=name, outcome_unit=outcome_unit, steps=steps
    ))


def add_job(slug: str, template: str) -> str:
    return _commit(slug, lambda s, acc: jobmap.add_job(s, who(), acc, template).slug)


def save_account_settings(
    slug: str,
    *,
    monthly_budget: Decimal | None,
    target_completion_rate: Decimal | None,
    target_accuracy: Decimal | None,
    target_precision: Decimal | None = None,
    second_review_share: Decimal | None = None,
) -> None:
    _commit(slug, lambda s, acc: account_settings.update_settings(
        s,
        acc,
        actor=who(),
        monthly_budget=monthly_budget,
        target_completion_rate=target_completion_rate,
        target_accuracy=target_accuracy,
        target_precision=target_precision,
        second_review_share=second_review_share,
    ))


def save_value_inputs(slug: str, job_slug: str | None, *, minutes: dict[str, object], hourly_cost: object) -> None:
    """Save the manual minutes of some steps of one job and the account's hourly cost, in one transaction.

    Raises :class:`OverseerError` (nothing saved) on an unknown job or step or a value out of range.
    """
    principal = who()

    def save(s: Session, acc: Account) -> None:
        if minutes:
            value.set_manual_minutes(s, acc, job_slug, minutes, actor=principal)
        value.set_hourly_cost(s, acc, hourly_cost, actor=principal)

    _commit(slug, save)


# --- months, plans and imports ------------------------------------------------------------------


def settle_months(slug: str) -> None:
    """Close the account's months whose grace period has ended, before any figure is read.

    A read decides first, so a page takes the write lock only on the rare run that closes a month.
    Whoever views the page, the month closes the same way: the grace period closes it, not them.
    """
    moment = now()
    with account_session(slug) as (s, acc):
        try:
            if not closing.is_due(s, acc, moment):
                return
        except StoredPlanError:
            return  # nothing can be billed, nor closed, on a plan that cannot be used: the page says so
    with account_session(slug, write=True) as (s, acc):
        closed = closing.close_due(s, acc, moment)
    if closed:
        clear_caches()


def close_months(slug: str, year: int, month: int) -> list[str]:
    """An admin closes ``year-month`` and every open month before it; returns the invoice numbers."""
    return _commit(slug, lambda s, acc: [row.number for row in closing.close_through(s, who(), acc, year, month, now())])


def save_grace_days(slug: str, days: int) -> None:
    _commit(slug, lambda s, acc: closing.set_grace_days(s, who(), acc, days))


def change_plan(slug: str, plan_json: str, seats: int | None = None, effective: tuple[int, int] | None = None) -> PlanSpec:
    """Put the account on the plan given as JSON (SPEC's plan shape), now or from a later month; an admin's change, audited."""
    spec = parse_plan_json(plan_json)
    _commit(slug, lambda s, acc: subscriptions.change_plan(s, who(), acc, spec, seats=seats, effective=effective))
    return spec


def check_upload_size(size: int) -> None:
    """:class:`OverseerError` for an upload of ``size`` bytes above the import limit (nothing is read)."""
    ingest.check_import_size(size)


def import_file(
    slug: str,
    source: BinaryIO,
    *,
    fmt: str | None,
    valid_only: bool,
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Run :func:`app.store.ingest.ingest_file` (it commits itself when it writes)."""
    with account_session(slug) as (s, acc):
        report = ingest.ingest_file(
            s, acc, source, fmt=fmt, valid_only=valid_only, dry_run=dry_run, progress=progress, actor=who()
        )
    if not dry_run:
        clear_caches()
    return report


def load_demo(reset: bool = False) -> list[str]:
    principal = who()
    principal.require_staff("load the demo data")
    with session_scope(write=True) as s:
        loaded = demo.load_demo(s, today=today(), reset=reset)
        slugs = [a.slug for a in loaded]
        audit.record(s, principal, "demo", target="reset" if reset else "load", after={"accounts": slugs})
    clear_caches()
    return slugs


# --- people, notifications and API keys ---------------------------------------------------------


def note_sign_in(email: str, name: str = "") -> None:
    """Remember that a known person signed in (at most twice a day; see :mod:`app.store.members`)."""
    with session_scope(write=True) as s:
        wrote = members_store.note_sign_in(s, email, name)
    if wrote:
        clear_caches()


def save_member(slug: str, email: str, role: str) -> None:
    _commit(slug, lambda s, acc: members_store.set_member(s, who(), acc, email, role))


def remove_member(slug: str, email: str) -> None:
    _commit(slug, lambda s, acc: members_store.remove_member(s, who(), acc, email))


def add_webhook(slug: str, url: str) -> tuple[int, str]:
    """Add a webhook channel; returns its id and its secret, which the page shows once."""
    def add(s: Session, acc: Account) -> tuple[int, str]:
        channel, secret = outbox.add_webhook(s, who(), acc, url)
        return channel.id, secret

    return _commit(slug, add)


def add_email(slug: str, addresses: str) -> int:
    return _commit(slug, lambda s, acc: outbox.add_email(s, who(), acc, addresses).id)


def remove_channel(slug: str, channel_id: int) -> None:
    _commit(slug, lambda s, acc: outbox.remove_channel(s, who(), acc, channel_id))


def send_test(slug: str, channel_id: int) -> str:
    """Queue a test event to one channel; returns its ``webhook-id``."""
    return _commit(slug, lambda s, acc: outbox.send_test(s, who(), acc, channel_id).msg_id)


def create_api_key(slug: str, scope: str, name: str) -> tuple[KeyRow, str]:
    """Make an API key as the signed-in admin: ``(row, key)``; the key is shown once and never stored."""
    return _commit(slug, lambda s, acc: keys_store.create_key(s, who(), acc, scope, name))


def revoke_api_key(slug: str, id_or_prefix: str) -> KeyRow:
    """Revoke one of the account's keys as the signed-in admin."""
    return _commit(slug, lambda s, acc: keys_store.revoke_key(s, who(), acc, id_or_prefix))
