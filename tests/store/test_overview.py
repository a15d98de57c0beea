import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import event

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


def test_every_raw_read_is_one_index_range_within_single_days(session, engine):
    """The rollups give whole days; raw rows are read only as one bounded range on one indexed time column.

    Two lower bounds on one column (the subscription's start and the day's start, say) let
    SQLite range-scan from the wider one: the whole history. On SQLite the plan is checked too.
    """
    plan = replace(SEED_PLANS["freemium"], task_price=Decimal("0.10"))
    account = create_account(session, "acme", "Acme", plan, since=at("2026-10-01T00:00").date())
    session.commit()
    (job,) = list_jobs(session, account)
    add_outcomes(session, account, job, [at("2026-10-03T09:00") + timedelta(hours=7 * i) for i in range(160)])
    add_outcomes(session, account, job, [at("2026-10-20T09:00")] * 3, verdict="incorrect", reviewed_at=at("2026-11-03T09:00"))
    add_outcomes(session, account, job, [at("2026-11-20T13:00")], verdict="incorrect", reviewed_at=at("2026-11-20T14:00"))
    statements = []

    def record(conn, cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        figures = overview_figures(session, account, date(2026, 11, 1), AS_OF.date(), as_of=AS_OF)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert figures.invoice.projected is not None and figures.billing.activated_by == "allowance"
    raw = [(s, p) for s, p in statements if re.search(r"\bFROM outcome\b", s)]
    assert raw
    for statement, parameters in raw:
        where = re.split(r"\b(?:GROUP BY|ORDER BY|LIMIT)\b", statement.split("WHERE", 1)[1])[0]
        bounded = []
        for column in ("completed_at", "started_at", "reviewed_at"):
            lower = len(re.findall(rf"outcome\.{column} >=? ", where))
            upper = len(re.findall(rf"outcome\.{column} <=? ", where))
            assert lower <= 1 and upper <= 1, statement
            if lower and upper:
                bounded.append(column)
        assert len(bounded) == 1, statement
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                plan_rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            detail = " ".join(row[-1] for row in plan_rows)
            assert f"(account_id=? AND {bounded[0]}>? AND {bounded[0]}<?)" in detail, (statement, detail)
