"""Read an import file (CSV or JSON Lines) into rows of raw values, line by line.

No database here: the readers only split a file into rows (a mapping of column name to
raw value) and say what is wrong with a line that is not a row at all (invalid CSV or
JSON, bad UTF-8, a missing JSON key). Checking a row's values is
:mod:`app.domain.ingest_rows`; what a valid row may change in a stored outcome is
:mod:`app.domain.outcome_merge`; writing is :mod:`app.store.ingest`.

Each reader yields ``(line, values, errors)``: ``values`` is None when the line is
not a row; ``errors`` lists what the line lacks. A file that cannot be read as a
whole (no header, a header missing a required column, invalid UTF-8 in a CSV)
raises :class:`Refused`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from app.domain import bounded_json
from app.domain.errors import OverseerError
from app.domain.ingest_rows import (
    KNOWN_COLUMNS,
    REQUIRED_COLUMNS,
    RowError,
    check_header,
    check_jsonl_keys,
    normalize_column,
)

FORMATS: dict[str, str] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_KNOWN_COLUMNS = KNOWN_COLUMNS
_BOM = b"\xef\xbb\xbf"

#: One line of a file as a reader yields it: ``(line number, values or None, errors)``.
Line = tuple[int, dict | None, list[RowError]]
_Line = Line


class Refused(Exception):
    """The whole file is unusable; carries the errors to report."""

    def __init__(self, errors: list[RowError]):
        super().__init__(errors[0].reason)
        self.errors = errors


class Counter:
    """Bytes read so far of a file of ``total`` bytes (0: unknown); the progress bar reads it."""

    def __init__(self, total: int):
        self.read = 0
        self.total = total


def format_of(fmt: str | None, name: str) -> str:
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


def open_source(source: str | Path | BinaryIO, stack: ExitStack) -> tuple[BinaryIO, str, int]:
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


def physical_lines(stream, counter: Counter) -> Iterator[bytes | str]:
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


def csv_rows(lines: Iterator[bytes | str]) -> Iterator[_Line]:
    def text_lines() -> Iterator[str]:
        for number, raw in enumerate(lines, start=1):
            try:
                yield _decode(raw, number)
            except UnicodeDecodeError as exc:
                raise Refused(
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
        raise Refused([RowError(1, None, f"the header is not valid CSV: {exc}")]) from None
    if not header or not any(h.strip() for h in header):
        raise Refused([RowError(1, None, f"the file has no header; expected the columns {', '.join(REQUIRED_COLUMNS)}")])
    errors = check_header(header)
    if errors:
        raise Refused(errors)
    names = [normalize_column(h) for h in header]
    all_known = all(name in _KNOWN_COLUMNS for name in names)
    width = len(names)
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, None, [RowError(line, None, f"the row is not valid CSV: {exc}")]
            continue
        # A row whose first field holds something is not blank: most rows stop at that test.
        if not (fields and fields[0].strip()) and not any(f.strip() for f in fields):  # blank line, or only separators
            continue
        # Trailing empty fields (a spreadsheet export artefact) are tolerated; missing or extra data is not.
        if len(fields) != width and (len(fields) < width or any(f.strip() for f in fields[width:])):
            reason = f"the row has {len(fields)} fields but the header has {len(names)}"
            yield line, None, [RowError(line, None, reason)]
            continue
        if all_known:
            values = dict(zip(names, fields))
        else:
            values = {name: value for name, value in zip(names, fields) if name in _KNOWN_COLUMNS}
        yield line, values, []


# The longest JSON Lines record read, in characters: far above any real row (a summary has at most 2,000),
# and below what would hold a whole import in one line.
MAX_JSONL_LINE = 16_000_000


def jsonl_rows(lines: Iterator[bytes | str]) -> Iterator[_Line]:
    for line, raw in enumerate(lines, start=1):
        try:
            text = _decode(raw, line).strip()
        except UnicodeDecodeError as exc:
            yield line, None, [RowError(line, None, f"the line is {_utf8_reason(exc)}")]
            continue
        if not text:
            continue
        try:
            record = bounded_json.loads(text, max_chars=MAX_JSONL_LINE)
        except bounded_json.JSONLimitError as exc:
            yield line, None, [RowError(line, None, f"the line {exc}")]
            continue
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

