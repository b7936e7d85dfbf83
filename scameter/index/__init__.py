"""Compiled snapshots: format, builder, reader, near-match indexes, bitmaps, hot swap.

Re-exports the public API only; see ``docs/snapshot-format.md`` for the format.
"""

from scameter.index.builder import SnapshotBuilder
from scameter.index.diff import DiffEntry, SnapshotDiff, diff_snapshots
from scameter.index.format import FORMAT_VERSION, IndexPolicy, Manifest
from scameter.index.publish import current_id, publish
from scameter.index.record import Record
from scameter.index.snapshot import Snapshot
from scameter.index.swap import SnapshotManager

__all__ = [
    "FORMAT_VERSION",
    "DiffEntry",
    "IndexPolicy",
    "Manifest",
    "Record",
    "Snapshot",
    "SnapshotBuilder",
    "SnapshotDiff",
    "SnapshotManager",
    "current_id",
    "diff_snapshots",
    "publish",
]
