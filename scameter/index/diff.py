"""Differences between two snapshots: added, removed and changed identifiers.

Responsibility: :func:`diff_snapshots`. When ``new`` was built with ``old`` as its parent,
the answer comes straight from the ``added`` / ``changed`` (new ordinals) and ``removed``
(parent ordinals) bitmaps written at build time. Otherwise both snapshots' record tables are
merge-joined in key order (LMDB iterates keys sorted), which costs one sequential pass.

Invariant: an identifier is keyed by (table, key) where table is records or allowlist, so a
number moving from reported to allowlisted shows as one removal plus one addition.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from scameter.index import format as fmt
from scameter.index.snapshot import Snapshot
from scameter.verdict import Level


@dataclass(frozen=True, slots=True)
class DiffEntry:
    """One identifier that differs. ``old_level`` is ``None`` when added, ``new_level`` when
    removed."""

    kind: str
    canonical: str
    old_level: Level | None
    new_level: Level | None


@dataclass(frozen=True, slots=True)
class SnapshotDiff:
    old_id: str
    new_id: str
    added: tuple[DiffEntry, ...]
    removed: tuple[DiffEntry, ...]
    changed: tuple[DiffEntry, ...]
    from_bitmaps: bool = False

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "changed": len(self.changed),
        }


def _entry(buf: bytes, old: Level | None, new: Level | None) -> DiffEntry:
    kind = fmt.KIND_BY_TAG[buf[0]].value
    return DiffEntry(kind, fmt.record_canonical(buf), old, new)


def diff_snapshots(old: Snapshot, new: Snapshot) -> SnapshotDiff:
    """What changed from ``old`` to ``new`` (sorted by kind, then canonical value)."""
    if new.reader.diff_parent == old.id and new.manifest.parent_id == old.id:
        return _from_bitmaps(old, new)
    added: list[DiffEntry] = []
    removed: list[DiffEntry] = []
    changed: list[DiffEntry] = []
    for table in (fmt.TABLE_RECORDS, fmt.TABLE_ALLOW):
        for o, n in _merge(old.reader.iter_table(table), new.reader.iter_table(table)):
            if o is None and n is not None:
                added.append(_entry(n, None, fmt.record_level(n)))
            elif n is None and o is not None:
                removed.append(_entry(o, fmt.record_level(o), None))
            elif o is not None and n is not None and o[1] != n[1]:
                changed.append(_entry(n, fmt.record_level(o), fmt.record_level(n)))
    return _sorted(old.id, new.id, added, removed, changed, from_bitmaps=False)


def _from_bitmaps(old: Snapshot, new: Snapshot) -> SnapshotDiff:
    added: list[DiffEntry] = []
    removed: list[DiffEntry] = []
    changed: list[DiffEntry] = []
    for ordinal in new.bitmap("added"):
        hit = new.reader.by_ordinal(ordinal)
        if hit is not None:
            added.append(_entry(hit[2], None, fmt.record_level(hit[2])))
    for ordinal in new.bitmap("changed"):
        hit = new.reader.by_ordinal(ordinal)
        if hit is None:
            continue
        table, key, buf = hit
        prev = old.reader.get(table, key)
        before = fmt.record_level(prev) if prev is not None else None
        changed.append(_entry(buf, before, fmt.record_level(buf)))
    for ordinal in new.bitmap("removed"):
        hit = old.reader.by_ordinal(ordinal)
        if hit is not None:
            removed.append(_entry(hit[2], fmt.record_level(hit[2]), None))
    return _sorted(old.id, new.id, added, removed, changed, from_bitmaps=True)


def _merge(
    a: Iterator[tuple[bytes, bytes]], b: Iterator[tuple[bytes, bytes]]
) -> Iterator[tuple[bytes | None, bytes | None]]:
    """Full outer join of two key-ordered streams, yielding value pairs."""
    x = next(a, None)
    y = next(b, None)
    while x is not None or y is not None:
        if y is None or (x is not None and x[0] < y[0]):
            assert x is not None
            yield x[1], None
            x = next(a, None)
        elif x is None or y[0] < x[0]:
            yield None, y[1]
            y = next(b, None)
        else:
            if fmt.record_canonical(x[1]) == fmt.record_canonical(y[1]):
                yield x[1], y[1]
            else:  # same key, other identifier: a collision, so one left and one came
                yield x[1], None
                yield None, y[1]
            x = next(a, None)
            y = next(b, None)


def _sorted(
    old_id: str,
    new_id: str,
    added: list[DiffEntry],
    removed: list[DiffEntry],
    changed: list[DiffEntry],
    *,
    from_bitmaps: bool,
) -> SnapshotDiff:
    def key(e: DiffEntry) -> tuple[str, str]:
        return (e.kind, e.canonical)

    return SnapshotDiff(
        old_id,
        new_id,
        tuple(sorted(added, key=key)),
        tuple(sorted(removed, key=key)),
        tuple(sorted(changed, key=key)),
        from_bitmaps=from_bitmaps,
    )
