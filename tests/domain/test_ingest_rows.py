from datetime import datetime, timezone

import pytest

from app.domain.ingest_rows import OutcomeRecord, RowError, check_header, check_jsonl_keys, parse_row, parse_time

JOBS = {"customer-support"}
UTC = timezone.utc


def row(**overrides):
    values = {
        "outcome_id": "TCK-10452",
        "job": "customer-support",
        "started_at": "2026-11-05T09:10:00Z",
        "completed_at": "2026-11-05T14:28:00Z",
        "status": "completed",
        "verdict": "correct",
        "handoff_step": "",
    }
    values.update(overrides)
    return values


def errors_of(values, line=2):
    result = parse_row(values, line, JOBS)
    assert isinstance(result, list), result
    return result


def only_error(values, column, reason_part):
    errors = errors_of(values)
    assert [e.column for e in errors] == [column], errors
    assert reason_part in errors[0].reason
    assert errors[0].line == 2


def test_valid_row_parses():
    rec = parse_row(row(define="ai", confirm="HUMAN", conclude=""), 2, JOBS)
    assert isinstance(rec, OutcomeRecord)
    assert rec.key == ("customer-support", "TCK-10452")
    assert rec.started_at == datetime(2026, 11, 5, 9, 10, tzinfo=UTC)
    assert rec.verdict == "correct"
    assert rec.steps == {"define": "ai", "confirm": "human", "conclude": None}
    assert rec.handoff_given and rec.handoff_step is None


def test_times_without_offset_are_utc_and_offsets_are_converted():
    assert parse_time("2026-11-05 09:10:00") == datetime(2026, 11, 5, 9, 10, tzinfo=UTC)
    moment = parse_time("2026-11-05T10:10:00+01:00")
    assert moment == datetime(2026, 11, 5, 9, 10, tzinfo=UTC) and moment.tzinfo == UTC


@pytest.mark.parametrize("verdict", ["", "unreviewed", "Unreviewed"])
def test_empty_or_unreviewed_verdict_says_nothing(verdict):
    assert parse_row(row(verdict=verdict), 2, JOBS).verdict is None


def test_empty_outcome_id():
    only_error(row(outcome_id="  "), "outcome_id", "empty")


def test_overlong_outcome_id():
    only_error(row(outcome_id="X" * 201), "outcome_id", "at most 200")
    assert isinstance(parse_row(row(outcome_id="X" * 200), 2, JOBS), OutcomeRecord)


@pytest.mark.parametrize("bad", ["TCK\t1", "TCK\x001", "TCK\x1b1", "TCK\x7f1"])
def test_control_characters_in_outcome_id(bad):
    only_error(row(outcome_id=bad), "outcome_id", "control character")


def test_unknown_job():
    only_error(row(job="billing"), "job", "unknown job 'billing'")


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "05/11/2026"])
def test_unparseable_dates(value):
    only_error(row(started_at=value), "started_at", "started_at")


@pytest.mark.parametrize("value", ["2026-02-30T10:00:00Z", "2026-11-05T25:00:00Z", "1899-01-01T00:00:00Z"])
def test_impossible_dates(value):
    errors = errors_of(row(started_at=value, completed_at="2026-11-30T00:00:00Z"))
    assert [e.column for e in errors] == ["started_at"]


def test_missing_started_at():
    only_error(row(started_at=""), "started_at", "empty")


def test_completed_before_started():
    only_error(row(completed_at="2026-11-05T09:00:00Z"), "completed_at", "before started_at")


@pytest.mark.parametrize(("status", "said"), [("completed", "a completed"), ("escalated", "an escalated"), ("failed", "a failed")])
def test_closed_outcome_needs_completed_at(status, said):
    only_error(row(status=status, completed_at="", verdict=""), "completed_at", f"required for {said} outcome")


def test_open_outcome_has_no_completed_at():
    only_error(row(status="open", verdict=""), "completed_at", "open outcome has no completed_at")


def test_unknown_status():
    only_error(row(status="done"), "status", "not one of open, completed, escalated, failed")


def test_empty_status():
    errors = errors_of(row(status="", completed_at="", verdict=""))
    assert [e.column for e in errors] == ["status"]


def test_unknown_verdict():
    only_error(row(verdict="maybe"), "verdict", "not one of")


def test_verdict_only_on_closed_outcomes():
    only_error(row(status="open", completed_at=""), "verdict", "open outcome cannot have a verdict")
    assert parse_row(row(status="failed", verdict="incorrect"), 2, JOBS).verdict == "incorrect"


def test_unknown_handoff_step():
    only_error(row(handoff_step="escalate"), "handoff_step", "not one of define")


def test_bad_step_value():
    only_error(row(execute="robot"), "execute", "not one of ai, human")


def test_json_values_must_be_text():
    only_error(row(status=3.5), "status", "must be text")
    only_error(row(completed_at=["x"]), "completed_at", "must be text")
    assert parse_row(row(outcome_id=10452), 2, JOBS).outcome_id == "10452"


def test_every_problem_of_a_row_is_reported():
    errors = errors_of(row(outcome_id="", job="x", status="nope"), line=9)
    assert {e.column for e in errors} == {"outcome_id", "job", "status"}
    assert all(e.line == 9 for e in errors)


def test_absent_steps_and_handoff_are_not_given():
    values = row()
    del values["handoff_step"]
    rec = parse_row(values, 1, JOBS)
    assert rec.steps == {} and not rec.handoff_given


def test_header_missing_columns_reported_on_line_1():
    errors = check_header(["outcome_id", "job", "started_at", "status", "verdict"])
    assert errors == [
        RowError(1, "completed_at", "required column 'completed_at' is missing from the header"),
        RowError(1, "handoff_step", "required column 'handoff_step' is missing from the header"),
    ]


def test_header_is_case_and_space_insensitive_and_ignores_extra_columns():
    assert check_header([" Outcome_ID", "JOB", "started_at", "completed_at", "status", "verdict", "handoff_step", "notes"]) == []


def test_repeated_header_column():
    errors = check_header(["outcome_id", "job", "started_at", "completed_at", "status", "verdict", "handoff_step", "define", "define"])
    assert [(e.line, e.column) for e in errors] == [(1, "define")]


def test_jsonl_required_keys():
    assert [e.column for e in check_jsonl_keys({"job": "x", "status": "open"}, 4)] == ["outcome_id", "started_at"]


def test_row_error_json():
    assert RowError(3, None, "bad").to_json() == {"line": 3, "column": None, "reason": "bad"}


# --- the fast path accepts exactly what the full check accepts ---------------------------------

import unicodedata  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from app.domain import ingest_rows  # noqa: E402
from app.domain.steps import STEPS  # noqa: E402


def test_control_pattern_is_exactly_unicode_category_cc():
    import sys

    cc = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cc"}
    matched = {chr(c) for c in range(0x2000) if ingest_rows._CONTROL.match(chr(c))}
    assert matched == cc


_spellings = {
    "outcome_id": ["TCK-1", " TCK-2 ", "", "  ", "X" * 200, "X" * 201, "a\tb", "é€", "a\x85b", 17, None, True, 2.5],
    "job": ["customer-support", " customer-support", "billing", "", None, 3],
    "started_at": ["2026-11-05T09:10:00Z", "2026-11-05 09:10:00", "2026-11-05T10:10:00+01:00", "2026-11-05",
                   "1969-12-31T23:59:59Z", "2100-12-31T23:59:59Z", "2101-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00",
                   "yesterday", "2026-02-30T00:00:00Z", "", None, 5],
    "completed_at": ["2026-11-05T14:28:00Z", "2026-11-05T09:00:00Z", "2026-11-05T10:10:00+01:00", "", " ", None,
                     "9999-12-31T23:59:59-01:00", "nope", 7],
    "status": ["completed", "Completed ", "open", "escalated", "failed", "done", "", None, 1],
    "verdict": ["correct", "INCORRECT", "unreviewed", "Unreviewed", "", "maybe", None, False],
    "handoff_step": ["", "execute", " Monitor", "escalate", None, 4],
}
_step_values = st.sampled_from(["ai", "human", "", "AI", " Human ", "robot", None, 1])


@st.composite
def _any_row(draw):
    values = {}
    for column, options in _spellings.items():
        if column in ("outcome_id", "job", "started_at", "status") or draw(st.booleans()) or draw(st.booleans()):
            values[column] = draw(st.sampled_from(options))
    for step in draw(st.lists(st.sampled_from(STEPS), unique=True, max_size=8)):
        values[step] = draw(_step_values)
    return values


@settings(max_examples=3000, deadline=None)
@given(values=_any_row())
def test_fast_path_agrees_with_the_full_check(values):
    fast = ingest_rows._plainly_valid(values, 7, JOBS)
    full = ingest_rows._check_row(values, 7, JOBS)
    if fast is None:
        assert parse_row(values, 7, JOBS) == full
    else:
        assert isinstance(full, OutcomeRecord), (values, full)
        assert fast == full and fast.steps == full.steps


@pytest.mark.parametrize(
    "column, value",
    [
        ("job", "j" * 10_000),
        ("status", "s" * 10_000),
        ("verdict", "v" * 10_000),
        ("started_at", "2026-11-05T" + "9" * 10_000),
        ("handoff_step", "h" * 10_000),
    ],
)
def test_a_huge_refused_value_is_quoted_in_part_with_its_length(column, value):
    values = row(**{column: value})
    if column == "handoff_step":
        values["status"] = "escalated"
    (error,) = errors_of(values)
    assert error.column == column
    assert len(error.reason) < 300, error.reason
    assert repr(value[:60]) in error.reason and "(10,0" in error.reason and " characters)" in error.reason


def test_a_short_refused_value_is_quoted_whole():
    (error,) = errors_of(row(status="tomorrow"))
    assert error.reason.startswith("status 'tomorrow' is not one of")


@pytest.mark.parametrize("column, value", [("handoff_step", "\u0085execute"), ("status", "\u0085completed"),
                                           ("verdict", "correct\u2028"), ("execute", "\u00a0ai")])
def test_vocabulary_values_are_trimmed_of_ascii_white_space_only(column, value):
    """str.strip() would turn "\\u0085execute" into "execute"; such a value is refused as it is."""
    from app.domain.ingest_rows import RowError, parse_row

    row = {"outcome_id": "X-1", "job": "customer-support", "started_at": "2026-11-02T10:00:00Z",
           "completed_at": "2026-11-02T11:00:00Z", "status": "completed", "verdict": "", "handoff_step": "", column: value}
    result = parse_row(row, 2, ["customer-support"])
    assert isinstance(result, list) and [e.column for e in result] == [column], result
    assert all(isinstance(e, RowError) for e in result)
    assert parse_row({**row, column: f" \t{value.strip()}\r"}, 2, ["customer-support"]).line == 2


# --- summary and url: something to judge by (SPEC "Data in") -------------------------------------

from app.domain.ingest_rows import MAX_SUMMARY, parse_row as _parse  # noqa: E402

_ROW = {
    "outcome_id": "T-1", "job": "customer-support", "started_at": "2026-11-02T10:00:00Z",
    "completed_at": "2026-11-02T10:20:00Z", "status": "completed", "verdict": "", "handoff_step": "",
}


@pytest.mark.parametrize("url", ["https://support.example/t/1", "http://x.example", "HTTPS://X.EXAMPLE/a?b=c#d"])
def test_http_and_https_links_are_kept(url):
    record = _parse({**_ROW, "url": url, "summary": " Refunded <b>12.50</b> **now**\nand closed. "}, 2, {"customer-support"})
    assert record.url == url
    assert record.summary == "Refunded <b>12.50</b> **now**\nand closed."  # plain text, kept as written


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(1)", "scheme 'javascript'"),
        (" JavaScript:alert(document.cookie)", "scheme 'javascript'"),
        ("data:text/html,<script>x</script>", "scheme 'data'"),
        ("ftp://files.example/a", "scheme 'ftp'"),
        ("//evil.example/x", "no scheme"),
        ("/tickets/1", "no scheme"),
        ("https:evil.example", "names no host"),
        ("https://a b.example", "space or a control character"),
        ("https://a.example/\x00", "space or a control character"),
    ],
)
def test_any_other_url_is_a_row_error(url, reason):
    errors = _parse({**_ROW, "url": url}, 7, {"customer-support"})
    assert isinstance(errors, list) and [(e.line, e.column) for e in errors] == [(7, "url")]
    assert reason in errors[0].reason


def test_summary_limits_and_empty_values():
    assert _parse({**_ROW, "summary": "x" * MAX_SUMMARY}, 2, {"customer-support"}).summary == "x" * MAX_SUMMARY
    errors = _parse({**_ROW, "summary": "x" * (MAX_SUMMARY + 1)}, 2, {"customer-support"})
    assert errors[0].column == "summary" and "2,001 characters" in errors[0].reason
    assert _parse({**_ROW, "summary": "a\x00b"}, 2, {"customer-support"})[0].column == "summary"
    assert _parse({**_ROW, "summary": 12}, 2, {"customer-support"})[0].reason == "summary must be text, got int"
    record = _parse({**_ROW, "summary": "  ", "url": ""}, 2, {"customer-support"})
    assert (record.summary, record.url) == (None, None)  # empty: the stored ones are kept


def test_summary_and_url_errors_join_the_rows_other_errors():
    errors = _parse({**_ROW, "status": "done", "url": "javascript:x"}, 3, {"customer-support"})
    assert {e.column for e in errors} == {"status", "url"}
