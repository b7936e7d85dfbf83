"""``scameter.open_snapshot``: the snapshots directory found as the command finds it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

import scameter
from scameter import facade, open_snapshot
from scameter.errors import ConfigError, SnapshotNotFound
from scameter.identifiers import Kind
from scameter.verdict import Level
from tests.unit.index.helpers import build, rec

RECORDS = [rec(Kind.PHONE, "+85263912745", Level.HIGH_RISK)]


@pytest.fixture
def snapshots(tmp_path: Path) -> Path:
    root = tmp_path / "snaps"
    build(root, RECORDS)
    return root


def _level(root: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> Level:
    with open_snapshot(root, env=env) as snap:
        return snap.check("6391 2745").level


def test_an_explicit_directory(snapshots: Path) -> None:
    assert _level(snapshots) is Level.HIGH_RISK
    assert _level(str(snapshots)) is Level.HIGH_RISK


def test_the_snapshots_setting(snapshots: Path, tmp_path: Path) -> None:
    assert _level(env={"SCAMETER_SNAPSHOTS": str(snapshots)}) is Level.HIGH_RISK
    # Without SCAMETER_SNAPSHOTS: <data_dir>/snapshots, as for the command.
    data_dir = tmp_path / "data"
    build(data_dir / "snapshots", RECORDS)
    assert _level(env={"SCAMETER_DATA_DIR": str(data_dir)}) is Level.HIGH_RISK


def test_the_environment_is_read_at_call_time(
    snapshots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAMETER_SNAPSHOTS", str(snapshots))
    assert _level() is Level.HIGH_RISK
    monkeypatch.setenv("SCAMETER_SNAPSHOTS", str(snapshots.parent / "elsewhere"))
    with pytest.raises(SnapshotNotFound, match="scameter ingest"):
        open_snapshot()


def test_no_snapshot_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SnapshotNotFound, match=r"scameter ingest.*scameter demo") as e:
        open_snapshot(tmp_path)
    assert e.value.path == tmp_path / "CURRENT"


def test_a_malformed_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="SCAMETER_REPORTER_KEY"):
        open_snapshot(env={"SCAMETER_REPORTER_KEY": "short"})


def test_it_is_the_package_api() -> None:
    assert scameter.open_snapshot is facade.open_snapshot
    assert "open_snapshot" in scameter.__all__


def test_import_scameter_leaves_the_index_unloaded() -> None:
    code = (
        "import sys, scameter; "
        "loaded = [m for m in ('scameter.index', 'scameter.cli', 'lmdb') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
