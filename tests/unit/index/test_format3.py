"""Format 3.0 (issue 21, bytes per identifier): the 26-byte header with an optional cluster
block, case ids in the side file ``evidence.mdb`` (never mapped by lookups, opened on first
use), ordinals in chunks, 6-byte ``hashes`` entries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scameter.errors import SnapshotCorrupt
from scameter.identifiers import Kind
from scameter.index import Snapshot
from scameter.index import format as fmt
from scameter.verdict import Level
from tests.unit.index.helpers import build, rec

N = 2 * fmt.ORDINALS_PER_CHUNK + 17  # three ordinal chunks, the last one short


def _records() -> list:  # type: ignore[type-arg]
    out = [
        rec(
            Kind.PHONE,
            f"+8529{i:07d}",
            Level.HIGH_RISK if i % 3 else Level.POSSIBLE,
            report_count=i + 1,
            first_reported=1_790_000_000 + i,
            last_reported=1_790_000_100 + i,
            case_ids=(f"c{i}", f"d{i}") if i % 2 else (),
            case_count=(5 + i) if i % 2 else 0,
            cluster=7 if i < 4 else None,
        )
        for i in range(N)
    ]
    out.append(rec(Kind.PHONE, "+85223456789", Level.VERIFIED, owner="Bank"))
    return out


@pytest.fixture
def snapdir(tmp_path: Path) -> Path:
    return tmp_path / build(tmp_path, _records())


def test_every_record_exports_as_built_with_its_case_ids(snapdir: Path) -> None:
    want = {(r.identifier.value, r.level): r for r in _records()}
    with Snapshot.open(snapdir) as s:
        got = list(s.export())
    assert len(got) == len(want)
    for r in got:
        w = want[r.identifier.value, r.level]
        assert (r.report_count, r.first_reported, r.last_reported, r.owner) == (
            w.report_count,
            w.first_reported,
            w.last_reported,
            w.owner,
        )
        assert (r.case_ids, r.case_count) == (w.case_ids, w.case_count)
        assert (r.cluster is None) == (w.cluster is None)


def test_by_ordinal_crosses_chunks_and_stops_at_the_end(snapdir: Path) -> None:
    with Snapshot.open(snapdir) as s:
        r = s.reader
        keys = [r.by_ordinal(i) for i in range(N + 1)]
        assert all(k is not None for k in keys)
        assert [k[1] for k in keys if k] == sorted(k[1] for k in keys if k)
        assert r.by_ordinal(N + 1) is None
        assert r.by_ordinal(-1) is None


def _side_open(s: Snapshot) -> bool:
    """Whether the snapshot's reader has mapped its side file."""
    return s.reader._side is not None


def test_lookups_never_open_the_side_file(snapdir: Path) -> None:
    with Snapshot.open(snapdir) as s:
        v = s.check("+85290000001", Kind.PHONE)
        assert v.level is Level.HIGH_RISK
        assert v.report_count == 2
        assert not _side_open(s)
        members = s.related("+85290000001", Kind.PHONE)
        assert _side_open(s)
        assert {m.canonical for m in members} == {f"+8529{i:07d}" for i in range(4)}
        one = next(m for m in members if m.canonical == "+85290000001")
        assert (one.case_ids, one.case_count) == (("c1", "d1"), 6)


def test_a_damaged_case_block_is_an_error_naming_the_side_file(snapdir: Path) -> None:
    side = snapdir / fmt.SIDE_FILE
    raw = bytearray(side.read_bytes())
    at = raw.find(b"\x02\x00c1\x02\x00d1") + 2  # the case ids of +85290000001
    assert at > 2
    raw[at] ^= 0x20
    side.write_bytes(bytes(raw))
    with Snapshot.open(snapdir) as s:
        assert s.check("+85290000001", Kind.PHONE).level is Level.HIGH_RISK  # lookups unharmed
        with pytest.raises(SnapshotCorrupt, match=r"evidence\.mdb"):
            s.related("+85290000001", Kind.PHONE)


def test_a_truncated_side_file_is_refused_when_first_opened(snapdir: Path) -> None:
    side = snapdir / fmt.SIDE_FILE
    os.truncate(side, side.stat().st_size - 4096)
    with Snapshot.open(snapdir) as s, pytest.raises(SnapshotCorrupt, match="side file is"):
        s.related("+85290000001", Kind.PHONE)


def test_header_sizes_and_clustered_layout() -> None:
    labels = fmt.label_block([1], [2], [3])
    plain = fmt.pack_record(1, 4, b"+85290000001", True, labels, 3, 2, 5, 6, None, None, None)
    clustered = fmt.pack_record(1, 4, b"+85290000001", True, labels, 3, 2, 5, 6, 9, None, None)
    assert fmt.HEADER.size == 26
    assert len(clustered) - len(plain) == fmt.CLUSTER.size == 13
    r = fmt.decode_record(fmt.seal(clustered), ["a", "b", "c", "d"])
    assert (r.cluster, r.first, r.last, r.reasons, r.categories, r.sources) == (
        9,
        5,
        6,
        ("b",),
        ("c",),
        ("d",),
    )
    assert fmt.record_canonical(fmt.seal(clustered)) == "+85290000001"


@pytest.mark.parametrize("t", [-1, 1 << 32])
def test_a_time_outside_u32_is_refused(t: int) -> None:
    labels = fmt.label_block([], [], [])
    with pytest.raises(ValueError, match="outside 1970"):
        fmt.pack_record(1, 4, b"+85290000001", True, labels, 1, 1, t, None, None, None, None)
