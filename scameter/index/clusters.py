"""Clusters of a snapshot, listed: "what are the biggest scam networks this week?".

Responsibility: summarise the co-report clusters a snapshot holds (the ``cluster:<id>``
bitmaps the builder writes, docs/snapshot-format.md) for ``scameter clusters``: size, worst
level, kinds and a sample of members, ordered by size or by worst level.

Invariants: read-only; sizes and kinds come from bitmap algebra (no record is read for them);
only the sample members are decoded into verdicts, so listing stays cheap at any size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scameter.identifiers import Kind
from scameter.index.snapshot import Snapshot
from scameter.verdict import SEVERITY, Level, Verdict

Order = Literal["size", "level"]


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """One cluster: ``worst`` is the most severe level of its members."""

    cluster: int
    size: int
    worst: Level
    kinds: dict[str, int]
    sample: tuple[Verdict, ...]


def list_clusters(
    snap: Snapshot, *, order: Order = "size", limit: int = 20, sample: int = 5
) -> list[ClusterSummary]:
    """The ``limit`` largest (``order="size"``) or worst (``"level"``, then size) clusters."""
    names = snap.bitmap_names("cluster:")
    kinds = {k.value: snap.bitmap(f"kind:{k.value}") for k in Kind}
    levels = [(lv, snap.bitmap(f"level:{lv.value}")) for lv in Level]
    levels.sort(key=lambda item: -SEVERITY[item[0]])
    rows: list[tuple[int, int, int, Level]] = []
    for name in names:
        cid = int(name.split(":", 1)[1])
        members = snap.bitmap(name)
        worst = next((lv for lv, bm in levels if members.intersect(bm)), Level.NO_RECORD)
        rows.append((len(members), SEVERITY[worst], cid, worst))
    if order == "level":
        rows.sort(key=lambda r: (-r[1], -r[0], r[2]))
    else:
        rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    out: list[ClusterSummary] = []
    for size, _, cid, worst in rows[:limit]:
        members = snap.bitmap(f"cluster:{cid}")
        per_kind = {k: n for k, bm in kinds.items() if (n := members.intersection_cardinality(bm))}
        out.append(
            ClusterSummary(
                cluster=cid,
                size=size,
                worst=worst,
                kinds=per_kind,
                sample=tuple(snap.cluster_members(cid)[:sample]),
            )
        )
    return out


__all__ = ["ClusterSummary", "Order", "list_clusters"]
