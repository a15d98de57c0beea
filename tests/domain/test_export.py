import csv
import io
from datetime import datetime, timezone
from decimal import Decimal

import pandas as pd
import pytest

from app.domain.export import frame_to_csv, safe_cell, to_csv


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0"],
)
def test_dangerous_text_is_prefixed(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["T-1", "hello = world", "a+b", "", "ticket@example.com", "'quoted"])
def test_harmless_text_is_unchanged(text):
    assert safe_cell(text) == text


def test_numbers_dates_and_none_are_written_plainly():
    assert safe_cell(-5) == "-5"
    assert safe_cell(Decimal("-1.50")) == "-1.50"
    assert safe_cell(None) == ""
    assert safe_cell(True) == "true"
    assert safe_cell(datetime(2026, 11, 21, 10, tzinfo=timezone.utc)) == "2026-11-21T10:00:00+00:00"


def test_to_csv_round_trips_with_prefix():
    text = to_csv([{"id": "=evil()", "comment": 'He said "hi", then left'}, {"id": "T-2", "comment": "-x"}], ["id", "comment"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["id", "comment"], ["'=evil()", 'He said "hi", then left'], ["T-2", "'-x"]]
    assert text.endswith("\r\n")


def test_header_is_sanitised_too():
    assert to_csv([], ["=x"]).startswith("'=x")


def test_frame_to_csv():
    frame = pd.DataFrame({"outcome": ["@a", "b"], "n": [1, None]})
    rows = list(csv.reader(io.StringIO(frame_to_csv(frame))))
    assert rows == [["outcome", "n"], ["'@a", "1.0"], ["b", ""]]


@pytest.mark.parametrize("text", ["＝SUM(1)", "＋1", "－1", "＠cmd", "﹦1"])
def test_fullwidth_and_small_form_formula_characters_are_guarded(text):
    assert safe_cell(text) == "'" + text
