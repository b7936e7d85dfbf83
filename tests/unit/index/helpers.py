"""Small builders shared by the index tests: records by hand, snapshots in a temp dir."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scameter.identifiers import Identifier, Kind
from scameter.index import IndexPolicy, Record, Snapshot, SnapshotBuilder, publish
from scameter.verdict import Level

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def rec(kind: Kind, value: str, level: Level, **kw: Any) -> Record:
    """A record for an already-canonical value."""
    return Record(Identifier(kind, value), level, **kw)


def build(
    root: Path,
    records: Iterable[Record],
    *,
    parent: str | None = None,
    policy: IndexPolicy | None = None,
    publish_it: bool = True,
    chunk: int = 500_000,
    as_of: datetime = AS_OF,
) -> str:
    """Build (and by default publish) a snapshot under ``root``; returns its id."""
    builder = SnapshotBuilder(
        root, as_of=as_of, parent=parent, policy=policy or IndexPolicy(), chunk=chunk
    )
    for r in records:
        builder.add(r)
    manifest = builder.build()
    if publish_it:
        publish(root, manifest.snapshot_id)
    return manifest.snapshot_id


def open_built(root: Path, records: Iterable[Record], **kw: Any) -> Snapshot:
    return Snapshot.open(root / build(root, records, **kw))
