"""Alert states of accounts, kept up to date in the transaction of every change that moves a figure.

Where figures change
--------------------
Every write that changes what an account is billed or shown goes through
``app.store`` and records an audit entry in its own transaction
(:mod:`app.store.audit`): an import, a review, a plan change, a budget or
target change. That entry is the one place all of them share, so this module
listens for it: a session that flushes an audit entry of one of
:data:`FIGURE_ACTIONS` notes the account, and just before that session commits
the account's rules are evaluated from the figures as they stand in the
transaction. Each change of state is stored (:class:`app.models.AlertEvent`) and
its webhook events are written to the outbox (:func:`app.store.outbox.emit`),
all in the same transaction as the change that caused them: committed together
or not at all.

Figures also move with time alone (the projection, the 30-day quality window,
a new month), with no write at all. The notification worker
(:mod:`app.notify.worker`) therefore also evaluates every account on each pass
(:func:`evaluate_all`), each in its own short transaction.

Two transactions evaluating one account at once record one change: the
account's state rows are locked (``FOR UPDATE`` on PostgreSQL; SQLite has one
writer at a time) while the change is decided. Nothing is written when no state
changed, so a pass of the worker over quiet accounts does not move the data
version (and clears no server's caches).

An evaluation that fails for an unexpected reason is rolled back alone (a
savepoint) and logged: the import or review that triggered it still commits,
and the worker's next pass evaluates the account again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from app.core import clock
from app.core.clock import stored_utc
from app.core.db import is_write_conflict, run_in_transaction
from app.domain.access import Principal
from app.domain.alert_states import NO_DATA, RULES, RuleState, Transition, rule_states, transitions
from app.domain.money import money_str
from app.models import Account, AlertEvent, AlertState, AuditEvent
from app.store.alerts import alert_inputs
from app.store.outbox import emit

__all__ = [
    "FIGURE_ACTIONS", "StateRow", "evaluate_account", "evaluate_all", "list_alert_events", "list_states",
]

log = logging.getLogger(__name__)

# Audit actions after which an account's alert figures may have moved (see app.store.audit).
FIGURE_ACTIONS = frozenset({"import", "review", "plan", "settings"})
_NOTED = "overseer_alert_accounts"
_EVALUATING = "overseer_alert_evaluating"


@event.listens_for(OrmSession, "after_flush")
def _note_changed_accounts(session: OrmSession, _context) -> None:
    # Still the pre-flush state here: the audit entries this flush wrote.
    for obj in session.new:
        if isinstance(obj, AuditEvent) and obj.account_id is not None and obj.action in FIGURE_ACTIONS:
            session.info.setdefault(_NOTED, set()).add(obj.account_id)


@event.listens_for(OrmSession, "before_commit")
def _evaluate_noted_accounts(session: OrmSession) -> None:
    # SQLAlchemy calls this for a savepoint's commit too: evaluating there would evaluate once per
    # savepoint (an import's, or each request of an API write group) instead of once per transaction.
    if session.info.get(_EVALUATING) or session.in_nested_transaction():
        return
    if session.new:
        session.flush()  # audit entries added since the last flush are noted by it
    noted = session.info.pop(_NOTED, None)
    if not noted:
        return
    session.info[_EVALUATING] = True
    try:
        at = clock.now()
        for account_id in sorted(noted):
            account = session.get(Account, account_id)
            if account is None:
                continue
            savepoint = session.begin_nested()
            try:
                evaluate_account(session, account, as_of=at)
                savepoint.commit()
            except DBAPIError as exc:
                savepoint.rollback()
                if is_write_conflict(exc):
                    raise  # the whole transaction is retried by whoever runs it
                log.warning("alert states of account %s not evaluated: %s", account_id, str(exc).splitlines()[0])
            except Exception as exc:  # noqa: BLE001 - the change itself must still commit; the worker re-evaluates
                savepoint.rollback()
                log.warning("alert states of account %s not evaluated: %s", account_id, exc)
    finally:
        session.info.pop(_EVALUATING, None)


@event.listens_for(OrmSession, "after_rollback")
def _forget_noted(session: OrmSession) -> None:
    session.info.pop(_NOTED, None)


def _locked_states(session: Session, account: Account, at: datetime) -> dict[str, AlertState]:
    """The account's state rows, locked for this transaction; rows never evaluated are made (``NO_DATA``)."""
    pg = session.get_bind().dialect.name == "postgresql"

    def read() -> dict[str, AlertState]:
        return {row.rule: row for row in session.execute(_states_sql(pg), {"account_id": account.id}).scalars()}

    rows = read()
    missing = [rule for rule in RULES if rule not in rows]
    if missing:
        values = [
            {"account_id": account.id, "rule": rule, "state": NO_DATA, "changed_at": at, "evaluated_at": at}
            for rule in missing
        ]
        if pg:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            # Another server may be making the same rows right now: theirs stand, then both lock them.
            session.execute(pg_insert(AlertState).values(values).on_conflict_do_nothing())
            return read()
        # SQLite: this transaction is the only writer, so the rows made here are the rows stored.
        made = [AlertState(**v) for v in values]
        session.add_all(made)
        session.flush()
        rows.update((row.rule, row) for row in made)
    return rows


@cache
def _states_sql(lock: bool):
    query = select(AlertState).where(AlertState.account_id == bindparam("account_id"))
    return query.with_for_update() if lock else query


def _plain(value) -> str | None:
    return None if value is None else str(value)


def _payload(account: Account, change: Transition, at: datetime) -> dict:
    s = change.after
    value, threshold = s.value, s.threshold
    if change.rule == "budget":
        value = None if value is None else money_str(value)
        threshold = None if threshold is None else money_str(threshold)
    return {
        "account": account.slug,
        "account_name": account.name,
        "rule": change.rule,
        "from": change.before,
        "to": s.state,
        "value": _plain(value),
        "threshold": _plain(threshold),
        "message": s.message,
        "at": at.isoformat().replace("+00:00", "Z"),
    }


def evaluate_account(session: Session, account: Account, *, as_of: datetime | None = None) -> list[Transition]:
    """Evaluate the account's rules at ``as_of`` and record every change of state, in the caller's transaction.

    Each change becomes an :class:`AlertEvent`; changes into or out of an alert
    also write their webhook events to the outbox (``alert.triggered``,
    ``alert.resolved``, ``allowance.exhausted``). Nothing is written when no
    state changed. The caller commits.

    Parameters
    ----------
    account : Account
    as_of : datetime, optional
        Default :func:`app.core.clock.now`.

    Returns
    -------
    list of Transition
        The changes recorded, in rule order.
    """
    at = as_of or clock.now()
    inputs = alert_inputs(session, account, as_of=at)
    current = rule_states(account, **inputs)
    stored = _locked_states(session, account, at)
    changes = transitions({rule: row.state for rule, row in stored.items()}, current)
    for change in changes:
        row = stored[change.rule]
        s: RuleState = change.after
        row.state, row.value, row.threshold, row.changed_at, row.evaluated_at = s.state, s.value, s.threshold, at, at
        session.add(row)
        session.add(AlertEvent(
            account_id=account.id, rule=change.rule, from_state=change.before, to_state=s.state, value=s.value,
            threshold=s.threshold, message=s.message[:1000], at=at,
        ))
        for event_type in change.event_types:
            if event_type == "allowance.exhausted":
                allowance = inputs["state"]
                data = {
                    "account": account.slug,
                    "account_name": account.name,
                    "free_total": allowance.free_total,
                    "free_used": allowance.free_used,
                    "activated_on": allowance.activated_on.isoformat() if allowance.activated_on else None,
                    "message": s.message,
                    "at": at.isoformat().replace("+00:00", "Z"),
                }
            else:
                data = _payload(account, change, at)
            emit(session, account, event_type, data, at=at)
    return changes


@dataclass(frozen=True)
class SweepReport:
    accounts: int
    changes: int
    months_closed: int
    failed: int = 0


def evaluate_all(engine=None, *, as_of: datetime | None = None, close_months: bool = True) -> SweepReport:
    """Evaluate every account; write, each in its own transaction, only where a state changed or a month is due.

    Months whose grace period has ended are closed first (:func:`app.store.closing.close_due`),
    so ``invoice.finalized`` goes out without waiting for someone to open the Billing page.

    Each account is first evaluated in a plain read (its own short read transaction,
    so a long pass never holds one old snapshot). Only an account whose states
    differ from the stored ones, that has a month to close, or that was never
    evaluated (it goes straight there) gets a write transaction (retried on a
    clash with another writer), which evaluates it again under the lock of its state rows and records what changed. A pass over quiet
    accounts therefore never takes SQLite's writer lock, and costs what the
    figures cost.
    """
    from app.store.closing import close_due, is_due

    at = as_of or clock.now()
    changes = closed = failed = 0
    with Session(engine, expire_on_commit=False) if engine is not None else _default_session() as read:
        stored: dict[int, dict[str, str]] = {}
        for account_id, rule, state in read.execute(select(AlertState.account_id, AlertState.rule, AlertState.state)):
            stored.setdefault(account_id, {})[rule] = state
        accounts = list(read.execute(select(Account).order_by(Account.id)).scalars())
        read.commit()
        for account in accounts:
            try:
                due = close_months and is_due(read, account, at)
                known = stored.get(account.id, {})
                # An account with a rule never evaluated is written whatever its figures (its state rows
                # are made), so it goes straight to the write: evaluating it in a read first is wasted.
                quiet = False
                if not due and len(known) == len(RULES):
                    current = rule_states(account, **alert_inputs(read, account, as_of=at))
                    quiet = not transitions(known, current)
                read.commit()  # ends the read transaction (nothing was written)
                if not due and quiet:
                    continue

                def work(session: Session, account_id=account.id) -> tuple[int, int]:
                    fresh = session.get(Account, account_id)
                    if fresh is None:
                        return 0, 0
                    shut = len(close_due(session, fresh, at)) if close_months and is_due(session, fresh, at) else 0
                    return len(evaluate_account(session, fresh, as_of=at)), shut

                n, shut = run_in_transaction(work, engine)
            except Exception as exc:  # noqa: BLE001 - one account's failure must not keep the others unevaluated
                read.rollback()
                log.warning("alert states of account %s not evaluated: %s", account.id, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                failed += 1
                continue
            changes += n
            closed += shut
    return SweepReport(len(accounts), changes, closed, failed)


def _default_session() -> Session:
    from app.core.db import get_engine

    return Session(get_engine(), expire_on_commit=False)


@dataclass(frozen=True)
class StateRow:
    rule: str
    state: str
    value: object
    threshold: object
    changed_at: datetime


def list_states(session: Session, principal: Principal, account: Account) -> list[StateRow]:
    """The account's rules as last evaluated, in :data:`RULES` order (a rule never evaluated is ``NO_DATA``)."""
    principal.require_admin(account.id, "see its notifications")
    stored = {r.rule: r for r in session.execute(select(AlertState).where(AlertState.account_id == account.id)).scalars()}
    out = []
    for rule in RULES:
        r = stored.get(rule)
        out.append(
            StateRow(rule, NO_DATA, None, None, None) if r is None
            else StateRow(rule, r.state, r.value, r.threshold, stored_utc(r.changed_at))
        )
    return out


@dataclass(frozen=True)
class EventRow:
    at: datetime
    rule: str
    from_state: str
    to_state: str
    value: object
    threshold: object
    message: str


def list_alert_events(session: Session, principal: Principal, account: Account, *, limit: int = 200) -> list[EventRow]:
    """The account's changes of state, newest first."""
    principal.require_admin(account.id, "see its notifications")
    rows = session.execute(
        select(AlertEvent).where(AlertEvent.account_id == account.id)
        .order_by(AlertEvent.at.desc(), AlertEvent.id.desc()).limit(limit)
    ).scalars()
    return [EventRow(stored_utc(e.at), e.rule, e.from_state, e.to_state, e.value, e.threshold, e.message) for e in rows]
