"""CSV export that is safe to open in a spreadsheet.

Spreadsheets run a cell as a formula when its text starts with ``=``, ``+``,
``-`` or ``@`` (and some also after a leading tab or carriage return), so an
outcome id or a review comment such as ``=HYPERLINK(...)`` could run on a
customer's machine (CSV/formula injection, OWASP). Every text cell starting
with one of those characters is written with a leading apostrophe, which
spreadsheets show as plain text. Numbers, dates and booleans are written as
they are: they cannot carry a formula. The first character is compared after
NFKC normalisation, so a fullwidth ``＝`` (U+FF1D), which some spreadsheets
read as ``=``, is guarded too.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """The text written for ``value``: text cells that a spreadsheet would run are neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(DANGEROUS_PREFIXES) or unicodedata.normalize("NFKC", text[:1]).startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


def to_csv(rows: Iterable[Mapping] | Iterable[Sequence], columns: Sequence[str]) -> str:
    """Rows (mappings keyed by ``columns``, or sequences in their order) as CSV text.

    The header row is ``columns``; every cell goes through :func:`safe_cell`.
    Line endings are ``\\r\\n`` (RFC 4180).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        if isinstance(row, Mapping):
            values = [row.get(c) for c in columns]
        else:
            values = list(row)
        writer.writerow([safe_cell(v) for v in values])
    return buffer.getvalue()


def frame_to_csv(frame) -> str:
    """A pandas DataFrame as safe CSV (its columns as the header, no index)."""
    columns = [str(c) for c in frame.columns]
    return to_csv((tuple(None if _is_na(v) else v for v in row) for row in frame.itertuples(index=False)), columns)


def _is_na(value) -> bool:
    try:
        import pandas as pd

        return value is not None and not isinstance(value, (str, bytes)) and bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
