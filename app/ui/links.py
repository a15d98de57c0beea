"""Addresses Overseer shares (demo links, the summary): never ``localhost`` when the page was opened elsewhere.

Rule chosen where SPEC is silent: a shared link starts with ``OVERSEER_PUBLIC_URL``
when it is set (the address people open Overseer at, behind a proxy or load
balancer); else with the address in the seller's own browser (``st.context.url``,
which the browser reports); else with the request's forwarded or ``Host`` header.
"""

from __future__ import annotations

from urllib.parse import quote_plus

import streamlit as st

from app.core.config import SettingError, public_url

# The url paths of the app's pages (app/streamlit_app.py): a shared link goes to the root, not to a page.
_PAGE_SUFFIXES = ("/demo", "/overview", "/value", "/pricing", "/trial", "/job-map", "/billing", "/outcomes", "/portfolio")


def base_url() -> tuple[str, str | None]:
    """The address links start with, and a problem with ``OVERSEER_PUBLIC_URL`` to show (None when fine).

    Returns
    -------
    tuple of (str, str or None)
        No trailing slash; "" when nothing is known (the link is then relative).
    """
    problem = None
    try:
        configured = public_url()
    except SettingError as exc:
        configured, problem = None, str(exc)
    if configured:
        return configured, problem
    url = (st.context.url or "").rstrip("/")
    for suffix in _PAGE_SUFFIXES:
        if url.endswith(suffix):
            url = url[: -len(suffix)]
            break
    if url:
        return url, problem
    headers = st.context.headers or {}
    host = headers.get("X-Forwarded-Host") or headers.get("Host")
    if host:
        scheme = headers.get("X-Forwarded-Proto", "http").split(",")[0].strip() or "http"
        return f"{scheme}://{host.split(',')[0].strip()}", problem
    return "", problem


def account_link(base: str, label: str) -> str:
    """The Overview of the account shown as ``label`` in the picker (the picker reads ``?account=``)."""
    # The default page (Overview) lives at the root: /overview would show "Page not found".
    return f"{base}/?account={quote_plus(label)}"
