"""Every hostile string through the CSV exports and the HTML summary.

CSV (README "CSV exports are safe in spreadsheets"): a text cell starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return gets a leading apostrophe; every other string comes back from Python's csv
module byte for byte. The summary (app/store/summary_report.py) escapes every text from the database.
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert
from sqlmodel import Session, select

from app.domain.export import DANGEROUS_PREFIXES, safe_cell, to_csv
from app.models import Account, Job, JobStep, Outcome
from app.store.outcomes import OutcomeFilter
from tests.hostile.corpus import ITEMS

AS_OF = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


def expected_cell(text: str) -> str:
    # README: the first character is compared as is and after NFKC normalisation (a fullwidth ＝ is guarded).
    dangerous = text.startswith(DANGEROUS_PREFIXES) or unicodedata.normalize("NFKC", text[:1]).startswith(DANGEROUS_PREFIXES)
    return "'" + text if dangerous else text


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_rule_catches_what_it_must():
    # Guard against a silently weakened rule: each of these would run as a formula in a spreadsheet.
    for text in ("=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"):
        assert safe_cell(text).startswith("'"), text
    assert {i.text[0] for i in ITEMS if i.kind == "formula" and i.text} >= set(DANGEROUS_PREFIXES)


@pytest.mark.parametrize("item", ITEMS, ids=str)
def test_every_string_is_neutralised_or_kept_exactly(item):
    written = to_csv([{"outcome_id": item.text, "comment": item.text, "n": 1}], ["outcome_id", "comment", "n"])
    rows = _read(written)
    assert rows == [["outcome_id", "comment", "n"], [expected_cell(item.text)] * 2 + ["1"]]
    assert rows[1][0].encode("utf-8") == expected_cell(item.text).encode("utf-8")


def test_the_whole_corpus_round_trips_in_one_file():
    columns = ["name", "text"]
    written = to_csv(([i.name, i.text] for i in ITEMS), columns)
    assert _read(written)[1:] == [[i.name, expected_cell(i.text)] for i in ITEMS]
    # Every formula cell of the file starts with the apostrophe, whatever the line.
    for _, cell in _read(written)[1:]:
        assert not cell.startswith(DANGEROUS_PREFIXES)


def _store_outcomes(engine, texts: list[str]) -> Account:
    from app.domain.plans import SEED_PLANS
    from app.store.accounts import create_account

    with Session(engine, expire_on_commit=False) as s:
        acc = create_account(s, "hostile-export", "Export Co", SEED_PLANS["freemium"], since=date(2026, 11, 1))
        s.commit()
        job = s.exec(select(Job).where(Job.account_id == acc.id)).one()
        moment = datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
        s.execute(
            insert(Outcome),
            [
                {
                    "account_id": acc.id, "job_id": job.id, "outcome_id": text,
                    "started_at": moment - timedelta(minutes=5), "completed_at": moment + timedelta(seconds=n),
                    "status": "completed", "verdict": "unreviewed", "updated_at": moment,
                }
                for n, text in enumerate(texts)
            ],
        )
        s.commit()
    return acc


def _outcomes_page_export(monkeypatch, slug: str, flt) -> str:
    """The CSV the Outcomes page's "Export CSV" button downloads (app.ui.data.export_csv)."""
    from app.ui import data
    from app.ui.data import principal

    try:
        from app.domain.access import Principal

        monkeypatch.setattr(principal, "current_principal", lambda: Principal.local_user(), raising=False)
    except ImportError:  # before sign-in existed
        pass
    built = data.export_csv(slug, flt)
    return built() if callable(built) else built


def test_the_outcomes_page_export_neutralises_formulas_and_keeps_the_rest(engine, monkeypatch):
    # Stored as they are (the store does not re-validate), so even a tab- or CR-prefixed id reaches the export;
    # The column holds 200 characters (longer ones are refused at import), and PostgreSQL text cannot hold NUL.
    texts = [i.text for i in ITEMS if i.text and len(i.text) <= 200 and "\x00" not in i.text]
    _store_outcomes(engine, texts)
    flt = OutcomeFilter(start=date(2026, 11, 1), end=date(2026, 11, 30))
    rows = _read(_outcomes_page_export(monkeypatch, "hostile-export", flt))
    header, body = rows[0], rows[1:]
    got = sorted(r[header.index("outcome_id")] for r in body)
    assert got == sorted(expected_cell(t) for t in texts)
    for r in body:
        assert not any(cell.startswith(DANGEROUS_PREFIXES) for cell in r), r


def test_the_audit_export_is_safe_too(engine):
    audit = pytest.importorskip("app.store.audit")
    jobmap = pytest.importorskip("app.store.jobmap")
    from app.domain.access import Principal
    from app.domain.plans import SEED_PLANS
    from app.store.accounts import create_account

    if not hasattr(audit, "export_csv"):
        pytest.skip("no audit export yet")
    texts = [i.text for i in ITEMS if i.kind in ("formula", "html", "markdown", "sql") and i.text.strip()][:8]
    with Session(engine, expire_on_commit=False) as s:
        acc = create_account(s, "audited", "Audited", SEED_PLANS["freemium"], since=date(2026, 11, 1))
        s.commit()
        job = s.exec(select(Job).where(Job.account_id == acc.id)).one()
        for text in texts:
            jobmap.update_job_map(s, acc, job.slug, actor=Principal.operator(), steps={"define": {"description": text}})
            s.commit()
        written = audit.export_csv(s, Principal.operator(), acc)
    rows = _read(written)
    for r in rows[1:]:
        assert not any(cell.startswith(DANGEROUS_PREFIXES) for cell in r), r
    joined = "\n".join(cell for r in rows for cell in r)
    import json

    for text in texts:
        assert json.dumps(text.strip(), ensure_ascii=False) in joined


def test_the_summary_escapes_every_text_from_the_database(engine):
    from app.domain.plans import parse_plan
    from app.store.accounts import create_account
    from app.store.summary_report import summary_html

    hostile = [i.text for i in ITEMS if i.kind in ("html", "markdown", "streamlit") and i.text.strip()]
    tags = [t for t in hostile if "<" in t]
    with Session(engine, expire_on_commit=False) as s:
        plan = parse_plan({"name": "<script>alert('plan')</script>", "currency": "USD", "free_outcomes": 30,
                           "base_fee": "100.00", "outcome_price": "1.00"})
        acc = create_account(s, "summary", "<img src=x onerror=alert('account')>", plan, since=date(2026, 11, 1))
        s.commit()
        job = s.exec(select(Job).where(Job.account_id == acc.id)).one()
        job.name = "</h3><script>alert('job')</script>"
        job.outcome_unit = "<b>unit</b>"
        s.add(job)
        for n, step in enumerate(s.exec(select(JobStep).where(JobStep.job_id == job.id))):
            step.description = tags[n % len(tags)]
            s.add(step)
        s.commit()
        page = summary_html(s, acc, start=date(2026, 11, 1), end=date(2026, 11, 24), as_of=AS_OF)
    for raw in [*tags, "alert('plan')</script>", "<img src=x onerror", "</h3><script>", "<b>unit</b>"]:
        assert raw not in page, raw
    for shown in ["<script>alert('plan')</script>", "<img src=x onerror=alert('account')>", "</h3><script>alert('job')</script>"]:
        assert html.escape(shown, quote=True) in page
    # No script at all: the charts are static SVG (their labels and tooltips escaped like every other text).
    assert page.count('<svg class="chart"') >= 2
    assert re.findall(r"<script[^>]*>", page) == []
