"""Parse and validate one imported outcome row.

Pure functions: no database, no files. :func:`check_header` checks a CSV
header once; :func:`parse_row` turns one row (a mapping of column name to raw
value, from CSV or JSON Lines) into an :class:`OutcomeRecord`, or into the list
of :class:`RowError` that say what is wrong with it.

Rules (SPEC "Data in"): times are ISO 8601 and a time without an offset is
UTC; a closed outcome has a ``completed_at`` and an open one has none; only a
closed outcome carries a verdict; step values are ``ai``, ``human`` or empty.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import urlsplit

from app.domain.errors import OverseerError
from app.domain.steps import CLOSED_STATUSES, PERFORMERS, STATUSES, STEPS, VERDICTS
from app.domain.storable import check_storable

REQUIRED_COLUMNS: tuple[str, ...] = (
    "outcome_id",
    "job",
    "started_at",
    "completed_at",
    "status",
    "verdict",
    "handoff_step",
)
#: ``reviewed_at`` dates the row's verdict (SPEC "Data in"); without it the verdict counts from
#: ``completed_at`` for an outcome new to Overseer, and from the import for a changed one.
#: ``summary`` and ``url`` give a reviewer something to judge by (:func:`parse_summary`, :func:`parse_url`).
OPTIONAL_COLUMNS: tuple[str, ...] = (*STEPS, "reviewed_at", "summary", "url")
#: JSON Lines records may leave these keys out (absent means empty, or "keep the stored value" for steps).
#: Every column an import reads; any other column of a file is ignored.
KNOWN_COLUMNS: frozenset[str] = frozenset(REQUIRED_COLUMNS) | frozenset(OPTIONAL_COLUMNS)
#: JSON Lines records may leave these keys out (absent means empty, or "keep the stored value" for steps).
JSONL_REQUIRED_KEYS: tuple[str, ...] = ("outcome_id", "job", "started_at", "status")
MAX_OUTCOME_ID = 200
#: Years outside this range are typos (a two-digit year, a swapped field), not real outcomes.
MIN_YEAR, MAX_YEAR = 1970, 2100


@dataclass(frozen=True)
class RowError:
    """One problem found in an imported file.

    Attributes
    ----------
    line : int
        1-based physical line of the file where the row starts (the CSV header
        is line 1; the first JSON Lines record is line 1).
    column : str or None
        The column at fault, or None when the whole row or file is at fault.
    reason : str
        What is wrong, in words a user can act on.
    """

    line: int
    column: str | None
    reason: str

    def to_json(self) -> dict:
        """The error as a JSON-ready dict."""
        return {"line": self.line, "column": self.column, "reason": self.reason}


class OutcomeRecord(NamedTuple):
    """One valid imported row.

    A named tuple rather than a dataclass: an import builds one per row, and a
    tuple is built about five times faster than a frozen dataclass.

    Attributes
    ----------
    line : int
        Physical line where the row starts.
    outcome_id, job : str
        The key within the account (``job`` is the job's slug).
    started_at, completed_at : datetime
        Aware UTC times; ``completed_at`` is None for an open outcome.
    status : str
        One of :data:`app.domain.steps.STATUSES`.
    verdict : str or None
        ``correct`` or ``incorrect``; None when the row says nothing
        (empty or ``unreviewed``), which never clears a stored review.
    handoff_step : str or None
        The step where a human took over.
    handoff_given : bool
        False when the row has no ``handoff_step`` field at all (JSON Lines
        only), so an update keeps the stored value.
    steps : mapping of str to str or None
        Who performed each step, only for the steps the row mentions: a step
        the file does not mention keeps its stored value on update.
    reviewed_at : datetime or None
        When the verdict was given (aware UTC), if the row says; only with a verdict.
    summary, url : str or None
        What the AI did, and a link to the source record (:func:`parse_summary`,
        :func:`parse_url`); None when the row gives none, which keeps the stored one.
    """

    line: int
    outcome_id: str
    job: str
    started_at: datetime
    completed_at: datetime | None
    status: str
    verdict: str | None
    handoff_step: str | None
    handoff_given: bool = True
    steps: Mapping[str, str | None] = MappingProxyType({})
    reviewed_at: datetime | None = None
    summary: str | None = None
    url: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """``(job, outcome_id)``: what identifies the outcome within the account."""
        return (self.job, self.outcome_id)


def normalize_column(name: str) -> str:
    """Column name as matched against the expected ones (trimmed, lower case)."""
    return name.strip().lower()


def check_header(columns: Sequence[str]) -> list[RowError]:
    """Check a CSV header; every error is on line 1.

    Parameters
    ----------
    columns : sequence of str
        The header's column names, as read.

    Returns
    -------
    list of RowError
        Missing required columns and repeated columns; empty when the header is usable.
        Unknown columns are ignored, so exports with extra fields still load.
    """
    names = [normalize_column(c) for c in columns]
    errors = [
        RowError(1, col, f"required column {col!r} is missing from the header")
        for col in REQUIRED_COLUMNS
        if col not in names
    ]
    seen: set[str] = set()
    for name in names:
        if name and name in seen and (name in REQUIRED_COLUMNS or name in OPTIONAL_COLUMNS):
            errors.append(RowError(1, name, f"column {name!r} appears more than once in the header"))
        seen.add(name)
    return errors


# How much of a refused value a row error repeats: enough to find it in the file.
MAX_QUOTED = 60


def quoted(value: str) -> str:
    """``value`` as a row error quotes it: its repr, cut after :data:`MAX_QUOTED` characters.

    A refused 10,000-character value would otherwise fill the report, and the
    page showing it, with itself.

    Examples
    --------
    >>> quoted("tomorrow")
    "'tomorrow'"
    >>> quoted("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'… (100 characters)"
    """
    if len(value) <= MAX_QUOTED:
        return repr(value)
    return f"{value[:MAX_QUOTED]!r}… ({len(value):,} characters)"


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time into an aware UTC datetime.

    A time without an offset is UTC; a date alone means midnight UTC.

    Raises
    ------
    ValueError
        Not ISO 8601, an impossible date (such as 30 February), or a year
        outside 1970-2100. The message is meant for users.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        detail = str(exc)
        if "out of range" in detail or "must be in" in detail:
            raise ValueError(f"{quoted(text)} is not a real date or time ({detail})") from None
        raise ValueError(f"{quoted(text)} is not an ISO 8601 time such as 2026-11-03T14:05:00Z") from None
    try:
        moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    except OverflowError:  # year 1 or 9999 pushed past the calendar by its offset
        raise ValueError(f"{quoted(text)} is outside the years {MIN_YEAR}-{MAX_YEAR}") from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"{quoted(text)} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    return moment


def check_jsonl_keys(values: Mapping[str, object], line: int) -> list[RowError]:
    """Errors for a JSON Lines record that lacks a key every outcome needs."""
    return [RowError(line, key, f"the record has no {key!r} field") for key in JSONL_REQUIRED_KEYS if key not in values]


def _text(value: object, column: str, line: int, errors: list[RowError], strip: str | None = None) -> str:
    # JSON may carry numbers or null where CSV only has text; an integer id is
    # accepted as its digits so the same data gives the same rows in both formats.
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        errors.append(RowError(line, column, f"{column} must be text, got {type(value).__name__}"))
        return ""
    if isinstance(value, int) and value.bit_length() > 1000:
        # str() of an int beyond 4,300 digits raises; no id is that long anyway.
        errors.append(RowError(line, column, f"{column} is a number of more than 300 digits"))
        return ""
    return str(value).strip(strip)


_VOCABULARY = frozenset(("status", "verdict", "handoff_step", *STEPS))


def _choice(raw: str, allowed: Sequence[str], column: str, line: int, errors: list[RowError]) -> str | None:
    value = raw.lower()
    if value not in allowed:
        errors.append(RowError(line, column, f"{column} {quoted(raw)} is not one of {', '.join(allowed)}"))
        return None
    return value


def parse_row(
    values: Mapping[str, object], line: int, jobs: Collection[str]
) -> OutcomeRecord | list[RowError]:
    """Validate one row.

    Parameters
    ----------
    values : mapping of str to object
        Column name (normalized, see :func:`normalize_column`) to raw value:
        strings from CSV; strings, numbers or None from JSON. A step or
        ``handoff_step`` missing from the mapping is "not given" (the stored
        value is kept on update); a present but empty one means "none".
    line : int
        Physical line where the row starts, for the errors.
    jobs : collection of str
        Slugs of the account's jobs.

    Returns
    -------
    OutcomeRecord or list of RowError
        The record, or every problem found in the row (never an empty list).
    """
    record = _plainly_valid(values, line, jobs)
    if record is None:
        record = _check_row(values, line, jobs)
    if "summary" in values or "url" in values:
        return _with_judge_by(record, values, line)
    return record


# --- summary and url: something for a reviewer to judge by (SPEC "Data in") ----------------------

MAX_SUMMARY = 2000
MAX_URL = 2048
URL_SCHEMES: tuple[str, ...] = ("http", "https")


def parse_summary(value: object) -> str | None:
    """The ``summary`` column: plain text of at most 2,000 characters, or None when empty.

    Shown as text only, never as HTML or Markdown. Trimmed; line breaks and tabs
    are kept, other control characters and unpaired surrogates refused (no
    database stores them).

    Raises
    ------
    ValueError
        Not text, too long, or holding a character that cannot be stored; the message is for users.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"summary must be text, got {type(value).__name__}")
    text = value.strip()
    if len(text) > MAX_SUMMARY:
        raise ValueError(f"summary has {len(text):,} characters; at most {MAX_SUMMARY:,} are allowed")
    try:
        check_storable(text, "summary", lines=True)
    except OverseerError as exc:
        raise ValueError(str(exc)) from None
    return text or None


def parse_url(value: object) -> str | None:
    """The ``url`` column: an absolute ``http`` or ``https`` link to the source record, or None when empty.

    Anything else (``javascript:``, ``data:``, a relative path, a link with
    spaces or control characters) is refused, so the review card's link can
    only ever open a web page.

    Raises
    ------
    ValueError
        Not such a link; the message says why.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"url must be text, got {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    if len(text) > MAX_URL:
        raise ValueError(f"url has {len(text):,} characters; at most {MAX_URL:,} are allowed")
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cs") for ch in text):
        raise ValueError(f"url {quoted(text)} contains a space or a control character")
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ValueError(f"url {quoted(text)} is not a valid link") from None
    if parts.scheme.lower() not in URL_SCHEMES:
        shown = f"the scheme {parts.scheme.lower()!r}" if parts.scheme else "no scheme"
        raise ValueError(f"url {quoted(text)} has {shown}; only http and https links are accepted")
    if not parts.netloc or "\\" in text:
        raise ValueError(f"url {quoted(text)} names no host; write it like https://example.com/tickets/123")
    return text


def _with_judge_by(record: OutcomeRecord | list[RowError], values: Mapping[str, object], line: int):
    """``record`` with the row's summary and url, or every error of the row, theirs included."""
    errors: list[RowError] = []
    found: dict[str, str | None] = {}
    for column, parse in (("summary", parse_summary), ("url", parse_url)):
        try:
            found[column] = parse(values.get(column))
        except ValueError as exc:
            errors.append(RowError(line, column, str(exc)))
    if isinstance(record, list):
        return record + errors
    return errors or record._replace(**found)


_UTC = timezone.utc
# What a value of a fixed vocabulary (status, verdict, step, performer) is trimmed of: ASCII white
# space only. str.strip() also removes U+0085 and other Unicode spaces, so "\u0085execute" would pass
# as "execute"; such a value is refused as it is.
_WS = " \t\n\r\f\v"
# Exactly the code points of Unicode category Cc (tested against unicodedata).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Unpaired surrogates (category Cs) come only from JSON's "\\ud800" escapes; no database can store them.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Either of the two, in one pass over the id.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: What no stored outcome id holds (a control character or an unpaired surrogate): searches use it too.
UNSTORABLE = _UNSTORABLE
_STATUSES = frozenset(STATUSES)
_CLOSED = frozenset(CLOSED_STATUSES)
_VERDICTS = frozenset(VERDICTS)
_STEP_SET = frozenset(STEPS)
_PERFORMERS = frozenset(PERFORMERS)
_PERFORMER_OF: dict[str | None, str | None] = {None: None, "": None, "ai": "ai", "human": "human"}
_UNKNOWN = object()


def _plainly_valid(values: Mapping[str, object], line: int, jobs: Collection[str]) -> OutcomeRecord | None:
    """The record of a row that passes every rule, or None to let :func:`_check_row` find what is wrong.

    An import spends most of its time here, so this only accepts, as quickly as
    it can: any doubt (a wrong type, an unknown value, a rule broken) returns
    None, and the full check then words the errors. It must never accept a row
    the full check would refuse; ``tests/domain/test_ingest_rows.py`` compares the two.
    """
    get = values.get
    try:
        outcome_id = get("outcome_id").strip()
        job = get("job").strip()
        status = get("status").strip(_WS).lower()
        raw_started = get("started_at").strip()
        raw_completed = get("completed_at")
        raw_completed = raw_completed.strip() if raw_completed is not None else ""
        raw_verdict = get("verdict")
        verdict = raw_verdict.strip(_WS).lower() if raw_verdict is not None else ""
        raw_handoff = get("handoff_step")
        handoff = raw_handoff.strip(_WS).lower() if raw_handoff is not None else ""
        raw_reviewed = get("reviewed_at")
        raw_reviewed = raw_reviewed.strip(_WS) if raw_reviewed is not None else ""
    except AttributeError:  # a number, a list, a missing key: the full check says what
        return None
    if raw_reviewed and (not verdict or verdict == "unreviewed"):
        return None
    if (
        not outcome_id
        or len(outcome_id) > MAX_OUTCOME_ID
        or _UNSTORABLE.search(outcome_id)
        or not job
        or job not in jobs
        or status not in _STATUSES
        or (verdict and (verdict not in _VERDICTS or (status == "open" and verdict != "unreviewed")))
        or (handoff and handoff not in _STEP_SET)
        or (status == "open") == bool(raw_completed)
        or not raw_started
    ):
        return None
    try:
        started_at = datetime.fromisoformat(raw_started)
        # fromisoformat gives the UTC singleton for "Z" and "+00:00": nothing to convert then.
        tz = started_at.tzinfo
        if tz is not _UTC:
            started_at = started_at.replace(tzinfo=_UTC) if tz is None else started_at.astimezone(_UTC)
        completed_at = None
        if raw_completed:
            completed_at = datetime.fromisoformat(raw_completed)
            tz = completed_at.tzinfo
            if tz is not _UTC:
                completed_at = completed_at.replace(tzinfo=_UTC) if tz is None else completed_at.astimezone(_UTC)
        reviewed_at = None
        if raw_reviewed:
            reviewed_at = datetime.fromisoformat(raw_reviewed)
            tz = reviewed_at.tzinfo
            if tz is not _UTC:
                reviewed_at = reviewed_at.replace(tzinfo=_UTC) if tz is None else reviewed_at.astimezone(_UTC)
    except (ValueError, OverflowError):
        return None
    if reviewed_at is not None and (
        completed_at is None or reviewed_at < completed_at or not MIN_YEAR <= reviewed_at.year <= MAX_YEAR
    ):
        return None
    # Both are UTC by now, so their years are the years the rule means (cheaper than comparing aware times).
    if not MIN_YEAR <= started_at.year <= MAX_YEAR:
        return None
    if completed_at is not None and (not MIN_YEAR <= completed_at.year <= MAX_YEAR or completed_at < started_at):
        return None
    steps: dict[str, str | None] = {}
    for step in STEPS:
        raw = get(step, _UNKNOWN)
        if raw is _UNKNOWN:
            continue
        # Most values are spelled exactly "ai", "human" or "": look them up before normalizing.
        try:
            performer = _PERFORMER_OF[raw]
        except (KeyError, TypeError):  # another spelling, or a JSON list or object (unhashable)
            try:
                performer = raw.strip(_WS).lower() or None
            except AttributeError:
                return None
            if performer is not None and performer not in _PERFORMERS:
                return None
        steps[step] = performer
    # tuple.__new__ skips the named tuple's own __new__, a Python call that costs a tenth of this function.
    return _new_record(
        OutcomeRecord,
        (
            line,
            outcome_id,
            job,
            started_at,
            completed_at,
            status,
            None if not verdict or verdict == "unreviewed" else verdict,
            handoff or None,
            "handoff_step" in values,
            steps,
            reviewed_at,
            None,  # summary and url: parse_row adds them when the row has the columns
            None,
        ),
    )


_new_record = tuple.__new__


def _check_row(values: Mapping[str, object], line: int, jobs: Collection[str]) -> OutcomeRecord | list[RowError]:
    """Every rule of :func:`parse_row`, applied one by one so that each error is worded."""
    errors: list[RowError] = []
    get = lambda col: _text(values.get(col), col, line, errors, _WS if col in _VOCABULARY else None)  # noqa: E731

    outcome_id = get("outcome_id")
    if not outcome_id:
        if not errors:  # a wrong type was already reported
            errors.append(RowError(line, "outcome_id", "outcome_id is empty"))
    elif len(outcome_id) > MAX_OUTCOME_ID:
        errors.append(
            RowError(line, "outcome_id", f"outcome_id has {len(outcome_id)} characters; at most {MAX_OUTCOME_ID} are allowed")
        )
    else:
        bad = next((ch for ch in outcome_id if unicodedata.category(ch) in ("Cc", "Cs")), None)
        if bad is not None:
            kind = "control character" if unicodedata.category(bad) == "Cc" else "unpaired surrogate"
            errors.append(RowError(line, "outcome_id", f"outcome_id contains the {kind} U+{ord(bad):04X}"))

    job = get("job")
    if not job:
        if not any(e.column == "job" for e in errors):
            errors.append(RowError(line, "job", "job is empty"))
    elif job not in jobs:
        known = ", ".join(sorted(jobs)) or "none"
        errors.append(RowError(line, "job", f"unknown job {quoted(job)} (this account's jobs: {known})"))

    raw_status = get("status")
    status = _choice(raw_status, STATUSES, "status", line, errors) if raw_status else None
    if not raw_status and not any(e.column == "status" for e in errors):
        errors.append(RowError(line, "status", "status is empty"))

    times: dict[str, datetime | None] = {}
    raw_times = {col: get(col) for col in ("started_at", "completed_at")}
    for col, raw in raw_times.items():
        times[col] = None
        if raw:
            try:
                times[col] = parse_time(raw)
            except ValueError as exc:
                errors.append(RowError(line, col, f"{col} {exc}"))
        elif col == "started_at" and not any(e.column == col for e in errors):
            errors.append(RowError(line, col, "started_at is empty"))
    started_at, completed_at = times["started_at"], times["completed_at"]
    raw_completed = raw_times["completed_at"]
    if status in CLOSED_STATUSES and not raw_completed and not any(e.column == "completed_at" for e in errors):
        errors.append(RowError(line, "completed_at", f"completed_at is required for {'an' if status[0] in 'aeiou' else 'a'} {status} outcome"))
    if status == "open" and raw_completed:
        errors.append(RowError(line, "completed_at", "an open outcome has no completed_at"))
    if started_at and completed_at and completed_at < started_at:
        errors.append(RowError(line, "completed_at", "completed_at is before started_at"))

    raw_verdict = get("verdict")
    verdict = _choice(raw_verdict, VERDICTS, "verdict", line, errors) if raw_verdict else None
    if verdict == "unreviewed":
        verdict = None
    if verdict is not None and status == "open":
        errors.append(RowError(line, "verdict", "an open outcome cannot have a verdict; only closed outcomes are reviewed"))

    reviewed_at = None
    raw_reviewed = get("reviewed_at")
    if raw_reviewed:
        try:
            reviewed_at = parse_time(raw_reviewed)
        except ValueError as exc:
            errors.append(RowError(line, "reviewed_at", f"reviewed_at {exc}"))
        else:
            if verdict is None and not any(e.column == "verdict" for e in errors):
                errors.append(RowError(line, "reviewed_at", "reviewed_at dates a verdict; this row has none"))
            elif completed_at is not None and reviewed_at < completed_at:
                errors.append(RowError(line, "reviewed_at", "reviewed_at is before completed_at"))

    handoff_given = "handoff_step" in values
    raw_handoff = get("handoff_step")
    handoff_step = _choice(raw_handoff, STEPS, "handoff_step", line, errors) if raw_handoff else None

    steps: dict[str, str | None] = {}
    for step in STEPS:
        if step in values:
            raw = get(step)
            steps[step] = _choice(raw, PERFORMERS, step, line, errors) if raw else None

    if errors:
        return errors
    return OutcomeRecord(
        line=line,
        outcome_id=outcome_id,
        job=job,
        started_at=started_at,
        completed_at=completed_at,
        status=status,
        verdict=verdict,
        handoff_step=handoff_step,
        handoff_given=handoff_given,
        steps=steps,
        reviewed_at=reviewed_at,
    )


class Duplicates:
    """Refuses the second appearance of an outcome in one file or batch, naming the first.

    Keeps the keys only (about 100 bytes a row), not the rows.
    """

    def __init__(self, what: str = "line"):
        self._seen: dict[tuple[str, str], int] = {}
        self._what = what

    def check(self, rec: OutcomeRecord, shown: int | None = None) -> RowError | None:
        """None the first time ``rec``'s key is seen; else the error for its repeat.

        ``shown`` is the number the error names for the first appearance (default: its line).
        """
        first = self._seen.get(rec.key)
        if first is not None:
            return RowError(
                rec.line,
                "outcome_id",
                f"outcome {rec.outcome_id!r} of job {rec.job!r} already appears on {self._what} {first}",
            )
        self._seen[rec.key] = rec.line if shown is None else shown
        return None


#: How far in the future a time sent through the API may lie: clocks drift, outcomes do not come from tomorrow.
FUTURE_SLACK = timedelta(minutes=5)
#: The fields of an outcome item of the API: the columns of an import row.
ITEM_FIELDS: tuple[str, ...] = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)


def check_items(items: Sequence[object], jobs: Collection[str], now: datetime) -> list[OutcomeRecord | list[RowError]]:
    """Validate the items of an API request, each as an import row (by the same rules).

    Each item is a JSON object with the fields of an import row (:data:`ITEM_FIELDS`;
    other keys are ignored, as in a JSON Lines file). Beyond a file's rules, a time
    more than :data:`FUTURE_SLACK` after ``now`` is invalid, and the second
    appearance of an outcome in one request is invalid. An error's ``line`` is
    the item's index (from 0).

    Returns
    -------
    list
        Per item, in order: its :class:`OutcomeRecord`, or its errors.
    """
    seen = Duplicates("item")
    latest = now + FUTURE_SLACK
    results: list[OutcomeRecord | list[RowError]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            results.append([RowError(index, None, "each outcome must be a JSON object")])
            continue
        if item.keys() <= KNOWN_COLUMNS:  # most clients send the names as documented: nothing to normalize
            values = item
        else:
            values = {normalize_column(str(k)): v for k, v in item.items()}
            values = {k: v for k, v in values.items() if k in KNOWN_COLUMNS}
        missing = check_jsonl_keys(values, index)
        parsed = parse_row(values, index, jobs)
        if missing:
            gone = {e.column for e in missing}
            results.append(missing + ([e for e in parsed if e.column not in gone] if isinstance(parsed, list) else []))
            continue
        if isinstance(parsed, list):
            results.append(parsed)
            continue
        future = [
            RowError(index, column, f"{column} is more than 5 minutes in the future ({moment.isoformat()})")
            for column, moment in (
                ("started_at", parsed.started_at), ("completed_at", parsed.completed_at), ("reviewed_at", parsed.reviewed_at)
            )
            if moment is not None and moment > latest
        ]
        if future:
            results.append(future)
            continue
        repeated = seen.check(parsed, index)
        results.append([repeated] if repeated is not None else parsed)
    return results
