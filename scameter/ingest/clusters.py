"""Co-reporting clusters: identifiers named in the same report are linked (E-Hub style), and
so are identifiers that share a scam domain or are forms of one another.

Responsibility: union-find over dense identifier ids, fed with the flattened report groups the
aggregator keeps (``[n, id_1, ..., id_n, n, ...]`` in one ``array('I')``: 4 bytes per linked
identifier, no Python object per report), plus the groups of two further links:

* **shared registrable domain**: URLs, domains and e-mail addresses whose host is listed at the
  same host-level expression (``evil-shop.example/``: :func:`domain_link_key`, the listing
  rule of :class:`~scameter.ingest.granularity.Granularity`), so never through a popular site
  or a shared platform (those are listed at host + path, or not at all); the aggregator also
  leaves out warninglisted and allowlisted domains;
* **derived forms**: an identifier and what it derives at ingest (the table of
  :mod:`scameter.identifiers.derive`: a WhatsApp account or ``wa.me`` link and its phone
  number, a profile link and its account, a link and its IP host).

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
from collections.abc import Callable, Iterator, Mapping

from scameter.identifiers import Identifier, Kind
from scameter.identifiers.derive import INGEST_DERIVING_KINDS, derive
from scameter.ingest.granularity import Granularity


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


def domain_link_key(key: str, gran: Granularity) -> str | None:
    """The host-level listing expression (``evil-shop.example/``) a ``url:``, ``domain:`` or
    ``email:`` key (without ``~``) links through, or None: other kinds, and hosts listed at
    host + path or not at all (popular sites and shared platforms)."""
    kind, _, value = key.partition(":")
    if kind == "url":
        expr = gran.listing_for_url(value)
    elif kind == "domain":
        expr = gran.listing(value)
    elif kind == "email":
        expr = gran.listing(value.rpartition("@")[2])
    else:
        return None
    if expr is None or expr[-1:] != "/" or expr.count("/") != 1:
        return None
    return expr


_DOMAIN_LINKED = ("url:", "domain:", "email:")
_DERIVING = tuple(f"{kind}:" for kind in sorted(INGEST_DERIVING_KINDS))
_KINDS = {k.value: k for k in Kind}


def by_domain(keys: list[str], gran: Granularity) -> dict[str, list[int]]:
    """``{link key: [ids]}`` of every URL, domain and e-mail key (``keys[id]``), each list in
    id order."""
    out: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        if key.startswith(_DOMAIN_LINKED):
            link = domain_link_key(key, gran)
            if link is not None:
                out.setdefault(link, []).append(i)
    return out


def derived_pairs(keys: list[str], ids: Mapping[str, int]) -> Iterator[tuple[int, int]]:
    """``(id, derived id)`` for every key whose ingest derivation (the table of
    :mod:`scameter.identifiers.derive`) names another known identifier."""
    for i, key in enumerate(keys):
        if not key.startswith(_DERIVING):
            continue
        for derived in derived_keys(key):
            j = ids.get(derived)
            if j is not None and j != i:
                yield i, j


def derived_keys(key: str) -> list[str]:
    """The keys a plain ``kind:canonical`` key derives at ingest (the table of
    :mod:`scameter.identifiers.derive`), nearest first."""
    kind, _, value = key.partition(":")
    return [
        f"{ident.kind.value}:{ident.value}"
        for _, ident in derive(Identifier(_KINDS[kind], value), ingest=True)
    ]


__all__ = [
    "UnionFind",
    "by_domain",
    "cluster_ids",
    "derived_keys",
    "derived_pairs",
    "domain_link_key",
]
