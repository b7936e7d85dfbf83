"""Clusters of a snapshot, listed: "what are the biggest scam networks this week?".

Responsibility: summarise the co-report clusters a snapshot holds (the ``cluster:<id>``
bitmaps the builder writes, docs/snapshot-format.md) for ``scameter clusters``: size, worst
level, kinds, a sample of members and the case ids behind them, ordered by size or by worst
level.

Invariants: read-only; sizes and kinds come from bitmap algebra (no record is read for them);
only the listed clusters' members are decoded into verdicts (for the sample and the case ids).
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
    """One cluster: ``worst`` is the most severe level of its members; ``case_ids`` the
    distinct case ids its members keep (worst members first, at most :data:`CLUSTER_CASE_IDS`)
    and ``case_count`` how many distinct ids they keep in all (each member keeps its latest
    20, so a lower bound for a cluster of long-reported members)."""

    cluster: int
    size: int
    worst: Level
    kinds: dict[str, int]
    sample: tuple[Verdict, ...]
    case_ids: tuple[str, ...] = ()
    case_count: int = 0


#: Case ids a cluster summary lists at most.
CLUSTER_CASE_IDS = 20


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
        verdicts = snap.cluster_members(cid)
        cases = list(dict.fromkeys(c for v in verdicts for c in v.case_ids))
        out.append(
            ClusterSummary(
                cluster=cid,
                size=size,
                worst=worst,
                kinds=per_kind,
                sample=tuple(verdicts[:sample]),
                case_ids=tuple(cases[:CLUSTER_CASE_IDS]),
                case_count=len(cases),
            )
        )
    return out


__all__ = ["CLUSTER_CASE_IDS", "ClusterSummary", "Order", "list_clusters"]
