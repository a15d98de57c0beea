"""Random JSON, deep and huge values included, fed to the plan parser and the row validator.

Either may only ever answer with a valid result or a clean refusal: a :class:`PlanError` (an
``OverseerError``) for a plan, a list of :class:`RowError` for a row. Never a RecursionError, a
ValueError from a 5,000-digit integer, an OverflowError or an InvalidOperation.
"""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain import bounded_json
from app.domain.errors import OverseerError
from app.domain.ingest_rows import OutcomeRecord, RowError, parse_row
from app.domain.plans import MAX_AMOUNT, MAX_COUNT, MAX_NAME, PlanError, PlanSpec, parse_plan, parse_plan_json
from app.domain.steps import STEPS

PLAN_KEYS = ["name", "currency", "free_outcomes", "base_fee", "included_outcomes", "outcome_price", "tiers",
             "tiers_mode", "seat_price", "task_price"]
ROW_KEYS = ["outcome_id", "job", "started_at", "completed_at", "status", "verdict", "handoff_step", *STEPS]

# Built, not listed: hypothesis describes a strategy by repr, and repr of 10**5000 raises.
HUGE_INTS = st.builds(lambda e, sign, plus: sign * 10**e + plus, st.sampled_from([9, 18, 30, 5000]),
                      st.sampled_from([1, -1]), st.sampled_from([0, 1]))
NUMBER_TEXT = st.sampled_from(["1e308", "1e12", "1E+999999", "NaN", "Infinity", "-0", "1.0000001", "²", "٣", "１",
                               "1" * 500, "0.000001", "999999999.999999", "1000000000", "1000000000.000001", " 5 "])
SCALARS = (
    st.none() | st.booleans() | st.integers() | HUGE_INTS | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30) | NUMBER_TEXT | st.sampled_from(["\x00", "\u0085execute", "USD", "usd", "uſd", "graduated", "volume"])
)


def _deep(depth: int, leaf):
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
VALUES = JSON | st.builds(_deep, st.sampled_from([40, 3000]), SCALARS)
TIERS = st.lists(st.fixed_dictionaries({}, optional={"up_to": VALUES | st.none() | st.integers(), "unit_price": VALUES,
                                                     "flat_fee": VALUES}), max_size=4)
PLANS = st.dictionaries(st.sampled_from(PLAN_KEYS), VALUES, max_size=10) | st.builds(
    lambda d, tiers: {**d, "tiers": tiers}, st.dictionaries(st.sampled_from(PLAN_KEYS), VALUES, max_size=5), TIERS
)
ROWS = st.dictionaries(st.sampled_from(ROW_KEYS), VALUES, max_size=len(ROW_KEYS))

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _within_bounds(spec: PlanSpec) -> None:
    amounts = [spec.base_fee, spec.outcome_price, spec.seat_price, spec.task_price]
    amounts += [a for t in spec.tiers or () for a in (t.unit_price, t.flat_fee)]
    for amount in amounts:
        assert isinstance(amount, Decimal) and 0 <= amount <= MAX_AMOUNT and -amount.as_tuple().exponent <= 6
    for count in (spec.free_outcomes, spec.included_outcomes, *(t.up_to or 0 for t in spec.tiers or ())):
        assert type(count) is int and 0 <= count <= MAX_COUNT
    assert 0 < len(spec.name) <= MAX_NAME


@SETTINGS
@given(PLANS)
def test_a_plan_is_valid_within_bounds_or_refused_cleanly(data):
    try:
        spec = parse_plan(data)
    except PlanError as exc:
        assert str(exc) and "\n" not in str(exc) and len(str(exc)) < 400
        return
    _within_bounds(spec)
    assert parse_plan(spec.to_json()) == spec  # what is stored reads back the same


def _dumps(value) -> str | None:
    try:
        return json.dumps(value)
    except (ValueError, RecursionError):  # a value JSON cannot write, or Python's own int limit: nothing to parse
        return None


@SETTINGS
@given(PLANS | VALUES)
def test_plan_json_text_is_valid_or_refused_cleanly(data):
    text = _dumps(data)
    if text is None:
        return
    try:
        spec = parse_plan_json(text)
    except PlanError as exc:
        assert str(exc) and "\n" not in str(exc) and len(str(exc)) < 400
        return
    _within_bounds(spec)


@SETTINGS
@given(ROWS)
def test_a_row_is_a_record_or_row_errors(values):
    result = parse_row(values, 7, ["customer-support"])
    if isinstance(result, OutcomeRecord):
        assert result.line == 7 and result.job == "customer-support"
        return
    assert result and all(isinstance(e, RowError) and e.line == 7 and len(e.reason) < 500 for e in result)


@SETTINGS
@given(ROWS | VALUES)
def test_a_jsonl_line_is_read_within_limits_or_refused(value):
    text = _dumps(value)
    if text is None:
        return
    try:
        bounded_json.loads(text, max_chars=1_000_000)
    except (bounded_json.JSONLimitError, json.JSONDecodeError) as exc:
        assert isinstance(exc, (OverseerError, ValueError))


def test_deep_and_huge_texts_are_refused_by_name():
    deep = "[" * 100_000 + "]" * 100_000
    for text, words in ((deep, "levels deep"), ('{"n": ' + "9" * 5000 + "}", "number of 5,000 characters"),
                        ('{"n": 1' + "0" * 400 + ".5}", "number of")):
        try:
            bounded_json.loads(text, max_chars=10**6)
        except bounded_json.JSONLimitError as exc:
            assert words in str(exc)
        else:
            raise AssertionError(text[:20])
    # Brackets inside strings are text, not nesting.
    assert bounded_json.loads(json.dumps({"a": "[" * 500}), max_chars=10**6) == {"a": "[" * 500}
