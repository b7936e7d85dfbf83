"""Publishing snapshots: the ``CURRENT`` pointer, and the fsync helpers a build ends with.

Responsibility: :func:`publish` (make a built snapshot live), :func:`current_id` (which one is),
and the small durable-file helpers the builder uses before its final rename.

Invariant: ``CURRENT`` is only ever replaced whole (write a temporary file, fsync, rename over,
fsync the directory): a crash leaves the old pointer or the new one, never a torn one, and it
never names a directory that is not a complete snapshot.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from scameter.errors import SnapshotCorrupt, SnapshotNotFound
from scameter.index import format as fmt


def publish(root: Path, snapshot_id: str) -> None:
    """Make ``snapshot_id`` the live snapshot: ``CURRENT`` is replaced atomically.

    Write-temp + fsync + rename + fsync of the directory, so a crash leaves either the old
    or the new pointer, never a torn one.
    """
    root = Path(root)
    target = root / snapshot_id
    if not (target / fmt.MANIFEST_FILE).is_file():
        raise SnapshotNotFound(target, "no built snapshot with this id; build it first")
    fd, tmp = tempfile.mkstemp(prefix=".CURRENT.", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(snapshot_id + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, root / fmt.CURRENT_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(root)


def current_id(root: Path) -> str:
    """The id ``root/CURRENT`` names. Raises :class:`SnapshotNotFound` if there is none."""
    path = Path(root) / fmt.CURRENT_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise SnapshotNotFound(
            path,
            "no CURRENT snapshot pointer; run `scameter ingest` (or `scameter demo`) "
            "to build and publish a snapshot",
        ) from None
    except (OSError, UnicodeError) as e:
        raise SnapshotCorrupt(path, f"unreadable CURRENT pointer ({e}); re-publish") from e
    if not text or "/" in text or text.startswith("."):
        raise SnapshotCorrupt(path, "CURRENT does not name a snapshot; re-publish one")
    return text


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["current_id", "fsync_dir", "fsync_file", "publish", "sha256_file"]
