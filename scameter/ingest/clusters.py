"""Co-reporting clusters: identifiers named in the same report are linked (E-Hub style).

Responsibility: union-find over dense identifier ids, fed with the flattened report groups the
aggregator keeps (``[n, id_1, ..., id_n, n, ...]`` in one ``array('I')``: 4 bytes per linked
identifier, no Python object per report).

Invariants:

* Hubs (allowlisted identifiers, identifiers in more than ``policy.hub_reports`` reports) and
  identifiers left out of the snapshot never link: they are skipped inside each group, and the
  rest of the group is still linked (chained), so one hub cannot merge two unrelated cases.
* The result does not depend on group order: each component's id is the smallest *rank*
  (position in the sorted record stream) among its members, so the same input gives the same
  cluster ids whatever order the reports came in.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Callable


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving and union by smaller root."""

    __slots__ = ("parent",)

    def __init__(self, n: int) -> None:
        self.parent = array("I", range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # Smaller root wins: deterministic whatever the union order.
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def cluster_ids(
    n: int, groups: array[int], linkable: Callable[[int], bool], rank: array[int]
) -> dict[int, int]:
    """``{id: cluster id}`` for every identifier in a component of two or more members.

    ``rank[id]`` is the identifier's position in the sorted output; the cluster id is the
    smallest rank in the component. ``linkable(id)`` is False for hubs and dropped ids.
    """
    # Union over ranks rather than ids so that "smallest root" is "smallest rank".
    uf = UnionFind(n)
    linked = bytearray(n)
    i, total = 0, len(groups)
    while i < total:
        size = groups[i]
        members = [rank[m] for m in groups[i + 1 : i + 1 + size] if linkable(m)]
        i += 1 + size
        for a, b in itertools.pairwise(members):
            if a != b:
                uf.union(a, b)
                linked[a] = linked[b] = 1
    out: dict[int, int] = {}
    for r in range(n):
        if linked[r]:
            out[r] = uf.find(r)
    return out


__all__ = ["UnionFind", "cluster_ids"]
