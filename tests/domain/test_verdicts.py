"""The verdict in force over time and what it bills (app.domain.verdicts)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from app.domain.verdicts import Span, billing_of, incorrect_spans

UTC = timezone.utc
T0 = datetime(2026, 9, 20, tzinfo=UTC)
moments = st.integers(0, 24 * 120).map(lambda h: T0 + timedelta(hours=h))
histories = st.lists(st.tuples(moments, st.sampled_from(["correct", "incorrect"])), max_size=8).map(
    lambda reviews: sorted(reviews, key=lambda r: r[0])
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def in_force(reviews, moment):
    """The verdict in force at ``moment``, straight from SPEC: the latest review at or before it."""
    verdict = "unreviewed"
    for when, v in reviews:
        if when <= moment:
            verdict = v
    return verdict


@given(histories, moments)
def test_spans_are_exactly_the_times_the_verdict_in_force_is_incorrect(reviews, moment):
    spans = incorrect_spans(reviews)
    inside = any(s.start <= moment and (s.end is None or moment < s.end) for s in spans)
    assert inside == (in_force(reviews, moment) == "incorrect")
    for a, b in zip(spans, spans[1:]):
        assert a.end is not None and a.end < b.start  # disjoint and separated


@given(histories, moments, moments)
def test_an_outcome_is_billed_at_most_once_net_and_never_credited_unbilled(reviews, completed, as_of):
    if as_of < completed:
        completed, as_of = as_of, completed
    billing = billing_of(completed, incorrect_spans(reviews), as_of)
    running = int(billing.own_month)
    for event in billing.events:
        running += event.sign
        assert running in (0, 1)  # a credit follows a bill, a charge follows a credit or no bill
    assert billing.net in (0, 1)
    # The own month bills what SPEC says: the verdict in force at its end (or as_of) is not incorrect.
    month_end = datetime(completed.year + completed.month // 12, completed.month % 12 + 1, 1, tzinfo=UTC)
    last = min(month_end - timedelta(microseconds=1), as_of)
    assert billing.own_month == (in_force([r for r in reviews if r[0] <= as_of], last) != "incorrect")
    # And at as_of the outcome stands billed exactly when its verdict in force is not incorrect.
    if as_of >= month_end:
        assert billing.net == int(in_force([r for r in reviews if r[0] <= as_of], as_of) != "incorrect")


def test_incorrect_in_its_month_and_again_later_is_never_billed_nor_credited():
    reviews = [(at("2026-10-09T10:00"), "incorrect"), (at("2026-11-03T10:00"), "incorrect")]
    billing = billing_of(at("2026-10-06T10:00"), incorrect_spans(reviews), at("2026-11-30T00:00"))
    assert (billing.own_month, billing.events) == (False, ())


def test_incorrect_then_correct_within_the_month_bills_as_of_its_end():
    reviews = [(at("2026-10-08T10:00"), "incorrect"), (at("2026-10-25T10:00"), "correct")]
    spans = incorrect_spans(reviews)
    assert spans == [Span(at("2026-10-08T10:00"), at("2026-10-25T10:00"))]
    assert not billing_of(at("2026-10-05T10:00"), spans, at("2026-10-10T00:00")).own_month
    assert billing_of(at("2026-10-05T10:00"), spans, at("2026-10-31T00:00")).own_month


def test_two_reviews_at_one_instant_leave_the_later_in_force():
    same = at("2026-10-08T10:00")
    assert incorrect_spans([(same, "incorrect"), (same, "correct")]) == []
    assert incorrect_spans([(same, "correct"), (same, "incorrect")]) == [Span(same, None)]


def test_credit_then_charge_again_in_later_months():
    reviews = [(at("2026-11-03T00:00"), "incorrect"), (at("2026-12-05T00:00"), "correct")]
    billing = billing_of(at("2026-10-06T00:00"), incorrect_spans(reviews), at("2026-12-31T00:00"))
    assert billing.own_month
    assert [(e.month, e.sign, e.source) for e in billing.events] == [(2026 * 12 + 11, -1, 2026 * 12 + 10), (2026 * 12 + 12, 1, 2026 * 12 + 12)]
