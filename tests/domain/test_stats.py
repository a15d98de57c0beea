"""Rates, Wilson intervals and Poisson quantiles against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from app.domain.stats import Z95, Rate, _normal_ppf, format_share, poisson_quantile, wilson_interval


def test_rate_value_and_format():
    assert Rate(7, 8).value == 0.875
    assert Rate(7, 8).format() == "87.5%"
    assert Rate(0, 5).value == 0.0 and Rate(0, 5).format() == "0.0%"
    assert Rate(5, 5).format() == "100.0%"


def test_rate_without_denominator_is_undefined():
    rate = Rate(0, 0)
    assert rate.value is None
    assert rate.format() == "—"
    assert rate.wilson() is None
    assert format_share(None) == "—"


def test_z95_is_the_normal_975_quantile():
    assert Z95 == pytest.approx(1.959964, abs=1e-6)


# Hand values: p = k/n, z² = 3.841459; centre = (p + z²/2n) / (1 + z²/n);
# half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),  # high = (z²/n) / (1 + z²/n) = 0.38415 / 1.38415
        (5, 10, 0.2366, 0.7634),  # centre 0.5, half 1.96·sqrt(0.025 + 0.0096) / 1.38415
        (8, 10, 0.4902, 0.9433),
        (10, 10, 0.7225, 1.0),  # mirror of 0 of 10
        (1, 2, 0.0945, 0.9055),
        (1, 1, 0.2065, 1.0),  # low = 1 / (1 + z²) = 1 / 4.8415
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_interval_known_values(k, n, low, high):
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)
    assert Rate(k, n).wilson() == (lo, hi)


def test_wilson_interval_contains_the_share_and_narrows_with_n():
    for k, n in [(3, 7), (30, 70), (300, 700)]:
        lo, hi = wilson_interval(k, n)
        assert lo < k / n < hi
    widths = [hi - lo for lo, hi in (wilson_interval(3, 7), wilson_interval(30, 70), wilson_interval(300, 700))]
    assert widths == sorted(widths, reverse=True)


def test_wilson_interval_with_other_z():
    # z = 1: 0 of 1 gives high = (1/1) / (1 + 1) = 0.5
    assert wilson_interval(0, 1, z=1.0) == (0.0, pytest.approx(0.5))


def test_wilson_interval_no_sample_and_bad_input():
    assert wilson_interval(0, 0) is None
    for k, n in [(3, 2), (-1, 2), (0, -1)]:
        with pytest.raises(ValueError):
            wilson_interval(k, n)


# Poisson(1): P(X<=0) = e^-1 = 0.3679, P(X<=1) = 0.7358, P(X<=2) = 0.9197, P(X<=3) = 0.9810
# Poisson(2): 0.1353, 0.4060, 0.6767, 0.8571, 0.9473
@pytest.mark.parametrize(
    ("q", "lam", "k"),
    [
        (0.10, 1, 0),
        (0.36, 1, 0),
        (0.37, 1, 1),
        (0.50, 1, 1),
        (0.80, 1, 2),
        (0.90, 1, 2),
        (0.95, 1, 3),
        (0.10, 2, 0),
        (0.14, 2, 1),
        (0.50, 2, 2),
        (0.85, 2, 3),
        (0.90, 2, 4),
        (0.10, 0.5, 0),  # P(X<=0) = e^-0.5 = 0.6065
        (0.70, 0.5, 1),  # P(X<=1) = 0.9098
        (0.95, 0.5, 2),  # P(X<=2) = 0.9856
    ],
)
def test_poisson_quantile_small_cases(q, lam, k):
    assert poisson_quantile(q, lam) == k


def test_poisson_quantile_at_zero_mean_is_zero():
    assert poisson_quantile(0.1, 0) == 0
    assert poisson_quantile(0.9, 0) == 0


def test_poisson_quantile_large_mean_does_not_underflow():
    # exp(-1000) underflows to 0; the quantiles still sit near lam ± z·sqrt(lam) = 1000 ± 40.5.
    assert 955 <= poisson_quantile(0.1, 1000) <= 962
    assert 1038 <= poisson_quantile(0.9, 1000) <= 1045
    assert poisson_quantile(0.5, 1000) in (999, 1000, 1001)


def test_poisson_quantile_normal_branch():
    # ceil(lam + z·sqrt(lam) - 0.5): lam = 40,000, sqrt 200; z(0.5) = 0, z(0.9) = 1.281552
    assert poisson_quantile(0.5, 40_000) == 40_000
    assert poisson_quantile(0.9, 40_000) == 40_256  # ceil(40,000 + 256.31 - 0.5)
    assert poisson_quantile(0.1, 40_000) == 39_744  # ceil(40,000 - 256.31 - 0.5)


def test_poisson_quantile_continuous_across_branches():
    exact = poisson_quantile(0.9, 10_000)
    approx = poisson_quantile(0.9, 10_000.001)
    assert abs(exact - approx) <= 1
    assert exact == pytest.approx(10_000 + 1.281552 * 100, abs=2)


def test_poisson_quantile_monotone_in_q_and_lam():
    qs = [0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 0.95]
    for lam in (0.3, 3, 30, 300):
        ks = [poisson_quantile(q, lam) for q in qs]
        assert ks == sorted(ks)
    lams = [0.5, 1, 2, 5, 10, 50]
    ks = [poisson_quantile(0.8, lam) for lam in lams]
    assert ks == sorted(ks)


@pytest.mark.parametrize("q", [0, 1, -0.1, 1.5])
def test_poisson_quantile_refuses_q_outside_open_interval(q):
    with pytest.raises(ValueError):
        poisson_quantile(q, 3)


def test_poisson_quantile_refuses_negative_mean():
    with pytest.raises(ValueError):
        poisson_quantile(0.5, -1)


@pytest.mark.parametrize(
    ("q", "z"),
    [(0.5, 0.0), (0.975, 1.959964), (0.025, -1.959964), (0.9, 1.281552), (0.01, -2.326348), (0.999, 3.090232)],
)
def test_normal_ppf_known_quantiles(q, z):
    assert _normal_ppf(q) == pytest.approx(z, abs=1e-6)
    assert math.isclose(_normal_ppf(q), -_normal_ppf(1 - q), abs_tol=1e-9)


# --- the sample size a precision target needs (SPEC "Reviews") ----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hst  # noqa: E402

from app.domain.stats import wilson_half_width, wilson_sample_size  # noqa: E402


@settings(max_examples=400, deadline=None)
@given(
    correct=hst.integers(0, 500),
    extra=hst.integers(0, 500),
    target=hst.floats(0.005, 0.5, allow_nan=False),
)
def test_the_sample_size_gives_a_wilson_interval_within_the_target(correct, extra, target):
    reviewed = correct + extra
    share = correct / reviewed if reviewed else None
    n = wilson_sample_size(share, target)
    p = 0.5 if share is None else share
    # At that size the 95% Wilson interval of that accuracy is within ±target …
    low, high = wilson_interval(p * n, n)
    assert (high - low) / 2 <= target
    assert wilson_half_width(p, n) <= target
    # … and it is the smallest such size.
    if n > 1:
        low, high = wilson_interval(p * (n - 1), n - 1)
        assert (high - low) / 2 > target


def test_sample_sizes_by_hand():
    assert wilson_sample_size(None, 0.05) == 381  # nothing reviewed: planned at 50%
    assert wilson_sample_size(0.5, 0.05) == 381
    assert wilson_sample_size(1.0, 0.05) == 35  # Wilson's interval never collapses to nothing
    assert wilson_sample_size(0.9, 0.05) < wilson_sample_size(0.7, 0.05) < wilson_sample_size(0.5, 0.05)
    with pytest.raises(ValueError):
        wilson_sample_size(0.5, 0)
