"""The one way the data layer reaches the database: a session, and the account read in it as the principal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from app.core import db
from app.domain.access import Principal
from app.models import Account
from app.store import accounts as accounts_store
from app.ui.data.principal import who


def open_session() -> Session:
    """A session on the app's engine; what it reads stays usable after the session ends."""
    return Session(db.get_engine(), expire_on_commit=False)


def account_in(session: Session, slug: str, principal: Principal | None = None) -> Account:
    """The account ``slug`` as ``principal`` (default: the current one) may see it (:class:`NotFound` when they may not)."""
    return accounts_store.get_account(session, slug, principal=principal or who())


@contextmanager
def account_session(
    slug: str, *, write: bool = False, principal: Principal | None = None
) -> Iterator[tuple[Session, Account]]:
    """Open a session and find the account ``slug`` in it: ``with account_session(slug) as (s, account):``.

    ``write=True`` opens a write transaction (:func:`app.core.db.session_scope`), committed when the
    block ends; the caller then clears the caches. ``principal`` is for work done after the page run
    (a download), which takes the principal while the page runs.
    """
    with db.session_scope(write=True) if write else open_session() as s:
        yield s, account_in(s, slug, principal)


def database_problem(exc: BaseException) -> str | None:
    """What to tell the user when ``exc`` says the database went away (or never came), else None."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return db.database_problem(exc)
    return None
