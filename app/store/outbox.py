"""The transactional outbox: events, the channels they go to, and every delivery and attempt.

:func:`emit` writes an event and one delivery per live channel of its account in
the caller's transaction, so an event exists exactly when the change that caused
it was committed. A worker (:mod:`app.notify.worker`) then claims due deliveries
(:func:`claim_due`), sends them outside any transaction, and records each attempt
(:func:`record_attempt`), which also schedules the next try or gives up.

Claiming sets a lease (``lease_owner``, ``lease_until``) in a short transaction;
on PostgreSQL the rows are read ``FOR UPDATE SKIP LOCKED``, so two workers never
claim one delivery, and on SQLite the write lock serialises claims. A worker that
dies after claiming leaves a lease that lapses after :data:`LEASE`; the delivery is
then claimed again and sent under the same ``webhook-id``: at least once, never lost.

Channels are managed by an account's admins; adding and removing one is in the
audit trail. A webhook's secret is returned once, by :func:`add_webhook`, and no
listing carries it (only a fingerprint).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.core.clock import now as clock_now
from app.core.clock import stored_utc
from app.domain.access import Principal, normalize_email
from app.domain.errors import NotFound, OverseerError
from app.domain.webhooks import (
    EVENT_TYPES, body_bytes, check_url, message_id, new_secret, next_attempt_at, secret_fingerprint,
)
from app.models import Account, Delivery, DeliveryAttempt, NotifyChannel, OutboxEvent
from app.store import audit

__all__ = [
    "LEASE", "MAX_ADDRESSES", "MAX_CHANNELS", "Claimed", "add_email", "add_webhook", "claim_due", "emit",
    "list_attempts", "list_channels", "list_deliveries", "record_attempt", "release", "remove_channel", "send_test",
]

# Longer than a send can take (10 s for the answer, plus connecting): a live worker never loses its lease.
LEASE = timedelta(seconds=60)
MAX_CHANNELS = 20
MAX_ADDRESSES = 20
MAX_ERROR = 500


# --- events -----------------------------------------------------------------------------------


def emit(
    session: Session, account: Account | int, event_type: str, data: dict, *, at: datetime | None = None,
    channel: NotifyChannel | None = None,
) -> OutboxEvent:
    """Store an event and a delivery to each live channel of its account, in the caller's transaction.

    Parameters
    ----------
    account : Account or int
        The account (or its id) the event is about.
    event_type : str
        One of :data:`app.domain.webhooks.EVENT_TYPES`.
    data : dict
        The body's ``data`` (JSON-safe: money and times as text).
    at : datetime, optional
        The event's moment (default :func:`app.core.clock.now`); its first delivery is due then.
    channel : NotifyChannel, optional
        Deliver to this channel only (the test event).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    at = at or clock_now()
    account_id = account if isinstance(account, int) else account.id
    event = OutboxEvent(
        account_id=account_id, type=event_type, msg_id=message_id(uuid.uuid4().hex),
        body=body_bytes(event_type, at, data).decode(), created_at=at,
    )
    session.add(event)
    session.flush()
    if channel is not None:
        channels = [channel]
    else:
        channels = session.execute(
            select(NotifyChannel).where(NotifyChannel.account_id == account_id, NotifyChannel.removed_at.is_(None))
        ).scalars().all()
    for ch in channels:
        session.add(Delivery(event_id=event.id, channel_id=ch.id, next_attempt_at=at, created_at=at))
    return event


# --- channels ---------------------------------------------------------------------------------


def _live_count(session: Session, account: Account) -> int:
    return session.execute(
        select(func.count()).select_from(NotifyChannel)
        .where(NotifyChannel.account_id == account.id, NotifyChannel.removed_at.is_(None))
    ).scalar_one()


def _room_for_one(session: Session, account: Account) -> None:
    if _live_count(session, account) >= MAX_CHANNELS:
        raise OverseerError(f"an account has at most {MAX_CHANNELS} channels; remove one first")


def add_webhook(session: Session, actor: Principal, account: Account, url: str) -> tuple[NotifyChannel, str]:
    """Add a webhook channel; returns it and its secret, which nothing shows again.

    The URL must be ``https`` and resolve only to public addresses (see
    :func:`app.notify.sender.check_destination`), unless ``OVERSEER_WEBHOOKS_ALLOW_PRIVATE=1``.

    Raises
    ------
    Forbidden
        ``actor`` is not an admin of the account.
    WebhookRefused
        The URL may not receive webhooks; the message says why.
    """
    from app.notify.sender import allow_private, check_destination

    actor.require_admin(account.id, "manage its notifications")
    url = (url or "").strip()
    check_url(url, allow_private=allow_private())
    check_destination(url)
    _room_for_one(session, account)
    secret = new_secret()
    channel = NotifyChannel(account_id=account.id, kind="webhook", target=url, secret=secret, created_by=actor.email)
    session.add(channel)
    try:
        session.flush()
    except DBAPIError as exc:
        # SQLAlchemy's message lists the statement's parameters, the secret among them: only the
        # driver's own first line may reach a page or a log.
        from app.core.db import database_problem

        session.rollback()
        raise OverseerError(f"the webhook was not saved: {database_problem(exc)}") from None
    audit.record(
        session, actor, "channel.add", account=account, target=f"webhook {channel.id}",
        after={"kind": "webhook", "url": url, "secret": f"fingerprint {secret_fingerprint(secret)}"},
    )
    return channel, secret


def parse_addresses(text: str) -> list[str]:
    """E-mail addresses separated by commas, semicolons or spaces, each checked, without repeats.

    Raises
    ------
    OverseerError
        None given, more than :data:`MAX_ADDRESSES`, or one that is not an address.
    """
    parts = [p for p in re.split(r"[,;\s]+", text or "") if p]
    if not parts:
        raise OverseerError("give at least one e-mail address")
    if len(parts) > MAX_ADDRESSES:
        raise OverseerError(f"an e-mail channel has at most {MAX_ADDRESSES} addresses, got {len(parts)}")
    seen: list[str] = []
    for part in parts:
        address = normalize_email(part)
        if address not in seen:
            seen.append(address)
    return seen


def add_email(session: Session, actor: Principal, account: Account, addresses: str) -> NotifyChannel:
    """Add an e-mail channel to ``addresses`` (see :func:`parse_addresses`).

    Raises
    ------
    Forbidden
        ``actor`` is not an admin of the account.
    OverseerError
        An address cannot be used.
    """
    actor.require_admin(account.id, "manage its notifications")
    listed = parse_addresses(addresses)
    _room_for_one(session, account)
    channel = NotifyChannel(account_id=account.id, kind="email", target=", ".join(listed), created_by=actor.email)
    session.add(channel)
    session.flush()
    audit.record(
        session, actor, "channel.add", account=account, target=f"email {channel.id}",
        after={"kind": "email", "addresses": channel.target},
    )
    return channel


def _channel(session: Session, account: Account, channel_id: int) -> NotifyChannel:
    channel = session.get(NotifyChannel, channel_id) if isinstance(channel_id, int) and not isinstance(channel_id, bool) else None
    if channel is None or channel.account_id != account.id or channel.removed_at is not None:
        raise NotFound(f"no channel {channel_id!r} in {account.slug}")
    return channel


def remove_channel(session: Session, actor: Principal, account: Account, channel_id: int) -> NotifyChannel:
    """Remove a channel: nothing more is sent to it and its pending deliveries are cancelled; its log stays.

    Raises
    ------
    Forbidden
        ``actor`` is not an admin of the account.
    NotFound
        No live channel ``channel_id`` in the account.
    """
    actor.require_admin(account.id, "manage its notifications")
    channel = _channel(session, account, channel_id)
    at = clock_now()
    channel.removed_at = at
    session.add(channel)
    session.execute(
        update(Delivery).where(Delivery.channel_id == channel.id, Delivery.status == "pending")
        .values(status="cancelled", finished_at=at, lease_owner=None, lease_until=None, last_error="channel removed")
    )
    audit.record(
        session, actor, "channel.remove", account=account, target=f"{channel.kind} {channel.id}",
        before={"kind": channel.kind, "target": channel.target},
    )
    return channel


def send_test(session: Session, actor: Principal, account: Account, channel_id: int) -> OutboxEvent:
    """Queue a ``notification.test`` event to one channel (the worker sends it like any other).

    Raises
    ------
    Forbidden, NotFound
        As :func:`remove_channel`.
    """
    actor.require_admin(account.id, "send a test event")
    channel = _channel(session, account, channel_id)
    return emit(
        session, account, "notification.test",
        {"account": account.slug, "channel": channel.id, "requested_by": actor.email,
         "message": "A test event from Overseer: this channel is set up."},
        channel=channel,
    )


@dataclass(frozen=True)
class ChannelRow:
    id: int
    kind: str
    target: str
    fingerprint: str  # of a webhook's secret; never the secret
    created_at: datetime
    created_by: str
    delivered: int
    pending: int
    failed: int


def list_channels(session: Session, principal: Principal, account: Account) -> list[ChannelRow]:
    """The account's live channels, oldest first, with how many of their deliveries stand where."""
    principal.require_admin(account.id, "see its notifications")
    channels = session.execute(
        select(NotifyChannel).where(NotifyChannel.account_id == account.id, NotifyChannel.removed_at.is_(None))
        .order_by(NotifyChannel.id)
    ).scalars().all()
    counts: dict[tuple[int, str], int] = {}
    if channels:
        for channel_id, status, n in session.execute(
            select(Delivery.channel_id, Delivery.status, func.count())
            .where(Delivery.channel_id.in_([c.id for c in channels]))
            .group_by(Delivery.channel_id, Delivery.status)
        ):
            counts[(channel_id, status)] = n
    return [
        ChannelRow(
            c.id, c.kind, c.target, secret_fingerprint(c.secret) if c.secret else "", stored_utc(c.created_at),
            c.created_by, counts.get((c.id, "delivered"), 0), counts.get((c.id, "pending"), 0),
            counts.get((c.id, "failed"), 0),
        )
        for c in channels
    ]


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    event_type: str
    msg_id: str
    channel: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None
    last_error: str


def list_deliveries(session: Session, principal: Principal, account: Account, *, limit: int = 100) -> list[DeliveryRow]:
    """The account's latest deliveries, newest first."""
    principal.require_admin(account.id, "see its notifications")
    rows = session.execute(
        select(Delivery, OutboxEvent.type, OutboxEvent.msg_id, NotifyChannel.kind, NotifyChannel.target)
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .join(NotifyChannel, NotifyChannel.id == Delivery.channel_id)
        .where(OutboxEvent.account_id == account.id)
        .order_by(Delivery.id.desc()).limit(limit)
    ).all()
    return [
        DeliveryRow(
            d.id, event_type, msg_id, f"{kind} {target}", d.status, d.attempts, stored_utc(d.created_at),
            stored_utc(d.next_attempt_at) if d.status == "pending" else None,
            stored_utc(d.finished_at) if d.finished_at else None, d.last_error,
        )
        for d, event_type, msg_id, kind, target in rows
    ]


@dataclass(frozen=True)
class AttemptRow:
    delivery_id: int
    event_type: str
    channel: str
    at: datetime
    status_code: int | None
    latency_ms: int
    ok: bool
    error: str


def list_attempts(session: Session, principal: Principal, account: Account, *, limit: int = 100) -> list[AttemptRow]:
    """The account's latest delivery attempts, newest first: status code, latency and error of each."""
    principal.require_admin(account.id, "see its notifications")
    rows = session.execute(
        select(DeliveryAttempt, OutboxEvent.type, NotifyChannel.kind, NotifyChannel.target)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .join(NotifyChannel, NotifyChannel.id == Delivery.channel_id)
        .where(OutboxEvent.account_id == account.id)
        .order_by(DeliveryAttempt.id.desc()).limit(limit)
    ).all()
    return [
        AttemptRow(a.delivery_id, t, f"{kind} {target}", stored_utc(a.at), a.status_code, a.latency_ms, a.ok, a.error)
        for a, t, kind, target in rows
    ]


# --- the worker's side ------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds the lease of, with all it needs to send it (no session needed)."""

    delivery_id: int
    attempts: int
    event_type: str
    msg_id: str
    body: str
    account_slug: str
    kind: str
    target: str
    secret: str | None


def claim_due(session: Session, *, owner: str, now: datetime, limit: int = 20) -> list[Claimed]:
    """Lease up to ``limit`` deliveries due at ``now`` to ``owner``, oldest first; the caller commits.

    On PostgreSQL the due rows are locked ``FOR UPDATE SKIP LOCKED``: a second
    worker claiming at the same moment passes over them instead of waiting, and
    once this transaction commits their lease keeps every worker off them.
    """
    query = (
        select(Delivery.id)
        .where(
            Delivery.status == "pending", Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = session.execute(query).scalars().all()
    if not ids:
        return []
    session.execute(
        update(Delivery).where(Delivery.id.in_(ids)).values(lease_owner=owner, lease_until=now + LEASE)
    )
    rows = session.execute(
        select(Delivery.id, Delivery.attempts, OutboxEvent.type, OutboxEvent.msg_id, OutboxEvent.body, Account.slug,
               NotifyChannel.kind, NotifyChannel.target, NotifyChannel.secret)
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .join(NotifyChannel, NotifyChannel.id == Delivery.channel_id)
        .join(Account, Account.id == OutboxEvent.account_id)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.next_attempt_at, Delivery.id)
    ).all()
    return [Claimed(*row) for row in rows]


def release(session: Session, delivery_ids: list[int], owner: str) -> None:
    """Give back leases ``owner`` holds and will not use (the deliveries are claimable at once); the caller commits."""
    if delivery_ids:
        session.execute(
            update(Delivery).where(Delivery.id.in_(delivery_ids), Delivery.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


@dataclass(frozen=True)
class SendResult:
    """What one attempt came to: ``ok`` for a 2xx answer (or an accepted e-mail)."""

    ok: bool
    status_code: int | None = None
    latency_ms: int = 0
    error: str = ""


def record_attempt(session: Session, delivery_id: int, owner: str, result: SendResult, *, now: datetime) -> str:
    """Record one attempt and decide what follows: delivered, another try on the schedule, or failed.

    The attempt is recorded whoever holds the lease now (it happened); the
    delivery's state moves only while ``owner`` still holds it, so a worker that
    overran its lease cannot undo another's outcome. The caller commits.

    Returns
    -------
    str
        The delivery's status after the attempt.
    """
    query = select(Delivery).where(Delivery.id == delivery_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    delivery = session.execute(query).scalar_one_or_none()
    if delivery is None:  # the account was deleted meanwhile
        return "gone"
    error = (result.error or "")[:MAX_ERROR]
    session.add(DeliveryAttempt(
        delivery_id=delivery_id, at=now, status_code=result.status_code, latency_ms=max(0, int(result.latency_ms)),
        ok=result.ok, error=error,
    ))
    if delivery.status != "pending" or delivery.lease_owner != owner:
        return delivery.status
    delivery.attempts += 1
    delivery.lease_owner = None
    delivery.lease_until = None
    if result.ok:
        delivery.status, delivery.finished_at, delivery.last_error = "delivered", now, ""
    else:
        delivery.last_error = error or (f"HTTP {result.status_code}" if result.status_code else "failed")
        following = next_attempt_at(delivery.attempts, now)
        if following is None:
            delivery.status, delivery.finished_at = "failed", now
            delivery.last_error = (
                f"gave up after {delivery.attempts} attempts: {delivery.last_error}"
            )[:MAX_ERROR]
        else:
            delivery.next_attempt_at = following
    session.add(delivery)
    return delivery.status
