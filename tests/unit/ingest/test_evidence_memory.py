"""Evidence buffered for the sorter costs about its own size in memory, not a 4 KiB buffer."""

from __future__ import annotations

import tracemalloc
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import orjson

from scameter.ingest.evidence import EvidenceCollector, decode_events, encode_event


def _event(i: int) -> tuple[object, ...]:
    return (0, 1, 1791527905 + i, 1, 1, 14306319999473554623, "investment",
            (f"~phone:+8525{i:07d}",), "reports.jsonl", f"s{i}")  # fmt: skip


def test_buffered_events_cost_tens_of_bytes_over_their_size(tmp_path: Path) -> None:
    n = 20_000
    counts_all: defaultdict[tuple[int, int], tuple[int, int]] = defaultdict(lambda: (1, 0))
    # every (source, status): flag 1, no window
    collector = EvidenceCollector(tmp_path, counts_all, chunk=10 * n)
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


def test_evidence_encoded_in_a_worker_is_filed_as_the_collector_files_it(tmp_path: Path) -> None:
    """The parse workers encode each chunk's evidence (the main process only files the
    pairs): the same pairs, in the same order, as encoding the events where they land, with
    rejected reports and reports before their window left out alike."""
    from scameter.ingest.adapters import AdapterOptions
    from scameter.ingest.aggregate import Aggregator
    from scameter.ingest.evidence import process_chunk_with_evidence
    from scameter.ingest.policy import Policy

    rows = [
        {"source": "public", "reported_at": f"2026-{m:02d}-03", "reporter": f"u{i}",
         "identifiers": [f"+8529{i:07d}", f"+8526{i:07d}"], "status": status}
        for i, (m, status) in enumerate(
            [(11, "confirmed"), (1, "confirmed"), (11, "rejected"), (10, "unverified")]
        )
    ]  # fmt: skip
    payload = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    agg = Aggregator(Policy(official_entities=False), datetime(2026, 11, 26, tzinfo=UTC))
    rules = agg.count_rules()
    opts = AdapterOptions(reporter_key=b"test-key")
    res = process_chunk_with_evidence(rules, "jsonl", opts, "t", 1, payload)
    assert len(res.events) == 4
    assert not res.rejects
    by_worker = EvidenceCollector(tmp_path, rules, chunk=3)
    here = EvidenceCollector(tmp_path, rules, chunk=3)
    try:
        by_worker.add_encoded(res.evidence)
        here.add(res.events)
        assert by_worker.events == here.events == 2  # the rejected and the aged-out one left
        assert by_worker.sorter is not None
        assert here.sorter is not None
        assert list(by_worker.sorter.sorted()) == list(here.sorter.sorted())
    finally:
        by_worker.close()
        here.close()
