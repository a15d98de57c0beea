"""API keys of an account: created and revoked by its admins, checked on every API request.

Only a hash of each key is stored (:mod:`app.domain.api_keys`); the key itself is
returned once, by :func:`create_key`. Creating and revoking are recorded in the
audit trail in the same transaction. A request's key is found by its hash
(:func:`authenticate`), and acts as a :class:`~app.domain.access.Principal`
named after its prefix: an admin of its account for a ``write`` key, a viewer
for a ``read`` key, so the store's own checks apply to the API as to a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, select

from app.core.clock import stored_utc
from app.domain import api_keys as keys
from app.domain.access import ADMIN, VIEWER, Principal
from app.domain.errors import NotFound, OverseerError
from app.models import Account, ApiKey, utcnow
from app.store import audit

# "Last used" is written at most this often per key: a busy client must not turn every read into a write.
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyRow:
    """A key as the API keys page and ``overseer key list`` show it (never the key itself)."""

    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None

    def to_json(self) -> dict:
        return {
            "id": self.id, "name": self.name, "prefix": self.prefix, "scope": self.scope,
            "created_at": self.created_at.isoformat(), "created_by": self.created_by,
            "last_used_at": None if self.last_used_at is None else self.last_used_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


@dataclass(frozen=True)
class Caller:
    """Who an API request comes from: its key, its account and the principal it acts as."""

    key_id: int
    prefix: str
    scope: str
    account: Account
    principal: Principal
    #: "Last used" is older than :data:`LAST_USED_EVERY`: :func:`note_used` should write it.
    stale_use: bool = False


def _row(key: ApiKey) -> KeyRow:
    return KeyRow(
        key.id, key.name, key.prefix, key.scope, stored_utc(key.created_at), key.created_by,
        None if key.last_used_at is None else stored_utc(key.last_used_at),
        None if key.revoked_at is None else stored_utc(key.revoked_at),
    )


def create_key(session: Session, actor: Principal, account: Account, scope: str, name: str = "") -> tuple[KeyRow, str]:
    """Make a key for ``account``; returns it as listed and the key itself (shown once, never stored).

    Raises
    ------
    Forbidden
        ``actor`` is not an admin of the account.
    OverseerError
        Unknown scope, or a name that is too long or holds a control character.
    """
    actor.require_admin(account.id, "create API keys")
    scope = keys.check_scope(scope)
    name = keys.check_name(name)
    key, prefix, digest = keys.new_key()
    row = ApiKey(account_id=account.id, name=name, prefix=prefix, key_hash=digest, scope=scope, created_by=actor.email)
    session.add(row)
    session.flush()
    audit.record(session, actor, "api_key.create", account=account, target=prefix, after={"name": name, "scope": scope})
    return _row(row), key


def list_keys(session: Session, actor: Principal, account: Account) -> list[KeyRow]:
    """Every key of ``account``, newest first, revoked ones included. Admins only."""
    actor.require_admin(account.id, "see API keys")
    stmt = select(ApiKey).where(ApiKey.account_id == account.id).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    return [_row(k) for k in session.exec(stmt)]


def revoke_key(session: Session, actor: Principal, account: Account, id_or_prefix: str) -> KeyRow:
    """Revoke the key of ``account`` whose id or prefix is ``id_or_prefix``; revoking twice changes nothing.

    Raises
    ------
    NotFound
        The account has no such key.
    """
    actor.require_admin(account.id, "revoke API keys")
    text = (id_or_prefix or "").strip()
    match = [ApiKey.prefix == text]
    if text.isascii() and text.isdigit() and len(text) < 12:
        match.append(ApiKey.id == int(text))
    key = session.exec(select(ApiKey).where(ApiKey.account_id == account.id, or_(*match))).first()
    if key is None:
        raise NotFound(f"account {account.slug!r} has no API key {text[:40]!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        session.flush()
        audit.record(session, actor, "api_key.revoke", account=account, target=key.prefix, after={"name": key.name, "scope": key.scope})
    return _row(key)


# Built once: every API request runs it, and building it cost about as much as running it.
_BY_HASH = select(ApiKey, Account).join(Account, Account.id == ApiKey.account_id).where(
    ApiKey.key_hash == bindparam("key_hash")
)


def authenticate(session: Session, key: str | None) -> Caller | None:
    """The caller behind ``key``, or None for a missing, malformed, unknown or revoked key.

    Reads only: :func:`note_used` records the use, in a write of its own.
    """
    if not key or not keys.well_formed(key):
        return None
    found = session.exec(_BY_HASH, params={"key_hash": keys.key_hash(key)}).first()
    if found is None:
        return None
    row, account = found
    if row.revoked_at is not None or not keys.same_hash(row.key_hash, keys.key_hash(key)):
        return None
    now = utcnow()
    stale = row.last_used_at is None or now - stored_utc(row.last_used_at) >= LAST_USED_EVERY
    role = ADMIN if row.scope == keys.WRITE else VIEWER
    principal = Principal(email=f"API key {row.prefix}" + (f" ({row.name})" if row.name else ""), name=row.name or row.prefix,
                          roles=((account.id, role),))
    return Caller(row.id, row.prefix, row.scope, account, principal, stale)


def note_used(session: Session, key_id: int) -> None:
    """Write that key ``key_id`` was used now, in the session's transaction.

    Through the session's bare connection, so it does not count as a change of the
    data (:mod:`app.core.data_version`): open pages need not refresh for it.
    """
    table = ApiKey.__table__
    session.connection().execute(update(table).where(table.c.id == key_id).values(last_used_at=utcnow()))


def check_can_write(caller: Caller) -> None:
    """:class:`OverseerError` unless the caller's key may write."""
    if caller.scope != keys.WRITE:
        raise OverseerError("this API key may only read; create a write key to send outcomes or reviews")
