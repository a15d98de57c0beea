"""A token bucket per API key: a steady rate with bursts, on an injected clock.

Each key may make ``rate`` requests a second on average and ``burst`` at once.
The clock is a function returning seconds (monotonic), passed in, so tests move
time by hand instead of sleeping. The buckets live in the process: with several
servers, each allows the rate (the README says so).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

DEFAULT_RATE = 20.0
DEFAULT_BURST = 40
# Past this many keys, buckets that are full again are dropped (they hold nothing a new one would not).
_MAX_BUCKETS = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Allows ``rate`` requests a second per key, with bursts of ``burst``.

    Parameters
    ----------
    rate : float
        Tokens added per second (> 0).
    burst : int
        Size of the bucket (>= 1): how many requests may come at once.
    clock : callable, optional
        Seconds, monotonic. Default :func:`time.monotonic`.
    """

    def __init__(self, rate: float = DEFAULT_RATE, burst: int = DEFAULT_BURST, clock: Callable[[], float] | None = None):
        if not rate > 0 or burst < 1:
            raise ValueError("rate must be above 0 and burst at least 1")
        self.rate = float(rate)
        self.burst = int(burst)
        self._clock = clock or time.monotonic
        self._buckets: dict[Hashable, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> float:
        """Take one token for ``key``.

        Returns
        -------
        float
            0 when the request may go ahead; otherwise the seconds to wait before
            a token is free (the request is refused and takes nothing).
        """
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= _MAX_BUCKETS:
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + max(0.0, now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]


def retry_after(wait: float) -> int:
    """``Retry-After`` in whole seconds (at least 1) for a wait of ``wait`` seconds."""
    return max(1, math.ceil(wait))
