"""The audit trail: every change to what an account is billed or shown, with who, when, before and after.

Recorded in the same transaction as the change it describes, so a change that
is rolled back leaves no entry and an entry never lacks its change. Recorded:

==================  ==========================================================
action              what changed
==================  ==========================================================
``review``          an outcome's verdict (reviews in the app)
``import``          outcomes imported from a file (counts, file name)
``job_map``         a job's name, unit, step descriptions or coverage
``job.add``         a job added from a template
``plan``            the account's plan (every price) or seats
``settings``        the monthly budget and quality targets
``value_inputs``    the manual minutes per step and the hourly cost
``member.add``      someone given a role in the account
``member.role``     a member's role changed
``member.remove``   a member removed
``staff``           someone made staff or no longer staff (no account)
``demo``            the demo data loaded or reset (no account)
``channel.add``     a webhook or e-mail channel added for notifications
``channel.remove``  a notification channel removed
==================  ==========================================================

Only an account's admins (and staff) read its trail.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from app.domain.access import Principal
from app.domain.export import to_csv
from app.models import Account, AuditEvent, utcnow

ACTIONS: tuple[str, ...] = (
    "review",
    "import",
    "job_map",
    "job.add",
    "plan",
    "month.close",
    "settings",
    "value_inputs",
    "member.add",
    "member.role",
    "member.remove",
    "staff",
    "demo",
    "channel.add",
    "channel.remove",
    "api_key.create",
    "api_key.revoke",
)
MAX_TARGET = 300
EXPORT_COLUMNS = ("at", "actor", "account", "action", "target", "before", "after")


def _plain(value):
    """A JSON-safe copy: money and dates as text, so the trail stores them exactly."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def record(
    session: Session,
    actor: Principal,
    action: str,
    *,
    account: Account | None = None,
    target: str = "",
    before: Mapping | None = None,
    after: Mapping | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one entry to the trail, in the caller's transaction (nothing is committed).

    Parameters
    ----------
    actor : Principal
        Who made the change (their e-mail address is recorded).
    action : str
        One of :data:`ACTIONS`.
    account : Account, optional
        The account changed; ``None`` for a change to no single account.
    target : str, optional
        What in the account changed (a job, an outcome, a member); cut to 300 characters.
    before, after : mapping, optional
        The changed fields' values before and after; only the fields that changed.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    # Alert states are re-evaluated in the transaction of every change that moves a figure, and each such
    # change passes here: importing the module registers its session hooks (see app.store.alert_states).
    import app.store.alert_states  # noqa: F401
    event = AuditEvent(
        at=at or utcnow(),
        actor=actor.email,
        account_id=None if account is None else account.id,
        action=action,
        target=(target or "")[:MAX_TARGET],
        before=None if before is None else _plain(before),
        after=None if after is None else _plain(after),
    )
    session.add(event)
    return event


def changed(before: Mapping, after: Mapping) -> tuple[dict, dict]:
    """Only the keys whose value differs, as ``(before, after)``."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    target: str
    before: dict | None
    after: dict | None


def _query(account: Account, action: str | None):
    query = select(AuditEvent).where(AuditEvent.account_id == account.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return query


def count_events(session: Session, principal: Principal, account: Account, *, action: str | None = None) -> int:
    principal.require_admin(account.id, "see the audit trail")
    query = _query(account, action).with_only_columns(func.count()).order_by(None)
    return session.exec(query).one()


def list_events(
    session: Session,
    principal: Principal,
    account: Account,
    *,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditRow]:
    """The account's trail, newest first; only its admins (and staff) may read it.

    Raises
    ------
    Forbidden
        The principal is a viewer of the account.
    NotFound
        The principal may not see the account.
    """
    principal.require_admin(account.id, "see the audit trail")
    query = _query(account, action).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    return [AuditRow(e.at, e.actor, e.action, e.target, e.before, e.after) for e in session.exec(query)]


def iter_events(session: Session, principal: Principal, account: Account, *, batch: int = 1000) -> Iterator[AuditRow]:
    """Every entry of the account's trail, oldest first, read in batches (for export)."""
    principal.require_admin(account.id, "export the audit trail")
    last_id = 0
    while True:
        query = (
            select(AuditEvent)
            .where(AuditEvent.account_id == account.id, AuditEvent.id > last_id)
            .order_by(AuditEvent.id)
            .limit(batch)
        )
        events = list(session.exec(query))
        if not events:
            return
        for e in events:
            yield AuditRow(e.at, e.actor, e.action, e.target, e.before, e.after)
        last_id = events[-1].id


def _json(value) -> str:
    import json

    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def export_csv(session: Session, principal: Principal, account: Account) -> str:
    """The account's whole trail as spreadsheet-safe CSV (before/after as JSON text)."""
    rows = (
        {
            "at": e.at,
            "actor": e.actor,
            "account": account.slug,
            "action": e.action,
            "target": e.target,
            "before": _json(e.before),
            "after": _json(e.after),
        }
        for e in iter_events(session, principal, account)
    )
    return to_csv(rows, EXPORT_COLUMNS)
