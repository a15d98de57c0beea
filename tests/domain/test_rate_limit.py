"""The token bucket of the API (app/domain/rate_limit.py), on a clock moved by hand."""

import pytest

from app.domain.rate_limit import RateLimiter, retry_after


def test_bursts_then_the_steady_rate():
    now = [0.0]
    limiter = RateLimiter(rate=20, burst=40, clock=lambda: now[0])
    assert [limiter.take("k") for _ in range(40)] == [0.0] * 40
    wait = limiter.take("k")
    assert wait == pytest.approx(1 / 20)
    now[0] += 0.5  # ten tokens back
    assert sum(1 for _ in range(12) if limiter.take("k") == 0.0) == 10
    assert limiter.take("other") == 0.0  # each key has its own bucket


def test_a_refused_request_takes_nothing_and_the_bucket_never_overfills():
    now = [0.0]
    limiter = RateLimiter(rate=1, burst=2, clock=lambda: now[0])
    limiter.take("k"), limiter.take("k")
    for _ in range(5):
        assert limiter.take("k") > 0
    now[0] += 1.0
    assert limiter.take("k") == 0.0
    now[0] += 1000.0
    assert [limiter.take("k") for _ in range(3)][:2] == [0.0, 0.0]


def test_retry_after_is_whole_seconds_at_least_one():
    assert retry_after(0.05) == 1 and retry_after(1.2) == 2


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        RateLimiter(rate=0)
    with pytest.raises(ValueError):
        RateLimiter(burst=0)
