"""Disk space before a build: the estimate, and a clear error instead of a half-written build."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

from scameter.cli import main
from scameter.errors import SnapshotError
from scameter.index import space


class _Usage(NamedTuple):
    total: int
    used: int
    free: int


def _parent(tmp_path: Path, size: int, total: int) -> Path:
    parent = tmp_path / "20261101T000000Z-abc"
    parent.mkdir()
    manifest = {"files": {"data.mdb": {"size": size}}, "total": total}
    (parent / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return parent


def test_estimate_learns_from_the_parent_and_falls_back_without_one(tmp_path: Path) -> None:
    assert space.estimate(10**6) == int(
        (10**6 * space.PER_IDENTIFIER + space.FIXED) * space.HEADROOM
    )
    parent = _parent(tmp_path, size=200 * 10**7, total=10**7)  # 200 B per identifier
    assert space.estimate(10**8, parent) == int(200 * 10**8 * space.HEADROOM)
    assert space.estimate(10, parent) == int(space.FIXED * space.HEADROOM)  # never below FIXED
    (parent / "manifest.json").write_text("{broken", encoding="utf-8")
    assert space.estimate(10**6, parent) == space.estimate(10**6)


def test_current_dir_reads_current_and_ignores_garbage(tmp_path: Path) -> None:
    assert space.current_dir(tmp_path) is None
    (tmp_path / "CURRENT").write_text("20261101T000000Z-abc\n", encoding="ascii")
    assert space.current_dir(tmp_path) == tmp_path / "20261101T000000Z-abc"
    (tmp_path / "CURRENT").write_text("../etc", encoding="ascii")
    assert space.current_dir(tmp_path) is None


def test_short_space_names_the_directory_and_both_sizes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: _Usage(10**9, 10**9 - 5000, 5000))
    with pytest.raises(SnapshotError) as err:
        space.ensure_space(tmp_path, 10**6)
    text = str(err.value)
    assert str(tmp_path) in text
    assert "not enough disk space" in text
    assert space.human(space.estimate(10**6)) in text
    assert "4.9 KiB is free" in text


def test_ingest_refuses_before_writing_when_the_disk_is_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    row = {"type": "report", "source": "police", "status": "confirmed", "category": "investment",
           "reported_at": "2026-10-01T00:00:00Z", "value": "6391 2745"}  # fmt: skip
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps(row) + "\n", encoding="utf-8")
    snaps = tmp_path / "snaps"
    argv = ["ingest", "--snapshots", str(snaps), "--as-of", "2026-11-01",
            "--no-official-entities", str(src)]  # fmt: skip
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: _Usage(10**9, 10**9 - 1024, 1024))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "not enough disk space" in err
    assert str(snaps) in err
    assert len(err.strip().splitlines()) == 1
    assert not (snaps / "CURRENT").exists()
    assert not [p for p in snaps.iterdir() if p.name.startswith(".tmp")]
    monkeypatch.undo()
    assert main(argv) == 0
    assert (snaps / "CURRENT").is_file()


def test_a_disk_that_fills_during_the_build_is_named_and_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    from scameter.index.builder import SnapshotBuilder

    def full(_self: SnapshotBuilder) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    row = {"type": "report", "source": "police", "status": "confirmed", "category": "investment",
           "reported_at": "2026-10-01T00:00:00Z", "value": "6391 2745"}  # fmt: skip
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps(row) + "\n", encoding="utf-8")
    snaps = tmp_path / "snaps"
    monkeypatch.setattr(SnapshotBuilder, "build", full)
    argv = ["ingest", "--snapshots", str(snaps), "--as-of", "2026-11-01",
            "--no-official-entities", str(src)]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "the disk filled up while the snapshot was built" in err
    assert str(snaps) in err
    assert not (snaps / "CURRENT").exists()
    assert not [p for p in snaps.iterdir() if p.name.startswith(".tmp")]
