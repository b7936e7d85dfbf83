"""Chunked content hashes (format 2.2): built into the manifest, verified in parallel, a
tampered chunk named; a 2.0 or 2.1 manifest (whole-file sha256 only) still verifies."""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

import pytest

from scameter.errors import SnapshotCorrupt
from scameter.identifiers import Kind
from scameter.index import Snapshot
from scameter.index import format as fmt
from scameter.index.chunks import CHUNK_SIZE, file_entry, root_hash, verify_file
from scameter.verdict import Level
from tests.unit.index.helpers import build, rec

SMALL = 4096


@pytest.fixture
def blob(tmp_path: Path) -> Path:
    path = tmp_path / "blob"
    path.write_bytes(random.Random(7).randbytes(10 * SMALL + 123))
    return path


def flip(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x40
    path.write_bytes(bytes(raw))


def test_entry_lists_every_chunk_and_the_whole_file_hash(blob: Path) -> None:
    entry = file_entry(blob, SMALL, threads=3)
    raw = blob.read_bytes()
    assert entry["size"] == len(raw)
    assert entry["sha256"] == hashlib.sha256(raw).hexdigest()
    assert entry["chunk_size"] == SMALL
    expected = [hashlib.sha256(raw[i : i + SMALL]).hexdigest() for i in range(0, len(raw), SMALL)]
    assert entry["chunks"] == expected
    assert len(expected) == 11
    assert entry["root"] == root_hash(expected)
    assert entry["root"] == hashlib.sha256(b"".join(bytes.fromhex(c) for c in expected)).hexdigest()
    for threads in (1, 2, 8):
        assert verify_file(blob, entry, threads) == 11


@pytest.mark.parametrize("threads", [1, 4])
def test_a_tampered_chunk_is_named(blob: Path, threads: int) -> None:
    entry = file_entry(blob, SMALL)
    flip(blob, 3 * SMALL + 17)
    with pytest.raises(SnapshotCorrupt, match=r"chunk 3 of 11 \(bytes 12288-16383\) does not"):
        verify_file(blob, entry, threads)
    flip(blob, 7 * SMALL)
    with pytest.raises(SnapshotCorrupt, match=r"chunk 3 of 11 .*\(and 1 more\)"):
        verify_file(blob, entry, threads)


def test_last_short_chunk_and_empty_file(tmp_path: Path, blob: Path) -> None:
    entry = file_entry(blob, SMALL)
    flip(blob, 10 * SMALL + 122)  # the last byte, in the short chunk
    with pytest.raises(SnapshotCorrupt, match=r"chunk 10 of 11 \(bytes 40960-41082\)"):
        verify_file(blob, entry)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    e = file_entry(empty, SMALL)
    assert (e["chunks"], e["size"]) == ([], 0)
    assert verify_file(empty, e) == 0


def test_edited_chunk_list_or_size_is_refused(blob: Path) -> None:
    entry = file_entry(blob, SMALL)
    forged = {**entry, "chunks": [*entry["chunks"][:-1], "00" * 32]}
    with pytest.raises(SnapshotCorrupt, match="root hash"):
        verify_file(blob, forged)
    with pytest.raises(SnapshotCorrupt, match="root hash"):
        verify_file(blob, {**entry, "chunks": entry["chunks"][:-1]})
    with pytest.raises(SnapshotCorrupt, match="size"):
        verify_file(blob, {**entry, "size": entry["size"] + 1})
    with pytest.raises(SnapshotCorrupt, match="no usable chunk list"):
        verify_file(blob, {**entry, "chunk_size": 0})


def test_whole_file_entry_of_format_2_0(blob: Path) -> None:
    entry = {"size": blob.stat().st_size, "sha256": hashlib.sha256(blob.read_bytes()).hexdigest()}
    assert verify_file(blob, entry) == 0
    flip(blob, 5)
    with pytest.raises(SnapshotCorrupt, match="checksum mismatch"):
        verify_file(blob, entry)


RECORDS = [rec(Kind.PHONE, f"+8529123{i:04d}", Level.HIGH_RISK) for i in range(50)]


def test_snapshot_manifest_and_verify(tmp_path: Path) -> None:
    snap = tmp_path / build(tmp_path, RECORDS)
    manifest = json.loads((snap / fmt.MANIFEST_FILE).read_text())
    assert manifest["format_version"] == "3.0"
    assert set(manifest["files"]) == {fmt.DATA_FILE, fmt.SIDE_FILE}
    entry = manifest["files"][fmt.DATA_FILE]
    assert entry["chunk_size"] == CHUNK_SIZE
    assert len(entry["chunks"]) == 1
    with Snapshot.open(snap) as s:
        assert s.verify() == 2  # one chunk of data.mdb, one of the side file
    flip(snap / fmt.DATA_FILE, (snap / fmt.DATA_FILE).stat().st_size // 2)
    with Snapshot.open(snap) as s, pytest.raises(SnapshotCorrupt, match="chunk 0 of 1"):
        s.verify()


def test_a_whole_file_entry_is_still_verified(tmp_path: Path) -> None:
    """A ``files`` entry without chunk fields (as 2.0 and 2.1 wrote them) verifies whole."""
    snap = tmp_path / build(tmp_path, RECORDS)
    mpath = snap / fmt.MANIFEST_FILE
    m = json.loads(mpath.read_text())
    for name, entry in m["files"].items():
        m["files"][name] = {k: v for k, v in entry.items() if k in ("size", "sha256")}
    m["checksum"] = fmt.content_checksum(m)
    mpath.write_text(json.dumps(m))
    with Snapshot.open(snap) as s:
        assert s.verify() == 0
        assert s.check("+85291230001", Kind.PHONE).level is Level.HIGH_RISK
    flip(snap / fmt.DATA_FILE, (snap / fmt.DATA_FILE).stat().st_size // 2)
    with Snapshot.open(snap) as s, pytest.raises(SnapshotCorrupt, match="checksum mismatch"):
        s.verify()


def test_a_tampered_side_file_is_caught(tmp_path: Path) -> None:
    snap = tmp_path / build(tmp_path, RECORDS)
    flip(snap / fmt.SIDE_FILE, (snap / fmt.SIDE_FILE).stat().st_size // 2)
    with Snapshot.open(snap) as s, pytest.raises(SnapshotCorrupt, match=re.escape(fmt.SIDE_FILE)):
        s.verify()
