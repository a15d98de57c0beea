"""The one-page summary: self-contained HTML (static SVG charts), every text escaped, the store's figures."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from html.parser import HTMLParser

from app.domain.money import format_money
from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, list_jobs
from app.store.billing import invoice_for_month
from app.store.summary_report import summary_html
from app.store.value import value_delivered
from tests.factories import add_outcomes, at

AS_OF = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
EVIL = '<script>alert("x")</script> & "Co"'


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _account(session):
    account = create_account(session, "evil", EVIL, SEED_PLANS["freemium"], since=date(2026, 10, 1), hourly_cost=Decimal("60.00"))
    job = list_jobs(session, account)[0]
    job.name = "Resolve <b>tickets</b>"
    session.add(job)
    session.commit()
    add_outcomes(session, account, job, [at(f"2026-10-{d:02d}T10:00") for d in range(1, 31)])
    add_outcomes(session, account, job, [at("2026-11-03T10:00")] * 7, verdict="correct", reviewed_at=at("2026-11-04T10:00"))
    add_outcomes(session, account, job, [at("2026-11-05T10:00")], status="escalated", handoff_step="execute", step_execute="human")
    return account


def test_summary_is_one_self_contained_html_file(session):
    account = _account(session)
    page = summary_html(session, account, start=date(2026, 11, 1), end=date(2026, 11, 24), as_of=AS_OF)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    parser = _Tags()
    parser.feed(page)
    # No script at all, nothing fetched: the charts are static SVG, so the file stays small (it was 4.8 MB with plotly.js).
    assert not [attrs for tag, attrs in parser.tags if tag in ("script", "link", "img", "iframe")]
    assert "cdn.plot.ly" not in page
    assert sum(tag == "svg" for tag, _ in parser.tags) >= 2  # coverage and value-versus-bill charts
    assert len(page.encode()) < 1_000_000


def test_summary_escapes_every_text(session):
    account = _account(session)
    page = summary_html(session, account, start=date(2026, 11, 1), end=date(2026, 11, 24), as_of=AS_OF)
    body = page.split("</head>", 1)[1]
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Co&quot;" in body
    assert "Resolve &lt;b&gt;tickets&lt;/b&gt;" in body
    assert "<b>tickets</b>" not in body
    # the title is escaped too
    assert "<title>&lt;script&gt;" in page


def test_summary_shows_coverage_results_value_and_bill(session):
    account = _account(session)
    start, end = date(2026, 11, 1), date(2026, 11, 24)
    page = summary_html(session, account, start=start, end=end, as_of=AS_OF)
    for heading in ("Results", "Job-map coverage", "Value delivered", "Bill · November 2026"):
        assert f">{heading}<" in page, heading
    report = value_delivered(session, account, start, end)
    assert format_money(report.money, "USD") in page
    invoice = invoice_for_month(session, account, 2026, 11, as_of=AS_OF)
    assert format_money(invoice.total, "USD") in page
    assert "87.5%" in page  # completion: 7 of 8 closed
    assert "7 of 8 closed" in page
    assert "7 correct of 7 reviewed" in page and "Reviewer agreement" in page
    assert "configured coverage 81.2%" in page or "configured coverage 81.3%" in page


def test_summary_of_an_account_without_outcomes_shows_dashes(session):
    account = create_account(session, "empty", "Empty Co", SEED_PLANS["hybrid"], since=date(2026, 11, 1))
    session.commit()
    page = summary_html(session, account, start=date(2026, 11, 1), end=date(2026, 11, 24), as_of=AS_OF)
    assert "no closed outcomes yet" in page and "no reviewed outcomes yet" in page
    assert ">—<" in page


def test_summary_holds_the_simulator_quote_and_the_first_bill_after_the_trial(session):
    from app.domain.simulator import Prospect, steady_quote
    from app.store.trial import trial_status

    account = _account(session)
    q = steady_quote(SEED_PLANS["hybrid"], Prospect(700, 2), year=2026, month=11)
    quote = {"outcomes": 700, "seats": 2, "tasks": 700, "plans": [("Hybrid", q.total, "USD")], "cheapest": ["Hybrid"]}
    page = summary_html(session, account, start=date(2026, 11, 1), end=date(2026, 11, 24), as_of=AS_OF, quote=quote,
                        link="https://overseer.example.com/?account=Evil")
    assert ">Price quoted · 700 outcomes a month<" in page
    assert f"<td class=\"\">Hybrid (cheapest)</td><td class=\"n\">{format_money(q.total, 'USD')}</td>" in page
    trial = trial_status(session, account, as_of=AS_OF)
    first = trial.activation_invoice or trial.first_bill
    assert "First bill" in page and format_money(first.total, first.currency) in page
    assert 'href="https://overseer.example.com/?account=Evil"' in page
    assert "localhost" not in page
