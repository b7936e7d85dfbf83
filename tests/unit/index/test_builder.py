"""Builder behaviour: external sort, manifests, bitmaps, export, stats and diffs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from scameter.identifiers import Identifier, Kind, identifier_key
from scameter.identifiers.model import KIND_TAGS
from scameter.index import (
    FORMAT_VERSION,
    IndexPolicy,
    Manifest,
    Record,
    Snapshot,
    SnapshotBuilder,
    current_id,
    diff_snapshots,
)
from scameter.index.diff import DiffEntry
from scameter.index.format import LEVEL_CODES, decode_record, label_block, pack_record, seal
from scameter.verdict import Level, ReasonCode
from tests.unit.index.helpers import AS_OF, build, rec

HR, SU, PO, VE = Level.HIGH_RISK, Level.SUSPICIOUS, Level.POSSIBLE, Level.VERIFIED


def phones(n: int, level: Level, start: int = 0) -> list[Record]:
    return [rec(Kind.PHONE, f"+8526{start + i:07d}", level) for i in range(n)]


def test_record_round_trip() -> None:
    strings = ["police_confirmed", "investment", "police"]
    buf = pack_record(
        KIND_TAGS[Kind.URL][0],
        LEVEL_CODES[SU],
        "http://ex.com/ü".encode(),
        False,
        label_block([0], [1], [2]),
        7,
        3,
        None,
        1_700_000_000,
        2**40,
        "ex.com/",
        None,
    )
    r = decode_record(seal(buf), strings)
    assert (r.kind, r.canonical, r.valid, r.level) == (Kind.URL, "http://ex.com/ü", False, SU)
    assert (r.reasons, r.categories, r.sources) == (
        ("police_confirmed",),
        ("investment",),
        ("police",),
    )
    assert (r.first, r.last, r.cluster, r.listing, r.owner) == (
        None,
        1_700_000_000,
        2**40,
        "ex.com/",
        None,
    )


def test_policy_round_trips_through_manifest(tmp_path: Path) -> None:
    policy = IndexPolicy(phone_range_min_listed=5, brand_words=("login",))
    with Snapshot.open(tmp_path / build(tmp_path, phones(3, HR), policy=policy)) as s:
        assert s.manifest.index_policy == policy
        assert s.policy == policy


def test_manifest_fields(tmp_path: Path) -> None:
    b = SnapshotBuilder(
        tmp_path,
        as_of=AS_OF,
        parent=None,
        ingest_policy={"window_days": 180},
        inputs={"reports.csv": "ab" * 32},
    )
    for r in [*phones(3, HR), rec(Kind.PHONE, "+85223456789", VE, owner="Bank")]:
        b.add(r)
    m = b.build()
    on_disk = Manifest.from_dict(
        json.loads((tmp_path / m.snapshot_id / "manifest.json").read_text())
    )
    assert on_disk == m
    assert m.format_version == FORMAT_VERSION == "3.0"
    assert m.as_of == "2026-11-01T00:00:00Z"
    assert m.counts == {"phone": {"high_risk": 3, "verified": 1}}
    assert m.total == 4
    assert m.parent_id is None
    assert m.ingest_policy == {"window_days": 180}
    assert m.inputs == {"reports.csv": "ab" * 32}
    assert m.files["data.mdb"]["size"] == (tmp_path / m.snapshot_id / "data.mdb").stat().st_size
    assert m.checksum == m.expected_checksum()
    assert m.snapshot_id.startswith("20261101T000000Z-")


def test_spilled_build_equals_in_memory_build(tmp_path: Path) -> None:
    rnd = random.Random(7)
    records = phones(300, HR) + phones(300, PO, start=1000)
    rnd.shuffle(records)
    a = tmp_path / "a"
    b = tmp_path / "b"
    with (
        Snapshot.open(a / build(a, records, chunk=17)) as small,
        Snapshot.open(b / build(b, records)) as big,
    ):
        assert list(small.export()) == list(big.export())
        assert small.manifest.files == big.manifest.files


def test_no_record_level_is_refused(tmp_path: Path) -> None:
    b = SnapshotBuilder(tmp_path, as_of=AS_OF, parent=None)
    with pytest.raises(ValueError, match="NO_RECORD"):
        b.add(rec(Kind.PHONE, "+85291234567", Level.NO_RECORD))
    b.abort()


def test_naive_as_of_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        SnapshotBuilder(tmp_path, as_of=AS_OF.replace(tzinfo=None))


def test_export_by_level_and_kind(tmp_path: Path) -> None:
    records = [
        *phones(5, HR),
        *phones(4, PO, start=100),
        rec(Kind.EMAIL, "a@b.com", HR, reasons=(ReasonCode.POLICE_CONFIRMED,)),
        rec(Kind.PHONE, "+85223456789", VE, owner="Bank"),
    ]
    with Snapshot.open(tmp_path / build(tmp_path, records)) as s:
        assert len(list(s.export())) == 11
        hr_phones = list(s.export(level=HR, kind=Kind.PHONE))
        assert sorted(r.identifier.value for r in hr_phones) == [f"+8526{i:07d}" for i in range(5)]
        (email,) = s.export(kind=Kind.EMAIL)
        assert email == records[9]
        (verified,) = s.export(level=VE)
        assert verified.owner == "Bank"


def test_stats_from_bitmaps(tmp_path: Path) -> None:
    records = [
        rec(
            Kind.PHONE,
            "+85261234567",
            HR,
            categories=("investment", "romance"),
            sources=("police",),
        ),
        rec(Kind.PHONE, "+85261234568", SU, categories=("investment",), cluster=3),
        rec(Kind.PHONE, "+85261234569", SU, cluster=3),
    ]
    with Snapshot.open(tmp_path / build(tmp_path, records)) as s:
        st = s.stats()
        assert st["total"] == 3
        assert st["categories"] == {"investment": 2, "romance": 1}
        assert st["sources"] == {"police": 1}
        assert st["clusters"] == 1
        assert st["counts"] == {"phone": {"high_risk": 1, "suspicious": 2}}


def test_parent_current_and_diff_bitmaps(tmp_path: Path) -> None:
    old_records = [*phones(10, SU), rec(Kind.DOMAIN, "evil.example", HR)]
    new_records = phones(8, SU)  # +8526000000{8,9} removed
    new_records[1] = rec(Kind.PHONE, "+85260000001", HR)  # changed
    new_records += [
        rec(Kind.PHONE, "+85260000100", PO),  # added
        rec(Kind.DOMAIN, "evil.example", SU),  # changed
    ]
    first = build(tmp_path, old_records)
    b = SnapshotBuilder(tmp_path, as_of=AS_OF)  # parent="current"
    for r in new_records:
        b.add(r)
    second = b.build()
    assert second.parent_id == first
    assert current_id(tmp_path) == first  # build does not publish
    with (
        Snapshot.open(tmp_path / first) as old,
        Snapshot.open(tmp_path / second.snapshot_id) as new,
    ):
        d = diff_snapshots(old, new)
        assert d.from_bitmaps
        assert d.added == (DiffEntry("phone", "+85260000100", None, PO),)
        assert d.removed == (
            DiffEntry("phone", "+85260000008", SU, None),
            DiffEntry("phone", "+85260000009", SU, None),
        )
        assert d.changed == (
            DiffEntry("domain", "evil.example", HR, SU),
            DiffEntry("phone", "+85260000001", SU, HR),
        )
        # Without the parent link the merge-join gives the same answer.
        slow = diff_snapshots(new, old)
        assert not slow.from_bitmaps
        assert (slow.added, slow.removed) == (
            tuple(DiffEntry(e.kind, e.canonical, None, e.old_level) for e in d.removed),
            tuple(DiffEntry(e.kind, e.canonical, e.new_level, None) for e in d.added),
        )
        assert slow.counts() == {"added": 2, "removed": 1, "changed": 2}


def test_parent_of_a_newer_format_is_skipped_not_fatal(tmp_path: Path) -> None:
    """A CURRENT written by a newer scameter (another format major, as after a downgrade)
    cannot be diffed against; the build goes on without a parent instead of failing."""
    foreign = tmp_path / "20261206T073949Z-613929852aa0"
    foreign.mkdir()
    (foreign / "manifest.json").write_text('{"format_version": "99.0"}', encoding="utf-8")
    (tmp_path / "CURRENT").write_text(foreign.name + "\n", encoding="utf-8")
    b = SnapshotBuilder(tmp_path, as_of=AS_OF)  # parent="current"
    assert b.parent_id == foreign.name
    for r in phones(3, SU):
        b.add(r)
    manifest = b.build()
    assert manifest.parent_id is None
    with Snapshot.open(tmp_path / manifest.snapshot_id) as snap:
        assert snap.manifest.total == 3


class _CollidingIdentifier(Identifier):
    """An identifier whose 64-bit key collides with ``+85291234567``'s."""

    __slots__ = ()

    @property
    def key(self) -> bytes:
        return identifier_key(Kind.PHONE, "+85291234567")


@pytest.mark.parametrize("allowlisted", [False, True], ids=["listed", "allowlisted"])
def test_key_collision_is_answered_as_no_record(tmp_path: Path, allowlisted: bool) -> None:
    level = VE if allowlisted else HR
    records = [rec(Kind.PHONE, "+85291234567", level, owner="Bank" if allowlisted else None)]
    with Snapshot.open(tmp_path / build(tmp_path, records)) as s:
        other = _CollidingIdentifier(Kind.PHONE, "+85290000000")
        assert other.key == Identifier(Kind.PHONE, "+85291234567").key
        v = s.check_identifier(other)
        assert v.level is Level.NO_RECORD
        assert v.canonical == "+85290000000"
        assert s.check_identifier(Identifier(Kind.PHONE, "+85291234567")).level is level


def test_category_and_source_bitmaps_when_id_bytes_coincide(tmp_path: Path) -> None:
    """Two records whose label ids are the same bytes but split differently between
    categories and sources: each lands in its own bitmaps (the writer caches by both)."""
    a = rec(Kind.PHONE, "+85291234567", SU, categories=("a",), sources=("b",))
    b = rec(Kind.PHONE, "+85291234568", SU, categories=("a", "b"))
    with Snapshot.open(tmp_path / build(tmp_path, [a, b])) as s:
        ordinal = {r.identifier.value: o for o, r in enumerate(s.export())}
        assert set(s.bitmap("category:b")) == {ordinal["+85291234568"]}
        assert set(s.bitmap("source:b")) == {ordinal["+85291234567"]}
        assert set(s.bitmap("category:a")) == set(ordinal.values())
