"""Token buckets: sustained rate and burst per key (a principal), in this process."""

from __future__ import annotations

import time

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def _refilled(self, key: str, now: float) -> float:
        """The tokens in ``key``'s bucket at ``now`` (a new key's bucket is full)."""
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - stamp) * self.rate)

    def take(self, key: str, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens of ``key``'s bucket; False when there are not enough."""
        now = time.monotonic()
        tokens = self._refilled(key, now)
        if tokens < cost:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - cost, now)
        return True

    def take_up_to(self, key: str, n: int) -> int:
        """Spend one token of ``key``'s bucket for each of up to ``n`` requests at once (a
        ``pubs`` frame's alerts): how many got one, the first that many, as ``n`` calls
        of :meth:`take` in a row would say (bar the refill of the microseconds between
        them)."""
        now = time.monotonic()
        tokens = self._refilled(key, now)
        granted = min(n, int(tokens)) if tokens >= 1 else 0
        self._buckets[key] = (tokens - granted, now)
        return granted
