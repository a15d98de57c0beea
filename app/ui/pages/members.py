"""Members: who may see the account and who may change it; its admins add, promote and remove people."""

from __future__ import annotations

import streamlit as st

from app.domain.access import ROLES
from app.domain.errors import OverseerError
from app.ui import components, data
from app.ui import format as fmt
from app.ui.frame import page_header, require_admin

ctx = require_admin("manage its members")
slug, acc = ctx.slug, ctx.account
page_header("Members", ctx, "viewers read everything; admins also edit, review, import and manage members", show_range=False)

flash = st.session_state.pop("_members_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

ROLE_HELP = {
    "viewer": "Reads every page of the account.",
    "admin": "Also edits the job map, budget, targets and plan, reviews outcomes, imports and manages members.",
}

people = data.members(slug)
if not people:
    components.empty(
        "Nobody belongs to this account yet.",
        "Add someone by the e-mail address they sign in with; they get access at their next page load.",
        icon=":material/group_add:",
    )
else:
    st.dataframe(
        [
            {
                "E-mail": m.email,
                "Name": m.name,
                "Role": m.role,
                "Added": m.added_at,
                "Last seen": m.last_seen_at,
            }
            for m in people
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Added": st.column_config.DatetimeColumn(format="D MMM YYYY"),
            "Last seen": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm", help="Last sign-in (UTC), recorded at most twice a day"),
        },
        key="members_table",
    )

left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("##### Add someone or change a role")
    with st.form("member_set", clear_on_submit=True, border=False):
        email = st.text_input("E-mail address", key="member_email", max_chars=254, placeholder="name@company.com")
        role = st.radio(
            "Role", list(ROLES), horizontal=True, key="member_role", captions=[ROLE_HELP[r] for r in ROLES]
        )
        if st.form_submit_button("Save", type="primary", icon=":material/person_add:", key="member_save"):
            try:
                data.save_member(slug, email, role)
            except OverseerError as exc:
                st.error(f"Not saved: {fmt.text(exc)}")
            else:
                st.session_state["_members_flash"] = f"{fmt.text(email.strip().lower())} is now {role} of this account."
                st.rerun()

with right, st.container(border=True):
    st.markdown("##### Remove someone")
    if not people:
        st.caption("Nobody to remove.")
    else:
        with st.form("member_remove", border=False):
            who = st.selectbox("Member", [m.email for m in people], key="member_remove_email")
            sure = st.checkbox("They lose access to this account at their next page load", key="member_remove_sure")
            if st.form_submit_button("Remove", icon=":material/person_remove:", key="member_remove"):
                if not sure:
                    st.error("Not removed: tick the box to confirm.")
                else:
                    try:
                        data.remove_member(slug, who)
                    except OverseerError as exc:
                        st.error(f"Not removed: {fmt.text(exc)}")
                    else:
                        st.session_state["_members_flash"] = f"{fmt.text(who)} no longer belongs to this account."
                        st.rerun()

st.caption(
    "Every change here is in the account's audit trail. People who run Overseer's command line can manage "
    "members too: `overseer member set EMAIL --account SLUG --role admin`."
)
