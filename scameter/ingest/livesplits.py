"""Live cluster splits: the members of a live cluster a fold must re-check, and the index
that finds them.

Responsibility: when a fold takes a link out of a live cluster (a member leaves it: no longer
listed, or a hub; or a registrable domain the delta takes past ``hub_reports`` identifiers),
a full build of the same inputs may split that cluster. :class:`SplitIndex` gives the fold
every member of such a cluster (:meth:`SplitIndex.members`), so that it re-decides them all
from their complete evidence and links them again as a build does
(:mod:`scameter.ingest.liveclusters`, "opened" clusters); and it keeps the delta's two
sub-databases that make that read cost in proportion to the cluster, not to the delta
(docs/architecture.md, "Live updates"):

* ``catoms``: a cluster id -> every cluster id whose ``clusters`` entry targets it (the
  atoms a merge took in; a chain of merges is a tree, walked from its live cluster);
* ``cmembers``: a cluster id -> the keys of the delta's records that carry it.

A live cluster's members are then the base's records of every base id in its tree (the
``cluster:<id>`` bitmaps, one ordinal read each) whose key the delta does not hold, and the
delta's records of every id in it.

Invariants:

* The index is kept by every fold (:meth:`SplitIndex.record_written`,
  :meth:`SplitIndex.entries_written`, in the fold's write transaction), and read only when
  the delta's ``meta`` says it was kept since the last reset (``splits``): a delta an older
  folder wrote waits for compaction, as before.
* :meth:`SplitIndex.members` refuses (``None``: the cluster waits for compaction) a cluster
  whose members hold more than ``bound`` reports together (their records' report counts:
  ``serve --live-split-max-reports``), since re-deciding costs per member and per event;
  every member holds one at least, so its members are counted first (its entry or its base
  bitmaps, no record read), then its reports as its members are read.
* Every listed member of a base cluster has evidence (the build decided it from events that
  still count), so re-deciding it from its evidence gives its record back.
* Cost per split: one read per id in the tree, one ordinal and one record read per base
  member, one record read per delta member; then the fold re-decides them all (their
  evidence read and aggregated once more).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from scameter.index import format as fmt
from scameter.index.delta import DB_CATOMS, DB_CMEMBERS, DELTA_CLUSTER_BIT, GEN_KEY, REMOVED
from scameter.index.reader import SnapshotReader
from scameter.ingest.liveclusters import LiveClusters
from scameter.ingest.livedomains import LiveDomains

log = logging.getLogger("scameter.live")

#: Reports a live split re-decides at most, per cluster (its members' report counts together,
#: ``serve --live-split-max-reports``): a larger cluster keeps its links until compaction.
#: Sized from docs/benchmarks.md, "Round 11: live splits": about 50 us of CPU per member of
#: two reports and 10 us per report more, so at most about 0.3-0.5 s of a fold's CPU (5,000
#: members of two reports; 10,000 of one), about 0.1 s for 100 members of 100 reports each.
SPLIT_MAX_REPORTS = 10_000
#: Where a record's report count (u32) is (:data:`~scameter.index.format.HEADER`).
_OFF_REPORTS = fmt.OFF_ORDINAL + 4


def carried(value: bytes | None) -> int | None:
    """The cluster id a delta ``records`` value carries (``None``: none, or a removal)."""
    if value is None or value[:1] == REMOVED or not value[3] & fmt.F_CLUSTER:
        return None
    at = 1 + fmt.OFF_CLUSTER_ID
    return int.from_bytes(value[at : at + 8], "little")


def _reports(buf: bytes) -> int:
    """The report count of a sealed record."""
    return int.from_bytes(buf[_OFF_REPORTS : _OFF_REPORTS + 4], "little")


def _plain(buf: bytes) -> str:
    """``kind:canonical`` of a sealed record."""
    return f"{fmt.KIND_BY_TAG[buf[0]].value}:{fmt.record_canonical(buf)}"


class SplitIndex:
    """The split index of one fold (inside its write transaction ``txn``, whose sub-database
    handles are ``dbs``); ``enabled``: the delta kept it since its reset (else
    :meth:`members` refuses every cluster); ``bound``: the most reports (the members' report
    counts together) a split re-decides."""

    def __init__(
        self, reader: SnapshotReader, txn: Any, dbs: dict[bytes, Any], records: Any, *,
        enabled: bool, bound: int,
    ) -> None:  # fmt: skip
        self._reader = reader
        self._txn = txn
        self._atoms = dbs[DB_CATOMS]
        self._members = dbs[DB_CMEMBERS]
        self._records = records
        self.enabled = enabled and bound > 0
        self.bound = bound

    def _dups(self, db: Any, cid: int) -> list[bytes]:
        cur = self._txn.cursor(db=db)
        if not cur.set_key(GEN_KEY.pack(cid)):
            return []
        return [bytes(v) for v in cur.iternext_dup()]

    def tree(self, root: int) -> set[int]:
        """``root`` and every cluster id that answers as it (through ``catoms``)."""
        seen = {root}
        todo = deque([root])
        while todo:
            for raw in self._dups(self._atoms, todo.popleft()):
                cid = GEN_KEY.unpack(raw)[0]
                if cid not in seen:
                    seen.add(cid)
                    todo.append(cid)
        return seen

    def members(self, root: int, live: LiveClusters) -> tuple[set[int], dict[bytes, str]] | None:
        """The ids answering as the live cluster ``root`` and its members (key ->
        ``kind:canonical``), or ``None`` when it waits for compaction (its members hold more
        than :attr:`bound` reports, or no index)."""
        if not self.enabled or sum(live.counts(root)) > self.bound:
            return None
        ids = self.tree(root)
        out: dict[bytes, str] = {}
        reports = 0
        reader, get = self._reader, self._txn.get
        for cid in sorted(ids):
            if cid < DELTA_CLUSTER_BIT:
                ordinals = reader.bitmap(f"cluster:{cid}")
                if reports + len(ordinals) > self.bound:
                    return None
                for ordinal in ordinals:
                    hit = reader.by_ordinal(ordinal)
                    # a key the delta holds is its delta record's: read below when it is
                    # still in this cluster
                    if hit is not None and get(hit[1], db=self._records) is None:
                        out[bytes(hit[1])] = _plain(hit[2])
                        reports += _reports(hit[2])
            for key in self._dups(self._members, cid):
                value = get(key, db=self._records)
                if carried(value) == cid:
                    buf = bytes(value[1:])
                    out[key] = _plain(buf)
                    reports += _reports(buf)
            if reports > self.bound:
                return None
        return ids, out

    def record_written(self, ikey: bytes, old: bytes | None, new: bytes) -> None:
        """Keep ``cmembers`` as the delta record of ``ikey`` goes from ``old`` to ``new``."""
        was, now = carried(old), carried(new)
        if was == now:
            return
        if was is not None:
            self._txn.delete(GEN_KEY.pack(was), ikey, db=self._members)
        if now is not None:
            self._txn.put(GEN_KEY.pack(now), ikey, db=self._members)

    def entries_written(
        self, written: dict[int, tuple[int, list[int]]], original: dict[int, int | None]
    ) -> None:
        """Keep ``catoms`` as the fold's cluster entries (id -> (target, counts)) replace
        the targets they had (``original``: ``None``, none)."""
        for cid, (target, _) in written.items():
            old = original.get(cid)
            if old == target:
                continue
            key = GEN_KEY.pack(cid)
            if old is not None and old != cid:
                self._txn.delete(GEN_KEY.pack(old), key, db=self._atoms)
            if target != cid:
                self._txn.put(GEN_KEY.pack(target), key, db=self._atoms)


def open_clusters(
    live: LiveClusters,
    index: SplitIndex,
    domains: LiveDomains | None,
    *,
    touched: dict[bytes, bytes],
    wire: dict[bytes, str],
    counted: dict[str, int],
    opened: set[int],
    refused: set[int],
) -> list[tuple[bytes, str]]:
    """Open the live clusters this round's decision may split (``live.splits``: a member
    left; and the clusters of the identifiers on a domain the fold took past the cap,
    :meth:`LiveDomains.tipped`) that :meth:`SplitIndex.members` gives (else they go to
    ``refused`` and wait for compaction): their ids go to ``opened``; (key,
    ``kind:canonical``) of their members not yet touched, to re-decide."""
    roots = set(live.splits)
    if domains is not None:
        for key in domains.tipped({k: wire[k] for k in touched}, counted):
            cid = live.current(key)[1]
            if cid is not None:
                roots.add(cid)
    out: dict[bytes, str] = {}
    for root in sorted(roots - refused - opened):
        got = index.members(root, live)
        if got is None:
            refused.add(root)
            log.info("live split waits for compaction", extra={"cluster": root})
            continue
        ids, members = got
        opened |= ids
        out.update((k, p) for k, p in members.items() if k not in touched)
    return sorted(out.items())


__all__ = ["SPLIT_MAX_REPORTS", "SplitIndex", "carried", "open_clusters"]
