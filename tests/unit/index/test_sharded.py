"""Sharded snapshots (format 4.0): the same input built with one and with four shards answers
every question the same way, opens shards lazily, and fails clearly when a shard is missing or
damaged. Real ingests of the demo generator's reports into real LMDB files."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from scameter.demo.generator import allowlist, generate, phones
from scameter.device.export import prefix_lists
from scameter.errors import SnapshotCorrupt
from scameter.index import Snapshot
from scameter.index import format as fmt
from scameter.index.diff import diff_snapshots
from scameter.index.hashes import record_hashes
from scameter.index.hashsearch import MAX_PREFIXES, search
from scameter.ingest import run_ingest

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
SHARDS = 4


def _inputs(tmp: Path, n: int) -> list[Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    reports, allow = tmp / "reports.jsonl", tmp / "allowlist.jsonl"
    reports.write_text("".join(json.dumps(r) + "\n" for r in generate(n, as_of=AS_OF)))
    allow.write_text("".join(json.dumps({**r, "type": "allowlist"}) + "\n" for r in allowlist()))
    return [reports, allow]


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Two ingests each (1,500 then 2,500 reports: the second diffs against the first) with
    one shard and with four."""
    base = tmp_path_factory.mktemp("sharded")
    small, big = _inputs(base / "in-small", 1500), _inputs(base / "in-big", 2500)
    out = {}
    for shards in (1, SHARDS):
        root = base / f"snaps-{shards}"
        for inputs in (small, big):
            run_ingest(inputs, root, as_of=AS_OF, workers=1, shards=shards)
        out[shards] = root
    return out


def _pair(roots: dict[int, Path]) -> tuple[Snapshot, Snapshot]:
    return Snapshot.open_current(roots[1]), Snapshot.open_current(roots[SHARDS])


def _queries(single: Snapshot) -> list[str]:
    """Every stored identifier (records and allowlist), near misses and plain misses."""
    stored = [r.identifier.value for r in single.export()]
    near = [v[:-1] + ("0" if v[-1] != "0" else "1") for v in stored if v.startswith("+852")]
    return [*stored, *near[:300], *phones(200, seed=7), "nobody@example.org", "not a thing"]


def test_the_layout_and_manifest(roots: dict[int, Path]) -> None:
    single, sharded = _pair(roots)
    with single, sharded:
        assert single.manifest.format_version == fmt.FORMAT_VERSION == "3.0"
        assert "shards" not in json.loads((single.path / "manifest.json").read_text())
        m = sharded.manifest
        assert m.format_version == fmt.SHARDED_FORMAT_VERSION == "4.0"
        assert [s["file"] for s in m.shards] == [fmt.SHARD_FILE.format(i) for i in range(SHARDS)]
        for s in m.shards:
            assert (sharded.path / s["file"]).is_file()
            assert s["file"] in m.files  # size and chunk hashes: verify and signatures cover it
            assert s["records"] > 0
        assert sum(s["records"] for s in m.shards) == sharded.reader.table.entries()
        assert m.total == single.manifest.total
        # data.mdb keeps every other table; its own records table is empty
        assert int(sharded.reader.txn().stat(sharded.reader.records)["entries"]) == 0
        assert sharded.verify() > SHARDS
        # modes like the other files: group-readable, not world (docs/operations.md)
        assert (sharded.path / "shard-000").stat().st_mode & 0o777 == fmt.DIR_MODE
        assert (sharded.path / m.shards[0]["file"]).stat().st_mode & 0o777 == fmt.FILE_MODE


def test_the_same_records_whatever_the_shard_count(roots: dict[int, Path]) -> None:
    single, sharded = _pair(roots)
    with single, sharded:
        assert single.reader.table.digest() == sharded.reader.table.digest()
        assert list(single.reader.iter_table(fmt.TABLE_RECORDS)) == list(
            sharded.reader.iter_table(fmt.TABLE_RECORDS)
        )
        # each shard holds exactly the keys of its range
        for s in sharded.manifest.shards:
            lo = bytes.fromhex(s["lo"])
            hi = None if s["hi"] is None else bytes.fromhex(s["hi"])
            keys = [k for k, _ in single.reader.iter_table(fmt.TABLE_RECORDS)]
            inside = [k for k in keys if k >= lo and (hi is None or k < hi)]
            assert len(inside) == s["records"]


def _strip(v: object) -> object:
    d = v.to_dict()  # type: ignore[attr-defined]
    d.pop("snapshot", None)
    return d


def test_every_answer_is_the_same(roots: dict[int, Path]) -> None:
    single, sharded = _pair(roots)
    with single, sharded:
        queries = _queries(single)
        assert len(queries) > 1000
        one = [_strip(v) for v in single.check_many(queries)]
        assert [_strip(v) for v in sharded.check_many(queries)] == one
        valid = [q for q, d in zip(queries, one, strict=True) if "error" not in d]  # type: ignore[operator]
        assert [_strip(sharded.check(q)) for q in valid] == [_strip(single.check(q)) for q in valid]
        assert [_strip(v) for v in sharded.check_batch(queries).to_list()] == one
        levels = {d.get("level") for d in one}  # type: ignore[attr-defined]
        assert {"high_risk", "no_record", "verified"} <= levels
        assert any(d["reasons"] and "near_match" in json.dumps(d) for d in one)  # type: ignore[index]
        related = [q for q in queries if single.related(q)]
        assert related
        for q in related[:50]:
            assert [_strip(v) for v in single.related(q)] == [_strip(v) for v in sharded.related(q)]
        clusters = single.reader.bitmap_names("cluster:")
        assert clusters == sharded.reader.bitmap_names("cluster:")
        for name in clusters[:30]:
            c = int(name.split(":")[1])
            assert [_strip(v) for v in single.cluster_members(c)] == [
                _strip(v) for v in sharded.cluster_members(c)
            ]
        assert list(single.export()) == list(sharded.export())


def test_device_lists_and_private_hash_search_are_the_same(roots: dict[int, Path]) -> None:
    single, sharded = _pair(roots)
    with single, sharded:
        one, four = prefix_lists(single.reader), prefix_lists(sharded.reader)
        assert one.keys() == four.keys()
        assert all(np.array_equal(one[lv], four[lv]) for lv in one)
        assert sum(len(v) for v in one.values()) > 1000
        hashes = [
            h
            for r in list(single.export())[:200]
            for h in record_hashes(r.identifier.kind, r.identifier.value, r.listing)
        ]
        prefixes = sorted({h[:4] for h in hashes})[:MAX_PREFIXES]
        found = search(single.reader, prefixes)
        assert found
        assert search(sharded.reader, prefixes) == found


def test_diff_against_the_parent_is_the_same(roots: dict[int, Path]) -> None:
    for shards in (1, SHARDS):
        ids = sorted(p.name for p in roots[shards].iterdir() if p.name[0].isdigit())
        assert len(ids) == 2
    diffs = []
    for shards in (1, SHARDS):
        root = roots[shards]
        new_id = (root / "CURRENT").read_text().strip()
        with Snapshot.open(root / new_id) as new:
            old_id = new.manifest.parent_id
        assert old_id is not None
        with Snapshot.open(root / old_id) as old, Snapshot.open(root / new_id) as new:
            by_bitmaps = diff_snapshots(old, new)
            new.reader.diff_parent = None  # force the table merge through the router
            by_merge = diff_snapshots(old, new)
            assert by_bitmaps.counts() == by_merge.counts()
            assert (by_bitmaps.added, by_bitmaps.changed) == (by_merge.added, by_merge.changed)
            diffs.append(by_merge)
    assert diffs[0].counts() == diffs[1].counts()
    assert diffs[0].counts()["added"] > 0
    assert (diffs[0].added, diffs[0].removed, diffs[0].changed) == (
        diffs[1].added,
        diffs[1].removed,
        diffs[1].changed,
    )


def test_shards_open_lazily(roots: dict[int, Path]) -> None:
    single, sharded = _pair(roots)
    with single, sharded:
        listed = next(r for r in single.export() if r.identifier.kind.value == "phone")
        assert sharded.reader.table.opened() == 0
        assert sharded.check(listed.identifier.value).level is listed.level
        assert sharded.reader.table.opened() == 1  # one key, one shard
        # An email also reads its domain's record: at most one more shard.
        email = next(r for r in single.export() if r.identifier.kind.value == "email")
        sharded.check(email.identifier.value)
        assert sharded.reader.table.opened() <= 3
        sharded.check_batch([r.identifier.value for r in single.export()])
        assert sharded.reader.table.opened() == SHARDS


def _copy(roots: dict[int, Path], tmp_path: Path) -> Path:
    src = Snapshot.open_current(roots[SHARDS])
    src.close()
    dest = tmp_path / src.id
    shutil.copytree(src.path, dest)
    return dest


def test_a_missing_shard_is_a_one_line_error_naming_it(
    roots: dict[int, Path], tmp_path: Path
) -> None:
    snap = _copy(roots, tmp_path)
    (snap / "shard-002" / "data.mdb").unlink()
    with pytest.raises(SnapshotCorrupt, match="shard file missing") as e:
        Snapshot.open(snap)
    assert e.value.path == snap / "shard-002" / "data.mdb"
    assert "shard-002/data.mdb" in str(e.value)
    assert "\n" not in str(e.value)


def test_a_truncated_or_damaged_shard_is_named(roots: dict[int, Path], tmp_path: Path) -> None:
    snap = _copy(roots, tmp_path)
    shard = snap / "shard-001" / "data.mdb"
    data = bytearray(shard.read_bytes())
    shard.write_bytes(data[:-4096])
    with pytest.raises(SnapshotCorrupt, match="shard file is") as e:
        Snapshot.open(snap)
    assert "shard-001/data.mdb" in str(e.value)
    data[len(data) // 2] ^= 0xFF  # same size, one byte flipped: the full verify names it
    shard.write_bytes(data)
    with Snapshot.open(snap) as s, pytest.raises(SnapshotCorrupt) as e:
        s.verify()
    assert "shard-001/data.mdb" in str(e.value)
    assert "\n" not in str(e.value)
