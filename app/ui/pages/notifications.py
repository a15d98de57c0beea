"""Notifications: the account's alert states and their history, its webhook and e-mail channels, and every delivery."""

from __future__ import annotations

import streamlit as st

from app.domain.errors import OverseerError
from app.ui import components, data
from app.ui import format as fmt
from app.ui.frame import page_header, require_admin

ctx = require_admin("manage its notifications")
slug = ctx.slug
page_header(
    "Notifications", ctx, "alert states, where they are sent, and every delivery (UTC)", show_range=False,
)

RULE_LABELS = {"allowance": "Free allowance", "accuracy": "Accuracy", "completion": "Completion rate", "budget": "Budget"}
STATE_LABELS = {"OK": "OK", "WARNING": "Warning", "ALERT": "Alert", "NO_DATA": "No data"}
NOT_SET = {
    "allowance": "the plan has no free outcomes",
    "accuracy": "no accuracy target set (Billing page)",
    "completion": "no completion target set (Billing page)",
    "budget": "no monthly budget set (Billing page)",
}
DELIVERY_LABELS = {"pending": "Retrying", "delivered": "Delivered", "failed": "Failed", "cancelled": "Cancelled"}

flash = st.session_state.pop("_notify_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")
# A new webhook's secret, shown on the one run after it was made and never again.
fresh = st.session_state.pop("_notify_secret", None)
if fresh:
    with st.container(border=True, key="notify_secret_box"):
        st.markdown(f"**Secret of webhook {fresh[0]}** — copy it now: it is not shown again.")
        st.code(fresh[1], language=None)
        st.caption("Receivers verify every message's `webhook-signature` with it (Standard Webhooks).")

view = data.notifications(slug)


def _figure(rule: str, value) -> str:
    if value is None:
        return "—"
    if rule == "budget":
        return fmt.money(value, ctx.account.currency)
    return fmt.share(value)


st.subheader("Alert states")
with st.container(horizontal=True, gap="small"):
    for s in view.states:
        if s.changed_at is None:
            caption = "not evaluated yet (after the next import, review or settings change, or the worker's next pass)"
        elif s.threshold is None:
            caption = NOT_SET[s.rule]
        elif s.value is None:
            caption = f"nothing to judge in the last 30 days · target {_figure(s.rule, s.threshold)}"
        else:
            caption = f"{_figure(s.rule, s.value)} against {_figure(s.rule, s.threshold)}"
        components.kpi(
            RULE_LABELS.get(s.rule, s.rule),
            STATE_LABELS.get(s.state, s.state),
            caption + (f" · since {fmt.moment(s.changed_at)}" if s.changed_at else ""),
            key=f"notify_state_{s.rule}",
        )

failed = [d for d in view.deliveries if d.status == "failed"]
if failed:
    st.error(
        f"{fmt.plural(len(failed), 'delivery', 'deliveries')} failed after the whole retry schedule "
        "(5 s, 5 min, 30 min, 2 h, 5 h, 10 h) and will not be tried again. The newest: "
        f"{fmt.text(failed[0].last_error)}",
        icon=":material/error:",
    )

st.subheader("Channels")
if not view.channels:
    components.empty(
        "No channel yet: alerts show only on the pages.",
        "Add a webhook or e-mail addresses below; every change of an alert state is then sent to them.",
        icon=":material/notifications_off:",
    )
else:
    st.dataframe(
        [
            {
                "Channel": c.id,
                "Kind": "Webhook" if c.kind == "webhook" else "E-mail",
                "Sends to": c.target,
                "Secret": f"…{c.fingerprint} (fingerprint)" if c.fingerprint else "",
                "Delivered": c.delivered,
                "Retrying": c.pending,
                "Failed": c.failed,
                "Added": c.created_at,
                "By": c.created_by,
            }
            for c in view.channels
        ],
        hide_index=True,
        width="stretch",
        column_config={"Added": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")},
        key="notify_channels",
    )

left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown("##### Add a webhook")
    with st.form("notify_add_webhook", clear_on_submit=True, border=False):
        url = st.text_input(
            "URL", key="notify_url", max_chars=2000, placeholder="https://hooks.example.com/overseer",
            help="https only; addresses inside private networks are refused"
            + ("" if not view.allow_private else " (allowed here: OVERSEER_WEBHOOKS_ALLOW_PRIVATE=1)"),
        )
        if st.form_submit_button("Add webhook", type="primary", icon=":material/webhook:", key="notify_add_webhook_btn"):
            try:
                channel_id, secret = data.add_webhook(slug, url)
            except OverseerError as exc:
                st.error(f"Not added: {fmt.text(exc)}")
            else:
                st.session_state["_notify_secret"] = (channel_id, secret)
                st.session_state["_notify_flash"] = f"Webhook {channel_id} added."
                st.rerun()
    st.markdown("##### Add e-mail addresses")
    with st.form("notify_add_email", clear_on_submit=True, border=False):
        addresses = st.text_input("Addresses", key="notify_addresses", max_chars=2000, placeholder="ops@company.com, cfo@company.com")
        if not view.smtp_configured:
            st.caption("No SMTP server is configured yet (`[smtp]` in `.streamlit/secrets.toml`): e-mail waits until one is.")
        if st.form_submit_button("Add e-mail", icon=":material/mail:", key="notify_add_email_btn"):
            try:
                channel_id = data.add_email(slug, addresses)
            except OverseerError as exc:
                st.error(f"Not added: {fmt.text(exc)}")
            else:
                st.session_state["_notify_flash"] = f"E-mail channel {channel_id} added."
                st.rerun()

with right, st.container(border=True):
    st.markdown("##### Send a test event or remove a channel")
    if not view.channels:
        st.caption("No channel yet.")
    else:
        labels = {c.id: f"{c.id} · {c.target}" for c in view.channels}
        chosen = st.selectbox("Channel", list(labels), format_func=labels.get, key="notify_channel_pick")
        if st.button("Send a test event", icon=":material/send:", key="notify_send_test"):
            try:
                msg_id = data.send_test(slug, chosen)
            except OverseerError as exc:
                st.error(f"Not sent: {fmt.text(exc)}")
            else:
                st.session_state["_notify_flash"] = (
                    f"Test event {msg_id} queued; the worker sends it within seconds (or at the next `overseer notify run`)."
                )
                st.rerun()
        sure = st.checkbox("Stop sending to this channel (pending deliveries are cancelled)", key="notify_remove_sure")
        if st.button("Remove channel", icon=":material/delete:", key="notify_remove"):
            if not sure:
                st.error("Not removed: tick the box to confirm.")
            else:
                try:
                    data.remove_channel(slug, chosen)
                except OverseerError as exc:
                    st.error(f"Not removed: {fmt.text(exc)}")
                else:
                    st.session_state["_notify_flash"] = f"Channel {chosen} removed."
                    st.rerun()

st.subheader("Deliveries")
if not view.deliveries:
    st.caption("Nothing sent yet.")
else:
    st.dataframe(
        [
            {
                "Event": d.event_type,
                "To": d.channel,
                "Status": DELIVERY_LABELS.get(d.status, d.status),
                "Attempts": d.attempts,
                "Queued": d.created_at,
                "Next try": d.next_attempt_at,
                "Finished": d.finished_at,
                "Last error": d.last_error,
                "webhook-id": d.msg_id,
            }
            for d in view.deliveries
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Queued": st.column_config.DatetimeColumn(format="D MMM, HH:mm:ss"),
            "Next try": st.column_config.DatetimeColumn(format="D MMM, HH:mm:ss"),
            "Finished": st.column_config.DatetimeColumn(format="D MMM, HH:mm:ss"),
            "Last error": st.column_config.TextColumn(width="large"),
        },
        key="notify_deliveries",
    )
    with st.expander(f"Attempts: status code, latency and error of each ({len(view.attempts)}, newest first)"):
        st.dataframe(
            [
                {
                    "When": a.at,
                    "Event": a.event_type,
                    "To": a.channel,
                    "Result": "OK" if a.ok else "Failed",
                    "HTTP status": a.status_code,
                    "Latency (ms)": a.latency_ms,
                    "Error": a.error,
                }
                for a in view.attempts
            ],
            hide_index=True,
            width="stretch",
            column_config={"When": st.column_config.DatetimeColumn(format="D MMM, HH:mm:ss")},
            key="notify_attempts",
        )

st.subheader("History of alert states")
if not view.events:
    st.caption("No change of state yet: states are evaluated after every import, review and settings change.")
else:
    st.dataframe(
        [
            {
                "When": e.at,
                "Rule": RULE_LABELS.get(e.rule, e.rule),
                "From": STATE_LABELS.get(e.from_state, e.from_state),
                "To": STATE_LABELS.get(e.to_state, e.to_state),
                "Value": _figure(e.rule, e.value),
                "Threshold": _figure(e.rule, e.threshold),
                "Message": e.message,
            }
            for e in view.events
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "When": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
            "Message": st.column_config.TextColumn(width="large"),
        },
        key="notify_events",
    )
