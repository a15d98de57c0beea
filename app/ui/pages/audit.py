"""Audit trail: every review, job-map edit, plan or settings change, import and membership change of the account."""

from __future__ import annotations

import json

import streamlit as st

from app.ui import components, data, paint
from app.ui import format as fmt
from app.ui.frame import page_header, require_admin

PAGE_SIZE = 50
ACTION_LABELS = {
    None: "Every change",
    "review": "Reviews",
    "import": "Imports",
    "job_map": "Job-map edits",
    "job.add": "Jobs added",
    "plan": "Plan changes",
    "settings": "Budget and targets",
    "value_inputs": "Value inputs",
    "member.add": "Members added",
    "member.role": "Roles changed",
    "member.remove": "Members removed",
    "channel.add": "Notification channels added",
    "channel.remove": "Notification channels removed",
}

ctx = require_admin("see its audit trail")
slug = ctx.slug
page_header("Audit trail", ctx, "who changed what, when, with the values before and after (UTC)", show_range=False)

c1, c2, c3 = st.columns([2, 1, 1])
action = c1.selectbox("Show", list(ACTION_LABELS), format_func=ACTION_LABELS.get, key="audit_action")
total = data.audit_count(slug, action)
pages = max(1, -(-total // PAGE_SIZE))
page_no = c2.number_input("Page", min_value=1, max_value=pages, value=1, step=1, key="audit_page")
c3.download_button(
    "Export CSV",
    data=data.audit_export(slug),
    file_name=f"audit-{slug}.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
    key="audit_export",
    help="The whole trail, oldest first; cells a spreadsheet would run as a formula are prefixed with an apostrophe.",
)

if total == 0:
    components.empty(
        "Nothing recorded yet." if action is None else "No change of this kind yet.",
        "Reviews, imports, job-map edits, plan and settings changes and membership changes appear here as they happen.",
        icon=":material/history:",
    )
    paint.stop()

rows = data.audit_events(slug, action, PAGE_SIZE, (int(page_no) - 1) * PAGE_SIZE)


def _shown(value) -> str:
    if value is None:
        return "—"
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)


def _change(before: dict | None, after: dict | None) -> str:
    """``field: before → after`` for every changed field (plans and other long values in full)."""
    before, after = before or {}, after or {}
    parts = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key in before and key in after:
            parts.append(f"{key}: {_shown(before[key])} → {_shown(after[key])}")
        elif key in after:
            parts.append(f"{key}: {_shown(after[key])}")
        else:
            parts.append(f"{key}: {_shown(before[key])} → removed")
    return "; ".join(parts)


st.caption(f"{fmt.plural(total, 'change')}, newest first · page {int(page_no)} of {pages}")
st.dataframe(
    [
        {
            "When": r.at,
            "Who": r.actor,
            "What": ACTION_LABELS.get(r.action, r.action),
            "Of": r.target,
            "Change": _change(r.before, r.after),
        }
        for r in rows
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "When": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm:ss", width="small"),
        "Change": st.column_config.TextColumn(width="large", help="Each changed field: before → after"),
    },
    key="audit_table",
)
