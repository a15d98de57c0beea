"""The cached data layer between the pages and the store.

Pages never open a session or import ``app.store`` themselves: they call ``data.<function>`` from
this package (``from app.ui import data``), which re-exports everything they need, and nothing more.
Every call runs as the signed-in principal, which every store call takes, so a page cannot reach an
account it may not see. Reads are cached with ``st.cache_data`` keyed on that principal and small
arguments (account slug, dates, a minute-precision "as of"), and return small picklable values.
Every write commits and then clears every cache, so a change is visible at once on every page.

Where things are:

- :mod:`~app.ui.data.views`: the view dataclasses (``AccountInfo``, ``JobInfo``, …).
- :mod:`~app.ui.data.reads`: cached reads of one account (figures, billing, outcomes, people).
- :mod:`~app.ui.data.portfolio`: cached reads across accounts (Portfolio, Trials).
- :mod:`~app.ui.data.downloads`: CSV, PDF and HTML built when a download button is clicked.
- :mod:`~app.ui.data.claims`: the review queue's claims (not cached).
- :mod:`~app.ui.data.writes`: every write; each clears the caches.
- :mod:`~app.ui.data.pricing`: the pricing simulator's cached figures and its quote.
- :mod:`~app.ui.data.catalog`: job templates, sample files, demo scenarios.
- :mod:`~app.ui.data.principal`, :mod:`~app.ui.data.session`, :mod:`~app.ui.data.cache`,
  :mod:`~app.ui.data.times`: who is asking, the one way to a session and an account, the caches,
  and the UI's "now".
"""

from __future__ import annotations

from app.store.outcomes import OutcomeFilter
from app.ui.data.cache import TTL, clear_caches, data_version, sync_with_database
from app.ui.data.catalog import demo_scenarios, sample_files, templates
from app.ui.data.claims import claim_next, live_claims, release_claim, reviewer_name
from app.ui.data.downloads import (
    audit_export,
    export_csv,
    invoice_pdf,
    invoice_pdf_bytes,
    invoice_pdf_name,
    portfolio_export,
    portfolio_export_name,
    summary_html,
)
from app.ui.data.portfolio import (
    coverage_matrix,
    job_quality,
    portfolio_headline,
    portfolio_rankings,
    top_handoff_steps,
    trials,
)
from app.ui.data.pricing import SIM_QUOTE, price_comparison, quote_for_summary, remember_quote
from app.ui.data.principal import PRINCIPAL_KEY, acting_as, current_principal
from app.ui.data.reads import (
    account,
    accounts,
    agreement,
    allowance_burndown,
    api_keys,
    audit_count,
    audit_events,
    billing_state,
    completed_before_subscription,
    configured_coverage,
    daily,
    invoice,
    invoice_history,
    job_map,
    jobs,
    job_summaries,
    members,
    month_status,
    notifications,
    outcome_detail,
    outcome_status_counts,
    outcomes_page,
    overview,
    plan,
    plan_history,
    principal_for,
    queue_counts,
    return_multiple,
    review_queue,
    step_stats,
    summary,
    trial_status,
    value_months,
    value_report,
    weakest_step,
)
from app.ui.data.session import database_problem
from app.ui.data.times import as_of_key, day_end, now, today
from app.ui.data.views import (
    AccountInfo,
    JobInfo,
    NotificationsView,
    OutcomeDetail,
    ReviewInfo,
    StepInfo,
    SubscriptionInfo,
    TrialRow,
)
from app.ui.data.writes import (
    add_email,
    add_job,
    add_webhook,
    change_plan,
    check_upload_size,
    close_months,
    create_api_key,
    import_file,
    load_demo,
    note_sign_in,
    remove_channel,
    remove_member,
    revoke_api_key,
    save_account_settings,
    save_grace_days,
    save_job_map,
    save_member,
    save_review,
    save_value_inputs,
    send_test,
    settle_months,
)

__all__ = [
    "TTL", "OutcomeFilter", "PRINCIPAL_KEY", "SIM_QUOTE",
    # views
    "AccountInfo", "JobInfo", "NotificationsView", "OutcomeDetail", "ReviewInfo", "StepInfo", "SubscriptionInfo",
    "TrialRow",
    # who is asking, now, and the caches
    "acting_as", "current_principal", "as_of_key", "day_end", "now", "today",
    "clear_caches", "data_version", "sync_with_database", "database_problem",
    # reads
    "account", "accounts", "agreement", "allowance_burndown", "api_keys", "audit_count", "audit_events",
    "billing_state", "completed_before_subscription", "configured_coverage", "daily", "invoice", "invoice_history",
    "job_map", "job_summaries", "jobs", "members", "month_status", "notifications", "outcome_detail",
    "outcome_status_counts", "outcomes_page", "overview", "plan", "plan_history", "principal_for", "queue_counts",
    "return_multiple", "review_queue", "step_stats", "summary", "trial_status", "value_months", "value_report",
    "weakest_step",
    "coverage_matrix", "job_quality", "portfolio_headline", "portfolio_rankings", "top_handoff_steps", "trials",
    # downloads
    "audit_export", "export_csv", "invoice_pdf", "invoice_pdf_bytes", "invoice_pdf_name", "portfolio_export",
    "portfolio_export_name", "summary_html",
    # claims
    "claim_next", "live_claims", "release_claim", "reviewer_name",
    # writes
    "add_email", "add_job", "add_webhook", "change_plan", "check_upload_size", "close_months", "create_api_key",
    "import_file", "load_demo", "note_sign_in", "remove_channel", "remove_member", "revoke_api_key",
    "save_account_settings", "save_grace_days", "save_job_map", "save_member", "save_review", "save_value_inputs",
    "send_test", "settle_months",
    # pricing and what ships with Overseer
    "price_comparison", "quote_for_summary", "remember_quote", "demo_scenarios", "sample_files", "templates",
]
