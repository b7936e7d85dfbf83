"""Tampered records (format 2.0, layout 3.0): a record whose bytes were edited in ``data.mdb`` is an
error when it is read, never an answer; so is a record whose CRC was forged to match an
impossible value (VERIFIED in the reported-records table, an unknown level code)."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from scameter.errors import SnapshotCorrupt
from scameter.identifiers import Kind
from scameter.index import Snapshot
from scameter.index import format as fmt
from scameter.verdict import Level
from tests.unit.index.helpers import build, rec

TARGET = "+85291230007"
RECORDS = [rec(Kind.PHONE, f"+8529123{i:04d}", Level.HIGH_RISK) for i in range(50)]
RECORDS.append(rec(Kind.PHONE, "+85223456789", Level.VERIFIED, owner="Bank"))


def record_span(raw: bytes, canonical: str, level: Level) -> tuple[int, int]:
    """(start, end) of the stored record holding ``canonical`` at ``level`` in ``raw``."""
    needle = canonical.encode()
    at = raw.find(needle)
    while at >= 0:
        for n in range(8):
            start = at - 2 - 2 * n - fmt.HEADER.size  # these records are in no cluster
            if start < 0 or raw[start + 1] != fmt.LEVEL_CODES[level]:
                continue
            if raw[start + 3] + raw[start + 4] + raw[start + 5] != n:
                continue
            if int.from_bytes(raw[at - 2 : at], "little") != len(needle):
                continue
            end = at + len(needle)
            flags = raw[start + 2]
            for flag in (fmt.F_LISTING, fmt.F_OWNER):
                if flags & flag:
                    end += 2 + int.from_bytes(raw[end : end + 2], "little")
            return start, end + fmt.CRC_SIZE
        at = raw.find(needle, at + 1)
    raise AssertionError("record not found")


def edit(snapdir: Path, canonical: str, level: Level, new_level: int, *, forge: bool) -> None:
    data = snapdir / fmt.DATA_FILE
    raw = bytearray(data.read_bytes())
    start, end = record_span(bytes(raw), canonical, level)
    raw[start + 1] = new_level
    if forge:  # an attacker who recomputes the CRC
        body = bytes(raw[start : end - fmt.CRC_SIZE])
        raw[end - fmt.CRC_SIZE : end] = zlib.crc32(body).to_bytes(4, "little")
    data.write_bytes(bytes(raw))


@pytest.fixture
def built(tmp_path: Path) -> Path:
    return tmp_path / build(tmp_path, RECORDS)


def test_intact_records_answer(built: Path) -> None:
    with Snapshot.open(built) as s:
        assert s.check(TARGET, Kind.PHONE).level is Level.HIGH_RISK
        assert s.check("+85223456789", Kind.PHONE).level is Level.VERIFIED


@pytest.mark.parametrize(
    ("new_level", "forge", "message"),
    [
        (fmt.LEVEL_CODES[Level.VERIFIED], False, "CRC-32"),
        (fmt.LEVEL_CODES[Level.POSSIBLE], False, "CRC-32"),
        (fmt.LEVEL_CODES[Level.VERIFIED], True, "impossible in the records table"),
        (99, True, "impossible level"),
        (fmt.LEVEL_CODES[Level.NO_RECORD], True, "impossible level"),
    ],
    ids=["to-verified", "to-possible", "forged-verified", "forged-unknown", "forged-no-record"],
)
def test_edited_level_is_an_error(built: Path, new_level: int, forge: bool, message: str) -> None:
    edit(built, TARGET, Level.HIGH_RISK, new_level, forge=forge)
    with Snapshot.open(built) as s:
        with pytest.raises(SnapshotCorrupt, match=message) as e:
            s.check(TARGET, Kind.PHONE)
        assert e.value.path == built / fmt.DATA_FILE
        assert "tampered" in str(e.value)
        assert TARGET not in str(e.value)  # never the identifier in clear
        # Other records still answer.
        assert s.check("+85291230001", Kind.PHONE).level is Level.HIGH_RISK
        with pytest.raises(SnapshotCorrupt):
            list(s.export())


def test_allow_record_demoted_is_an_error(built: Path) -> None:
    edit(built, "+85223456789", Level.VERIFIED, fmt.LEVEL_CODES[Level.HIGH_RISK], forge=True)
    with Snapshot.open(built) as s, pytest.raises(SnapshotCorrupt, match="allow table"):
        s.check("+85223456789", Kind.PHONE)


def test_seal_residue() -> None:
    for body in (b"", b"x", bytes(range(200))):
        assert fmt.record_intact(fmt.seal(body))
        sealed = bytearray(fmt.seal(body))
        sealed[-1] ^= 0x01
        assert not fmt.record_intact(bytes(sealed))


def test_published_snapshot_is_group_readable(tmp_path: Path) -> None:
    from scameter.index import publish

    snap = tmp_path / build(tmp_path, RECORDS)
    publish(tmp_path, snap.name)
    assert snap.stat().st_mode & 0o777 == fmt.DIR_MODE
    for f in snap.iterdir():
        assert f.stat().st_mode & 0o777 == fmt.FILE_MODE
    assert (tmp_path / fmt.CURRENT_FILE).stat().st_mode & 0o777 == fmt.FILE_MODE


def test_verifying_manager_never_swaps_to_a_tampered_snapshot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A server (verify=True) keeps serving the previous snapshot when the new one fails
    its content hash, even with a forged record CRC; logs both ids; counts the failure."""
    from scameter.index import SnapshotManager, publish

    first = build(tmp_path, RECORDS)
    with SnapshotManager(tmp_path, verify=True) as m:
        assert m.snapshot.id == first
        extra = [rec(Kind.PHONE, "+85291239999", Level.POSSIBLE)]
        second = build(tmp_path, [*RECORDS, *extra], publish_it=False)
        edit(tmp_path / second, TARGET, Level.HIGH_RISK, 5, forge=True)
        publish(tmp_path, second)
        with caplog.at_level("ERROR", logger="scameter.index.swap"):
            assert m.refresh() is False
            assert m.refresh() is False  # not hashed, not logged again
        assert m.snapshot.id == first
        assert m.verify_failures == 1
        assert m.last_error is not None
        errors = [r for r in caplog.records if r.levelname == "ERROR"]
        assert len(errors) == 1
        assert errors[0].__dict__["snapshot"] == second
        assert errors[0].__dict__["serving"] == first
        with m.acquire() as snap:
            assert snap.check(TARGET, Kind.PHONE).level is Level.HIGH_RISK


@pytest.mark.parametrize("content", ["garbage\x00\n", "../../etc\n", "no-such-snapshot\n"])
def test_unservable_current_is_logged_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    from scameter.index import SnapshotManager

    first = build(tmp_path, RECORDS)
    with SnapshotManager(tmp_path, verify=True) as m:
        assert m.snapshot.id == first
        (tmp_path / fmt.CURRENT_FILE).write_text(content)
        with caplog.at_level("ERROR", logger="scameter.index.swap"):
            assert m.refresh() is False
        assert m.snapshot.id == first
        assert m.last_error is not None
        assert any("CURRENT" in r.getMessage() for r in caplog.records)
