import io
import itertools
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from app.core.config import REPO_ROOT
from app.domain.errors import OverseerError
from app.domain.plans import SEED_PLANS
from app.domain.steps import STEPS
from app.models import Account, Outcome, Review
from app.store import ingest as ingest_mod
from app.store.accounts import create_account
from app.store.ingest import ImportReport, ingest_file
from app.store.reviews import get_outcome, record_review, review_history

SAMPLES = Path(REPO_ROOT) / "data" / "samples"
HEADER = "outcome_id,job,started_at,completed_at,status,verdict,handoff_step"
JOB = "customer-support"
_slugs = itertools.count()


def new_account(session, slug=None) -> Account:
    account = create_account(session, slug or f"acct-{next(_slugs)}", "Acme", SEED_PLANS["freemium"], template=JOB)
    session.commit()
    return account


@pytest.fixture
def account(session):
    return new_account(session, "acme")


def csv_file(tmp_path, *rows, header=HEADER, name="in.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def snapshot(session, account):
    cols = [c.name for c in Outcome.__table__.columns]
    outcomes = session.exec(select(Outcome).where(Outcome.account_id == account.id).order_by(Outcome.outcome_id)).all()
    reviews = session.exec(
        select(Review.outcome_pk, Review.verdict, Review.reviewer, Review.reviewed_at)
        .join(Outcome, Outcome.id == Review.outcome_pk)
        .where(Outcome.account_id == account.id)
        .order_by(Review.id)
    ).all()
    return [tuple(getattr(o, c) for c in cols) for o in outcomes], [tuple(r) for r in reviews]


def content(session, account):
    """The stored outcomes without ids or write times, to compare two accounts."""
    skip = {"id", "account_id", "job_id", "updated_at", "reviewed_at"}
    cols = [c.name for c in Outcome.__table__.columns if c.name not in skip]
    outcomes = session.exec(select(Outcome).where(Outcome.account_id == account.id).order_by(Outcome.outcome_id)).all()
    return [tuple(getattr(o, c) for c in cols) for o in outcomes]


def count(session, account):
    return session.exec(select(func.count()).select_from(Outcome).where(Outcome.account_id == account.id)).one()


def test_sample_csv_imports(session, account):
    report = ingest_file(session, account, SAMPLES / "outcomes.csv")
    assert report.to_json() == {
        "inserted": 40, "updated": 0, "unchanged": 0, "rejected": [], "written": True, "dry_run": False
    }
    assert count(session, account) == 40
    statuses = dict(
        session.exec(select(Outcome.status, func.count()).where(Outcome.account_id == account.id).group_by(Outcome.status)).all()
    )
    assert set(statuses) == {"open", "completed", "escalated", "failed"}
    outcome = get_outcome(session, account, JOB, "TCK-10452")
    assert outcome.verdict == "correct"
    assert [r.reviewer for r in review_history(session, outcome)] == ["import"]
    # "+01:00" in the file is stored as UTC.
    assert get_outcome(session, account, JOB, "TCK-10459").started_at == datetime(2026, 11, 13, 14, 16, tzinfo=timezone.utc)


def test_import_commits(session, account, engine):
    ingest_file(session, account, SAMPLES / "outcomes.csv")
    with Session(engine) as other:
        assert other.exec(select(func.count()).select_from(Outcome)).one() == 40


def test_reimport_changes_nothing(session, account):
    ingest_file(session, account, SAMPLES / "outcomes.csv")
    before = snapshot(session, account)
    report = ingest_file(session, account, SAMPLES / "outcomes.csv")
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (0, 0, 40, [])
    session.expire_all()
    assert snapshot(session, account) == before


def test_csv_and_jsonl_give_identical_results(session):
    a, b = new_account(session), new_account(session)
    ra = ingest_file(session, a, SAMPLES / "outcomes.csv")
    rb = ingest_file(session, b, SAMPLES / "outcomes.jsonl")
    assert ra.to_json() == rb.to_json()
    assert content(session, a) == content(session, b)
    # And one format re-imported over the other is a no-op.
    assert ingest_file(session, a, SAMPLES / "outcomes.jsonl").unchanged == 40


def test_open_to_completed_update(session, account):
    ingest_file(session, account, SAMPLES / "outcomes.csv")
    open_ids = session.exec(select(Outcome.outcome_id).where(Outcome.status == "open")).all()
    report = ingest_file(session, account, SAMPLES / "outcomes_update.csv")
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (0, len(open_ids), 0, [])
    for oid in open_ids:
        outcome = get_outcome(session, account, JOB, oid)
        assert outcome.status == "completed" and outcome.completed_at is not None
    assert count(session, account) == 40


def test_closing_update_can_carry_a_verdict(session, account, tmp_path):
    ingest_file(session, account, csv_file(tmp_path, "T-1,customer-support,2026-11-05T09:00:00Z,,open,,"))
    report = ingest_file(session, account, csv_file(tmp_path, "T-1,customer-support,2026-11-05T09:00:00Z,2026-11-05T11:00:00+01:00,completed,correct,"))
    assert report.updated == 1
    outcome = get_outcome(session, account, JOB, "T-1")
    assert (outcome.status, outcome.verdict) == ("completed", "correct")
    assert outcome.completed_at == datetime(2026, 11, 5, 10, 0, tzinfo=timezone.utc)
    assert len(review_history(session, outcome)) == 1


def test_reopening_a_closed_outcome_is_rejected(session, account, tmp_path):
    ingest_file(session, account, csv_file(tmp_path, "T-1,customer-support,2026-11-05T09:00:00Z,2026-11-05T10:00:00Z,completed,correct,"))
    report = ingest_file(session, account, csv_file(tmp_path, "T-1,customer-support,2026-11-05T09:00:00Z,,open,,"))
    assert not report.written
    (err,) = report.rejected
    assert (err.line, err.column) == (2, "status") and "cannot reopen" in err.reason
    assert get_outcome(session, account, JOB, "T-1").status == "completed"


def test_one_bad_row_imports_nothing_and_names_the_row(session, account):
    report = ingest_file(session, account, SAMPLES / "bad_row.csv")
    assert not report.written
    assert [e.to_json() for e in report.rejected] == [
        {"line": 7, "column": "completed_at", "reason": "completed_at is before started_at"}
    ]
    assert count(session, account) == 0
    assert session.exec(select(func.count()).select_from(Review)).one() == 0


def test_valid_only_imports_the_rest(session, account):
    report = ingest_file(session, account, SAMPLES / "bad_row.csv", valid_only=True)
    assert report.written and report.inserted == 9 and len(report.rejected) == 1
    assert count(session, account) == 9


def test_dry_run_writes_nothing(session, account, engine):
    report = ingest_file(session, account, SAMPLES / "outcomes.csv", dry_run=True)
    assert report.to_json() == {
        "inserted": 40, "updated": 0, "unchanged": 0, "rejected": [], "written": False, "dry_run": True
    }
    assert count(session, account) == 0
    assert session.exec(select(func.count()).select_from(Review)).one() == 0


def test_failed_import_keeps_the_callers_pending_work(session):
    account = create_account(session, "pending", "Pending", SEED_PLANS["freemium"], template=JOB)
    report = ingest_file(session, account, SAMPLES / "bad_row.csv")
    assert not report.written
    assert session.exec(select(Account).where(Account.slug == "pending")).first() is not None


def test_missing_header_column_rejects_the_file_once(session, account, tmp_path):
    path = csv_file(tmp_path, "T-1,customer-support,2026-11-05T09:00:00Z,,open,", header="outcome_id,job,started_at,completed_at,status,verdict")
    report = ingest_file(session, account, path, valid_only=True)
    assert [e.to_json() for e in report.rejected] == [
        {"line": 1, "column": "handoff_step", "reason": "required column 'handoff_step' is missing from the header"}
    ]
    assert not report.written and report.inserted == 0 and count(session, account) == 0


def test_empty_csv_is_refused(session, account):
    report = ingest_file(session, account, io.BytesIO(b""), fmt="csv")
    assert report.rejected[0].line == 1 and not report.written


def test_same_outcome_twice_rejects_the_second_naming_the_first(session, account, tmp_path):
    row = "T-1,customer-support,2026-11-05T09:00:00Z,,open,,"
    path = csv_file(tmp_path, row, "T-2,customer-support,2026-11-05T09:00:00Z,,open,,", row)
    report = ingest_file(session, account, path, valid_only=True)
    (err,) = report.rejected
    assert (err.line, err.column) == (4, "outcome_id") and "already appears on line 2" in err.reason
    assert report.inserted == 2 and count(session, account) == 2


def test_every_bad_row_is_reported_in_line_order(session, account, tmp_path):
    path = csv_file(
        tmp_path,
        "T-1,customer-support,2026-11-05T09:00:00Z,,open,,",
        ",customer-support,2026-11-05T09:00:00Z,,open,,",
        "T-3,billing,2026-11-05T09:00:00Z,,open,,",
        "T-4,customer-support,2026-11-31T09:00:00Z,,open,,",
        "T-5,customer-support,2026-11-05T09:00:00Z,,open,correct,",
        "T-6,customer-support,2026-11-05T09:00:00Z,,open,,somewhere",
        "T-7,customer-support,2026-11-05T09:00:00Z,,closed,,",
        "T-8,customer-support,2026-11-05T09:00:00Z,2026-11-05T10:00:00Z,open,,",
        "T-9,customer-support,2026-11-05T09:00:00Z,,failed,,",
        "T-10,customer-support,2026-11-05T09:00:00Z,,open,,,extra",
        "X" * 201 + ",customer-support,2026-11-05T09:00:00Z,,open,,",
    )
    report = ingest_file(session, account, path)
    got = [(e.line, e.column) for e in report.rejected]
    assert got == [
        (3, "outcome_id"), (4, "job"), (5, "started_at"), (6, "verdict"), (7, "handoff_step"),
        (8, "status"), (9, "completed_at"), (10, "completed_at"), (11, None), (12, "outcome_id"),
    ]
    assert report.inserted == 0 and not report.written and count(session, account) == 0


def test_line_numbers_count_physical_lines(session, account, tmp_path):
    # A quoted field spanning lines must not shift the line numbers of later rows.
    path = csv_file(
        tmp_path,
        '"T-1",customer-support,2026-11-05T09:00:00Z,,open,,',
        "",
        '"T-2\nwrapped",customer-support,2026-11-05T09:00:00Z,,open,,',
        "T-3,customer-support,yesterday,,open,,",
    )
    report = ingest_file(session, account, path)
    assert [(e.line, e.column) for e in report.rejected] == [(4, "outcome_id"), (6, "started_at")]


def test_invalid_utf8_csv_is_refused(session, account, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "\nT-1,customer-support,2026-11-05T09:00:00Z,,open,,\nT-\xe9,customer-support,2026-11-05T09:00:00Z,,open,,\n").encode("latin-1"))
    report = ingest_file(session, account, path, valid_only=True)
    (err,) = report.rejected
    assert err.line == 3 and "not valid UTF-8" in err.reason and "refused" in err.reason
    assert not report.written and report.inserted == 0 and count(session, account) == 0


def test_utf8_bom_is_accepted(session, account):
    data = ("\ufeff" + HEADER + "\nT-1,customer-support,2026-11-05T09:00:00Z,,open,,\n").encode("utf-8")
    assert ingest_file(session, account, io.BytesIO(data), fmt="csv").inserted == 1


def test_jsonl_bad_lines(session, account):
    good = {"outcome_id": "T-1", "job": JOB, "started_at": "2026-11-05T09:00:00Z", "status": "open"}
    lines = [
        json.dumps(good).encode(),
        b"",
        b"[1, 2]",
        b"{not json",
        json.dumps({**good, "outcome_id": "T-\u00e9"}, ensure_ascii=False).encode("utf-8").replace(b"\xc3\xa9", b"\xe9"),
        json.dumps({"job": JOB, "status": "open"}).encode(),
        json.dumps({**good, "outcome_id": "T-2"}).encode(),
    ]
    upload = io.BytesIO(b"\n".join(lines) + b"\n")
    upload.name = "upload.jsonl"
    report = ingest_file(session, account, upload, valid_only=True)
    assert [(e.line, e.column) for e in report.rejected] == [
        (3, None), (4, None), (5, None), (6, "outcome_id"), (6, "started_at")
    ]
    assert "JSON object" in report.rejected[0].reason
    assert "UTF-8" in report.rejected[2].reason
    assert report.inserted == 2 and report.written


def test_absent_step_column_keeps_the_stored_value(session, account, tmp_path):
    header = HEADER + ",define,execute"
    ingest_file(session, account, csv_file(tmp_path, "T-1,customer-support,2026-11-05T09:00:00Z,2026-11-05T10:00:00Z,completed,,,ai,human", header=header))
    # Only `execute` in the update: `define` is kept; an empty value means "not performed".
    report = ingest_file(session, account, csv_file(tmp_path, "T-1,customer-support,2026-11-05T09:00:00Z,2026-11-05T10:00:00Z,completed,,,", header=HEADER + ",execute"))
    assert report.updated == 1
    outcome = get_outcome(session, account, JOB, "T-1")
    assert (outcome.step_define, outcome.step_execute) == ("ai", None)
    # No step column at all: nothing to change.
    report = ingest_file(session, account, csv_file(tmp_path, "T-1,customer-support,2026-11-05T09:00:00Z,2026-11-05T10:00:00Z,completed,,"))
    assert report.unchanged == 1


@pytest.mark.parametrize("name", ["ops\x00bot", "ops\x1bbot", "ops\nbot", "\ud800"])
def test_a_reviewer_name_the_databases_cannot_store_is_refused_before_anything_is_read(
    session, account, tmp_path, name
):
    row = "T-1,customer-support,2026-11-05T09:00:00Z,2026-11-05T10:00:00Z,completed,correct,"
    with pytest.raises(OverseerError, match="the reviewer contains"):
        ingest_file(session, account, csv_file(tmp_path, row), reviewer=name)
    assert session.exec(select(func.count()).select_from(Outcome)).one() == 0


def test_verdicts_in_files(session, account, tmp_path):
    row = "T-1,customer-support,2026-11-05T09:00:00Z,2026-11-05T10:00:00Z,completed,{},"
    ingest_file(session, account, csv_file(tmp_path, row.format("correct")), reviewer="ops-bot")
    outcome = get_outcome(session, account, JOB, "T-1")
    assert [(r.reviewer, r.verdict) for r in review_history(session, outcome)] == [("ops-bot", "correct")]
    # Empty or "unreviewed" never clears a stored review.
    for verdict in ("", "unreviewed"):
        assert ingest_file(session, account, csv_file(tmp_path, row.format(verdict))).unchanged == 1
    # A different verdict is a new review; the old one is kept.
    assert ingest_file(session, account, csv_file(tmp_path, row.format("incorrect"))).updated == 1
    session.expire_all()
    outcome = get_outcome(session, account, JOB, "T-1")
    assert outcome.verdict == "incorrect"
    assert [r.verdict for r in review_history(session, outcome)] == ["incorrect", "correct"]
    assert ingest_file(session, account, csv_file(tmp_path, row.format("incorrect"))).unchanged == 1


def test_manual_review_is_not_undone_by_a_file_without_verdict(session, account, tmp_path):
    path = csv_file(tmp_path, "T-1,customer-support,2026-11-05T09:00:00Z,2026-11-05T10:00:00Z,completed,,")
    ingest_file(session, account, path)
    outcome = get_outcome(session, account, JOB, "T-1")
    record_review(session, outcome, "incorrect", "ann")
    session.commit()
    assert ingest_file(session, account, path).unchanged == 1
    assert get_outcome(session, account, JOB, "T-1").verdict == "incorrect"


def test_batches_keep_counts_exact(session, account, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest_mod, "BATCH_SIZE", 3)
    rows = [f"T-{i},customer-support,2026-11-05T09:00:00Z,2026-11-05T10:00:00Z,completed,correct," for i in range(10)]
    rows.insert(7, rows[1])  # a repeat in a later batch
    report = ingest_file(session, account, csv_file(tmp_path, *rows), valid_only=True)
    assert (report.inserted, len(report.rejected), report.rejected[0].line) == (10, 1, 9)
    assert count(session, account) == 10
    assert session.exec(select(func.count()).select_from(Review)).one() == 10
    report = ingest_file(session, account, csv_file(tmp_path, *rows[:7], *rows[8:]))
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 10)


def test_ids_with_quotes_and_percent_signs_round_trip(session, account, tmp_path):
    ids = ["a'b", "100%", "%(x)s", "back\\slash", 'say ""hi""', "é€"]
    rows = [f'"{oid}",customer-support,2026-11-05T09:00:00Z,,open,,' for oid in ids]
    assert ingest_file(session, account, csv_file(tmp_path, *rows)).inserted == 6
    assert ingest_file(session, account, csv_file(tmp_path, *rows)).unchanged == 6
    assert get_outcome(session, account, JOB, 'say "hi"').status == "open"


def test_progress_is_reported(session, account):
    calls = []
    ingest_file(session, account, SAMPLES / "outcomes.csv", progress=lambda done, total: calls.append((done, total)))
    size = (SAMPLES / "outcomes.csv").stat().st_size
    assert calls and calls[-1] == (size, size)


def test_progress_is_reported_on_the_callers_thread(session, account, tmp_path, monkeypatch):
    # The file is read on a worker thread; a Streamlit progress bar may only be touched from the page's.
    import threading

    monkeypatch.setattr(ingest_mod, "BATCH_SIZE", 2)
    rows = [f"T-{i},customer-support,2026-11-05T09:00:00Z,,open,," for i in range(5)]
    threads = []
    ingest_file(session, account, csv_file(tmp_path, *rows), progress=lambda *_: threads.append(threading.get_ident()))
    assert len(threads) == 4 and set(threads) == {threading.get_ident()}


def test_a_read_error_half_way_writes_nothing_and_stops_the_reader(session, account, monkeypatch):
    import threading

    monkeypatch.setattr(ingest_mod, "BATCH_SIZE", 2)

    class Failing(io.BytesIO):
        def __iter__(self):
            yield (HEADER + "\n").encode()
            for i in range(5):
                yield f"T-{i},customer-support,2026-11-05T09:00:00Z,,open,,\n".encode()
            raise OSError("the upload was cut off")

    upload = Failing(b"")
    upload.name = "cut.csv"
    with pytest.raises(OSError, match="cut off"):
        ingest_file(session, account, upload)
    assert count(session, account) == 0
    assert not [t for t in threading.enumerate() if t.name == "overseer-import-reader"]


def test_new_rows_are_stored_as_the_orm_stores_them(session, account, tmp_path):
    # The import binds times itself, bypassing the column type; the stored text must not differ.
    from sqlalchemy import text

    path = csv_file(tmp_path, "T-1,customer-support,2026-11-05T09:00:00.25+02:00,2026-11-05T10:00:00Z,completed,correct,")
    ingest_file(session, account, path)
    imported = session.exec(select(Outcome).where(Outcome.outcome_id == "T-1")).one()
    copy = Outcome(**{**imported.model_dump(exclude={"id"}), "outcome_id": "T-2"})
    session.add(copy)
    session.commit()
    cols = "started_at, completed_at, reviewed_at, updated_at, verdict, status"
    stored = session.connection().execute(
        text(f"SELECT outcome_id, {cols} FROM outcome WHERE outcome_id IN ('T-1', 'T-2') ORDER BY outcome_id")
    ).all()
    assert tuple(stored[0])[1:] == tuple(stored[1])[1:]


def test_formats(session, account):
    with pytest.raises(OverseerError, match="unknown import format"):
        ingest_file(session, account, SAMPLES / "outcomes.csv", fmt="xlsx")
    with pytest.raises(OverseerError, match="cannot tell the format"):
        ingest_file(session, account, io.BytesIO(b""))
    with pytest.raises(OverseerError, match="cannot read"):
        ingest_file(session, account, SAMPLES / "missing.csv")
    upload = io.BytesIO((SAMPLES / "outcomes.jsonl").read_bytes())
    upload.name = "export.NDJSON"
    assert ingest_file(session, account, upload).inserted == 40


def test_report_json_shape():
    assert ImportReport().to_json() == {
        "inserted": 0, "updated": 0, "unchanged": 0, "rejected": [], "written": False, "dry_run": False
    }


# --- property: any valid file imported twice changes nothing the second time -------------------

_ids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/ é'%\\\"()€", min_size=1, max_size=30).map(str.strip).filter(bool)
_times = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.sampled_from(
        [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    )
)


@st.composite
def _rows(draw):
    status = draw(st.sampled_from(["open", "completed", "escalated", "failed"]))
    started = draw(_times)
    completed = None if status == "open" else started + draw(st.timedeltas(timedelta(0), timedelta(days=3)))
    verdict = "" if status == "open" else draw(st.sampled_from(["", "unreviewed", "correct", "incorrect"]))
    steps = {s: draw(st.sampled_from(["", "ai", "human"])) for s in STEPS}
    return {
        "started_at": started.isoformat(),
        "completed_at": completed.isoformat() if completed else "",
        "status": status,
        "verdict": verdict,
        "handoff_step": draw(st.sampled_from(["", *STEPS])),
        **steps,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.lists(st.tuples(_ids, _rows()), max_size=30, unique_by=lambda t: t[0]), as_jsonl=st.booleans())
def test_reimport_is_idempotent(session, data, as_jsonl):
    account = new_account(session)
    records = [{"outcome_id": oid, "job": JOB, **row} for oid, row in data]
    if as_jsonl:
        body = "".join(json.dumps({k: (v or None) for k, v in r.items()}) + "\n" for r in records)
        source, fmt = io.BytesIO(body.encode()), "jsonl"
    else:
        import csv

        buf = io.StringIO()
        writer = csv.DictWriter(buf, ["outcome_id", "job", "started_at", "completed_at", "status", "verdict", "handoff_step", *STEPS])
        writer.writeheader()
        writer.writerows(records)
        source, fmt = io.BytesIO(buf.getvalue().encode()), "csv"
    first = ingest_file(session, account, source, fmt=fmt)
    assert first.rejected == [] and first.inserted == len(records)
    before = snapshot(session, account)
    source.seek(0)
    second = ingest_file(session, account, source, fmt=fmt)
    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (0, 0, len(records), [])
    session.expire_all()
    assert snapshot(session, account) == before


def test_reimported_verdict_does_not_undo_a_later_review_in_the_app(session, account, tmp_path):
    row = "TCK-1,customer-support,2026-11-02T09:00:00Z,2026-11-02T09:30:00Z,completed,correct,"
    path = csv_file(tmp_path, row)
    assert ingest_file(session, account, path).inserted == 1
    outcome = get_outcome(session, account, "customer-support", "TCK-1")
    record_review(session, outcome, "incorrect", "dana@example.com", "wrong refund amount")
    session.commit()

    again = ingest_file(session, account, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    session.refresh(outcome)
    assert outcome.verdict == "incorrect"

    # The source itself changes its verdict: that is news, and the latest verdict wins.
    changed = csv_file(tmp_path, row.replace(",correct,", ",incorrect,"), name="b.csv")
    ingest_file(session, account, changed)
    changed_back = csv_file(tmp_path, row, name="c.csv")
    assert ingest_file(session, account, changed_back).updated == 1
    session.refresh(outcome)
    assert outcome.verdict == "correct"
    assert [r.source for r in review_history(session, outcome)] == ["import", "import", "app", "import"]


def test_dry_run_of_a_bad_file_counts_what_the_valid_rows_would_do(session, account):
    report = ingest_file(session, account, SAMPLES / "bad_row.csv", dry_run=True)
    assert (report.inserted, len(report.rejected), report.written) == (9, 1, False)
    assert count(session, account) == 0


@pytest.mark.parametrize("sql_name", ["_STORED_SQL", "_STORED_LOCKED_SQL", "_JUDGED_SQL"])
def test_postgresql_reads_a_batch_by_one_index_probe_per_id_whatever_the_statistics(session, account, sql_name):
    """Statistics taken on an empty table, then 30,000 rows added by the same transaction (as a
    first big import does): each read of a batch's outcomes still probes the unique
    (job_id, outcome_id) index once per id, never scanning the job's rows."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    from app.store.accounts import list_jobs

    conn = session.connection()
    conn.exec_driver_sql("ANALYZE outcome")
    (job,) = list_jobs(session, account)
    now = datetime(2026, 11, 3, tzinfo=timezone.utc)
    conn.exec_driver_sql(
        "INSERT INTO outcome (account_id, job_id, outcome_id, started_at, status, verdict, updated_at) "
        "SELECT %(account)s, %(job)s, 'T-' || n, %(now)s, 'open', 'unreviewed', %(now)s FROM generate_series(1, 30000) AS n",
        {"account": account.id, "job": job.id, "now": now},
    )
    ids = ingest_mod._ID_SEPARATOR.join(f"T-{n}" for n in range(1, 30001, 6))
    sql = getattr(ingest_mod, sql_name)
    plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, {"job_id": job.id, "ids": ids}))
    assert "Index Cond: ((job_id = " in plan and "outcome_id)::text = wanted.outcome_id))" in plan, plan[:1500]
    assert "Seq Scan" not in plan and "Bitmap" not in plan and "Filter" not in plan, plan[:1500]
    # And the probe finds exactly the ids asked for.
    rows = conn.exec_driver_sql(sql, {"job_id": job.id, "ids": ids}).all()
    assert len(rows) == 5000
    session.rollback()
