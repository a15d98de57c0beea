"""An import says how many of its outcomes came before the subscription started (issue 17, point 3)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timezone

from app.cli import main
from app.domain.plans import SEED_PLANS
from app.store.accounts import create_account
from app.store.billing import completed_before_subscription
from app.store.ingest import ingest_file
from app.core.config import REPO_ROOT

SAMPLE = REPO_ROOT / "data" / "samples" / "outcomes.csv"
SINCE = date(2026, 11, 10)
AS_OF = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


def _by_hand() -> tuple[int, int]:
    """Rows of the sample completed before 10 Nov 00:00 UTC (all of them; completed ones only)."""
    start = datetime(2026, 11, 10, tzinfo=timezone.utc)
    rows = list(csv.DictReader(SAMPLE.open()))

    def when(text):  # a time without an offset is UTC (SPEC "Data in")
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)

    early = [r for r in rows if r["completed_at"] and when(r["completed_at"]) < start]
    return len(early), sum(r["status"] == "completed" for r in early)


def test_the_import_counts_outcomes_from_before_the_subscription(session, monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", AS_OF.isoformat())
    acc = create_account(session, "acme", "Acme", SEED_PLANS["freemium"], template="customer-support", since=SINCE)
    session.commit()
    early, early_completed = _by_hand()
    assert 0 < early_completed <= early
    dry = ingest_file(session, acc, SAMPLE, dry_run=True)
    assert (dry.before_subscription, dry.subscription_start) == (early, SINCE)
    report = ingest_file(session, acc, SAMPLE)
    assert report.to_json()["before_subscription"] == early
    # The Billing page's count: completed outcomes stored from before the first day.
    assert completed_before_subscription(session, acc, as_of=AS_OF) == (early_completed, SINCE)
    # Imported again: the rows are the same rows, still from before it.
    assert ingest_file(session, acc, SAMPLE).before_subscription == early


def test_overseer_ingest_says_so(engine, session, capsys, monkeypatch):
    monkeypatch.setenv("OVERSEER_NOW", AS_OF.isoformat())
    create_account(session, "acme", "Acme", SEED_PLANS["freemium"], template="customer-support", since=SINCE)
    session.commit()
    early, _ = _by_hand()
    code = main(["ingest", str(SAMPLE), "--account", "acme"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["before_subscription"] == early
    assert f"overseer: {early:,} of these outcomes were completed before the subscription started on 2026-11-10" in err
