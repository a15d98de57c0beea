"""Downloads built when the user clicks (``st.download_button(data=callable)``), not on every page run.

Each builder takes the principal while the page runs: the download runs later, outside the page's run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime

import pandas as pd

from app.domain.export import to_csv
from app.domain.invoice import Invoice
from app.domain.steps import STEPS
from app.store import audit, outcomes, summary_report
from app.store.outcomes import OutcomeFilter
from app.ui.data.cache import scoped_cache
from app.ui.data.portfolio import coverage_matrix, portfolio_rankings
from app.ui.data.principal import acting_as, who
from app.ui.data.reads import account, invoice
from app.ui.data.session import account_session


@scoped_cache
def invoice_pdf_bytes(slug: str, year: int, month: int, as_of: datetime) -> bytes:
    """The month's invoice as a PDF (:func:`app.domain.invoice_pdf.invoice_pdf`), as it stands at ``as_of``.

    Cached like :func:`invoice` (``as_of`` to the minute), so a second click costs nothing.
    """
    # Imported here, not at the top: fpdf takes 0.5-1 s to import (measured with -X importtime on this
    # machine), which every page's first run would pay for a download most visits never make.
    from app.domain.invoice_pdf import invoice_pdf as render_invoice_pdf

    info = account(slug)
    return render_invoice_pdf(
        invoice(slug, year, month, as_of), account_name=info.name, account_slug=info.slug, as_of=as_of
    )


def invoice_pdf(slug: str, year: int, month: int, as_of: datetime) -> Callable[[], bytes]:
    """The month's invoice as a PDF, built when called (the download button's click), not on every page run."""
    principal = who()

    def build() -> bytes:
        with acting_as(principal):
            return invoice_pdf_bytes(slug, year, month, as_of)

    return build


def invoice_pdf_name(slug: str, inv: Invoice) -> str:
    """The PDF's file name: the invoice number, or ``SLUG-YYYY-MM-draft`` (:func:`app.domain.invoice_pdf.pdf_file_name`)."""
    from app.domain.invoice_pdf import pdf_file_name  # fpdf's import cost, as in invoice_pdf_bytes

    return pdf_file_name(inv, slug)


def export_csv(slug: str, flt: OutcomeFilter, as_of: datetime | None = None) -> Callable[[], str]:
    """Every outcome matching ``flt`` (as they stood at ``as_of`` when given) as spreadsheet-safe CSV, built when
    called (when the user clicks download)."""
    principal = who()
    columns = ["outcome_id", "job", "status", "verdict", "started_at", "completed_at", "handoff_step", "reviewed_at", *STEPS]

    def rows() -> Iterator[dict]:
        with account_session(slug, principal=principal) as (s, acc):
            for r in outcomes.iter_outcomes(s, acc, flt, as_of=as_of):
                yield {
                    "outcome_id": r.outcome_id,
                    "job": r.job_slug,
                    "status": r.status,
                    "verdict": r.verdict,
                    "started_at": r.started_at,
                    "completed_at": r.completed_at,
                    "handoff_step": r.handoff_step,
                    "reviewed_at": r.reviewed_at,
                    **{step: r.steps.get(step) for step in STEPS},
                }

    return lambda: to_csv(rows(), columns)


def audit_export(slug: str) -> Callable[[], str]:
    """The account's whole audit trail as spreadsheet-safe CSV, built when called (the download)."""
    principal = who()

    def build() -> str:
        with account_session(slug, principal=principal) as (s, acc):
            return audit.export_csv(s, principal, acc)

    return build


def summary_html(
    slug: str, start: date, end: date, as_of: datetime, *, quote: dict | None = None, link: str | None = None
) -> Callable[[], str]:
    """The account's one-page summary (:func:`app.store.summary_report.summary_html`), built when called.

    ``quote`` is the pricing simulator's quote at the volume typed (``quote_for_summary``), ``link``
    the account's address.
    """
    principal = who()

    def build() -> str:
        with account_session(slug, principal=principal) as (s, acc):
            return summary_report.summary_html(s, acc, start=start, end=end, as_of=as_of, quote=quote, link=link)

    return build


def portfolio_export(start: date, end: date, as_of: datetime | None, what: str) -> Callable[[], str]:
    """A Portfolio table as spreadsheet-safe CSV, built when the button is clicked.

    ``what`` is ``"steps"``, ``"accounts"`` or ``"coverage"``. Shares are numbers
    between 0 and 1 (not "72.0%" text), counts are integers, and every row carries
    the date range (``range_start``, ``range_end``, ISO days).
    """
    principal = who()

    def build() -> str:
        with acting_as(principal):
            steps, accounts_ = portfolio_rankings(start, end, as_of)
            span = {"range_start": start.isoformat(), "range_end": end.isoformat()}
            if what == "steps":
                cols = ["rank", "step", "observed_ai_share", "ai_runs", "runs", "handoffs", "accounts", "range_start", "range_end"]
                rows = [
                    {"rank": i, "step": r.step, "observed_ai_share": r.ai_share.value, "ai_runs": r.ai_runs,
                     "runs": r.runs, "handoffs": r.handoffs, "accounts": r.accounts, **span}
                    for i, r in enumerate(steps, start=1)
                ]
            elif what == "accounts":
                cols = ["rank", "account", "account_slug", "handoffs", "top_step", "top_step_handoffs", "range_start", "range_end"]
                rows = [
                    {"rank": i, "account": a.name, "account_slug": a.slug, "handoffs": a.handoffs,
                     "top_step": a.top_step or "", "top_step_handoffs": a.top_step_handoffs, **span}
                    for i, a in enumerate(accounts_, start=1)
                ]
            else:
                matrix = coverage_matrix(start, end, as_of)
                cols = ["account", "account_slug", "job", "job_slug", "step", "coverage", "configured_weight",
                        "observed_ai_share", "runs", "range_start", "range_end"]
                rows = [
                    {"account": r.account_name, "account_slug": r.account_slug, "job": r.job_name,
                     "job_slug": r.job_slug, "step": r.step, "coverage": r.coverage,
                     "configured_weight": float(r.configured_weight),
                     "observed_ai_share": None if pd.isna(r.observed_ai_share) else float(r.observed_ai_share),
                     "runs": int(r.runs), **span}
                    for r in matrix.itertuples(index=False)
                ]
        return to_csv(rows, cols)

    return build


def portfolio_export_name(what: str, start: date, end: date) -> str:
    """``overseer-portfolio-steps-2026-11-01_2026-11-24.csv``: the date range in the file name."""
    return f"overseer-portfolio-{what}-{start.isoformat()}_{end.isoformat()}.csv"
