from datetime import timedelta
from decimal import Decimal

from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account, list_jobs
from app.store.alerts import alerts_for
from app.store.billing import billing_state, invoice_for_month
from app.store.metrics import summary
from app.store.overview import overview_figures
from tests.factories import add_outcomes, at

AS_OF = at("2026-11-20T12:00")


def test_overview_figures_are_the_engines_figures(session):
    account = create_account(
        session, "acme", "Acme", SEED_PLANS["freemium"], since=at("2026-10-01T00:00").date(),
        monthly_budget=Decimal("50.00"), target_accuracy=Decimal("0.95"),
    )
    session.commit()
    (job,) = list_jobs(session, account)
    add_outcomes(session, account, job, [at("2026-10-03T09:00") + timedelta(hours=9 * i) for i in range(120)])
    add_outcomes(session, account, job, [at("2026-11-02T09:00")] * 3, verdict="incorrect", reviewed_at=at("2026-11-03T09:00"))

    start, end = AS_OF.date().replace(day=1), AS_OF.date()
    figures = overview_figures(session, account, start, end, as_of=AS_OF)
    assert figures.summary == summary(session, account.id, start, end)
    assert figures.billing == billing_state(session, account, as_of=AS_OF)
    assert figures.invoice == invoice_for_month(session, account, 2026, 11, as_of=AS_OF)
    assert figures.invoice.projected is not None
    assert figures.alerts == alerts_for(session, account, as_of=AS_OF)
    # The allowance ran out in October: November is not alarmed about it again.
    assert [a.code for a in figures.alerts] == ["budget", "accuracy"]
    assert len(figures.daily) == 20 and len(figures.trends) == 4  # weeks from Monday 26 Oct to 16 Nov
    assert [(job.slug, s) for job, s in figures.jobs] == [("customer-support", figures.summary)]
