"""API keys: the account's admins make keys for programs that send outcomes or read the bill, and revoke them."""

from __future__ import annotations

import streamlit as st

from app.domain.api_keys import SCOPES
from app.domain.errors import OverseerError
from app.ui import components, data
from app.ui import format as fmt
from app.ui.frame import page_header, require_admin

ctx = require_admin("manage its API keys")
slug = ctx.slug
page_header("API keys", ctx, "programs send outcomes and read the allowance and the bill through /api/v1", show_range=False)

SCOPE_HELP = {
    "write": "Sends outcomes and reviews, and reads everything a read key reads.",
    "read": "Reads outcomes, the usage figures and invoices; cannot change anything.",
}

made = st.session_state.pop("_api_key_made", None)
if made:
    with st.container(border=True):
        st.success(f"Key {fmt.text(made['prefix'])} created. Copy it now: it is shown only this once.", icon=":material/key:")
        st.code(made["key"], language=None, wrap_lines=True)  # the whole key, on a phone too
        st.caption("Send it as `Authorization: Bearer <key>`. Overseer keeps only a hash of it.")
flash = st.session_state.pop("_api_key_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

keys = data.api_keys(slug)
if not keys:
    components.empty(
        "This account has no API keys yet.",
        "Create one below for the program that should send outcomes to Overseer as they happen.",
        icon=":material/key:",
    )
else:
    st.dataframe(
        [
            {
                "Name": k.name or "—",
                "Scope": k.scope,
                "Prefix": k.prefix,
                "Created": k.created_at,
                "Created by": k.created_by,
                "Last used": k.last_used_at,
                "State": "revoked" if k.revoked_at else "active",
            }
            for k in keys
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Created": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
            "Last used": st.column_config.DatetimeColumn(
                format="D MMM YYYY, HH:mm", help="Last request with the key (UTC), recorded at most once a minute"
            ),
        },
        key="api_keys_table",
    )

left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("##### Create a key")
    with st.form("api_key_create", clear_on_submit=True, border=False):
        name = st.text_input("Name", key="api_key_name", max_chars=200, placeholder="e.g. support bot, production")
        scope = st.radio("Scope", list(SCOPES), horizontal=True, key="api_key_scope", captions=[SCOPE_HELP[s] for s in SCOPES])
        if st.form_submit_button("Create key", type="primary", icon=":material/add:", key="api_key_create_button"):
            try:
                row, key = data.create_api_key(slug, scope, name)
            except OverseerError as exc:
                st.error(f"Not created: {fmt.text(exc)}")
            else:
                st.session_state["_api_key_made"] = {"prefix": row.prefix, "key": key}
                st.rerun()

with right, st.container(border=True):
    st.markdown("##### Revoke a key")
    active = [k for k in keys if not k.revoked_at]
    if not active:
        st.caption("No active key to revoke.")
    else:
        with st.form("api_key_revoke", border=False):
            labels = {k.prefix: f"{k.prefix} · {k.scope}" + (f" · {k.name}" if k.name else "") for k in active}
            which = st.selectbox("Key", list(labels), format_func=labels.get, key="api_key_revoke_which")
            sure = st.checkbox("Programs using it are refused from their next request", key="api_key_revoke_sure")
            if st.form_submit_button("Revoke", icon=":material/block:", key="api_key_revoke_button"):
                if not sure:
                    st.error("Not revoked: tick the box to confirm.")
                else:
                    try:
                        data.revoke_api_key(slug, which)
                    except OverseerError as exc:
                        st.error(f"Not revoked: {fmt.text(exc)}")
                    else:
                        st.session_state["_api_key_flash"] = f"Key {fmt.text(which)} is revoked."
                        st.rerun()

st.caption(
    "Creating and revoking keys is recorded in the audit trail. The API is described at `/api/v1/openapi.json`; "
    "from the command line: `overseer key create --account SLUG --scope write`."
)
