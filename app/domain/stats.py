"""Small statistics: rates with their sample size, Wilson intervals and the sample they need, Poisson quantiles."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Rate:
    """A share ``numerator / denominator``; ``value`` is None when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    def wilson(self, z: float = Z95) -> tuple[float, float] | None:
        """The Wilson score interval (95% by default), or None without a sample."""
        return wilson_interval(self.numerator, self.denominator, z)

    def format(self) -> str:
        """``"87.5%"``, or ``"—"`` when there is no denominator (never 0% or 100%)."""
        return format_share(self.value)


def format_share(value: float | None) -> str:
    """A share as a percentage with one decimal, ``"—"`` when undefined."""
    return "—" if value is None else f"{value * 100:.1f}%"


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a binomial proportion.

    Parameters
    ----------
    successes, n : int
        Successes and trials, ``0 <= successes <= n``; ``successes`` may be an
        expected (fractional) count, as :func:`wilson_sample_size` plans with.
    z : float
        Normal quantile; 1.96 gives a 95% interval.

    Returns
    -------
    tuple of float or None
        ``(low, high)`` within [0, 1], or None when ``n == 0``.
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return None
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _wilson_low(p: float, n: float, z: float) -> float:
    # The Wilson lower bound for a share p over n trials (n may be any positive number).
    z2 = z * z
    denom = 1 + z2 / n
    return ((p + z2 / (2 * n)) - z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / denom


def more_to_clear(successes: int, n: int, target: float, z: float = Z95, cap: int = 10**9) -> int | None:
    """How many more trials, at the share seen so far, lift the Wilson lower bound to ``target``.

    Parameters
    ----------
    successes, n : int
        The sample so far, ``0 <= successes <= n``, ``n > 0``.
    target : float
        A share in [0, 1].
    z : float
        Normal quantile (95% by default).
    cap : int
        The largest answer looked for.

    Returns
    -------
    int or None
        0 when the lower bound already reaches ``target``; else the smallest
        ``m >= 1`` with ``low(successes / n, n + m) >= target`` (the share held
        exactly as it is, so a 5 of 5 sample against 90% needs 30 more:
        ``1 / (1 + z²/35) >= 0.9``); None when no count up to ``cap`` does (a
        share at or below its target never clears it).
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes} of {n}")
    p = successes / n
    if _wilson_low(p, n, z) >= target:
        return 0
    if p <= target:
        return None
    # The lower bound rises with n towards p: double until it clears, then halve the gap.
    hi = 1
    while _wilson_low(p, n + hi, z) < target:
        hi *= 2
        if hi > cap:
            return None
    lo = hi // 2  # does not clear (or 0, checked above)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _wilson_low(p, n + mid, z) >= target:
            hi = mid
        else:
            lo = mid
    return hi


def wilson_half_width(share: float, n: int, z: float = Z95) -> float:
    """Half the width of the Wilson interval (``(high - low) / 2``) of a share ``share`` observed over ``n`` trials.

    What "±5 points" means for an accuracy: the interval is no wider than 10
    points. Clipping to [0, 1] only ever narrows it.
    """
    low, high = wilson_interval(share * n, n, z)
    return (high - low) / 2


def wilson_sample_size(share: float | None, half_width: float, z: float = Z95) -> int:
    """The fewest reviews at which an accuracy of ``share`` has a Wilson interval no wider than ``±half_width``.

    Parameters
    ----------
    share : float or None
        The accuracy expected (the current one); None when nothing is reviewed
        yet, planned as 0.5, the share that needs the most reviews.
    half_width : float
        The precision target, as a share (0.05 for ±5 points); in (0, 0.5].
    z : float
        Normal quantile; 1.96 gives a 95% interval.

    Returns
    -------
    int
        The smallest ``n >= 1`` with :func:`wilson_half_width` ``(share, n) <= half_width``.

    Notes
    -----
    With ``q = 1 - p`` the half-width is ``z * sqrt(p*q*n + z²/4) / (n + z²)``,
    which falls as ``n`` grows (its derivative has the sign of
    ``-p*q*n - z²*(1/2 - p*q)``), so the answer is the larger root of
    ``h² (n + z²)² = z² (p*q*n + z²/4)``, made exact against the interval
    itself by a step either way.
    """
    if not 0 < half_width <= 0.5:
        raise ValueError(f"the precision target must be above 0 and at most 0.5, got {half_width}")
    p = 0.5 if share is None else float(share)
    if not 0 <= p <= 1:
        raise ValueError(f"the share must be between 0 and 1, got {share}")
    z2 = z * z
    pq = p * (1 - p)
    # h² n² + (2 h² z² - z² pq) n + (h² z⁴ - z⁴ / 4) >= 0
    a = half_width * half_width
    b = 2 * a * z2 - z2 * pq
    c = a * z2 * z2 - z2 * z2 / 4
    n = max(1, math.ceil((-b + math.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a)))
    while n > 1 and wilson_half_width(p, n - 1, z) <= half_width:
        n -= 1
    while wilson_half_width(p, n, z) > half_width:
        n += 1
    return n


def poisson_quantile(q: float, lam: float) -> int:
    """Smallest ``k`` with ``P(X <= k) >= q`` for ``X ~ Poisson(lam)``.

    Exact summation of the distribution up to a mean of 10,000; beyond that
    the normal approximation with continuity correction, whose error there is
    far below one outcome in a thousand.
    """
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q}")
    if lam < 0:
        raise ValueError(f"lam must not be negative, got {lam}")
    if lam == 0:
        return 0
    if lam > 10_000:
        z = _normal_ppf(q)
        return max(0, math.ceil(lam + z * math.sqrt(lam) - 0.5))
    # Track the pmf in log space: exp(-lam) underflows to 0 for large means, its log does not.
    k = 0
    log_pmf = -lam
    cdf = math.exp(log_pmf)
    while cdf < q:
        k += 1
        log_pmf += math.log(lam) - math.log(k)
        cdf += math.exp(log_pmf)
        if k > lam + 50 * math.sqrt(lam) + 50:  # numerical guard; unreachable for q < 1 - 1e-12
            break
    return k


def _normal_ppf(q: float) -> float:
    """Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    low = 0.02425
    if q < low:
        r = math.sqrt(-2 * math.log(q))
        return (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / (
            (((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
    if q > 1 - low:
        return -_normal_ppf(1 - q)
    r = q - 0.5
    s = r * r
    return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (
        ((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1)
