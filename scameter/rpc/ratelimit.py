"""Per-key token buckets.

Responsibility: decide, in constant time and without a background thread, whether one more
request from a key fits its configured rate.

Invariants:
* A bucket holds at most ``burst`` tokens and refills continuously at ``rate`` tokens per
  second; one RPC costs one token (a CheckBatch too: bulk keys are sized by calls, not items).
* The clock is injected (monotonic seconds) so tests drive time instead of sleeping.
* Buckets are per worker process: with N workers a key can reach up to N x its rate if its
  connections land on different workers (docs/operations.md, "Rate limits").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    """A classic token bucket (RFC 2697's single-rate idea without colours)."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self._tokens = self.burst
        self._stamp = self.clock()

    def try_take(self, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens if available; never blocks."""
        with self._lock:
            now = self.clock()
            tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if tokens >= cost:
                self._tokens = tokens - cost
                return True
            self._tokens = tokens
            return False

    def retry_after(self, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens will be available (0 if they are now)."""
        with self._lock:
            missing = cost - self._tokens
        return max(0.0, missing / self.rate)


__all__ = ["TokenBucket"]
