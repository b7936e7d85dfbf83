"""A one-line progress bar (rows, rate, ETA) for long commands, on stderr, terminals only.

Responsibility: tell a person at a terminal how far ``bulk`` or ``ingest`` has got, without
ever touching the data stream (stdout) or a redirected stderr.

Invariants:
* When disabled (stderr not a terminal, or ``--progress never``), nothing is ever written:
  :class:`Progress` becomes a no-op, so piped output and logs stay clean.
* Redraws at most every ``interval`` seconds of the injected clock, so the per-chunk cost is
  a comparison, whatever the row rate.
* The ETA comes from bytes read over total bytes when the input size is known (a file), else
  only the rate is shown (stdin, pipes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

_BAR_WIDTH = 24


def _human_rate(rate: float) -> str:
    if rate >= 1e6:
        return f"{rate / 1e6:.1f}M"
    if rate >= 1e3:
        return f"{rate / 1e3:.0f}k"
    return f"{rate:.0f}"


def _clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Progress of a job measured in ``unit`` items, with ``total_bytes`` for the ETA."""

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool,
        total_bytes: int | None = None,
        unit: str = "rows",
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self.enabled = enabled
        self._total = total_bytes if total_bytes else None
        self._unit = unit
        self._interval = interval
        self._clock = clock
        self._start = clock()
        self._last = float("-inf")
        self._drawn = False
        self._stage = ""
        self.items = 0
        self.bytes_done = 0

    def stage(self, text: str) -> None:
        """Show what the job is doing now, after the figures (e.g. once the input is read:
        "building the snapshot"), redrawn at once."""
        self._stage = text
        if self.enabled:
            self._draw(self._clock())

    def set_total(self, total_bytes: int | None) -> None:
        """Set (or learn late) the input size the ETA is computed from."""
        self._total = total_bytes if total_bytes else None

    def update(self, items: int, bytes_done: int | None = None) -> None:
        """Add ``items`` done; ``bytes_done`` is the absolute input position, when known."""
        self.items += items
        if bytes_done is not None:
            self.bytes_done = bytes_done
        if not self.enabled:
            return
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        """The text of the bar at ``now`` (without the carriage return)."""
        now = self._clock() if now is None else now
        elapsed = max(now - self._start, 1e-9)
        rate = self.items / elapsed
        if self._unit == "bytes":
            text = f"{self.items / 1e6:,.1f} MB  {rate / 1e6:.1f} MB/s"
        else:
            text = f"{self.items:,} {self._unit}  {_human_rate(rate)} {self._unit}/s"
        if self._total:
            frac = min(1.0, self.bytes_done / self._total)
            filled = int(frac * _BAR_WIDTH)
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            eta = elapsed * (1 - frac) / frac if frac > 0 else 0.0
            text = f"{frac * 100:3.0f}% [{bar}] {text}"
            if not self._stage:
                text += f"  ETA {_clock_text(eta)}"
        if self._stage:
            text += f"  {self._stage}"
        return text

    def _draw(self, now: float) -> None:
        # \r returns to the start of the line; \x1b[K clears what a longer bar left behind.
        self._stream.write("\r" + self.line(now) + "\x1b[K")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the bar so the summary that follows starts on a clean line."""
        if self.enabled and self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Progress"]
