"""One billable count (SPEC "Billing over time"): for a whole past month the Overview's "Billable outcomes"
is what that month's invoice bills as its own, and the page says what later reviews changed.

Every demo account, October 2026, as of the pinned 24 Nov 2026 12:00. The demo's reviews fall in their
outcomes' own months, so one October outcome of ``hybrid-over`` (no free allowance) is reviewed incorrect on
10 Nov: October still bills it, November credits it, and the page says so.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlmodel import Session, select

from app.store.accounts import get_account
from app.store.billing import billing_context, invoice_for_month, own_month_counts
from app.ui import format as fmt
from tests.ui.conftest import NOW, make_app, no_errors


def _tile(at):
    return next(m for m in at.metric if m.label == "Billable outcomes")


def test_a_whole_past_month_shows_its_invoices_own_outcomes(demo_engine, demo_slugs):
    from app.domain.access import Principal
    from app.ui import data

    from app.models import Outcome
    from app.store.reviews import record_review

    as_of = datetime.fromisoformat(NOW)
    names = {a.slug: a.name for a in data.accounts()}
    with Session(demo_engine) as s:
        acc = get_account(s, "hybrid-over", principal=Principal.local_user())
        october = s.exec(
            select(Outcome)
            .where(Outcome.account_id == acc.id, Outcome.status == "completed", Outcome.verdict != "incorrect",
                   Outcome.completed_at >= datetime(2026, 10, 10, tzinfo=timezone.utc),
                   Outcome.completed_at < datetime(2026, 10, 11, tzinfo=timezone.utc))
            .order_by(Outcome.completed_at)
        ).first()
        record_review(s, october, "incorrect", "tester", at=datetime(2026, 11, 10, 9, tzinfo=timezone.utc))
        s.commit()
    for slug in demo_slugs:
        at = make_app(account=names[slug], range=["2026-10-01", "2026-10-31"])
        at.run()
        no_errors(at)
        shown = _tile(at)
        with Session(demo_engine) as s:
            acc = get_account(s, slug, principal=Principal.local_user())
            invoice = invoice_for_month(s, acc, 2026, 10, as_of=as_of)
            ctx = billing_context(s, acc, as_of=as_of)
            charges = sum(n for day, n in ctx.verdicts.charges.items() if date(2026, 10, 1) <= day <= date(2026, 10, 31))
            late = sum(item.outcomes for item in invoice.late)
            own = own_month_counts(ctx, 2026, 10)
        # The invoice's billable holds the month's own outcomes, the charges made in it, and late outcomes.
        assert shown.value == f"{invoice.billable - charges - late:,}", slug
        captions = [c.value for c in at.caption]
        if slug == "hybrid-over":
            assert own.credited == {(2026, 11): 1}
            assert fmt.later_reviews(own) == "1 credited in Nov 2026"
        if fmt.later_reviews(own):
            assert fmt.later_reviews(own) in captions, (slug, captions)
        # A range that is not a whole month keeps counting the outcomes billable now.
        part = make_app(account=names[slug], range=["2026-10-01", "2026-10-30"])
        part.run()
        no_errors(part)
        assert any("in 1–30 Oct 2026" == c.value for c in part.caption), slug
