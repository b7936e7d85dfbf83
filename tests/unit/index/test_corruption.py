"""Damaged or missing snapshots: each failure has its own clear error, never a wrong verdict.
Also: a builder that dies half way leaves the previous CURRENT and nothing a reader opens."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scameter.errors import (
    SnapshotCorrupt,
    SnapshotError,
    SnapshotNotFound,
    UnsupportedSnapshotVersion,
)
from scameter.identifiers import Kind
from scameter.index import Snapshot, SnapshotBuilder, current_id
from scameter.verdict import Level
from tests.unit.index.helpers import AS_OF, build, rec

RECORDS = [rec(Kind.PHONE, f"+8529123{i:04d}", Level.HIGH_RISK) for i in range(200)]


@pytest.fixture
def built(tmp_path: Path) -> Path:
    return tmp_path / build(tmp_path, RECORDS)


def test_intact_snapshot_opens_and_verifies(built: Path) -> None:
    with Snapshot.open(built) as s:
        s.verify()
        assert s.check("91230007", Kind.PHONE).level is Level.HIGH_RISK


def test_truncated_lmdb(built: Path) -> None:
    data = built / "data.mdb"
    os.truncate(data, data.stat().st_size // 2)
    for verify in (True, False):
        with pytest.raises(SnapshotCorrupt, match=r"data\.mdb.*truncated") as e:
            Snapshot.open(built, verify=verify)
        assert e.value.path == data


def test_flipped_byte_caught_by_full_verify(built: Path) -> None:
    data = built / "data.mdb"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    s = Snapshot.open(built)  # sizes match: the cheap check passes
    try:
        with pytest.raises(SnapshotCorrupt, match="checksum mismatch") as e:
            s.verify()
        assert e.value.path == data
    finally:
        s.close()


def test_edited_manifest(built: Path) -> None:
    mpath = built / "manifest.json"
    m = json.loads(mpath.read_text())
    m["counts"]["phone"]["high_risk"] = 1
    mpath.write_text(json.dumps(m))
    with pytest.raises(SnapshotCorrupt, match="checksum mismatch") as e:
        Snapshot.open(built)
    assert e.value.path == mpath


def test_unparseable_manifest(built: Path) -> None:
    (built / "manifest.json").write_text("{not json")
    with pytest.raises(SnapshotCorrupt, match="manifest is not valid"):
        Snapshot.open(built)


@pytest.mark.parametrize("version", ["1.1", "2.2", "5.0", "0.9", "x"])
def test_wrong_major_version(built: Path, version: str) -> None:
    mpath = built / "manifest.json"
    m = json.loads(mpath.read_text())
    m["format_version"] = version
    mpath.write_text(json.dumps(m))
    with pytest.raises(UnsupportedSnapshotVersion, match=f"format version {version}") as e:
        Snapshot.open(built)
    assert e.value.path == mpath


@pytest.mark.parametrize("version", ["2.0", "2.2"])
def test_a_2_x_snapshot_says_to_rebuild(built: Path, version: str) -> None:
    mpath = built / "manifest.json"
    m = json.loads(mpath.read_text())
    m["format_version"] = version
    mpath.write_text(json.dumps(m))
    with pytest.raises(UnsupportedSnapshotVersion) as e:
        Snapshot.open(built)
    text = str(e.value)
    assert f"format version {version}" in text
    assert "scameter ingest" in text
    assert "\n" not in text


def test_newer_minor_version_is_read(built: Path) -> None:
    mpath = built / "manifest.json"
    m = json.loads(mpath.read_text())
    m["format_version"] = "3.7"
    from scameter.index.format import content_checksum

    m["checksum"] = content_checksum(m)
    mpath.write_text(json.dumps(m))
    with Snapshot.open(built) as s:
        assert s.check("91230001", Kind.PHONE).level is Level.HIGH_RISK


@pytest.mark.parametrize("as_of", ["yesterday", 1764000000, None], ids=["text", "int", "null"])
def test_manifest_as_of_not_a_time(built: Path, as_of: object) -> None:
    # Even with a checksum that matches: the reader keeps as_of as a datetime from open on.
    from scameter.index.format import content_checksum

    mpath = built / "manifest.json"
    m = json.loads(mpath.read_text())
    m["as_of"] = as_of
    m["checksum"] = content_checksum(m)
    mpath.write_text(json.dumps(m))
    with pytest.raises(SnapshotCorrupt, match="manifest is not valid") as e:
        Snapshot.open(built)
    assert e.value.path == mpath


def test_as_of_is_an_aware_datetime(built: Path) -> None:
    with Snapshot.open(built) as s:
        assert s.as_of.utcoffset() is not None
        assert s.as_of == AS_OF
        assert s.manifest.as_of == "2026-11-01T00:00:00Z"


def test_missing_data_file(built: Path) -> None:
    (built / "data.mdb").unlink()
    with pytest.raises(SnapshotNotFound, match="data file missing"):
        Snapshot.open(built)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SnapshotNotFound, match="scameter ingest"):
        Snapshot.open(tmp_path / "nope")


def test_missing_current(tmp_path: Path) -> None:
    with pytest.raises(SnapshotNotFound, match=r"CURRENT.*scameter ingest.*demo") as e:
        Snapshot.open_current(tmp_path)
    assert e.value.path == tmp_path / "CURRENT"


def test_current_naming_nothing(tmp_path: Path) -> None:
    (tmp_path / "CURRENT").write_text("\n")
    with pytest.raises(SnapshotCorrupt, match="CURRENT"):
        current_id(tmp_path)


def test_garbage_data_file(built: Path) -> None:
    data = built / "data.mdb"
    size = data.stat().st_size
    data.write_bytes(b"\x00" * size)
    with pytest.raises(SnapshotError):
        Snapshot.open(built, verify=False)


def test_builder_exception_leaves_previous_current(tmp_path: Path) -> None:
    first = build(tmp_path, RECORDS)
    with pytest.raises(ValueError, match="added twice"):
        build(tmp_path, [*RECORDS, RECORDS[0]])
    assert current_id(tmp_path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["CURRENT", first])


def test_builder_abort_removes_temp_files(tmp_path: Path) -> None:
    b = SnapshotBuilder(tmp_path, as_of=AS_OF, parent=None)
    b.add(RECORDS[0])
    b.abort()
    assert list(tmp_path.iterdir()) == []


def test_builder_killed_mid_build(tmp_path: Path) -> None:
    """SIGKILL while writing: CURRENT still names the old snapshot, and the half-written
    directory is a ``.tmp-*`` that neither readers nor ``current_id`` ever take."""
    first = build(tmp_path, RECORDS)
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import UTC, datetime
        from pathlib import Path
        from scameter.identifiers import Identifier, Kind
        from scameter.index import Record, SnapshotBuilder
        from scameter.index import builder as b
        from scameter.verdict import Level

        real = b.write_near
        def stall(*args):
            print("writing", flush=True)
            sys.stdin.read()  # wait here until killed
            return real(*args)
        b.write_near = stall
        sb = SnapshotBuilder(Path({str(tmp_path)!r}), as_of=datetime.now(UTC))
        for i in range(5000):
            sb.add(Record(Identifier(Kind.PHONE, f"+8526{{i:07d}}"), Level.SUSPICIOUS))
        sb.build()
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"writing"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
        if proc.stdin is not None:
            proc.stdin.close()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert current_id(tmp_path) == first
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("CURRENT", first)]
    assert leftovers
    assert all(name.startswith(".tmp-") for name in leftovers)
    for name in leftovers:
        with pytest.raises(SnapshotNotFound):
            Snapshot.open(tmp_path / name)
    with Snapshot.open_current(tmp_path) as s:
        assert s.id == first
    # The next build takes the dead build's directory away (its lock died with it), but never
    # the directory of a build still running beside it.
    with SnapshotBuilder(tmp_path, as_of=AS_OF, parent=None) as live:
        live_tmp = [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
        assert len(live_tmp) == 1
        assert live_tmp[0].name not in leftovers
        with SnapshotBuilder(tmp_path, as_of=AS_OF, parent=None) as other:
            assert live_tmp[0].is_dir()
            other.abort()
        live.add(RECORDS[0])
        second = live.build().snapshot_id
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["CURRENT", first, second])
    assert ".lock" not in [p.name for p in (tmp_path / second).iterdir()]
