"""Who may see and change what: the signed-in person's rights, as a small value.

Overseer has three kinds of people:

- a ``viewer`` of an account reads everything about it;
- an ``admin`` of an account also edits its job map, targets, budget and plan,
  reviews its outcomes, imports into it and manages its members;
- ``staff`` (the product and sales team) are admins of every account and alone
  see the portfolio and the demo.

With no sign-in configured, Overseer runs as one local person with every right
(:meth:`Principal.local_user`); the command line acts as :meth:`Principal.operator`,
since whoever runs it can open the database anyway.

Every store function that reads or changes an account takes a :class:`Principal`,
so no page can forget to check: an account the principal may not see is
"not found", exactly like an account that does not exist.
"""

from __future__ import annotations

import getpass
import re
import socket
import unicodedata
from dataclasses import dataclass

from app.domain.errors import NotFound, OverseerError

VIEWER = "viewer"
ADMIN = "admin"
ROLES: tuple[str, ...] = (VIEWER, ADMIN)

MAX_EMAIL = 254
# Deliberately loose: the identity provider vouches for the address; this only refuses typos.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Forbidden(OverseerError):
    """The principal may see the account but not make this change."""


def check_role(role: str) -> str:
    if role not in ROLES:
        raise OverseerError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def normalize_email(email: str) -> str:
    """The address as stored: trimmed and lower-cased, or :class:`OverseerError` when it is not one."""
    text = (email or "").strip().lower()
    # No control character or unpaired surrogate: PostgreSQL stores neither, and SQLite must refuse what it refuses.
    if (
        not text
        or len(text) > MAX_EMAIL
        or not _EMAIL.fullmatch(text)
        or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)
    ):
        shown = repr(email) if len(email or "") <= 60 else f"{email[:60]!r}…"
        raise OverseerError(f"{shown} is not an e-mail address")
    return text


@dataclass(frozen=True)
class Principal:
    """A person (or the command line) and their rights; hashable, so it can key a cache.

    Attributes
    ----------
    email : str
        Who they are; recorded as the actor of every change they make.
    name : str
        How the app greets them.
    staff : bool
        Admin of every account, and the only one who sees the portfolio and the demo.
    roles : tuple of (int, str)
        ``(account_id, role)`` for each account they belong to.
    local : bool
        No sign-in is configured: one local person with every right.
    """

    email: str
    name: str = ""
    staff: bool = False
    roles: tuple[tuple[int, str], ...] = ()
    local: bool = False

    @classmethod
    def local_user(cls) -> "Principal":
        """The single user of an Overseer with no sign-in configured."""
        return cls(email="local", name="Local user", staff=True, local=True)

    @classmethod
    def operator(cls) -> "Principal":
        """The command line: every right, recorded as ``command line (user@host)``."""
        try:
            who = f"{getpass.getuser()}@{socket.gethostname()}"
        except Exception:  # noqa: BLE001 - no login name in some containers
            who = "unknown"
        return cls(email=f"command line ({who})"[:MAX_EMAIL], name="Command line", staff=True)

    @property
    def sees_every_account(self) -> bool:
        return self.staff or self.local

    @property
    def account_ids(self) -> frozenset[int] | None:
        """The accounts they belong to, or ``None`` for every account."""
        if self.sees_every_account:
            return None
        return frozenset(account_id for account_id, _ in self.roles)

    def role_in(self, account_id: int) -> str | None:
        """``"admin"``, ``"viewer"`` or ``None`` (may not see the account)."""
        if self.sees_every_account:
            return ADMIN
        for held, role in self.roles:
            if held == account_id:
                return role
        return None

    def can_read(self, account_id: int) -> bool:
        return self.role_in(account_id) is not None

    def can_admin(self, account_id: int) -> bool:
        return self.role_in(account_id) == ADMIN

    def require_read(self, account_id: int, slug: str) -> None:
        """:class:`NotFound` (the same words as for a missing account) unless they may see it."""
        if not self.can_read(account_id):
            raise NotFound(f"no account {slug!r}")

    def require_admin(self, account_id: int, what: str) -> None:
        """:class:`Forbidden` unless they are an admin of the account (:class:`NotFound` if they cannot see it)."""
        role = self.role_in(account_id)
        if role is None:
            raise NotFound("no such account")
        if role != ADMIN:
            raise Forbidden(f"Only an admin of this account can {what}; you are a viewer.")

    def require_staff(self, what: str) -> None:
        if not self.sees_every_account:
            raise Forbidden(f"Only Overseer staff can {what}.")
