"""Per-key token buckets, shared by every worker of a server.

Responsibility: decide, in constant time and without a background thread, whether one more
request from a key fits its configured rate.

Invariants:
* A bucket holds at most ``burst`` tokens and refills continuously at ``rate`` tokens per
  second; one RPC costs one token (a CheckBatch too: bulk keys are sized by calls, not items).
* The clock is injected (monotonic seconds) so tests drive time instead of sleeping.
* :class:`SharedBuckets` keeps the buckets of a server in one anonymous shared mapping that the
  supervisor creates before it forks the workers, guarded by one process-shared lock: a key
  gets its rate across all workers together, whichever worker its connections land on. The
  clock is ``CLOCK_MONOTONIC``, the same in every process. A slot is found by the key's
  SHA-256 digest, so a key keeps its bucket across key-file reloads.
* :class:`TokenBucket` is the same arithmetic for one process (tests, embedding).
"""

from __future__ import annotations

import mmap
import multiprocessing
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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


#: One slot: the key digest's first 8 bytes (0: free), tokens, last refill time.
_SLOT = struct.Struct("<8sdd")


class SharedBuckets:
    """Token buckets in memory shared by a server's forked workers.

    Create it in the supervisor before forking; each worker then asks :meth:`bucket` for the
    bucket of a key. ``slots`` bounds the number of rate-limited keys (a full table is a
    configuration error at load time, never a silent pass).
    """

    def __init__(self, slots: int = 4096, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._slots = slots
        self._mem = mmap.mmap(-1, slots * _SLOT.size)  # anonymous + MAP_SHARED: kept over fork
        self._lock: Any = multiprocessing.get_context("fork").Lock()
        self.clock = clock

    def _find(self, tag: bytes) -> int:
        """The byte offset of ``tag``'s slot, claiming a free one (call under the lock)."""
        start = int.from_bytes(tag, "little") % self._slots
        for i in range(self._slots):
            off = ((start + i) % self._slots) * _SLOT.size
            have = self._mem[off : off + 8]
            if have == tag:
                return off
            if have == b"\0" * 8:
                self._mem[off : off + 8] = tag
                _SLOT.pack_into(self._mem, off, tag, -1.0, 0.0)  # tokens -1: not filled yet
                return off
        raise ValueError(f"more than {self._slots} rate-limited API keys")

    def bucket(self, digest: str, rate: float, burst: float) -> SharedBucket:
        """The shared bucket of the key whose SHA-256 hex digest is ``digest``."""
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        tag = bytes.fromhex(digest[:16]) or b"\1"
        with self._lock:
            off = self._find(tag)
        return SharedBucket(self, off, rate, burst)

    def _take(self, off: int, rate: float, burst: float, cost: float) -> tuple[bool, float]:
        with self._lock:
            tag, tokens, stamp = _SLOT.unpack_from(self._mem, off)
            now = self.clock()
            tokens = burst if tokens < 0 else min(burst, tokens + (now - stamp) * rate)
            ok = tokens >= cost
            if ok:
                tokens -= cost
            _SLOT.pack_into(self._mem, off, tag, tokens, now)
        return ok, tokens


@dataclass(slots=True)
class SharedBucket:
    """One key's bucket in a :class:`SharedBuckets` table (same interface as TokenBucket)."""

    table: SharedBuckets
    offset: int
    rate: float
    burst: float
    _tokens: float = 0.0

    def try_take(self, cost: float = 1.0) -> bool:
        ok, self._tokens = self.table._take(self.offset, self.rate, self.burst, cost)
        return ok

    def retry_after(self, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens will be there, as of this worker's last take."""
        return max(0.0, (cost - self._tokens) / self.rate)


__all__ = ["SharedBucket", "SharedBuckets", "TokenBucket"]
