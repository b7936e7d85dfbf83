"""``scameter snapshot prune``: remove old snapshots and old scratch rejects files.

Responsibility: decide which snapshot directories under ``snapshots_root`` may go and remove
them safely; nothing else in the engine deletes a published snapshot.

Invariants:
* Never removed: the snapshot ``CURRENT`` names, its parent (a rollback target and the base
  of the next diff), the ``keep`` newest by build time, and any snapshot some process has
  open (a reader holds a shared ``flock`` on its data file, see
  :func:`scameter.index.publish.hold_in_use`; prune takes the lock exclusively, non-blocking,
  and skips the snapshot when it cannot).
* A directory is first renamed to a ``.tmp-`` name while its lock is held, then deleted: a
  prune killed half-way leaves a stale build that the next build or prune removes, never a
  half-deleted snapshot under its own id.
* Scratch rejects files (``.rejects/``, from dry runs and failed builds) are kept ``keep``
  deep as well, newest first; rejects of a published build live inside its snapshot
  directory and go with it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from scameter.errors import SnapshotError
from scameter.index import format as fmt
from scameter.index.publish import current_id, remove_stale_builds
from scameter.index.reader import read_manifest

try:
    import fcntl

    _FLOCK = True
except ImportError:  # pragma: no cover - not POSIX: an open snapshot cannot be told apart
    _FLOCK = False

#: Where failed and dry-run ingests leave their rejects (scameter.ingest.rejects.SCRATCH_DIR).
REJECTS_SCRATCH = ".rejects"


@dataclass(slots=True)
class PruneResult:
    """What a prune removed and what it kept, by snapshot id (rejects by file name)."""

    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    in_use: list[str] = field(default_factory=list)
    rejects_removed: list[str] = field(default_factory=list)
    dry_run: bool = False


def _age_key(path: Path) -> tuple[str, int, str]:
    """Newest last: the manifest's build time (whole seconds), then the directory's mtime in
    nanoseconds for builds within one second; a snapshot this version cannot read sorts by
    its mtime alone."""
    try:
        built = read_manifest(path / fmt.MANIFEST_FILE, verify=False).built_at
    except SnapshotError:
        built = ""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        mtime = 0
    return built, mtime, path.name


def _snapshot_dirs(root: Path) -> list[Path]:
    return [
        p
        for p in root.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        if (p / fmt.MANIFEST_FILE).exists()
    ]


def _protected(root: Path) -> set[str]:
    """CURRENT and its parent."""
    try:
        live = current_id(root)
    except SnapshotError:
        return set()
    keep = {live}
    with contextlib.suppress(SnapshotError):
        parent = read_manifest(root / live / fmt.MANIFEST_FILE, verify=False).parent_id
        if parent:
            keep.add(parent)
    return keep


def _remove_if_unused(root: Path, snap: Path) -> bool:
    """Remove ``snap`` unless a process has it open; ``True`` when it was removed."""
    fd: int | None = None
    data = snap / fmt.DATA_FILE
    if _FLOCK and data.exists():
        fd = os.open(data, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
    try:
        doomed = root / f"{fmt.TMP_PREFIX}pruned-{snap.name}"
        os.rename(snap, doomed)
    finally:
        if fd is not None:
            os.close(fd)
    shutil.rmtree(doomed, ignore_errors=True)
    return True


def prune(snapshots_root: Path, keep: int, *, dry_run: bool = False) -> PruneResult:
    """Remove all but the ``keep`` newest snapshots (plus CURRENT, its parent and any in use).

    ``dry_run`` reports what would go and removes nothing.
    """
    if keep < 1:
        raise ValueError("keep must be at least 1")
    root = Path(snapshots_root)
    result = PruneResult(dry_run=dry_run)
    protected = _protected(root)
    snaps = sorted(_snapshot_dirs(root), key=_age_key, reverse=True)
    for rank, snap in enumerate(snaps):
        if rank < keep or snap.name in protected:
            result.kept.append(snap.name)
        elif dry_run or _remove_if_unused(root, snap):
            result.removed.append(snap.name)
        else:
            result.in_use.append(snap.name)
    scratch = root / REJECTS_SCRATCH
    if scratch.is_dir():
        files = sorted(scratch.glob("rejects-*.jsonl"), key=lambda p: p.name, reverse=True)
        for old in files[keep:]:
            result.rejects_removed.append(old.name)
            if not dry_run:
                old.unlink(missing_ok=True)
    if not dry_run:
        remove_stale_builds(root)
    return result


__all__ = ["PruneResult", "prune"]
