"""Every hostile string through the import (``ingest_file`` and ``overseer ingest``), every malformed file too.

Valid strings are stored exactly as sent (an outcome id is only trimmed, as SPEC's rules say) and read back
identical; invalid ones are refused with the line, the column and a reason; a refused file writes nothing.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlmodel import Session, func, select

from app.cli import main
from app.models import Outcome, Review
from app.store.ingest import ingest_file
from tests.hostile.conftest import JOB
from tests.hostile.corpus import FILES, ITEMS, as_outcome_id

HEADER = ["outcome_id", "job", "started_at", "completed_at", "status", "verdict", "handoff_step"]
STARTED, COMPLETED = "2026-11-20T10:00:00Z", "2026-11-20T10:30:00Z"


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _row(outcome_id: str, job: str = JOB, verdict: str = "") -> list[str]:
    return [outcome_id, job, STARTED, COMPLETED, "completed", verdict, ""]


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")


def _record(outcome_id: str, job: str = JOB) -> dict:
    return {"outcome_id": outcome_id, "job": job, "started_at": STARTED, "completed_at": COMPLETED, "status": "completed"}


def _stored(engine) -> dict[str, Outcome]:
    with Session(engine) as s:
        return {o.outcome_id: o for o in s.exec(select(Outcome))}


def _ingest(engine, account, payload: bytes, fmt: str, **kw):
    with Session(engine, expire_on_commit=False) as s:
        return ingest_file(s, account, io.BytesIO(payload), fmt=fmt, **kw)


def _unique_valid() -> list:
    """The corpus items that are valid outcome ids, one per stored value (``"\\t=1+1"`` trims to ``"=1+1"``)."""
    seen, items = set(), []
    for item in ITEMS:
        stored, _ = as_outcome_id(item.text)
        if stored is not None and stored not in seen:
            seen.add(stored)
            items.append(item)
    return items


VALID = _unique_valid()
INVALID = [i for i in ITEMS if as_outcome_id(i.text)[0] is None]


def test_the_corpus_has_both_kinds():
    assert len(VALID) > 100 and len(INVALID) > 30
    assert {i.kind for i in VALID} >= {"html", "markdown", "streamlit", "script", "formula", "sql", "path", "format"}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_valid_hostile_ids_are_stored_exactly_and_read_back(engine, account, fmt):
    payload = _csv([_row(i.text) for i in VALID]) if fmt == "csv" else _jsonl([_record(i.text) for i in VALID])
    report = _ingest(engine, account, payload, fmt)
    assert report.rejected == [], report.rejected[:3]
    assert (report.inserted, report.written) == (len(VALID), True)
    stored = _stored(engine)
    assert sorted(stored) == sorted(as_outcome_id(i.text)[0] for i in VALID)
    # Byte for byte: nothing re-encoded, normalised (NFC/NFD stay distinct), truncated or escaped.
    for item in VALID:
        assert stored[as_outcome_id(item.text)[0]].outcome_id.encode("utf-8") == item.text.strip().encode("utf-8"), item
    # Importing the same file again changes nothing.
    again = _ingest(engine, account, payload, fmt)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, len(VALID), [])


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_invalid_hostile_ids_are_refused_by_line_and_column_and_nothing_is_written(engine, account, fmt):
    good = _row("GOOD-1") if fmt == "csv" else _record("GOOD-1")
    rows = [good] + ([_row(i.text) for i in INVALID] if fmt == "csv" else [_record(i.text) for i in INVALID])
    payload = _csv(rows) if fmt == "csv" else _jsonl(rows)
    report = _ingest(engine, account, payload, fmt)
    assert not report.written and report.inserted == 0
    assert _stored(engine) == {}
    first = 3 if fmt == "csv" else 2  # CSV: header on line 1, GOOD-1 on line 2
    by_line = {e.line: e for e in report.rejected}
    for offset, item in enumerate(INVALID):
        # A CSV field with a line break spans physical lines: find the row's error by its order instead.
        error = report.rejected[offset] if fmt == "csv" else by_line[first + offset]
        assert error.column == "outcome_id", (item, error)
        assert as_outcome_id(item.text)[1] in error.reason, (item, error)
    assert len(report.rejected) == len(INVALID)
    # Import the valid rows only: the good row is written, every refused one is still reported.
    partial = _ingest(engine, account, payload, fmt, valid_only=True)
    assert (partial.inserted, len(partial.rejected), partial.written) == (1, len(INVALID), True)
    assert list(_stored(engine)) == ["GOOD-1"]


def test_hostile_job_names_are_refused_as_unknown_jobs(engine, account):
    items = [i for i in ITEMS if i.text.strip()]
    payload = _csv([_row(f"J-{n}", job=i.text) for n, i in enumerate(items)])
    report = _ingest(engine, account, payload, "csv")
    assert not report.written and _stored(engine) == {}
    assert len(report.rejected) == len(items)
    for error in report.rejected:
        assert error.column == "job"
        assert "unknown job" in error.reason and JOB in error.reason


def test_verdicts_from_a_hostile_file_are_recorded_with_their_outcome(engine, account):
    payload = _csv([_row(i.text, verdict="incorrect") for i in VALID[:20]])
    report = _ingest(engine, account, payload, "csv")
    assert report.inserted == 20 and not report.rejected
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Review)).one() == 20


def test_the_command_line_imports_hostile_ids_and_refuses_a_bad_file(engine, account, tmp_path, capsys):
    good = tmp_path / "hostile.csv"
    picked = [i for i in VALID if i.kind in ("html", "markdown", "formula", "sql")][:12]
    good.write_bytes(_csv([_row(i.text) for i in picked]))
    assert main(["ingest", str(good), "--account", "acme"]) == 0
    out, _ = capsys.readouterr()
    assert json.loads(out)["inserted"] == len(picked)
    assert sorted(_stored(engine)) == sorted(i.text.strip() for i in picked)

    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([_row("OK-1"), _row("ctl\x00nul"), _row("x" * 201)]))
    assert main(["ingest", str(bad), "--account", "acme"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["inserted"] == 0
    assert err.count("\n") == 1 and "line 3" in err and "U+0000" in err and "nothing was imported" in err
    assert "OK-1" not in _stored(engine)


# --- malformed files -----------------------------------------------------------------------------
# (file, format, whole file refused?, {line: (column, words in the reason)}, rows valid)
MALFORMED = [
    ("utf16-bom.csv", "csv", True, {1: (None, "not valid UTF-8")}, 0),
    ("latin1.csv", "csv", True, {3: (None, "not valid UTF-8")}, 0),
    ("missing-columns.csv", "csv", True, {1: ("completed_at", "missing from the header")}, 0),
    ("empty.csv", "csv", True, {1: (None, "no header")}, 0),
    ("binary-junk.csv", "csv", True, {1: ("outcome_id", "missing from the header")}, 0),
    ("duplicate-ids.csv", "csv", False, {4: ("outcome_id", "already appears on line 2")}, 3),
    ("duplicate-ids.jsonl", "jsonl", False, {3: ("outcome_id", "already appears on line 1")}, 2),
    ("impossible-dates.csv", "csv", False, {3: ("started_at", "not a real date"), 4: ("completed_at", "not a real date")}, 1),
    ("completed-before-started.csv", "csv", False, {3: ("completed_at", "before started_at")}, 1),
    ("not-objects.jsonl", "jsonl", False, {2: (None, "JSON object"), 3: (None, "JSON object"), 4: (None, "JSON object"),
                                           5: (None, "JSON object"), 6: (None, "JSON object"), 7: (None, "not valid JSON")}, 2),
    ("ragged.csv", "csv", False, {3: (None, "2 fields but the header has 7"), 4: (None, "9 fields")}, 1),
    ("unterminated-quote.csv", "csv", False, {3: (None, "fields but the header has 7")}, 1),
]


@pytest.mark.parametrize(("name", "fmt", "whole", "errors", "valid"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_file_is_refused_with_a_clear_message(engine, account, name, fmt, whole, errors, valid):
    payload = (FILES / name).read_bytes()
    report = _ingest(engine, account, payload, fmt)
    assert not report.written and _stored(engine) == {}
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 0)
    for line, (column, words) in errors.items():
        found = [e for e in report.rejected if e.line == line]
        assert found, (line, report.rejected)
        assert any(e.column == column and words in e.reason for e in found), found
    # Row by row: the valid rows can still be imported on request; a file refused whole imports nothing.
    partial = _ingest(engine, account, payload, fmt, valid_only=True)
    assert partial.inserted == valid
    assert len(_stored(engine)) == valid
    if whole:
        assert not partial.written


@pytest.mark.parametrize("name", ["utf8-bom.csv", "crlf.csv"])
def test_bom_and_crlf_files_import_cleanly(engine, account, name):
    report = _ingest(engine, account, (FILES / name).read_bytes(), "csv")
    assert (report.inserted, report.rejected) == (2, [])
    assert all(not k.startswith("\ufeff") and not k.endswith("\r") for k in _stored(engine))


def test_header_only_file_imports_nothing_and_says_nothing_is_wrong(engine, account):
    report = _ingest(engine, account, (FILES / "header-only.csv").read_bytes(), "csv")
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (0, 0, 0, [])
    assert _stored(engine) == {}


def test_a_huge_single_field_is_refused_on_its_line(engine, account):
    big = "9" * 1_000_000
    csv_payload = _csv([_row("H-1"), _row("H-" + big), _row("H-3")])
    report = _ingest(engine, account, csv_payload, "csv")
    assert [e.line for e in report.rejected] == [3]
    assert report.rejected[0].column in (None, "outcome_id") and len(report.rejected[0].reason) < 500
    jsonl_payload = _jsonl([_record("H-1"), _record("H-" + big), _record("H-3")])
    report = _ingest(engine, account, jsonl_payload, "jsonl", valid_only=True)
    assert [(e.line, e.column) for e in report.rejected] == [(2, "outcome_id")]
    assert "characters" in report.rejected[0].reason and len(report.rejected[0].reason) < 500
    assert sorted(_stored(engine)) == ["H-1", "H-3"]
