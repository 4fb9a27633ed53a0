"""In-memory token buckets, one per key (client address, phone number).

Per process: several hub processes each keep their own buckets, so the effective limit is
that many times higher. The oldest keys are dropped beyond ``max_keys``; a dropped key
starts again with a full bucket.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """``burst`` requests at once, then one every ``every_s`` seconds."""

    burst: float
    every_s: float


class TokenBuckets:
    """A token bucket per key; :meth:`take` says whether one more request is allowed."""

    def __init__(self, rate: Rate, max_keys: int = 50_000) -> None:
        self.rate, self.max_keys = rate, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> bool:
        """Take a token for ``key`` at monotonic time ``now``; False when none is left."""
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.rate.burst, now))
            tokens = min(self.rate.burst, tokens + max(0.0, now - at) / self.rate.every_s)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return allowed
