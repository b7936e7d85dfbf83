"""Publishing snapshots: the ``CURRENT`` pointer, and the fsync helpers a build ends with.

Responsibility: :func:`publish` (make a built snapshot live), :func:`current_id` (which one is),
and the small durable-file helpers the builder uses before its final rename.

Invariants:

* ``CURRENT`` is only ever replaced whole (write a temporary file, fsync, rename over, fsync the
  directory): a crash leaves the old pointer or the new one, never a torn one, and it never
  names a directory that is not a complete snapshot.
* A build in progress holds an exclusive ``flock`` on ``.tmp-*/.lock`` for its whole life; the
  kernel drops it when the process ends, however it ends (even ``SIGKILL``). So a ``.tmp-*``
  directory whose lock can be taken belongs to a dead build, and :func:`remove_stale_builds`
  deletes it; one whose lock is held is never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from scameter.errors import ConfigError, SnapshotCorrupt, SnapshotNotFound
from scameter.index import format as fmt

try:
    import fcntl

    _FLOCK = True
except ImportError:  # not POSIX: no build locks, so stale builds are left for the operator
    _FLOCK = False

LOCK_FILE = ".lock"
#: A ``.tmp-*`` directory without a lock file is only removed past this age: a build creates
#: its lock right after its directory, and removes it just before renaming into place.
UNLOCKED_GRACE_S = 3600.0
_log = logging.getLogger(__name__)


def resolve_group(name: str) -> int:
    """The group id of ``name`` (a group name or a numeric id) that this process may give
    snapshots to; :class:`ConfigError` in one line when the group does not exist or this
    user may not ``chown`` files to it (only root may pick a group it is not a member of)."""
    import grp

    try:
        gid = int(name) if name.isdigit() else grp.getgrnam(name).gr_gid
    except KeyError:
        raise ConfigError(f"--group {name}: no such group on this system") from None
    if os.geteuid() != 0 and gid != os.getegid() and gid not in os.getgroups():
        raise ConfigError(
            f"--group {name}: this user is not a member of that group, so it may not give it "
            "the snapshots (add the user to the group, or run ingest as a member)"
        )
    return gid


def give_to_group(snapshot_dir: Path, gid: int) -> None:
    """Make ``snapshot_dir`` and every file in it group-owned by ``gid`` (modes unchanged),
    shard directories (format 4.0) and their files included."""
    for f in snapshot_dir.iterdir():
        if f.is_symlink():
            continue
        if f.is_dir():
            give_to_group(f, gid)
        elif f.is_file():
            os.chown(f, -1, gid)
    os.chown(snapshot_dir, -1, gid)


def publish(snapshots_root: Path, snapshot_id: str, *, group: int | None = None) -> None:
    """Make ``snapshot_id`` (a directory under ``snapshots_root``) the live snapshot:
    ``CURRENT`` is replaced atomically (group-owned by ``group`` when given).

    Write-temp + fsync + rename + fsync of the directory, so a crash leaves either the old
    or the new pointer, never a torn one.
    """
    snapshots_root = Path(snapshots_root)
    target = snapshots_root / snapshot_id
    if not (target / fmt.MANIFEST_FILE).is_file():
        raise SnapshotNotFound(target, "no built snapshot with this id; build it first")
    fd, tmp = tempfile.mkstemp(prefix=".CURRENT.", dir=snapshots_root)
    try:
        os.fchmod(fd, fmt.FILE_MODE)  # mkstemp's 0600 would hide CURRENT from the group
        if group is not None:
            os.fchown(fd, -1, group)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(snapshot_id + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, snapshots_root / fmt.CURRENT_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(snapshots_root)


def current_id(snapshots_root: Path) -> str:
    """The id ``snapshots_root/CURRENT`` names; :class:`SnapshotNotFound` if there is none."""
    path = Path(snapshots_root) / fmt.CURRENT_FILE
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


def lock_build(tmp: Path) -> int | None:
    """Take the lock that marks ``tmp`` as a live build; returns the descriptor to close
    when the build ends (``None`` where ``flock`` does not exist)."""
    if not _FLOCK:
        return None
    fd = os.open(tmp / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def hold_in_use(data: Path) -> int | None:
    """Mark a snapshot as open by this process: a shared ``flock`` on its data file, held
    until :func:`release_in_use`. ``scameter snapshot prune`` never removes a snapshot whose
    data file it cannot lock exclusively, whichever user or process holds it open. The file
    is opened read-only (a server of the snapshot group may not write it); ``None`` when
    locks are unavailable."""
    if not _FLOCK:
        return None
    try:
        fd = os.open(data, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        # Only a prune holding the exclusive lock for its last instant: open anyway.
        os.close(fd)
        return None
    return fd


def release_in_use(fd: int | None) -> None:
    """Drop the mark :func:`hold_in_use` took (closing the descriptor releases the lock)."""
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def remove_stale_builds(snapshots_root: Path) -> list[Path]:
    """Delete the ``.tmp-*`` directories of builds that died (killed, crashed, power lost)
    under ``snapshots_root``; a live build's directory is never touched. Returns what was
    removed."""
    if not _FLOCK:
        return []
    removed: list[Path] = []
    for tmp in sorted(Path(snapshots_root).glob(fmt.TMP_PREFIX + "*")):
        if not tmp.is_dir() or tmp.is_symlink():
            continue
        try:
            fd = os.open(tmp / LOCK_FILE, os.O_RDWR)
        except FileNotFoundError:
            try:
                young = time.time() - tmp.stat().st_mtime < UNLOCKED_GRACE_S
            except FileNotFoundError:
                continue  # renamed into place meanwhile
            if young:
                continue  # a build between mkdir and lock, or about to rename
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live build holds it
            finally:
                os.close(fd)
        shutil.rmtree(tmp, ignore_errors=True)
        _log.info("removed the temporary directory of a build that did not finish: %s", tmp)
        removed.append(tmp)
    return removed


__all__ = [
    "LOCK_FILE",
    "current_id",
    "fsync_dir",
    "fsync_file",
    "give_to_group",
    "hold_in_use",
    "lock_build",
    "publish",
    "release_in_use",
    "remove_stale_builds",
    "resolve_group",
    "sha256_file",
]
