"""Evidence buffered for the sorter costs about its own size in memory, not a 4 KiB buffer."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from scameter.ingest.evidence import EvidenceCollector, decode_events, encode_event


def _event(i: int) -> tuple[object, ...]:
    return (0, 1, 1791527905 + i, 1, 1, 14306319999473554623, "investment",
            (f"~phone:+8525{i:07d}",), "reports.jsonl", f"s{i}")  # fmt: skip


def test_buffered_events_cost_tens_of_bytes_over_their_size(tmp_path: Path) -> None:
    n = 20_000
    collector = EvidenceCollector(tmp_path, lambda _ev: True, chunk=10 * n)
    events = [_event(i) for i in range(n)]
    try:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        collector.add(events)
        per_event = (tracemalloc.get_traced_memory()[0] - before) / n
        tracemalloc.stop()
        # A key (41 B), the encoded event (~130 B), the pair (56 B) and a list slot: ~250 B.
        # orjson's own bytes objects kept a 4 KiB buffer each (4,097 B measured).
        assert per_event < 600, per_event
        assert collector.events == n
    finally:
        collector.close()


def test_encoded_events_round_trip() -> None:
    ev = _event(7)
    assert decode_events(b"[" + encode_event(ev) + b"]") == [ev]
