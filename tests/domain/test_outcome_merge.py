"""The merge rule (app/domain/outcome_merge.py) and the API's item checks, as pure functions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.domain.ingest_rows import OutcomeRecord, RowError, check_items, parse_row
from app.domain.outcome_merge import MUTABLE, Merge, merge, new_outcome

NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
DONE = datetime(2026, 11, 20, 10, 5, tzinfo=timezone.utc)
JOBS = {"support"}


def row(**fields) -> OutcomeRecord:
    values = {"outcome_id": "T-1", "job": "support", "started_at": "2026-11-20T10:00:00Z",
              "completed_at": "2026-11-20T10:05:00Z", "status": "completed", "verdict": "", "handoff_step": ""}
    values.update(fields)
    parsed = parse_row(values, 2, JOBS)
    assert isinstance(parsed, OutcomeRecord), parsed
    return parsed


def stored_from(rec: OutcomeRecord) -> dict:
    values, _ = new_outcome(rec)
    return dict(zip(MUTABLE, values, strict=True))


def test_the_same_row_again_changes_nothing():
    rec = row()
    assert merge(stored_from(rec), rec, (None, None), NOW) is None


def test_a_closed_outcome_is_never_reopened():
    stored = stored_from(row())
    refused = merge(stored, row(status="open", completed_at=""), (None, None), NOW)
    assert isinstance(refused, RowError) and refused.column == "status" and "reopen" in refused.reason


def test_steps_the_row_does_not_mention_are_kept():
    stored = stored_from(row(define="ai", execute="human"))
    rec = parse_row({"outcome_id": "T-1", "job": "support", "started_at": "2026-11-20T10:00:00Z",
                     "completed_at": "2026-11-20T10:05:00Z", "status": "completed", "define": "human"}, 3, JOBS)
    merged = merge(stored, rec, (None, None), NOW)
    assert isinstance(merged, Merge)
    assert merged.values["step_define"] == "human" and merged.values["step_execute"] == "human"
    assert merged.values["handoff_step"] is None and merged.review is None


def test_an_empty_summary_or_url_keeps_the_stored_one_and_a_new_one_replaces_it():
    stored = stored_from(row(summary="Refunded 49.00 USD", url="https://support.example.com/t/1"))
    assert stored["summary"] == "Refunded 49.00 USD" and stored["url"] == "https://support.example.com/t/1"
    assert merge(stored, row(summary="", url=""), (None, None), NOW) is None
    merged = merge(stored, row(summary="Refunded 59.00 USD", url=""), (None, None), NOW)
    assert merged.values["summary"] == "Refunded 59.00 USD" and merged.values["url"] == "https://support.example.com/t/1"


def test_a_changed_verdict_counts_from_the_import_and_the_latest_review_wins():
    stored = stored_from(row())
    merged = merge(stored, row(verdict="incorrect"), (None, None), NOW)
    assert merged.review == ("incorrect", NOW)
    assert merged.values["verdict"] == "incorrect" and merged.values["reviewed_at"] == NOW
    # A person reviewed it later than the file's own time: the file's review is kept, the verdict is not.
    later = dict(stored, verdict="correct", reviewed_at=NOW + timedelta(days=1))
    merged = merge(later, row(verdict="incorrect", reviewed_at="2026-11-22T00:00:00Z"), (None, None), NOW)
    assert merged.review == ("incorrect", datetime(2026, 11, 22, tzinfo=timezone.utc))
    assert merged.values is None


def test_a_repeated_source_verdict_never_overrides_a_person():
    stored = dict(stored_from(row()), verdict="correct", reviewed_at=NOW)
    # The file said "incorrect" before (its last imported review) and says it again: nothing new.
    assert merge(stored, row(verdict="incorrect"), ("incorrect", DONE), NOW) is None


def test_an_open_outcome_closing_with_a_verdict_counts_from_its_completion():
    stored = stored_from(row(status="open", completed_at=""))
    merged = merge(stored, row(verdict="correct"), (None, None), NOW)
    assert merged.review == ("correct", DONE)


def test_items_of_the_api_future_times_and_repeats():
    base = {"outcome_id": "A", "job": "support", "started_at": "2026-11-24T11:00:00Z",
            "completed_at": "2026-11-24T12:04:59Z", "status": "completed"}
    results = check_items(
        [base, dict(base), dict(base, outcome_id="B", completed_at="2026-11-24T12:05:01Z"), "x",
         {"Outcome_ID": "C", "JOB": "support", "started_at": "2026-11-24T11:00:00Z", "status": "open"}],
        JOBS, NOW,
    )
    assert isinstance(results[0], OutcomeRecord)
    assert "already appears on item 0" in results[1][0].reason
    assert results[2][0].column == "completed_at" and "future" in results[2][0].reason
    assert results[3][0].reason == "each outcome must be a JSON object"
    assert isinstance(results[4], OutcomeRecord) and results[4].outcome_id == "C"  # names as an import reads them
