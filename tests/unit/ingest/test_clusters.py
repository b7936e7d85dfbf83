"""Union-find clusters: hubs skipped, result independent of group order."""

from __future__ import annotations

from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from scameter.ingest.clusters import UnionFind, cluster_ids


def _flat(groups: list[list[int]]) -> array[int]:
    out = array("I")
    for g in groups:
        out.append(len(g))
        out.extend(g)
    return out


def test_components_and_smallest_rank_ids() -> None:
    rank = array("I", range(6))
    got = cluster_ids(6, _flat([[3, 4], [4, 5], [0, 1]]), lambda i: True, rank)
    assert got == {0: 0, 1: 0, 3: 3, 4: 3, 5: 3}


def test_hub_does_not_link_but_rest_of_group_does() -> None:
    rank = array("I", range(5))
    # 0 is a hub: [0,1] and [0,2] link nothing; [1,0,3] still links 1 and 3.
    got = cluster_ids(5, _flat([[0, 1], [0, 2], [1, 0, 3]]), lambda i: i != 0, rank)
    assert got == {1: 1, 3: 1}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(0, 19), min_size=2, max_size=4), max_size=15), st.randoms())
def test_order_independent(groups: list[list[int]], rnd: object) -> None:
    import random

    assert isinstance(rnd, random.Random)
    rank = array("I", range(20))
    a = cluster_ids(20, _flat(groups), lambda i: i % 7 != 3, rank)
    shuffled = [list(g) for g in groups]
    rnd.shuffle(shuffled)
    for g in shuffled:
        rnd.shuffle(g)
    assert cluster_ids(20, _flat(shuffled), lambda i: i % 7 != 3, rank) == a


def test_union_find_basics() -> None:
    uf = UnionFind(4)
    uf.union(2, 3)
    uf.union(3, 1)
    assert uf.find(3) == uf.find(2) == uf.find(1) == 1
    assert uf.find(0) == 0
