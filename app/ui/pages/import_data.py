"""Import: upload CSV or JSON Lines, preview, validate before writing, then import with progress."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import streamlit as st

from app.domain.errors import OverseerError
from app.domain.steps import STEPS
from app.ui import components, data, paint
from app.ui import format as fmt
from app.ui.frame import page_header, require_admin

PREVIEW_ROWS = 10
MAX_MB = components.upload_limit_mb()

ctx = require_admin("import outcomes")
slug, acc = ctx.slug, ctx.account
page_header(
    "Import outcomes",
    ctx,
    "an outcome already stored is updated, never duplicated: importing the same file twice changes nothing",
    show_range=False,
)

jobs = data.jobs(slug)
with st.expander("What a file looks like", icon=":material/help:"):
    st.markdown(
        "One outcome per row (CSV with a header) or per line (JSON Lines). Columns: "
        "`outcome_id, job, started_at, completed_at, status, verdict, handoff_step`, and optionally one column per step "
        f"({', '.join(f'`{s}`' for s in STEPS)}) holding `ai`, `human` or nothing.\n\n"
        "- `job`: one of this account's jobs: " + (", ".join(f"`{j.slug}`" for j in jobs) or "none yet") + "\n"
        "- `status`: `open`, `completed`, `escalated` or `failed`; `verdict`: `correct`, `incorrect` or empty\n"
        "- times are ISO 8601; a time without an offset is UTC\n\n"
        "A file with any invalid row imports nothing unless you choose to import the valid rows only; "
        "nothing already stored is ever lost."
    )
    samples = data.sample_files()
    if samples:
        cols = st.columns(len(samples) + 2)
        for col, (name, content) in zip(cols, samples.items(), strict=False):
            col.download_button(
                f"Sample {name}", data=content, file_name=name, icon=":material/download:", key=f"sample_{name}", on_click="ignore"
            )

upload = st.file_uploader(
    f"Upload outcomes for {fmt.text(acc.name)}",
    type=["csv", "jsonl", "ndjson"],
    key="upload",
    max_upload_size=MAX_MB,
    help=f"CSV or JSON Lines (.jsonl, .ndjson), up to {MAX_MB:,} MB.",
)

result = st.session_state.get("_import_result")
if upload is None:
    if result and result[0] == slug:
        _, name, report = result
        st.success(
            f"Imported {fmt.text(name)}: {report.inserted:,} new, {report.updated:,} updated, {report.unchanged:,} unchanged"
            + (f"; {len(report.rejected):,} rejected rows skipped" if report.rejected else "")
            + "."
        )
        if fmt.before_subscription(report):
            st.info(fmt.before_subscription(report), icon=":material/history:")
    else:
        components.empty(
            "Pick a file to import.",
            "You will see a preview and the validation report before anything is written.",
            icon=":material/upload_file:",
        )
    paint.stop()

try:
    data.check_upload_size(upload.size)  # before reading it: no preview, no check of a file too large
except OverseerError as exc:
    st.error(f"Not imported: {fmt.text(exc)}", icon=":material/error:")
    paint.stop()
raw = upload.getvalue()
digest = hashlib.sha256(raw).hexdigest()[:16]
file_key = f"{slug}:{upload.name}:{digest}"
suffix = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
fmt_name = {"csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl"}.get(suffix)

st.markdown(f"**{fmt.text(upload.name)}** · {len(raw) / 1024:,.1f} KB")

# Preview: the first rows as they are in the file (no parsing rules applied: that is the validation's job).
st.markdown(f"**Preview** · the first {PREVIEW_ROWS} rows as they are in the file; `line` is the line number the report refers to")
head = raw[: 256 * 1024].decode("utf-8", errors="replace").splitlines()
try:
    if fmt_name == "csv":
        reader = csv.DictReader(io.StringIO("\n".join(head[: PREVIEW_ROWS + 1])))
        preview = [{"line": n, **dict(r)} for n, r in enumerate(reader, start=2)]
    else:
        preview = []
        for n, line in enumerate(head[:PREVIEW_ROWS], start=1):
            if line.strip():
                try:
                    item = json.loads(line)
                    preview.append({"line": n, **item} if isinstance(item, dict) else {"line": n, "(text)": line})
                except json.JSONDecodeError:
                    preview.append({"line": n, "(text)": line})
except csv.Error:
    preview = [{"line": n, "(text)": line} for n, line in enumerate(head[:PREVIEW_ROWS], start=1)]
if preview:
    st.dataframe(preview, hide_index=True, width="stretch", height=min(300, 38 + 35 * len(preview)))
else:
    st.caption("The file is empty.")

# Validation report: a dry run, cached per file content.
reports = st.session_state.setdefault("_import_checks", {})
if file_key not in reports:
    try:
        with st.spinner("Checking every row…"):
            reports[file_key] = data.import_file(slug, io.BytesIO(raw), fmt=fmt_name, valid_only=False, dry_run=True)
    except OverseerError as exc:
        st.error(fmt.text(exc))
        paint.stop()
check = reports[file_key]
valid = check.inserted + check.updated + check.unchanged

st.markdown("**Validation report**")
components.kpi_row(
    [
        ("New", f"{check.inserted:,}", "outcomes not stored yet", None, "imp_new"),
        ("Updated", f"{check.updated:,}", "stored outcomes that change", None, "imp_updated"),
        ("Unchanged", f"{check.unchanged:,}", "already stored as they are", None, "imp_unchanged"),
        ("Rejected", f"{len(check.rejected):,}", "rows with an error", None, "imp_rejected"),
    ]
)
valid_only = False
if check.rejected:
    st.error(
        f"{fmt.plural(len(check.rejected), 'row')} cannot be imported. Fix "
        + ("it" if len(check.rejected) == 1 else "them")
        + " and upload the file again"
        + (", or import the valid rows only." if valid else ": no row of this file is valid."),
        icon=":material/error:",
    )
    st.dataframe(
        [{"Line": e.line, "Column": e.column or "", "Reason": e.reason} for e in check.rejected],
        hide_index=True,
        width="stretch",
        key="rejected_rows",
    )
    if valid:
        valid_only = st.checkbox(f"Import the {fmt.plural(valid, 'valid row')} only", key="valid_only")
elif not valid:
    st.info("The file holds no outcomes (a header alone, or only blank lines): nothing to import.", icon=":material/info:")
else:
    st.success(f"Every row is valid: {fmt.plural(valid, 'row')} ready.", icon=":material/task_alt:")
if fmt.before_subscription(check):
    st.info(fmt.before_subscription(check), icon=":material/history:")

to_write = check.inserted + check.updated
can_import = to_write > 0 and (not check.rejected or valid_only)
label = f"Import {fmt.plural(to_write, 'outcome')}" if to_write else "Nothing new to import"
if st.button(label, type="primary", disabled=not can_import, icon=":material/upload:", key="do_import"):
    bar = st.progress(0.0, text="Importing…")

    def _progress(done: int, total: int) -> None:
        if total:
            bar.progress(min(1.0, done / total), text=f"Importing… {done / 1024:,.0f} of {total / 1024:,.0f} KB")

    try:
        report = data.import_file(slug, io.BytesIO(raw), fmt=fmt_name, valid_only=valid_only, dry_run=False, progress=_progress)
    except OverseerError as exc:
        bar.empty()
        st.error(f"Nothing was imported: {fmt.text(exc)}")
        paint.stop()
    bar.progress(1.0, text="Done")
    reports.pop(file_key, None)
    if report.written:
        st.session_state["_import_result"] = (slug, upload.name, report)
        st.success(
            f"Imported {fmt.text(upload.name)}: {report.inserted:,} new, {report.updated:,} updated, {report.unchanged:,} unchanged"
            + (f"; {len(report.rejected):,} rejected rows skipped" if report.rejected else "")
            + ". Every page now includes them.",
            icon=":material/check_circle:",
        )
        if fmt.before_subscription(report):
            st.info(fmt.before_subscription(report), icon=":material/history:")
    else:
        st.error(
            f"Nothing was imported: {fmt.plural(len(report.rejected), 'row')} rejected.", icon=":material/error:"
        )
