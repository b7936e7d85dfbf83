"""Signed manifests: ``ingest --sign-key`` signs, a trusting SnapshotManager (``serve
--trust-key``) serves only snapshots whose manifest that key signed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scameter.errors import SnapshotCorrupt
from scameter.identifiers import Identifier, Kind
from scameter.index import Record, SnapshotManager, publish
from scameter.index.signing import (
    SIGNATURE_FILE,
    check_signature,
    generate_keys,
    load_private_key,
    load_public_key,
    sign_snapshot,
)
from scameter.verdict import Level
from tests.unit.index.helpers import build


def _keys(tmp: Path, name: str) -> tuple[Path, Path]:
    private, public = tmp / f"{name}.pem", tmp / f"{name}.pub.pem"
    generate_keys(private, public)
    return private, public


def _snapshot(root: Path, gen: int) -> str:
    records = [Record(Identifier(Kind.PHONE, "+85291230000"), Level.SUSPICIOUS,
                      categories=(f"gen{gen}",), report_count=gen + 1)]  # fmt: skip
    return build(root, records, publish_it=False)


def test_private_key_file_is_owner_only(tmp_path: Path) -> None:
    private, _public = _keys(tmp_path, "team")
    assert private.stat().st_mode & 0o777 == 0o600


def test_trusting_manager_serves_only_signed_snapshots(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    team, team_pub = _keys(tmp_path, "team")
    other, _ = _keys(tmp_path, "other")
    good, unsigned, forged, good2 = (_snapshot(root, g) for g in range(4))
    for sid, key in ((good, team), (forged, other), (good2, team)):
        sign_snapshot(root / sid, load_private_key(key))
    publish(root, good)
    with SnapshotManager(root, verify=True, trust_key=load_public_key(team_pub)) as manager:
        assert manager.refresh()
        for bad, failures in ((unsigned, 1), (forged, 2)):
            publish(root, bad)
            assert not manager.refresh()
            assert manager.verify_failures == failures
            with manager.acquire() as snap:
                assert snap.id == good  # the previous snapshot is kept
        publish(root, good2)
        assert manager.refresh()
        with manager.acquire() as snap:
            assert snap.id == good2


def test_tampered_manifest_fails_the_signature(tmp_path: Path) -> None:
    root = tmp_path / "snapshots"
    team, team_pub = _keys(tmp_path, "team")
    sid = _snapshot(root, 0)
    sign_snapshot(root / sid, load_private_key(team))
    check_signature(root / sid, load_public_key(team_pub))
    manifest = root / sid / "manifest.json"
    manifest.write_text(manifest.read_text().replace("gen0", "genX") + " ")
    with pytest.raises(SnapshotCorrupt, match="does not verify"):
        check_signature(root / sid, load_public_key(team_pub))


def test_ingest_sign_key_writes_a_verifying_signature(tmp_path: Path) -> None:
    team, team_pub = _keys(tmp_path, "team")
    src = tmp_path / "list.txt"
    src.write_text("+852 9123 0001\n+852 9123 0002\n", encoding="utf-8")
    root = tmp_path / "snapshots"
    cmd = [sys.executable, "-m", "scameter", "ingest", str(src), "--snapshots", str(root),
           "--source", "police", "--kind", "phone", "--sign-key", str(team)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    sid = (root / "CURRENT").read_text().strip()
    assert (root / sid / SIGNATURE_FILE).stat().st_size == 64
    check_signature(root / sid, load_public_key(team_pub))
    bad = [*cmd[:-1], str(src)]  # a file that is no key
    done = subprocess.run(bad, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "--sign-key" in done.stderr
    assert "Traceback" not in done.stderr
