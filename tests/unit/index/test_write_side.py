"""The writing side of a build (issue 21): the evidence merged and the phone ranges counted in
forked processes, and the ``hashes`` table resolved by numpy, leave the bytes of the serial,
per-record build."""

from __future__ import annotations

from array import array
from pathlib import Path

import lmdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from scameter.errors import SnapshotError
from scameter.identifiers import Kind
from scameter.index import Snapshot, SnapshotBuilder, writers
from scameter.index import builder as builder_module
from scameter.index import format as fmt
from scameter.index.spill import BytesSorter, ExternalSorter
from scameter.processes import can_fork
from scameter.verdict import Level
from tests.unit.index.helpers import AS_OF, rec

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork (Linux, one thread)")

RECORDS = [
    *(rec(Kind.PHONE, f"+8529123{i:04d}", Level.HIGH_RISK) for i in range(300)),
    *(rec(Kind.DOMAIN, f"scam{i:03d}.example", Level.SUSPICIOUS) for i in range(40)),
    *(rec(Kind.URL, f"https://bad{i}.example/pay?x={i}", Level.POSSIBLE) for i in range(40)),
]


def _build(root: Path, *, parallel: bool, chunk: int = 500_000) -> str:
    root.mkdir(parents=True, exist_ok=True)
    with SnapshotBuilder(root, as_of=AS_OF, parent=None, parallel=parallel, chunk=chunk) as b:
        evidence = ExternalSorter(root, "ev-test", chunk=chunk)
        for i, r in enumerate(RECORDS):
            for j in range(1 + i % 3):  # several values a key, in the order added
                evidence.add(r.identifier.key, b'{"e":%d}' % (i * 10 + j))
        b.set_evidence(evidence, {"/intake.log": 7})
        for r in RECORDS:
            b.add(r)
        return b.build().snapshot_id


@pytest.mark.parametrize("chunk", [500_000, 97], ids=["in-memory", "spilled"])
def test_forked_evidence_merge_writes_the_serial_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    serial = _build(tmp_path / "serial", parallel=False, chunk=chunk)
    forked_calls: list[Path] = []
    real = writers.EvidenceJob.__init__

    def spy(self: writers.EvidenceJob, evidence: ExternalSorter, out: Path) -> None:
        forked_calls.append(out)
        real(self, evidence, out)

    ranges: list[int] = []
    real_ranges = writers.RangesJob.finish

    def spy_ranges(self: writers.RangesJob, env: object, db: object) -> None:
        ranges.append(1)
        real_ranges(self, env, db)

    monkeypatch.setattr(builder_module, "FORK_SIDE_JOBS", True)
    monkeypatch.setattr(builder_module, "EVIDENCE_FORK_MIN", 1)
    monkeypatch.setattr(builder_module, "RANGES_FORK_MIN", 1)
    monkeypatch.setattr(writers.EvidenceJob, "__init__", spy)
    monkeypatch.setattr(writers.RangesJob, "finish", spy_ranges)
    forked = _build(tmp_path / "forked", parallel=True, chunk=chunk)
    assert forked_calls  # the jobs did run
    assert ranges == [1]
    assert forked == serial  # the id carries the content checksum (every file's hash)
    with Snapshot.open(tmp_path / "forked" / forked) as snap:
        assert snap.check("+85291230005", Kind.PHONE).level is Level.HIGH_RISK
    assert not [p for p in (tmp_path / "forked").iterdir() if p.name.startswith(".tmp")]


def test_a_failing_evidence_process_fails_the_build_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spawned merge fails (a run file it was handed is gone): the build fails, naming
    it, and leaves no temporary directory."""
    real = writers.EvidenceJob.__init__

    def lose_a_run(self: writers.EvidenceJob, evidence: ExternalSorter, out: Path) -> None:
        evidence.spill_buffer()
        next((tmp_path / "s").glob("ev-test.*.bucket")).unlink()
        real(self, evidence, out)

    monkeypatch.setattr(builder_module, "EVIDENCE_FORK_MIN", 1)
    monkeypatch.setattr(writers.EvidenceJob, "__init__", lose_a_run)
    with pytest.raises(SnapshotError, match=r"evidence build process failed \(exit 1\)"):
        _build(tmp_path / "s", parallel=True, chunk=97)
    assert not [p for p in (tmp_path / "s").iterdir() if p.name.startswith(".tmp")]


def _hash_items(items: list[bytes], tmp_path: Path) -> BytesSorter:
    sorter = BytesSorter(tmp_path, "h")
    for item in items:
        sorter.add(item)
    return sorter


def test_hash_groups_resolve_ordinals_drop_duplicates_and_unknown_keys(tmp_path: Path) -> None:
    import numpy as np

    keys = np.array([5, 9, 9, 1 << 63], dtype=np.uint64)  # ordinals 0..3, (key, table) order
    tables = np.array([0, 0, 1, 0], dtype=np.uint8)

    def item(h: int, table: int, key: int) -> bytes:
        return h.to_bytes(4, "big") + bytes((table,)) + key.to_bytes(8, "big")

    items = [
        item(0x0001_0002, 1, 9),  # ordinal 2 (the allow entry of key 9)
        item(0x0001_0002, 1, 9),  # a duplicate: once
        item(0x0001_0003, 0, 9),  # ordinal 1
        item(0x0002_0001, 0, 1 << 63),  # ordinal 3
        item(0x0003_0000, 0, 7),  # no such record: skipped
        item(0x0003_0001, 1, 5),  # key 5 only in table 0: skipped
    ]
    got = list(writers._hash_groups(_hash_items(items, tmp_path).sorted(), keys, tables))
    u32 = fmt.U32.pack
    assert got == [
        (b"\x00\x01", b"\x00\x02" + u32(2) + b"\x00\x03" + u32(1)),
        (b"\x00\x02", b"\x00\x01" + u32(3)),
    ]


def test_hash_groups_join_a_bucket_split_over_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    monkeypatch.setattr(writers, "_HASH_BATCH", 2)
    keys = np.arange(10, dtype=np.uint64)
    tables = np.zeros(10, dtype=np.uint8)
    items = [i.to_bytes(4, "big") + b"\x00" + i.to_bytes(8, "big") for i in range(5)]
    items.append(items[-1])  # a duplicate in the next batch
    got = list(writers._hash_groups(_hash_items(items, tmp_path).sorted(), keys, tables))
    assert [bucket for bucket, _ in got] == [b"\x00\x00"]
    assert len(got[0][1]) == 5 * 6


def test_hash_items_of_another_size_are_refused(tmp_path: Path) -> None:
    import numpy as np

    empty = np.zeros(0, dtype=np.uint64)
    with pytest.raises(ValueError, match="13 bytes"):
        list(writers._hash_groups(iter([b"short"]), empty, empty.astype(np.uint8)))


def test_ordinal_keys_read_every_chunk(tmp_path: Path) -> None:
    env = lmdb.open(str(tmp_path), max_dbs=2)
    db = env.open_db(b"ordinals")
    entries = [bytes((i % 2,)) + (i * 3).to_bytes(8, "big") for i in range(1000)]
    with env.begin(write=True, db=db) as txn:
        for c in range(0, 1000, fmt.ORDINALS_PER_CHUNK):
            txn.put(fmt.ORDINAL_KEY.pack(c), b"".join(entries[c : c + fmt.ORDINALS_PER_CHUNK]))
    keys, tables = writers._ordinal_keys(env, db)
    env.close()
    assert keys.tolist() == [i * 3 for i in range(1000)]
    assert tables.tolist() == [i % 2 for i in range(1000)]


@settings(max_examples=60)
@given(st.lists(st.integers(0, 3 << 16), unique=True, max_size=3000), st.booleans())
def test_bitmaps_added_one_ordinal_at_a_time_store_the_bytes_of_one_made_whole(
    values: list[int], with_run: bool
) -> None:
    """The build adds each record's ordinal to roaring bitmaps as it writes (not to arrays
    turned into bitmaps at the end): the stored bytes must be those of the whole array."""
    ordinals = sorted(values + (list(range(70_000, 75_000)) if with_run else []))
    one_by_one = BitMap()
    for o in ordinals:
        one_by_one.add(o)
    whole = array("I", ordinals)
    assert writers._serialized(one_by_one) == writers._serialized(whole)
    assert writers._serialized(whole) == bytes(BitMap(whole).serialize())


@settings(max_examples=60)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 1)), unique=True, max_size=60),
    st.lists(st.tuples(st.integers(0, 45), st.integers(0, 1)), max_size=80),
)
def test_ordinals_of_answers_every_query_in_its_own_order(
    table: list[tuple[int, int]], queries: list[tuple[int, int]]
) -> None:
    """The lookups run in key order, the answers come back in the queries' order."""
    import numpy as np

    rows = sorted(table)
    keys = np.array([k for k, _ in rows], dtype=np.uint64)
    tables = np.array([t for _, t in rows], dtype=np.uint8)
    qk = np.array([k for k, _ in queries], dtype=np.uint64)
    qt = np.array([t for _, t in queries], dtype=np.uint8)
    ordinals, found = writers._ordinals_of(qk, qt, keys, tables)
    where = {row: i for i, row in enumerate(rows)}
    assert found.tolist() == [q in where for q in queries]
    assert [int(o) for o, f in zip(ordinals, found, strict=True) if f] == [
        where[q] for q in queries if q in where
    ]
