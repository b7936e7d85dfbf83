"""Clusters in the live delta: what the fold links, joined to the clusters it already has.

Responsibility: :func:`assign` gives every identifier a fold re-decides the cluster a full
build of the same inputs gives it (size, worst level, membership), and :class:`LiveClusters`
keeps the delta's ``clusters`` entries (:data:`~scameter.index.delta.CLUSTER_ENTRY`) that let
every *other* member answer with it too: a cluster id a record carries (base or delta) ->
the live cluster it now answers as, and that cluster's members counted per listed level. A
worker resolves a record's cluster id through them (``Overlay.resolve``), so a base member
the delta does not touch answers with the joined cluster's size and worst level, and
``related`` of any member lists the whole live cluster (docs/architecture.md, "Live updates").

Invariants:

* A live cluster is a union of *atoms*, the live clusters its members were in before the
  fold (a base cluster, or one an earlier fold made), and of members in none. Atoms are taken
  whole: a base cluster's links are still there, whatever the fold does not see of them.
  Its count per level is the atoms' counts, each member's old level taken out and its new
  one put in: exact while no member leaves. A base cluster's counts come from the base's
  bitmaps (``cluster:<id>`` and ``level:<level>``), once per base cluster a fold first
  touches: no record is read for them.
* A member that leaves (delisted, or no longer linkable: allowlisted, a hub) is taken out of
  its cluster's counts, and the cluster is named in :attr:`LiveClusters.splits`: the fold
  then *opens* it (:mod:`scameter.ingest.livesplits`: members holding at most ``serve
  --live-split-max-reports`` reports together, else it waits for compaction, one cluster as
  before) and decides again with every member touched. An opened cluster is no atom: its
  members link only as their complete evidence links them (an identifier the fold holds
  part of the evidence of does not link them: had it linked, it would be a member), so the
  parts are a build's; each part gets a new id, and every id that answered as the opened
  cluster an empty entry.
* Ids: a live cluster keeps the smallest id among its atoms (base ids, record ranks, are
  below 2^32) or, with none, :data:`~scameter.index.delta.DELTA_CLUSTER_BIT` | the top 63
  bits of the xxh3-64 of its smallest ``kind:canonical`` key. Every atom's id is written to
  answer as it. A full build numbers clusters by the rank of their smallest member in its
  sorted stream of every identifier in the window, which a new identifier shifts for every
  later one: no delta can give that number at a cost below the base's size.
* Cost: per fold, one read of the delta's record and the base's record per member the fold
  links, one read per cluster entry, and per base cluster first touched one intersection
  count per listed level of two compressed bitmaps; with an opened cluster, the fold's links
  made once more (its groups, a union-find over its identifiers).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from typing import Any

import xxhash

from scameter.index import format as fmt
from scameter.index.delta import (
    CLUSTER_ENTRY,
    DELTA_CLUSTER_BIT,
    GEN_KEY,
    HIST_LEVELS,
    REMOVED,
    cluster_stats,
)
from scameter.index.reader import SnapshotReader
from scameter.ingest.aggregate import Aggregator, Decisions
from scameter.ingest.clusters import cluster_ids
from scameter.ingest.evidence import wire_key_id
from scameter.ingest.granularity import Granularity
from scameter.verdict import Level

#: A cluster as a delta record carries it: (cluster id, size, worst level).
Cluster = tuple[int, int, Level]
_INDEX = {lv: i for i, lv in enumerate(HIST_LEVELS)}


class LiveClusters:
    """The delta's cluster entries as one fold reads and writes them (inside its write
    transaction: ``get_record`` and ``get_entry`` read the delta's ``records`` and
    ``clusters``)."""

    def __init__(
        self,
        reader: SnapshotReader,
        get_record: Callable[[bytes], bytes | None],
        get_entry: Callable[[bytes], bytes | None],
        wire: dict[bytes, str],
        opened: frozenset[int] = frozenset(),
    ) -> None:
        #: Identifier key -> ``kind:canonical`` of every key the fold knows.
        self.wire = wire
        #: The ids of the clusters this fold opened (each and every id answering as it):
        #: their members are all touched and link as their own evidence does.
        self.opened = opened
        #: Live clusters a member left (or a domain link went from): the fold opens them.
        self.splits: set[int] = set()
        #: The target of every id this fold wrote before it wrote it (``None``: no entry).
        self.original: dict[int, int | None] = {}
        self._reader = reader
        self._get_record = get_record
        self._get_entry = get_entry
        self._entries: dict[int, tuple[int, list[int]] | None] = {}
        self._current: dict[bytes, tuple[Level | None, int | None]] = {}
        #: The entries this fold wrote: cluster id -> (target id, counts per level).
        self.written: dict[int, tuple[int, list[int]]] = {}
        #: Listed identifiers the fold did not re-decide that a live cluster now takes in
        #: although their record carries no cluster: the fold re-decides them too.
        self.joiners: set[bytes] = set()

    def _entry(self, cid: int) -> tuple[int, list[int]] | None:
        if cid not in self._entries:
            raw = self._get_entry(GEN_KEY.pack(cid))
            if raw is None:
                self._entries[cid] = None
            else:
                target, *hist = CLUSTER_ENTRY.unpack(raw)
                self._entries[cid] = (target, hist)
        return self._entries[cid]

    def resolve(self, cid: int) -> int:
        """The live cluster id the cluster id ``cid`` answers as."""
        for _ in range(64):  # targets chain a few merges deep at most
            entry = self._entry(cid)
            if entry is None or entry[0] == cid:
                return cid
            cid = entry[0]
        return cid

    def counts(self, cid: int) -> list[int]:
        """The members of the live cluster ``cid`` per listed level (:data:`HIST_LEVELS`):
        its entry's, or a base cluster's from the base's bitmaps."""
        entry = self._entry(cid)
        if entry is not None:
            return list(entry[1])
        bitmap = self._reader.bitmap
        members = bitmap(f"cluster:{cid}")
        return [members.intersection_cardinality(bitmap(f"level:{lv.value}")) for lv in HIST_LEVELS]

    def current(self, ikey: bytes) -> tuple[Level | None, int | None]:
        """The live level (``None``: no record) and live cluster id (``None``: none) of
        ``ikey`` before this fold: its delta record's, else its base record's."""
        got = self._current.get(ikey)
        if got is not None:
            return got
        value = self._get_record(ikey)
        if value is None:
            buf = self._reader.get(fmt.TABLE_RECORDS, ikey)
        else:
            buf = None if value[:1] == REMOVED else bytes(value[1:])
        if buf is None:
            got = (None, None)
        else:
            cid = None
            if buf[2] & fmt.F_CLUSTER:
                raw = int.from_bytes(buf[fmt.OFF_CLUSTER_ID : fmt.OFF_CLUSTER_ID + 8], "little")
                cid = self.resolve(raw)
            got = (fmt.LEVEL_BY_CODE[buf[1]], cid)
        self._current[ikey] = got
        return got

    def taken(self, cid: int) -> bool:
        """Whether the delta id ``cid`` names a live cluster other than an opened one."""
        return cid not in self.opened and self._entry(cid) is not None

    def write(self, cid: int, target: int, hist: list[int]) -> None:
        if cid not in self.original:
            entry = self._entry(cid)
            self.original[cid] = None if entry is None else entry[0]
        entry = (target, hist)
        self._entries[cid] = entry
        self.written[cid] = entry

    def encoded(self) -> dict[bytes, bytes]:
        """The written entries as the delta stores them."""
        return {GEN_KEY.pack(c): CLUSTER_ENTRY.pack(t, *h) for c, (t, h) in self.written.items()}


class _Nodes:
    """Union-find over hashable nodes (fold groups, atoms, lone members)."""

    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, x: Any) -> Any:
        parent = self.parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: Any, b: Any) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra


def assign(
    live: LiveClusters,
    agg: Aggregator,
    decisions: Decisions,
    listed: dict[bytes, tuple[Any, ...]],
    touched: Iterable[bytes],
    *,
    gran: Granularity | None = None,
) -> dict[bytes, Cluster]:
    """The cluster of every listed touched identifier that is in one (see the module
    docstring); the entries to write are left in ``live.written``, the clusters a member
    left in ``live.splits``. ``gran``: the fold's granularity (links made again when it
    opened a cluster)."""
    touched = list(touched)
    clusters = _relinked(live, agg, decisions, touched, gran) if live.opened else decisions.clusters
    nodes = _Nodes()
    members: dict[Any, list[bytes]] = {}
    wire, opened = live.wire, live.opened
    for rank, root in clusters.items():
        plain = agg.keys[decisions.order[rank]]
        ikey = wire_key_id(plain)
        wire.setdefault(ikey, plain)
        members.setdefault(("g", root), []).append(ikey)
    for node, keys in list(members.items()):
        if not any(k in listed for k in keys):
            del members[node]  # linked on partial evidence alone: the base has its links
            continue
        nodes.find(node)
        for k in keys:
            cid = live.current(k)[1]
            if cid is not None and cid not in opened:
                nodes.union(node, ("a", cid))
    leaving = _ungrouped(live, agg, listed, touched, nodes=nodes, members=members)
    components: dict[Any, list[Any]] = {}
    for node in list(nodes.parent):
        components.setdefault(nodes.find(node), []).append(node)
    for cid in sorted(opened):  # answered by no record now: every member has a new one
        live.write(cid, cid, [0] * len(HIST_LEVELS))
    out: dict[bytes, Cluster] = {}
    for parts in components.values():
        out.update(_component(live, parts, members, listed, leaving))
    return out


def _ungrouped(
    live: LiveClusters,
    agg: Aggregator,
    listed: dict[bytes, tuple[Any, ...]],
    touched: list[bytes],
    *,
    nodes: _Nodes,
    members: dict[Any, list[bytes]],
) -> dict[int, list[Level]]:
    """The touched identifiers in no link group of the fold: one still linkable stays in
    its cluster (joined to it in ``nodes``: its links are there, the fold did not see
    them); one that is not leaves it (its old level, per cluster, is returned, and the
    cluster goes to ``live.splits``). Alone in an opened cluster: in none."""
    grouped = {k for keys in members.values() for k in keys}
    leaving: dict[int, list[Level]] = {}
    hub = agg.policy.hub_reports
    for ikey in touched:
        if ikey in grouped:
            continue
        level, cid = live.current(ikey)
        if cid is None or cid in live.opened:
            continue
        fields = listed.get(ikey)
        i = None if fields is None else agg.ids.get(f"{fields[0].value}:{fields[1]}")
        if i is not None and i not in agg.allow and agg.count[i] <= hub:
            members[("k", ikey)] = [ikey]  # still linked through links the fold did not see
            nodes.union(("k", ikey), ("a", cid))
        else:  # it leaves its cluster, which may split
            if level in _INDEX:
                leaving.setdefault(cid, []).append(level)
            live.splits.add(cid)
            nodes.find(("a", cid))
    return leaving


def _relinked(
    live: LiveClusters,
    agg: Aggregator,
    decisions: Decisions,
    touched: list[bytes],
    gran: Granularity | None,
) -> dict[int, int]:
    """``decisions.clusters`` made again with the identifiers the fold holds only part of
    the evidence of kept out of every link group that holds a member of an opened cluster
    (:attr:`LiveClusters.opened`): had one of them linked a member as a build does, it
    would be a member itself, touched, its evidence complete. So the members of an opened
    cluster link exactly as their complete evidence links them."""
    complete: set[int] = set()
    inside: set[int] = set()
    for ikey in touched:
        i = agg.ids.get(live.wire[ikey])
        if i is not None:
            complete.add(i)
            if live.current(ikey)[1] in live.opened:
                inside.add(i)
    groups = agg.link_groups(gran)
    partial: set[int] = set()
    g, total = 0, len(groups)
    while g < total:
        size = groups[g]
        group = groups[g + 1 : g + 1 + size]
        g += 1 + size
        if not inside.isdisjoint(group):
            partial.update(m for m in group if m not in complete)
    rank = array("I", bytes(4 * len(decisions.order)))
    for r, i in enumerate(decisions.order):
        rank[i] = r
    decided, allow, count, hub = decisions.decided, agg.allow, agg.count, agg.policy.hub_reports

    def linkable(i: int) -> bool:
        return i in decided and i not in allow and count[i] <= hub and i not in partial

    return cluster_ids(len(agg.keys), groups, linkable, rank)


def _component(
    live: LiveClusters,
    parts: list[Any],
    members: dict[Any, list[bytes]],
    listed: dict[bytes, tuple[Any, ...]],
    leaving: dict[int, list[Level]],
) -> dict[bytes, Cluster]:
    """One live cluster: its counts, id and entries (written to ``live``), and the cluster
    of its listed touched members."""
    atoms = sorted(node[1] for node in parts if node[0] == "a")
    hist = [0] * len(HIST_LEVELS)
    for cid in atoms:
        hist = [a + b for a, b in zip(hist, live.counts(cid), strict=True)]
        for level in leaving.get(cid, ()):
            hist[_INDEX[level]] -= 1
    keys = sorted({k for node in parts if node[0] != "a" for k in members[node]})
    plain = [live.wire[k] for k in keys if _count_member(live, k, listed.get(k), hist)]
    hist = [max(0, n) for n in hist]
    size, worst = cluster_stats(tuple(hist))
    if atoms:
        cid = atoms[0]
    elif plain:
        cid = _fresh_id(live, min(plain))
    else:
        return {}
    for atom in {cid, *atoms}:
        live.write(atom, cid, hist)
    if size < 2 or worst is None:
        return {}
    return {k: (cid, size, worst) for k in keys if k in listed}


def _fresh_id(live: LiveClusters, smallest: str) -> int:
    """The id of a live cluster made of no atom: :data:`DELTA_CLUSTER_BIT` | the top 63
    bits of the xxh3-64 of its smallest ``kind:canonical`` key, salted while another live
    cluster holds that id (one its smallest member left, then came back in a new one)."""
    cid = 0
    for salt in range(64):
        text = smallest if not salt else f"{smallest}#{salt}"
        cid = DELTA_CLUSTER_BIT | (xxhash.xxh3_64_intdigest(text.encode("utf-8")) >> 1)
        if not live.taken(cid):
            break
    return cid


def _count_member(
    live: LiveClusters, ikey: bytes, fields: tuple[Any, ...] | None, hist: list[int]
) -> bool:
    """Move a member of a live cluster from its old level's count (when its old cluster is
    one of the atoms: not an opened one) to its new one's; whether it is a member
    (``fields``: its new record's, ``None``: the fold did not re-decide it)."""
    level, cid = live.current(ikey)
    if fields is None and level is None:
        return False  # linked in the fold on partial evidence only: not listed, not linked
    if fields is None and cid is None:
        live.joiners.add(ikey)  # its record must carry the cluster: re-decided
    new: Level | None = level if fields is None else fields[3]
    if cid is not None and cid not in live.opened and level in _INDEX:
        hist[_INDEX[level]] -= 1
    if new in _INDEX:
        hist[_INDEX[new]] += 1
    return True


__all__ = ["Cluster", "LiveClusters", "assign"]
