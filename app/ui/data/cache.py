"""The caches: reads keyed on the principal, cleared by every write and whenever another process wrote.

Caches live in one process; the database's data version is shared by all app servers and the
command line (:mod:`app.core.data_version`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import streamlit as st

from app.core.data_version import current_version
from app.domain.access import Principal
from app.ui.data.principal import acting_as, who
from app.ui.data.session import open_session

TTL = 600  # seconds; writes clear the caches at once, the TTL only bounds staleness from other processes

P = ParamSpec("P")
R = TypeVar("R")


def scoped_cache(func: Callable[P, R]) -> Callable[P, R]:
    """``st.cache_data`` keyed on the current principal as well as the arguments.

    The principal is part of every cache key: one person's cached figures never serve another.
    """

    def run_as(principal: Principal, *args: P.args, **kwargs: P.kwargs) -> R:
        with acting_as(principal):
            return func(*args, **kwargs)

    # Streamlit keys a cache on the function's module, qualified name and source: give each its own.
    run_as.__module__ = func.__module__
    run_as.__qualname__ = f"{func.__qualname__}.run_as"
    cached = st.cache_data(ttl=TTL, show_spinner=False)(run_as)

    @functools.wraps(func)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return cached(who(), *args, **kwargs)

    return call


def clear_caches() -> None:
    """Forget every cached read (after a write, so the change shows at once on every page)."""
    st.cache_data.clear()


def data_version() -> int:
    """The database's data version now (one primary-key read; not cached): what a live page polls."""
    with open_session() as s:
        return current_version(s)


_seen_version: int | None = None


def sync_with_database() -> None:
    """Clear this process's caches when any app server (or the command line) wrote since the last look.

    One primary-key read per page run.
    """
    global _seen_version
    version = data_version()
    if version != _seen_version:
        if _seen_version is not None:
            clear_caches()
        _seen_version = version
