"""Import outcomes from CSV or JSON Lines (SPEC "Data in").

The file is streamed line by line and written in batches, inside one
savepoint: either every valid row is written and committed, or nothing is
(any rejected row without ``valid_only``, a dry run, a refused file).
Outcomes are upserted by ``(account, job, outcome_id)``, so importing a file
twice changes nothing; an import never reopens a closed outcome, never
clears a stored review and never forgets a step it was not told about.

The daily rollups (:mod:`app.store.rollups`) follow every batch inside the
same savepoint: each flush of a batch subtracts the stored rows'
contributions and adds the new ones in a few set-based statements, so a
refused or failed import leaves them exactly as it found them.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.domain.errors import OverseerError
from app.domain.ingest_rows import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    OutcomeRecord,
    RowError,
    check_header,
    check_jsonl_keys,
    normalize_column,
    parse_row,
)
from app.domain.steps import CLOSED_STATUSES, STEPS, step_column
from app.models import Account, Outcome, utcnow
from app.store.accounts import list_jobs
from app.store.reviews import last_imported_verdicts, record_review

BATCH_SIZE = 1000
FORMATS: dict[str, str] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS) | frozenset(OPTIONAL_COLUMNS)
_BOM = b"\xef\xbb\xbf"

Row = tuple[int, dict | None, list[RowError]]


@dataclass
class ImportReport:
    """What an import did, or would do.

    The counts classify the valid rows against what was stored before the
    import (``updated`` includes rows whose only change is a new verdict). A
    dry run counts what the import would do; a file refused whole (a rejected
    row without ``valid_only``) counts zero, since nothing was written.
    ``written`` says whether rows were stored. Rejected rows are sorted by line.
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False

    def to_json(self) -> dict:
        """The report as a JSON-ready dict."""
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [e.to_json() for e in self.rejected],
            "written": self.written,
            "dry_run": self.dry_run,
        }


class _Refused(Exception):
    """The whole file is unusable; carries the errors to report."""

    def __init__(self, errors: list[RowError]):
        super().__init__(errors[0].reason)
        self.errors = errors


class _Counter:
    def __init__(self, total: int):
        self.read = 0
        self.total = total


def _format_of(fmt: str | None, name: str) -> str:
    if fmt is not None:
        value = fmt.lower().lstrip(".")
        value = "jsonl" if value == "ndjson" else value
        if value not in ("csv", "jsonl"):
            raise OverseerError(f"unknown import format {fmt!r}; use csv or jsonl")
        return value
    suffix = Path(name).suffix.lower() if name else ""
    if suffix not in FORMATS:
        shown = f"{name!r}" if name else "the upload"
        raise OverseerError(f"cannot tell the format of {shown}: name it .csv, .jsonl or .ndjson, or say the format")
    return FORMATS[suffix]


def _open(source: str | Path | BinaryIO, stack: ExitStack) -> tuple[BinaryIO, str, int]:
    """The stream to read, its name and its size in bytes (0 when unknown)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            stream = stack.enter_context(path.open("rb"))
        except OSError as exc:
            raise OverseerError(f"cannot read {path}: {exc.strerror or exc}") from None
        return stream, path.name, path.stat().st_size
    name = str(getattr(source, "name", "") or "")
    try:
        start = source.tell()
        total = source.seek(0, 2) - start
        source.seek(start)
    except (AttributeError, OSError, ValueError):
        total = 0
    return source, name, max(total, 0)


def _physical_lines(stream, counter: _Counter) -> Iterator[bytes | str]:
    for raw in stream:
        counter.read += len(raw)
        yield raw


def _decode(raw: bytes | str, line: int) -> str:
    """One line as text; raises UnicodeDecodeError with a user message in ``reason``."""
    if isinstance(raw, str):  # a text stream was passed: already decoded
        return raw.lstrip("\ufeff") if line == 1 else raw
    if line == 1 and raw.startswith(_BOM):  # Excel writes a BOM
        raw = raw[len(_BOM) :]
    return raw.decode("utf-8")


def _utf8_reason(exc: UnicodeDecodeError) -> str:
    return f"not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at position {exc.start + 1})"


def _csv_rows(lines: Iterator[bytes | str]) -> Iterator[Row]:
    def text_lines() -> Iterator[str]:
        for number, raw in enumerate(lines, start=1):
            try:
                yield _decode(raw, number)
            except UnicodeDecodeError as exc:
                raise _Refused(
                    [
                        RowError(
                            number,
                            None,
                            f"line {number} is {_utf8_reason(exc)}; the file was refused: save it as UTF-8 and import it again",
                        )
                    ]
                ) from None

    reader = csv.reader(text_lines())
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise _Refused([RowError(1, None, f"the header is not valid CSV: {exc}")]) from None
    if not header or not any(h.strip() for h in header):
        raise _Refused([RowError(1, None, f"the file has no header; expected the columns {', '.join(REQUIRED_COLUMNS)}")])
    errors = check_header(header)
    if errors:
        raise _Refused(errors)
    names = [normalize_column(h) for h in header]
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, None, [RowError(line, None, f"the row is not valid CSV: {exc}")]
            continue
        if not any(f.strip() for f in fields):  # blank line, or only separators
            continue
        # Trailing empty fields (a spreadsheet export artefact) are tolerated; missing or extra data is not.
        if len(fields) < len(names) or any(f.strip() for f in fields[len(names) :]):
            reason = f"the row has {len(fields)} fields but the header has {len(names)}"
            yield line, None, [RowError(line, None, reason)]
            continue
        values = {name: value for name, value in zip(names, fields) if name in _KNOWN_COLUMNS}
        yield line, values, []


def _jsonl_rows(lines: Iterator[bytes | str]) -> Iterator[Row]:
    for line, raw in enumerate(lines, start=1):
        try:
            text = _decode(raw, line).strip()
        except UnicodeDecodeError as exc:
            yield line, None, [RowError(line, None, f"the line is {_utf8_reason(exc)}")]
            continue
        if not text:
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield line, None, [RowError(line, None, f"the line is not valid JSON: {exc.msg} at character {exc.colno}")]
            continue
        if not isinstance(record, dict):
            kind = {list: "an array", str: "a string", type(None): "null", bool: "a boolean"}.get(type(record), "a number")
            yield line, None, [RowError(line, None, f"each line must be a JSON object, got {kind}")]
            continue
        values = {normalize_column(str(k)): v for k, v in record.items()}
        values = {k: v for k, v in values.items() if k in _KNOWN_COLUMNS}
        yield line, values, check_jsonl_keys(values, line)


def _changes(stored: Outcome, rec: OutcomeRecord) -> dict:
    wanted: dict = {"started_at": rec.started_at, "completed_at": rec.completed_at, "status": rec.status}
    if rec.handoff_given:
        wanted["handoff_step"] = rec.handoff_step
    for step, performer in rec.steps.items():
        wanted[step_column(step)] = performer
    return {col: value for col, value in wanted.items() if getattr(stored, col) != value}


def _new_outcome(account: Account, job_id: int, rec: OutcomeRecord, now: datetime) -> Outcome:
    return Outcome(
        account_id=account.id,
        job_id=job_id,
        outcome_id=rec.outcome_id,
        started_at=rec.started_at,
        completed_at=rec.completed_at,
        status=rec.status,
        verdict="unreviewed",
        handoff_step=rec.handoff_step,
        updated_at=now,
        **{step_column(s): rec.steps.get(s) for s in STEPS},
    )


def _among(session: Session, outcome_ids: list[str]):
    """``outcome_id IN (...)`` that keeps using the (job_id, outcome_id) index.

    psycopg prepares a statement once its text has run five times, and
    PostgreSQL then reuses the plan made at that moment: planned while the
    table was still small (a first big import), it filters every row of the
    job against the whole list, and a re-import took minutes. Rendering the
    ids as literals makes every batch's text unique, so each is planned with
    its values. SQLite plans per statement anyway and keeps bound parameters.
    """
    if session.get_bind().dialect.name == "postgresql":
        return Outcome.outcome_id.in_(bindparam("outcome_ids", outcome_ids, expanding=True, literal_execute=True))
    return Outcome.outcome_id.in_(outcome_ids)


def _apply_batch(
    session: Session,
    account: Account,
    job_ids: dict[str, int],
    batch: list[OutcomeRecord],
    report: ImportReport,
    *,
    write: bool,
    reviewer: str,
    now: datetime,
) -> None:
    """Classify a batch against the stored outcomes and, if ``write``, store it."""
    by_job: dict[int, list[OutcomeRecord]] = defaultdict(list)
    for rec in batch:
        by_job[job_ids[rec.job]].append(rec)
    for job_id, recs in by_job.items():
        stmt = select(Outcome).where(Outcome.job_id == job_id, _among(session, [r.outcome_id for r in recs]))
        if write:
            # Lock the rows (PostgreSQL) so a concurrent review or import cannot slip between read and write.
            stmt = stmt.with_for_update()
        stored = {o.outcome_id: o for o in session.exec(stmt)}
        # A file repeats its source's verdict on every re-import; only a verdict the source changed
        # may override a person's later review in Overseer.
        imported = last_imported_verdicts(
            session,
            [o.id for o in stored.values() if o.reviewed_at is not None],
        )
        new: list[Outcome] = []
        reviews: list[tuple[Outcome, str]] = []
        for rec in recs:
            current = stored.get(rec.outcome_id)
            if current is None:
                report.inserted += 1
                if write:
                    obj = _new_outcome(account, job_id, rec, now)
                    new.append(obj)
                    if rec.verdict is not None:
                        reviews.append((obj, rec.verdict))
                continue
            if current.status in CLOSED_STATUSES and rec.status not in CLOSED_STATUSES:
                report.rejected.append(
                    RowError(
                        rec.line,
                        "status",
                        f"outcome {rec.outcome_id!r} is already {current.status}; an import cannot reopen a closed outcome",
                    )
                )
                continue
            changes = _changes(current, rec)
            last = imported.get(current.id)
            review = (
                rec.verdict is not None
                and rec.verdict != last
                # Recorded when it changes the verdict, or when the source changed its mind
                # (remembered even if a person already said the same).
                and (rec.verdict != current.verdict or last is not None)
            )
            if not changes and not review:
                report.unchanged += 1
                continue
            report.updated += 1
            if write:
                for col, value in changes.items():
                    setattr(current, col, value)
                if changes:
                    current.updated_at = now
                    session.add(current)
                if review:
                    reviews.append((current, rec.verdict))
        if write:
            session.add_all(new)
            session.flush()
            for obj, verdict in reviews:
                record_review(session, obj, verdict, reviewer, at=now, source="import", flush=False)
            session.flush()


def ingest_file(
    session: Session,
    account: Account,
    source: str | Path | BinaryIO,
    *,
    fmt: str | None = None,
    valid_only: bool = False,
    dry_run: bool = False,
    reviewer: str = "import",
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the outcomes in a CSV or JSON Lines file into ``account``.

    Parameters
    ----------
    session : Session
        Committed by this function when it writes; otherwise only the import's
        own savepoint is rolled back, and the caller's pending work is kept.
    account : Account
    source : str, Path or binary file
        A path, or an open binary stream (an upload); read once, line by line.
    fmt : {"csv", "jsonl"}, optional
        Default: from the file name (``.csv``, ``.jsonl``, ``.ndjson``).
    valid_only : bool
        Write the valid rows even when others are rejected.
    dry_run : bool
        Validate and count, write nothing.
    reviewer : str
        Reviewer of the reviews recorded for verdicts in the file.
    progress : callable, optional
        Called as ``progress(bytes_read, total_bytes)`` after each batch
        (``total_bytes`` is 0 when the size is unknown).

    Returns
    -------
    ImportReport
        Counts, every rejected row, and whether anything was written. A file
        refused for a rejected row, or that cannot be read as a whole (missing header column, invalid UTF-8
        in a CSV) comes back with its errors and zero counts.

    Raises
    ------
    OverseerError
        Unknown format, unreadable path, or a concurrent import of the same
        outcomes (nothing was written; try again).
    """
    if not (reviewer or "").strip():
        raise OverseerError("an import needs a reviewer name for the verdicts it records")
    report = ImportReport(dry_run=dry_run)
    job_ids = {job.slug: job.id for job in list_jobs(session, account)}
    now = utcnow()
    with ExitStack() as stack:
        stream, name, total = _open(source, stack)
        kind = _format_of(fmt, name)
        counter = _Counter(total)
        lines = _physical_lines(stream, counter)
        rows = _csv_rows(lines) if kind == "csv" else _jsonl_rows(lines)
        savepoint = session.begin_nested()
        try:
            # Keys seen so far, to name the first line of a repeated outcome (keys only, not rows).
            seen: dict[tuple[str, str], int] = {}
            batch: list[OutcomeRecord] = []

            def flush_batch() -> None:
                # Once the import is doomed (a rejected row, not valid_only) writing more is wasted work.
                write = not dry_run and (valid_only or not report.rejected)
                _apply_batch(session, account, job_ids, batch, report, write=write, reviewer=reviewer, now=now)
                batch.clear()
                if progress is not None:
                    progress(counter.read, counter.total)

            for line, values, errors in rows:
                if values is None:
                    report.rejected.extend(errors)
                    continue
                parsed = parse_row(values, line, job_ids.keys())
                if errors:  # missing JSON keys: say so once, not again as "empty"
                    missing = {e.column for e in errors}
                    report.rejected.extend(errors)
                    if isinstance(parsed, list):
                        report.rejected.extend(e for e in parsed if e.column not in missing)
                    continue
                if isinstance(parsed, list):
                    report.rejected.extend(parsed)
                    continue
                first = seen.get(parsed.key)
                if first is not None:
                    report.rejected.append(
                        RowError(
                            line,
                            "outcome_id",
                            f"outcome {parsed.outcome_id!r} of job {parsed.job!r} already appears on line {first}",
                        )
                    )
                    continue
                seen[parsed.key] = line
                batch.append(parsed)
                if len(batch) >= BATCH_SIZE:
                    flush_batch()
            if batch:
                flush_batch()
        except _Refused as exc:
            savepoint.rollback()
            return ImportReport(rejected=exc.errors, dry_run=dry_run)
        except IntegrityError:
            savepoint.rollback()
            raise OverseerError(
                "another import wrote some of these outcomes at the same time; nothing was imported, try again"
            ) from None
        except BaseException:
            if savepoint.is_active:
                savepoint.rollback()
            raise
    report.rejected.sort(key=lambda e: e.line)
    if dry_run or (report.rejected and not valid_only):
        savepoint.rollback()
        if not dry_run:
            # Refused whole: nothing was inserted or updated, whatever the valid rows would have done.
            report = ImportReport(rejected=report.rejected, dry_run=False)
    else:
        savepoint.commit()
        session.commit()
        report.written = True
    if progress is not None:
        progress(counter.read, counter.total)
    return report
