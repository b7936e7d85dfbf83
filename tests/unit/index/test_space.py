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


def test_a_parents_estimate_does_not_count_the_evidence_on_disk_twice(tmp_path: Path) -> None:
    parent = _parent(tmp_path, size=300 * 10**6, total=10**6)  # 300 B per identifier
    full = space.estimate(10**6, parent)
    assert full == int(300 * 10**6 * space.HEADROOM)
    # 100 MB of evidence runs already on disk become evidence.mdb: not needed again.
    assert space.estimate(10**6, parent, 100 * 10**6) == int(200 * 10**6 * space.HEADROOM)
    # Without a parent the per-identifier figure has no evidence in it: nothing to take off.
    assert space.estimate(10**6, None, 100 * 10**6) == space.estimate(10**6)
    est = space.estimate_for_input(320 * 10**6, out_of_core=False, evidence=True, parent=parent)
    assert est.snapshot == space.estimate(10**6, parent, est.evidence)


@pytest.mark.parametrize(
    ("engine", "evidence", "limit", "peak"),
    [
        # Peak bytes under --snapshots of 10^6-report scale-mix runs (224,646,664 input
        # bytes; docs/benchmarks.md, "Round 6: ingest writing side"); the estimate before
        # reading must stay above each and within 1.5x of it.
        ("memory", True, None, 254_033_920),
        ("duckdb", True, 512 * 10**6, 360_308_736),
        ("duckdb", True, 512 * 10**6, 452_943_872),  # forked evidence and range jobs
        ("duckdb", True, 512 * 10**6, 382_853_120),  # --shards 4
        ("duckdb", False, 512 * 10**6, 245_534_720),
        ("duckdb", True, 150 * 10**6, 534_863_872),  # spilling as at 10^7 with 1.5GB
    ],
    ids=[
        "memory",
        "duckdb",
        "duckdb-jobs",
        "duckdb-4-shards",
        "duckdb-no-evidence",
        "duckdb-spilling",
    ],
)
def test_the_input_estimate_is_safe_and_within_one_and_a_half_times_the_measured_peak(
    engine: str, evidence: bool, limit: int | None, peak: int
) -> None:
    est = space.estimate_for_input(
        224_646_664, out_of_core=engine != "memory", evidence=evidence, memory_limit=limit
    )
    assert peak < est.total <= 1.5 * peak


def test_skipping_the_check_only_estimates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: _Usage(10**9, 10**9 - 5000, 5000))
    assert space.ensure_space(tmp_path, 10**6, check=False) == space.estimate(10**6)
    got = space.ensure_input_space(tmp_path, 10**9, out_of_core=True, evidence=True, check=False)
    assert got == space.estimate_for_input(10**9, out_of_core=True, evidence=True)


@pytest.mark.parametrize(
    ("argv", "env"),
    [(["--skip-space-check"], {}), ([], {"SCAMETER_SKIP_SPACE_CHECK": "1"})],
    ids=["flag", "env"],
)
def test_ingest_with_the_check_skipped_builds_on_a_disk_the_estimate_says_is_short(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
) -> None:
    row = {"type": "report", "source": "police", "status": "confirmed", "category": "investment",
           "reported_at": "2026-10-01T00:00:00Z", "value": "6391 2745"}  # fmt: skip
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps(row) + "\n", encoding="utf-8")
    snaps = tmp_path / "snaps"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    real = shutil.disk_usage
    # Every check sees 1 KiB free; the build itself writes to the real disk.
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: _Usage(10**9, 10**9 - 1024, 1024))
    full = ["ingest", "--snapshots", str(snaps), "--as-of", "2026-11-01",
            "--no-official-entities", *argv, str(src)]  # fmt: skip
    assert main(full) == 0, capsys.readouterr().err
    assert (snaps / "CURRENT").is_file()
    monkeypatch.setattr(shutil, "disk_usage", real)
