"""Invoices as PDF: the text a reader sees (extracted with pypdf), any Unicode, the same bytes twice."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from app.domain.charges import Line
from app.domain.invoice import Invoice, LateOutcomes, quote
from app.domain.invoice_pdf import MAX_NAME, clean_text, invoice_pdf, pdf_file_name
from app.domain.plans import SEED_PLANS
from tests.hostile.corpus import ITEMS

CLOSED = datetime(2026, 11, 3, 0, 0, tzinfo=timezone.utc)
AS_OF = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

FINAL = Invoice(
    currency="USD",
    lines=(
        Line("Free outcomes", 30, Decimal(0), Decimal("0.00")),
        Line("Base fee, 10 of 30 days (prorated)", 1, Decimal("100.00"), Decimal("33.33")),
        Line("Outcomes beyond the included ones", 1234, Decimal("1.125"), Decimal("1388.25")),
        Line("Credit: 2 outcomes of 2026-09 reviewed incorrect", -2, Decimal("1.00"), Decimal("-2.00")),
    ),
    total=Decimal("1419.58"),
    free_used=30,
    free_remaining=0,
    year=2026,
    month=10,
    billable=1264,
    status="final",
    number="ACME-2026-10",
    closed_at=CLOSED,
    late=(LateOutcomes(2026, 9, 3), LateOutcomes(2026, 8, 1)),
)
DRAFT = replace(FINAL, status="draft", number=None, closed_at=None, late=(), month=11, free_used=12, free_remaining=18)


def text_of(document: bytes) -> str:
    """The document's text, white space runs as one space (a heading may wrap)."""
    reader = PdfReader(io.BytesIO(document))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def squeezed(text: str) -> str:
    """Without white space: a table cell or a paragraph wraps where the page decides."""
    return "".join(text.split())


def test_final_invoice_says_everything_a_reader_needs():
    document = invoice_pdf(FINAL, account_name="Acme Support", account_slug="acme")
    assert document.startswith(b"%PDF-")
    text = text_of(document)
    assert "Invoice ACME-2026-10" in text
    assert "Draft" not in text
    assert "Acme Support" in text
    assert "October 2026" in text
    assert "USD" in text
    assert "Closed 2026-11-03 00:00 UTC" in text
    flat = squeezed(text)
    for line in FINAL.lines:
        assert squeezed(line.description) in flat
    # Money exactly as money_str writes it; unit prices as in the plan.
    for amount in ("0.00", "33.33", "1388.25", "-2.00", "1419.58", "1.125", "100.00"):
        assert amount in text
    assert "1,234" in text
    assert "Total (USD) 1419.58" in text
    assert "Free outcomes used this month: 30. Free outcomes left: 0." in text
    assert "Holds 3 late outcomes of September 2026" in text
    assert "Holds 1 late outcome of August 2026" in text


def test_draft_says_plainly_that_it_may_change():
    text = text_of(invoice_pdf(DRAFT, account_name="Acme Support", account_slug="acme", as_of=AS_OF))
    assert "Draft invoice — may still change until November 2026 closes" in text
    assert "not a final invoice" in text
    assert "As of 2026-11-24 12:00 UTC" in text
    assert "Invoice ACME" not in text and "Closed" not in text
    assert "Free outcomes used this month: 12. Free outcomes left: 18." in text
    assert "Holds" not in text


def test_quoted_worked_check_keeps_the_money_exact():
    # SPEC: freemium, 31st outcome on 2026-11-21, 12 outcomes from then on → 33.33 + 12.00 = 45.33
    inv = replace(
        quote(SEED_PLANS["freemium"], 12, free_remaining=0, active_days=10, year=2026, month=11), status="draft"
    )
    text = text_of(invoice_pdf(inv, account_name="Acme", account_slug="acme"))
    assert "33.33" in text and "12.00" in text and "45.33" in text


def test_an_empty_invoice_still_has_a_total():
    empty = replace(DRAFT, lines=(), total=Decimal("0.00"), free_used=0, free_remaining=30)
    text = text_of(invoice_pdf(empty, account_name="Acme", account_slug="acme"))
    assert "Nothing owed for November 2026" in text
    assert "Total (USD) 0.00" in text


def test_same_invoice_same_bytes():
    first = invoice_pdf(FINAL, account_name="Acme", account_slug="acme")
    assert invoice_pdf(FINAL, account_name="Acme", account_slug="acme") == first
    # A final invoice is dated by its closing, whenever it is downloaded.
    assert invoice_pdf(FINAL, account_name="Acme", account_slug="acme", as_of=AS_OF) == first
    assert b"D:20261103000000Z" in first
    assert invoice_pdf(DRAFT, account_name="Acme", account_slug="acme", as_of=AS_OF) == invoice_pdf(
        DRAFT, account_name="Acme", account_slug="acme", as_of=AS_OF
    )


def test_file_names():
    assert pdf_file_name(FINAL, "acme") == "ACME-2026-10.pdf"
    assert pdf_file_name(DRAFT, "acme") == "ACME-2026-11-draft.pdf"
    assert pdf_file_name(DRAFT, "a/../b c") == "A----B-C-2026-11-draft.pdf"


def test_clean_text_drops_what_could_break_or_disguise_the_text():
    assert clean_text("a\tb\nc\r\nd") == "a b c d"
    assert clean_text("pay\u202eeulav\u202c now\x00\x07") == "payeulav now"  # bidi override gone
    assert clean_text("\ud800lone") == "lone"
    assert clean_text("x" * 50, limit=10) == "x" * 9 + "…"
    assert clean_text(None) == "None"


def test_unicode_names_are_shown_and_unknown_glyphs_replaced():
    text = text_of(invoice_pdf(FINAL, account_name="Zoë Ωmega Привет", account_slug="zoe"))
    assert "Zoë Ωmega Привет" in text


@pytest.mark.parametrize("item", ITEMS, ids=str)
def test_hostile_names_and_descriptions_never_crash(item):
    hostile = replace(FINAL, lines=(Line(item.text, 1, Decimal("1.00"), Decimal("1.00")), *FINAL.lines))
    document = invoice_pdf(hostile, account_name=item.text, account_slug=item.text)
    text = text_of(document)
    assert "Invoice ACME-2026-10" in text and "1419.58" in text
    shown = clean_text(item.text, MAX_NAME)
    if shown and shown.isascii():
        # What the name keeps is there to read (cut if very long); wrapping may break it anywhere.
        assert squeezed(shown.rstrip("…"))[:60] in squeezed(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(max_size=300), description=st.text(max_size=300))
def test_any_text_makes_a_pdf(name, description):
    inv = replace(DRAFT, lines=(Line(description, 3, Decimal("0.333333"), Decimal("1.00")),))
    document = invoice_pdf(inv, account_name=name, account_slug="acme", as_of=AS_OF)
    assert "0.333333" in text_of(document)
