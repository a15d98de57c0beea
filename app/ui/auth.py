"""Sign-in: who is using this browser session, decided once at the top of every run.

With an ``[auth]`` section in ``.streamlit/secrets.toml`` Overseer asks everyone
to sign in through OpenID Connect (``st.login``) and gives them the rights their
memberships grant (:mod:`app.store.members`). Without one it runs in local mode:
one local user with every right, as the sidebar says.
"""

from __future__ import annotations

import logging

import streamlit as st

from app.domain.access import Principal
from app.domain.errors import OverseerError
from app.ui import data, paint
from app.ui import format as fmt

log = logging.getLogger("overseer.ui")

_NOTED = "_overseer_sign_in_noted"


def _auth_section() -> dict | None:
    try:
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no secrets.toml at all: local mode
        return None
    return dict(section) if section else None


def providers() -> list[str | None]:
    """The sign-in buttons to offer: ``[None]`` for one provider set in ``[auth]`` itself,
    else the names of its ``[auth.NAME]`` sections; empty when sign-in is not configured."""
    section = _auth_section()
    if not section:
        return []
    if "client_id" in section:
        return [None]
    return sorted(name for name, value in section.items() if hasattr(value, "keys") and "client_id" in value)


def sign_in_configured() -> bool:
    return bool(providers())


def gate() -> Principal:
    """The principal of this run; shows the sign-in screen (and stops the run) when nobody is signed in."""
    if not sign_in_configured():
        who = Principal.local_user()
    else:
        who = _signed_in()
    st.session_state[data.PRINCIPAL_KEY] = who
    return who


def _signed_in() -> Principal:
    if not st.user.is_logged_in:
        _sign_in_screen()
        paint.stop()
    email = st.user.get("email")
    name = st.user.get("name") or ""
    if not email or st.user.get("email_verified") is False:
        with st.container(border=True):
            st.subheader("Your e-mail address is needed")
            st.markdown(
                "Overseer gives rights by e-mail address, and your identity provider did not share a verified one. "
                "Ask your administrator to allow the `email` scope, then sign in again."
            )
            st.button("Sign out", on_click=st.logout, key="sign_out_no_email")
        paint.stop()
    try:
        who = data.principal_for(email, name)
    except OverseerError as exc:
        st.error(fmt.text(exc))
        st.button("Sign out", on_click=st.logout, key="sign_out_bad_email")
        paint.stop()
    if not st.session_state.get(_NOTED):
        st.session_state[_NOTED] = True
        try:
            data.note_sign_in(email, name)
        except Exception:  # noqa: BLE001 - "last seen" must never keep anyone out
            log.exception("could not record a sign-in")
    return who


def _sign_in_screen() -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle, st.container(border=True):
        st.title("Overseer")
        st.markdown(
            "See what your AI delivered, how well, where people stepped in, and what you will pay. "
            "Sign in with your work account to continue."
        )
        for provider in providers():
            label = "Sign in" if provider is None else f"Sign in with {provider.replace('-', ' ').title()}"
            key = "sign_in" if provider is None else f"sign_in_{provider}"
            if st.button(label, type="primary", icon=":material/login:", key=key, width="stretch"):
                if provider is None:
                    st.login()
                else:
                    st.login(provider)


def user_panel(who: Principal) -> None:
    """The sidebar's note of who is signed in (or that no one needs to be), with a sign-out button."""
    with st.sidebar:
        if who.local:
            st.caption(
                ":material/lock_open: **Local mode** · no sign-in, every right",
                help="No sign-in is configured, so anyone who can open this address can see and change everything. "
                "The README's Security section says how to turn on sign-in.",
            )
            return
        label = "staff" if who.staff else fmt.plural(len(who.roles), "account")
        st.caption(f":material/person: Signed in as **{fmt.text(who.email)}** ({label})")
        st.button("Sign out", on_click=st.logout, key="sign_out", icon=":material/logout:")


def no_access(who: Principal) -> None:
    """The page of someone signed in who belongs to no account yet."""
    with st.container(border=True):
        st.subheader("You don't have access to any account yet")
        st.markdown(
            f"You are signed in as **{fmt.text(who.email)}**. Ask an admin of your company's Overseer account to add "
            "this address on the **Members** page, then reload this page."
        )
