"""Cohen's kappa against scikit-learn's, and the plain reading of it (Landis and Koch)."""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from app.domain.agreement import Agreement, cohen_kappa, landis_koch

VERDICT = st.sampled_from(["correct", "incorrect"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(VERDICT, VERDICT), min_size=1, max_size=60))
def test_kappa_agrees_with_sklearn_on_random_verdict_pairs(pairs):
    first, second = zip(*pairs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns (and answers nan) where kappa is undefined
        expected = cohen_kappa_score(list(first), list(second))
    got = cohen_kappa(pairs)
    if math.isnan(expected):
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-12)


def test_kappa_cases_by_hand():
    assert cohen_kappa([]) is None
    assert cohen_kappa([("correct", "correct")] * 5) is None  # one verdict throughout: chance explains it all
    assert cohen_kappa([("correct", "correct"), ("incorrect", "incorrect")]) == 1.0
    assert cohen_kappa([("correct", "incorrect"), ("incorrect", "correct")]) == -1.0


@pytest.mark.parametrize(
    ("kappa", "band"),
    [(-0.1, "poor"), (0.0, "slight"), (0.2, "slight"), (0.21, "fair"), (0.4, "fair"), (0.41, "moderate"),
     (0.6, "moderate"), (0.61, "substantial"), (0.8, "substantial"), (0.81, "almost perfect"), (1.0, "almost perfect"),
     (None, "—")],
)
def test_landis_and_koch_bands(kappa, band):
    assert landis_koch(kappa) == band


def test_the_reading_says_the_sample_size():
    agreement = Agreement.of([("correct", "correct")] * 8 + [("incorrect", "incorrect")] * 2 + [("correct", "incorrect")])
    assert (agreement.pairs, agreement.agreed) == (11, 10)
    assert agreement.band == "substantial"
    assert agreement.reading() == (
        "substantial agreement (Landis and Koch) over 11 outcomes reviewed by two people; 10 judged alike; "
        "fewer than 20 pairs, so a rough reading"
    )
    assert Agreement().reading() == "no outcome reviewed by two people yet"


def test_a_kappa_from_twenty_pairs_or_more_reads_plainly_and_a_negative_one_has_a_true_minus():
    many = Agreement.of([("correct", "correct")] * 16 + [("incorrect", "incorrect")] * 3 + [("correct", "incorrect")])
    assert not many.few and many.reading().endswith("; 19 judged alike")
    # One disagreement among five mostly-correct pairs: "poor", and said to be rough.
    few = Agreement.of([("correct", "correct")] * 3 + [("correct", "incorrect"), ("incorrect", "correct")])
    assert few.few and few.band == "poor" and few.format() == "\u2212" + f"{abs(few.kappa):.2f}"
