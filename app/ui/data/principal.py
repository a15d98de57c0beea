"""Who is asking: the signed-in principal every data-layer call runs as.

app/ui/auth.py puts the principal in the session state at the top of each run; every store call
takes it, so a page cannot read an account it may not see. Outside a page run (tests, downloads
built after the run) :func:`acting_as` sets it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import streamlit as st

from app.domain.access import Principal
from app.domain.errors import NotFound

PRINCIPAL_KEY = "_overseer_principal"
_current: ContextVar[Principal | None] = ContextVar("overseer_principal", default=None)


def current_principal() -> Principal:
    """The person this browser session is signed in as (set by :func:`app.ui.auth.gate`)."""
    who = st.session_state.get(PRINCIPAL_KEY)
    if not isinstance(who, Principal):
        raise NotFound("nobody is signed in")
    return who


def who() -> Principal:
    """The principal data-layer calls run as now: the one :func:`acting_as` set, else the signed-in person."""
    acting = _current.get()
    return acting if acting is not None else current_principal()


@contextmanager
def acting_as(who: Principal) -> Iterator[Principal]:
    """Run data-layer calls as ``who`` outside a page run (tests, and code that has no browser session)."""
    token = _current.set(who)
    try:
        yield who
    finally:
        _current.reset(token)
