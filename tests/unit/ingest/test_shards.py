"""Feeding the builder from forked processes: the same snapshot bytes, and loud failures."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scameter.errors import IngestError
from scameter.index import Snapshot, SnapshotBuilder, publish
from scameter.ingest import Policy
from scameter.ingest.adapters import AdapterOptions
from scameter.ingest.aggregate import Aggregator
from scameter.ingest.granularity import Granularity
from scameter.ingest.shards import MIN_PER_SHARD, feed_builder, shard_count
from scameter.ingest.worker import process_chunk
from scameter.processes import can_fork
from scameter.verdict import Level

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
OPTS = AdapterOptions(reporter_key=b"k")

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork (Linux, one thread)")


def _rows() -> list[dict[str, object]]:
    """Phones, dedicated and platform URLs, clusters, an allowlisted official domain (a
    brand), a delisting, several categories and sources: every part of a builder part."""
    rows: list[dict[str, object]] = []
    for i in range(600):
        idents: list[dict[str, str]] = [{"kind": "phone", "value": f"9{i % 211:03d} {i:04d}"}]
        if i % 4 == 0:
            idents.append({"kind": "url", "value": f"http://scam{i % 97}-shop.example/pay"})
        if i % 9 == 0:
            idents.append({"kind": "url", "value": f"https://bit.ly/x{i % 13}"})
        if i % 11 == 0:
            idents.append({"kind": "email", "value": f"agent{i % 17}@mail.example"})
        rows.append({
            "source": ("public", "police", "bank", "feed")[i % 4],
            "status": "confirmed" if i % 3 == 0 else "unverified",
            "reported_at": f"2026-11-{1 + i % 19:02d}",
            "reporter": f"u{i % 41}",
            "category": ("investment", "shopping", "romance")[i % 3],
            "identifiers": idents,
        })  # fmt: skip
    rows.append({"type": "allow", "kind": "domain", "value": "hsbc.com.hk", "owner": "HSBC"})
    rows.append({"type": "allow", "kind": "phone", "value": "2233 3322", "owner": "HSBC"})
    rows.append({"type": "delist", "kind": "phone", "value": "9000 0000", "reason": "appeal"})
    return rows


def _aggregator() -> Aggregator:
    block = ("\n".join(json.dumps(r) for r in _rows()) + "\n").encode()
    res = process_chunk("jsonl", OPTS, "r.jsonl", 1, block)
    assert not res.rejects
    agg = Aggregator(Policy(), AS_OF)
    agg.add_events(res.events)
    return agg


def _build(root: Path, shards: int, chunk: int = 500_000) -> str:
    agg = _aggregator()
    gran = Granularity.default()
    with SnapshotBuilder(root, as_of=AS_OF, parent=None, chunk=chunk) as builder:
        feed_builder(builder, agg, gran, agg.decide(), shards)
        manifest = builder.build()
    publish(root, manifest.snapshot_id)
    return manifest.checksum


@pytest.mark.parametrize("chunk", [500_000, 37], ids=["in-memory", "spilled"])
def test_sharded_builds_write_the_serial_snapshot(tmp_path: Path, chunk: int) -> None:
    serial = _build(tmp_path / "s1", 1, chunk)
    assert _build(tmp_path / "s2", 2, chunk) == serial
    assert _build(tmp_path / "s3", 3, chunk) == serial
    with Snapshot.open_current(tmp_path / "s3") as snap:
        assert snap.check("https://hsbc.com.hk/login").level is Level.VERIFIED
        assert snap.check("http://scam4-shop.example/other").level is not Level.NO_RECORD
        assert snap.check("9000 0000", "phone").level is Level.NO_RECORD  # delisted
        linked = snap.check("9004 0004", "phone")
        assert linked.level is not Level.NO_RECORD
        assert linked.cluster_size is not None
        assert linked.cluster_size > 1
    # Nothing of the parts is left behind: only the snapshot, CURRENT and no temporaries.
    names = sorted(p.name for p in (tmp_path / "s3").iterdir())
    assert len(names) == 2
    assert "CURRENT" in names


def test_the_same_checksum_as_a_spilled_serial_build(tmp_path: Path) -> None:
    assert _build(tmp_path / "a", 2, chunk=41) == _build(tmp_path / "b", 1)


def test_a_failing_part_fails_the_build_and_leaves_no_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self: SnapshotBuilder) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(SnapshotBuilder, "finish_part", boom)
    with pytest.raises(IngestError, match="build process 1 failed: RuntimeError: disk full"):
        _build(tmp_path, 2)
    assert list(tmp_path.iterdir()) == []  # the builder's temporary directory is gone too


def test_a_part_process_that_dies_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(self: SnapshotBuilder) -> None:
        os._exit(3)

    monkeypatch.setattr(SnapshotBuilder, "finish_part", die)
    with pytest.raises(IngestError, match=r"ended without its records \(exit code 3\)"):
        _build(tmp_path, 2)
    assert list(tmp_path.iterdir()) == []


def test_a_label_not_interned_first_is_refused(tmp_path: Path) -> None:
    agg = _aggregator()
    with SnapshotBuilder(tmp_path, as_of=AS_OF, parent=None) as builder:
        builder.start_part("p1")
        for record in agg.records(Granularity.default()):
            builder.add(record)
        with pytest.raises(RuntimeError, match="intern"):
            builder.finish_part()


@pytest.mark.parametrize(
    ("identifiers", "workers", "expected"),
    [
        (10, 2, 1),
        (2 * MIN_PER_SHARD - 1, 2, 1),
        (2 * MIN_PER_SHARD, 2, 2),
        (10 * MIN_PER_SHARD, 2, 2),
        (10 * MIN_PER_SHARD, 4, 4),
        (3 * MIN_PER_SHARD, 4, 3),
        (10 * MIN_PER_SHARD, 1, 1),
    ],
)
def test_shard_count(identifiers: int, workers: int, expected: int) -> None:
    assert shard_count(identifiers, workers) == expected


def _build_with_evidence(root: Path, shards: int, *, parallel: bool) -> str:
    from scameter.index.spill import ExternalSorter

    agg = _aggregator()
    gran = Granularity.default()
    root.mkdir(parents=True)
    with SnapshotBuilder(root, as_of=AS_OF, parent=None, chunk=53, parallel=parallel) as b:
        evidence = ExternalSorter(root, "ev", chunk=53)
        for i in range(300):
            evidence.add(f"key{i % 120:04d}".encode(), b'{"n":%d}' % i)
        b.set_evidence(evidence, {})
        feed_builder(b, agg, gran, agg.decide(), shards)
        return b.build().checksum


def test_the_wait_for_the_parts_spills_and_starts_the_evidence_merge_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scameter.index import builder as builder_module
    from scameter.index import writers

    serial = _build_with_evidence(tmp_path / "serial", 1, parallel=False)
    jobs: list[int] = []
    real = writers.EvidenceJob.__init__

    def spy(self: writers.EvidenceJob, evidence: object, out: Path) -> None:
        jobs.append(len(jobs))
        real(self, evidence, out)  # type: ignore[arg-type]

    monkeypatch.setattr(builder_module, "EVIDENCE_FORK_MIN", 1)
    monkeypatch.setattr(writers.EvidenceJob, "__init__", spy)
    assert _build_with_evidence(tmp_path / "parts", 2, parallel=True) == serial
    assert jobs == [0]  # forked once, while waiting for the part: not again at build
