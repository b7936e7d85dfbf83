"""``snapshot prune``: old snapshots go; CURRENT, its parent and open ones never do."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from scameter.identifiers import Kind
from scameter.index import Snapshot, current_id
from scameter.index.prune import prune
from scameter.verdict import Level
from tests.unit.index.helpers import AS_OF, build, rec


def _chain(root: Path, n: int) -> list[str]:
    """``n`` snapshots, each the parent of the next, the last one CURRENT."""
    ids: list[str] = []
    for i in range(n):
        records = [rec(Kind.PHONE, f"+8526{j:07d}", Level.SUSPICIOUS) for j in range(i + 1)]
        ids.append(
            build(root, records, parent=ids[-1] if ids else None, as_of=AS_OF + timedelta(i))
        )
    return ids


def test_keeps_the_newest_current_and_its_parent(tmp_path: Path) -> None:
    ids = _chain(tmp_path, 5)
    result = prune(tmp_path, keep=1)
    assert set(result.kept) == {ids[-1], ids[-2]}  # CURRENT + its parent, even with keep=1
    assert sorted(result.removed) == sorted(ids[:3])
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == sorted(
        ["CURRENT", ids[-1], ids[-2]]
    )
    assert current_id(tmp_path) == ids[-1]
    with Snapshot.open(tmp_path / ids[-1]) as snap:
        assert snap.check("+85260000000").level is Level.SUSPICIOUS


def test_dry_run_removes_nothing(tmp_path: Path) -> None:
    ids = _chain(tmp_path, 4)
    result = prune(tmp_path, keep=2, dry_run=True)
    assert result.removed == [ids[1], ids[0]]  # newest first
    assert all((tmp_path / i).is_dir() for i in ids)


def test_a_snapshot_open_in_another_process_is_kept(tmp_path: Path) -> None:
    ids = _chain(tmp_path, 4)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from scameter.index import Snapshot; "
            f"s = Snapshot.open({str(tmp_path / ids[0])!r}); print('open', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        result = prune(tmp_path, keep=1)
        assert result.in_use == [ids[0]]
        assert result.removed == [ids[1]]
        assert (tmp_path / ids[0]).is_dir()
    finally:
        holder.communicate("", timeout=30)
    assert prune(tmp_path, keep=1).removed == [ids[0]]  # closed: now it goes


def test_a_snapshot_open_in_this_process_is_kept(tmp_path: Path) -> None:
    ids = _chain(tmp_path, 3)
    with Snapshot.open(tmp_path / ids[0]):
        assert prune(tmp_path, keep=1).in_use == [ids[0]]
    assert prune(tmp_path, keep=1).removed == [ids[0]]


def test_old_scratch_rejects_are_pruned(tmp_path: Path) -> None:
    _chain(tmp_path, 1)
    scratch = tmp_path / ".rejects"
    scratch.mkdir()
    for day in range(1, 5):
        (scratch / f"rejects-2026110{day}T000000Z-1.jsonl").write_text("{}\n")
    result = prune(tmp_path, keep=2)
    assert sorted(result.rejects_removed) == [
        "rejects-20261101T000000Z-1.jsonl",
        "rejects-20261102T000000Z-1.jsonl",
    ]
    assert len(list(scratch.iterdir())) == 2


def test_keep_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        prune(tmp_path, keep=0)
