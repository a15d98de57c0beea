"""People and their roles: who is staff, who belongs to which account as viewer or admin.

A person is known by the e-mail address their identity provider signs for.
Admins add members by address before the person first signs in. Every change
is in the audit trail (:mod:`app.store.audit`).

Rules chosen here:

- an account that has an admin always keeps one: removing or demoting its last
  admin is refused (ask staff, or make someone else admin first);
- a person with no membership and no staff flag who signs in sees no account
  and is told whom to ask;
- only staff make someone staff (from the command line, or as an operator).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from app.domain.access import ADMIN, Principal, check_role, normalize_email
from app.domain.errors import NotFound, OverseerError
from app.models import Account, Membership, User, utcnow
from app.store import audit

MAX_NAME = 200
# Signing in records "last seen" at most this often: every write clears every server's caches.
SEEN_EVERY = timedelta(hours=12)


@dataclass(frozen=True)
class Member:
    email: str
    name: str
    role: str
    added_at: datetime
    last_seen_at: datetime | None


def _user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def principal_for(session: Session, email: str, name: str = "") -> Principal:
    """The rights of the person signed in as ``email`` (none when nobody added them).

    Reads only; :func:`note_sign_in` records the visit.
    """
    address = normalize_email(email)
    user = _user(session, address)
    if user is None:
        return Principal(email=address, name=name or address)
    roles = session.exec(
        select(Membership.account_id, Membership.role).where(Membership.user_id == user.id).order_by(Membership.account_id)
    ).all()
    return Principal(
        email=address,
        name=name or user.name or address,
        staff=user.staff,
        roles=tuple((account_id, role) for account_id, role in roles),
    )


def note_sign_in(session: Session, email: str, name: str = "") -> bool:
    """Remember when a known person was last seen (and their name); ``True`` when something was written."""
    user = _user(session, normalize_email(email))
    if user is None:
        return False
    now = utcnow()
    name = (name or "").strip()[:MAX_NAME]
    stale = user.last_seen_at is None or now - user.last_seen_at >= SEEN_EVERY
    if not stale and (not name or name == user.name):
        return False
    user.last_seen_at = now
    if name:
        user.name = name
    session.add(user)
    session.flush()
    return True


def _ensure_user(session: Session, email: str) -> User:
    user = _user(session, email)
    if user is None:
        user = User(email=email)
        session.add(user)
        session.flush()
    return user


def list_members(session: Session, principal: Principal, account: Account) -> list[Member]:
    """The account's members, admins first, then by address; only its admins (and staff) may list them."""
    principal.require_admin(account.id, "see who belongs to this account")
    rows = session.exec(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.account_id == account.id)
        .order_by(Membership.role, User.email)
    ).all()
    return [Member(u.email, u.name, m.role, m.created_at, u.last_seen_at) for u, m in rows]


def _admins(session: Session, account: Account) -> int:
    return session.exec(
        select(func.count()).select_from(Membership).where(Membership.account_id == account.id, Membership.role == ADMIN)
    ).one()


def _keep_an_admin(session: Session, account: Account, membership: Membership, address: str) -> None:
    """Refuse to demote or remove ``membership`` when it is the account's last admin."""
    if membership.role == ADMIN and _admins(session, account) == 1:
        raise OverseerError(f"{address} is the account's last admin; make someone else admin first")


def _membership(session: Session, user: User | None, account: Account) -> Membership | None:
    if user is None:
        return None
    return session.exec(
        select(Membership).where(Membership.user_id == user.id, Membership.account_id == account.id)
    ).first()


def set_member(session: Session, principal: Principal, account: Account, email: str, role: str) -> Member:
    """Give ``email`` the ``role`` in the account (adding them, or changing their role); nothing is committed.

    Raises
    ------
    Forbidden
        The principal is not an admin of the account.
    OverseerError
        Not an e-mail address, an unknown role, or demoting the account's last admin.
    """
    principal.require_admin(account.id, "manage members")
    address = normalize_email(email)
    check_role(role)
    user = _ensure_user(session, address)
    membership = _membership(session, user, account)
    if membership is None:
        membership = Membership(user_id=user.id, account_id=account.id, role=role)
        audit.record(session, principal, "member.add", account=account, target=address, after={"role": role})
    elif membership.role != role:
        _keep_an_admin(session, account, membership, address)
        audit.record(
            session, principal, "member.role", account=account, target=address,
            before={"role": membership.role}, after={"role": role},
        )
        membership.role = role
    session.add(membership)
    session.flush()
    return Member(address, user.name, membership.role, membership.created_at, user.last_seen_at)


def remove_member(session: Session, principal: Principal, account: Account, email: str) -> None:
    """Take ``email`` out of the account; nothing is committed.

    Raises
    ------
    NotFound
        They are not a member.
    OverseerError
        They are the account's last admin.
    """
    principal.require_admin(account.id, "manage members")
    address = normalize_email(email)
    membership = _membership(session, _user(session, address), account)
    if membership is None:
        raise NotFound(f"{address} is not a member of this account")
    _keep_an_admin(session, account, membership, address)
    audit.record(session, principal, "member.remove", account=account, target=address, before={"role": membership.role})
    session.delete(membership)
    session.flush()


def set_staff(session: Session, principal: Principal, email: str, staff: bool) -> None:
    """Make ``email`` staff (every account, the portfolio and the demo), or no longer; nothing is committed."""
    principal.require_staff("make someone staff")
    address = normalize_email(email)
    user = _ensure_user(session, address)
    if user.staff != staff:
        audit.record(session, principal, "staff", target=address, before={"staff": user.staff}, after={"staff": staff})
        user.staff = staff
        session.add(user)
        session.flush()


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    staff: bool
    accounts: tuple[tuple[str, str], ...]  # (account slug, role)
    last_seen_at: datetime | None


def list_people(session: Session, principal: Principal) -> list[Person]:
    """Everyone known, with their accounts (staff only: the command line's ``overseer member list``)."""
    principal.require_staff("list everyone")
    users = list(session.exec(select(User).order_by(User.email)))
    rows = session.exec(
        select(Membership.user_id, Account.slug, Membership.role)
        .join(Account, Account.id == Membership.account_id)
        .order_by(Account.slug)
    ).all()
    by_user: dict[int, list[tuple[str, str]]] = {}
    for user_id, slug, role in rows:
        by_user.setdefault(user_id, []).append((slug, role))
    return [Person(u.email, u.name, u.staff, tuple(by_user.get(u.id, ())), u.last_seen_at) for u in users]
