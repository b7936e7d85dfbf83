"""The live delta: records folded from the intake log, layered over one base snapshot.

Responsibility: the read side of live updates (docs/architecture.md, "Live updates"). The
folder of ``serve --intake-log`` (:mod:`scameter.ingest.live`) writes a small LMDB
environment, the *delta*; every server worker follows it with a :class:`DeltaFollower` (polled
by its :class:`~scameter.index.swap.SnapshotManager`) and installs the result, an
:class:`Overlay`, on its live :class:`~scameter.index.snapshot.Snapshot`, whose lookups then
check the delta first (:class:`LayeredRules`), removals included.

The delta environment (``<live dir>/delta``):

* ``records``: identifier key (8 bytes) -> ``b"L"`` + a record packed and sealed exactly as in
  a snapshot (string ids into the delta's own string table, CRC-32 included), or ``b"R"`` +
  the base record's listing expression (UTF-8, empty for other kinds): the record fell out.
* ``events``: identifier key -> the new events of that identifier (a JSON array; the folder's).
* ``log``: generation (u64 big-endian) -> the keys that fold changed, concatenated.
* ``ranges``: a ``phone_ranges`` key (``b"<digits>:<prefix>"``) -> the block's live count of
  listed numbers (u32, below the threshold too), for every block in which the delta changed
  whether a number is listed (:mod:`scameter.ingest.liveranges`); ``rlog``: generation ->
  the range keys that fold wrote, newline-separated.
* ``clusters``: a cluster id (u64 big-endian) a record carries, base or delta -> the live
  cluster it now answers as and that cluster's members per listed level
  (:data:`CLUSTER_ENTRY`; :mod:`scameter.ingest.liveclusters`); ``clog``: generation -> the
  ids that fold wrote, concatenated.
* ``domains``: an expression key of a host-level link expression -> the identifiers the
  delta added on it that the base's ``domlinks`` entry does not hold, as such an entry
  (:mod:`scameter.index.domlinks`; only that it is a hub once the two hold more than
  ``hub_reports``): the fold's alone (:mod:`scameter.ingest.livedomains`), workers never read it.
* ``catoms`` and ``cmembers`` (the fold's alone, workers never open them; duplicate-sorted):
  a live cluster id -> every cluster id whose entry targets it, and a cluster id -> the keys
  of the delta's records that carry it: the index a live split reads a cluster's members
  through (:mod:`scameter.ingest.livesplits`).
* ``meta``: ``base`` (the snapshot id the delta is relative to), ``epoch`` (new at each
  reset), ``generation``, ``cursor`` (the last intake sequence number folded), ``strings``,
  ``splits`` (the split index is complete: written since the last reset by a folder that
  keeps it).

Invariants:

* A delta applies only to the snapshot whose id is its ``base``; any other snapshot is
  answered as it is (after a swap the folder resets the delta to the new base's cursor).
* A follower reads only the keys the new generations list and updates its :class:`Overlay` in
  place (cost in proportion to the change, not to the base nor to the whole delta, apart from
  one merge of the sorted key array in C).
* An empty delta installs nothing: the snapshot's rules are its own, the hot path unchanged.
  Nor does a kind the delta holds nothing of: only the kinds of its records (every exact
  kind once it holds a removal without an expression, whose kind it does not store) and
  URLs / domains once it holds a listing expression or an allow record are layered
  (:attr:`Overlay.shape`; the manager re-installs the rules when the shape grows).
* An allowlisted URL's or domain's allow record (reported live) is never a listing
  expression: it answers only where the base's allow entry of its key answers
  (:attr:`Overlay.allows`, :meth:`LayeredRules._allowed`).
* Once the delta changed a cluster, every record is answered with its live cluster
  (:meth:`Overlay.resolve`): every kind is layered, and the base's rules decode through it.
* Private lookups (``SearchHashes``) read the overlay's full hashes (:meth:`Overlay.hashes`,
  :class:`~scameter.index.hashsearch.LiveHashes`), made on a worker's first private search
  and kept up to date by every update from then on.
"""

from __future__ import annotations

import json
import struct
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import lmdb
import numpy as np

from scameter.identifiers import Identifier, Kind, expressions_for_canonical, registrable_domain
from scameter.index import format as fmt
from scameter.index.assembly import VerdictAssembler
from scameter.index.builder import _expression, host_of_expression
from scameter.index.exact import ExactRules
from scameter.index.format import F_LISTING, IndexPolicy, record_canonical
from scameter.index.hashsearch import LiveHashes
from scameter.index.keyprobe import U64Array
from scameter.index.near import (
    NS_DOMAIN,
    allowed_distance,
    handle_namespace,
    split_registrable,
    variant_keys,
)
from scameter.index.nearmatch import NearRules
from scameter.index.reader import SnapshotReader
from scameter.index.urlmatch import UrlRules, path_listing_wins
from scameter.verdict import SEVERITY, CheckContext, Level, Verdict

#: Sub-databases of the delta environment.
DB_RECORDS = b"records"
DB_EVENTS = b"events"
DB_LOG = b"log"
DB_META = b"meta"
DB_RANGES = b"ranges"
DB_RLOG = b"rlog"
DB_CLUSTERS = b"clusters"
DB_CLOG = b"clog"
DB_DOMAINS = b"domains"
DB_CATOMS = b"catoms"
DB_CMEMBERS = b"cmembers"
#: The fold's own sub-databases (duplicate-sorted, 8-byte values): workers never open them.
SPLIT_DBS = (DB_CATOMS, DB_CMEMBERS)
LISTED = b"L"
REMOVED = b"R"
GEN_KEY = struct.Struct(">Q")
#: A ``clusters`` entry: the live cluster id a cluster id now answers as (itself: the entry
#: is that live cluster's), then its members' count per listed level (:data:`HIST_LEVELS`).
CLUSTER_ENTRY = struct.Struct("<QIII")
#: The listed levels a cluster entry counts members of, least severe first.
HIST_LEVELS = (Level.POSSIBLE, Level.SUSPICIOUS, Level.HIGH_RISK)
#: A cluster as the overlay resolves it: (live id, size, worst level code).
LiveCluster = tuple[int, int, int]
#: The top bit of a cluster id the delta gives a new group (base ids are record ranks).
DELTA_CLUSTER_BIT = 1 << 63
_VERIFIED_CODE = fmt.LEVEL_CODES[Level.VERIFIED]
#: Address space of the delta map (sparse: the file grows as pages are written).
MAP_SIZE = 1 << 34

Rule = Callable[[str, Identifier, CheckContext | None], Verdict]
#: A host's near-match answer: (raw, kind, canonical, host) -> verdict (``NearRules.host_miss``).
HostMiss = Callable[[str, str, str, str], Verdict]
#: A base snapshot's ``phone_ranges`` value of a range key, or ``None``.
BaseRanges = Callable[[bytes], bytes | None]
#: Kinds answered through listing expressions (``urlexpr``), not their own key alone.
_EXPR_KINDS = frozenset((Kind.URL, Kind.DOMAIN))
#: Kinds whose records have near-match entries (the builder's ``near``).
NEAR_KINDS = frozenset((Kind.URL, Kind.DOMAIN, Kind.PLATFORM_ACCOUNT))
#: Distinct (namespace, text) delta near candidates memoised per overlay generation.
NEAR_CACHE_SIZE = 4096
#: Clustered records memoised with their live cluster block (:meth:`Overlay.resolve`).
RESOLVE_CACHE_SIZE = 8192


def open_delta(path: Path, *, readonly: bool) -> tuple[Any, dict[bytes, Any]]:
    """The delta environment at ``path`` and its sub-database handles.

    Committed with one fsync, not two (``metasync=False``: LMDB keeps its integrity, and a
    power cut may undo the last fold, whose cursor goes back with it, so the next fold redoes
    it from the intake log, the source of truth): the fold's flushes compete with the
    intake's, which acknowledge reports."""
    env = lmdb.open(
        str(path),
        subdir=True,
        map_size=MAP_SIZE,
        max_dbs=12,
        readonly=readonly,
        lock=True,
        sync=True,
        metasync=False,
    )
    names = (DB_RECORDS, DB_EVENTS, DB_LOG, DB_META, DB_RANGES, DB_RLOG, DB_CLUSTERS, DB_CLOG,
             DB_DOMAINS)  # fmt: skip
    try:
        dbs = {n: env.open_db(n, create=not readonly) for n in names}
        if not readonly:  # the split index: the fold's alone (a worker follows without it)
            for n in SPLIT_DBS:
                dbs[n] = env.open_db(n, create=True, dupsort=True, dupfixed=True)
        return env, dbs
    except lmdb.NotFoundError:  # read-only, before a folder of this version created them all
        env.close()
        raise


def listing_expressions(expr: str) -> tuple[str, ...]:
    """The lookup expressions a listing answers under (as the builder stores it in
    ``urlexpr``: a path listing also as its directory form)."""
    if "/" in expr[:-1] and "?" not in expr and not expr.endswith("/"):
        return expr, expr + "/"
    return (expr,)


def cluster_stats(hist: tuple[int, ...]) -> tuple[int, Level | None]:
    """A live cluster's size and worst level from its count per :data:`HIST_LEVELS`."""
    pairs = zip(reversed(HIST_LEVELS), reversed(hist), strict=True)
    worst = next((lv for lv, n in pairs if n), None)
    return sum(hist), worst


def recluster(buf: bytes, cluster: LiveCluster | None) -> bytes:
    """The sealed record ``buf`` with its cluster block set to ``cluster`` (id, size, worst
    level code) as the snapshot writer patches it in; ``None`` or a size under two: no
    cluster (a build clusters two members or more), the block cut out."""
    body = bytearray(buf[: -fmt.CRC_SIZE])
    if cluster is None or cluster[1] < 2:
        if body[2] & fmt.F_CLUSTER:
            del body[fmt.BODY_PLAIN : fmt.BODY_CLUSTERED]
            body[2] &= ~fmt.F_CLUSTER & 0xFF
        return fmt.seal(body)
    fmt.CLUSTER.pack_into(body, fmt.OFF_CLUSTER_WORST, cluster[2], cluster[1], cluster[0])
    return fmt.seal(body)


class Overlay:
    """A delta's records ready for lookups, updated in place by its :class:`DeltaFollower`
    (each step an atomic assignment: a lookup on another thread sees a record before or after
    it changed, never half of it; the string table is swapped in before records that use it).
    """

    __slots__ = ("_clusters", "_expr_of", "_hash_lock", "_hashes", "_near_cache", "_near_of",
                 "_path", "_policy", "_range_min", "_resolving", "_sources", "_strings",
                 "allow_exprs", "allows", "assemble", "base_id", "clusters", "exprs",
                 "generation", "keys", "kinds", "near", "near_active", "range_blocks",
                 "range_digits", "range_span", "ranges", "records", "removals",
                 "values")  # fmt: skip

    def __init__(self, base_id: str, path: Path, policy: IndexPolicy | None = None) -> None:
        self.base_id = base_id
        #: The base's index policy (near-match lengths and distances); ``None``: the overlay
        #: keeps no near-match entries of its own.
        self._policy = policy
        self.generation = -1
        self._path = path
        self._strings: tuple[str, ...] = ()
        #: The verdicts of delta records (the delta's string table).
        self.assemble = self._assembler(())
        #: Identifier key -> sealed record, or ``b""`` when the record fell out.
        self.records: dict[bytes, bytes] = {}
        #: Lookup expression -> ``(key, record or b"", listing)`` of URL / domain entries.
        self.exprs: dict[str, list[tuple[bytes, bytes, str]]] = {}
        self._expr_of: dict[bytes, str] = {}
        #: The allow records of allowlisted URLs and domains the delta re-decided (reported):
        #: identifier key -> sealed VERIFIED record, keyed as the base's ``allow`` table and
        #: consulted only where the base's own allow entry answers (:class:`LayeredRules`),
        #: never as a listing expression (which would answer every URL under it); and the
        #: expressions they answer under (a pre-filter: a superset, never shrunk).
        self.allows: dict[bytes, bytes] = {}
        self.allow_exprs: frozenset[str] = frozenset()
        #: The delta's keys as a sorted u64 array (the batch path probes it beside the base's).
        self.keys: U64Array = np.zeros(0, dtype=np.uint64)
        #: The exact kinds the delta may answer (see the module invariants).
        self.kinds: frozenset[Kind] = frozenset()
        #: The canonical values of every record ever taken in (a superset: a pre-filter that
        #: lets a lookup the delta has nothing for skip hashing its key), and whether any
        #: removal was (a removal does not store its value: then every lookup hashes).
        self.values: set[str] = set()
        self.removals = False
        #: The delta's own near-match entries, as the builder writes ``near`` for a snapshot:
        #: deletion-variant key -> {record key: listed registrable domain or handle}. The
        #: inner dicts are replaced, never mutated (lookups read them on other threads).
        self.near: dict[bytes, dict[bytes, str]] = {}
        self._near_of: dict[bytes, list[bytes]] = {}
        self._near_cache: dict[tuple[bytes, str], dict[bytes, str]] = {}
        #: Whether near-match answers must consult the overlay: it holds a record of a
        #: near-matchable kind, or any removal (a removed base listing's entries are void).
        self.near_active = False
        #: The delta's phone-range counts (range key -> u32 live count); ``range_blocks``:
        #: the prefixes, less their last ``range_span`` digits (the policy's largest), of
        #: every number one of them may answer for (a lookup elsewhere skips them all);
        #: ``range_digits``: the order a lookup tries the blocks in (the policy's).
        ranges_policy = policy or IndexPolicy()
        self.ranges: dict[bytes, bytes] = {}
        self.range_blocks: frozenset[str] = frozenset()
        self.range_digits = tuple(ranges_policy.phone_range_digits)
        self.range_span = max(self.range_digits, default=0)
        self._range_min = ranges_policy.phone_range_min_listed
        #: The delta's full hashes for private lookups (:meth:`hashes`): made on the first
        #: ``SearchHashes``, so a worker nobody asks privately hashes nothing.
        self._hashes: LiveHashes | None = None
        self._hash_lock = threading.Lock()
        #: Cluster id -> the keys of the delta's records in it, as of a generation
        #: (:meth:`cluster_keys`; made on the first ``related`` after a change).
        self._clusters: tuple[int, dict[int, list[bytes]]] = (-2, {})
        #: The clusters the delta changed: a cluster id a record (base or delta) may carry ->
        #: (the live cluster id it now answers as, that cluster's size, worst level code);
        #: resolved at each update, so one probe answers (:meth:`resolve`). Empty: every
        #: record's own cluster block stands.
        self.clusters: dict[int, LiveCluster] = {}
        #: ``clusters`` and the records :meth:`resolve` answered with it (record -> its live
        #: form, ``None``: unchanged), replaced together (one assignment): a lookup never
        #: keeps a record resolved with an older map.
        self._resolving: tuple[dict[int, LiveCluster], dict[bytes, bytes | None]] = ({}, {})
        #: The ``clusters`` entries as stored (id -> (target id, size, worst code)), and live
        #: id -> the base cluster ids that answer as it (made per generation for ``related``).
        self._sources: tuple[int, dict[int, LiveCluster], dict[int, list[int]]] = (-2, {}, {})

    def _assembler(self, strings: tuple[str, ...]) -> VerdictAssembler:
        shim = SimpleNamespace(strings=strings, id=self.base_id, path=self._path)
        return VerdictAssembler(cast(SnapshotReader, shim))

    def update(
        self,
        generation: int,
        values: Mapping[bytes, bytes],
        strings: tuple[str, ...],
        ranges: Mapping[bytes, bytes] | None = None,
        clusters: Mapping[bytes, bytes] | None = None,
    ) -> None:
        """Take in the delta values of ``values`` (key -> stored value), the range entries
        of ``ranges`` and the cluster entries of ``clusters`` as of ``generation``; cost in
        proportion to them (and to the cluster ids that answer as a changed cluster), plus
        one merge of the key array."""
        self._take_tables(strings, clusters or {})
        new: list[bytes] = []
        kinds = set(self.kinds)
        if ranges:
            self._take_ranges(ranges)
            kinds.add(Kind.PHONE)
        near_changed = False
        for key, value in values.items():
            body = value[1:]
            expr: str | None
            entry: tuple[bytes, str, str] | None = None
            if value[:1] == LISTED:
                record = body
                # Only a record with a listing expression (URL / domain) is decoded here:
                # the others need nothing but their kind (this runs on the worker's GIL).
                expr = fmt.decode_record(body, strings).listing if body[2] & F_LISTING else None
                kind = fmt.KIND_BY_TAG[body[0]]
                kinds.add(kind)
                canonical = record_canonical(body)
                self.values.add(canonical)  # before the record is visible
                if body[1] == _VERIFIED_CODE and kind in _EXPR_KINDS:
                    # an allowlisted URL / domain: an allow record, not a listing
                    self._allow(key, record, kind, canonical, _expression(kind, canonical, expr))
                    expr = None
                elif key in self.allows:  # (an allowlisted one stays VERIFIED: defensive)
                    del self.allows[key]
                if kind in NEAR_KINDS and body[1] != _VERIFIED_CODE:  # an allow record has
                    # no near entries (the builder's ``_add_near``: ``records`` only)
                    self.near_active = True  # before the record is visible
                    entry = self._near_entry(kind, canonical, expr)
            else:
                record = b""
                self.allows.pop(key, None)
                self.removals = self.near_active = True  # before the removal is visible
                expr = body.decode("utf-8") or None
                if expr is None:
                    kinds.update(Kind)
            if key not in self.records:
                new.append(key)
            self.records[key] = record
            self._relist(key, record, expr)
            near_changed = self._renear(key, entry) or near_changed
        if near_changed:
            self._near_cache = {}
        if new:  # merged in (no key of ``new`` is in ``keys``): a copy, not a sort of all
            added = np.sort(np.frombuffer(b"".join(new), dtype=">u8").astype(np.uint64))
            self.keys = np.insert(self.keys, np.searchsorted(self.keys, added), added)
        if len(kinds) != len(self.kinds):
            self.kinds = frozenset(kinds)
        with self._hash_lock:  # after the records: see :meth:`hashes`
            if self._hashes is not None:
                self._hashes.take({key: self.records[key] for key in values}, strings)
        self.generation = generation

    def _allow(
        self, key: bytes, record: bytes, kind: Kind, canonical: str, expr: str | None
    ) -> None:
        """Take in the allow record of an allowlisted URL or domain: its expressions first
        (the pre-filter), then the record (see :attr:`allows`)."""
        exprs = set(listing_expressions(expr)) if expr else set()
        if kind is Kind.DOMAIN:
            exprs.add(canonical + "/")  # its own record's match (``UrlRules._own_record``)
        if not exprs <= self.allow_exprs:
            self.allow_exprs = self.allow_exprs | exprs
        self.allows[key] = record

    def _take_tables(self, strings: tuple[str, ...], clusters: Mapping[bytes, bytes]) -> None:
        """Take in the string table and the cluster entries, before the records that use
        them."""
        if strings != self._strings:  # append-only: the new table decodes every record
            self._strings = strings
            self.assemble = self._assembler(strings)
        if clusters:
            self._take_clusters(clusters)

    def _take_clusters(self, entries: Mapping[bytes, bytes]) -> None:
        """Take in ``clusters`` entries (u64 id -> :data:`CLUSTER_ENTRY`) and re-resolve
        every id that answered as one of them (the ids a changed live cluster absorbed)."""
        _, stored, _ = self._sources
        stored = dict(stored)
        for k, value in entries.items():
            target, *hist = CLUSTER_ENTRY.unpack(value)
            size, worst = cluster_stats(tuple(hist))
            stored[GEN_KEY.unpack(k)[0]] = (
                target,
                size,
                0 if worst is None else fmt.LEVEL_CODES[worst],
            )
        resolved: dict[int, LiveCluster] = {}
        for cid in stored:
            seen = cid
            entry = stored[seen]
            for _ in range(len(stored)):  # follow the targets to the live cluster's own entry
                if entry[0] == seen:
                    break
                seen = entry[0]
                nxt = stored.get(seen)
                if nxt is None:
                    break
                entry = nxt
            resolved[cid] = (seen, entry[1], entry[2])
        self._sources = (-2, stored, {})
        self._resolving = (resolved, {})
        self.clusters = resolved  # one assignment: a lookup sees the old map or the new

    def resolve(self, buf: bytes) -> bytes | None:
        """``buf`` (a sealed record, base or delta) with the cluster block of the live
        cluster its cluster id now answers as; ``None``: its own block stands (no cluster,
        or one the delta did not change). One dict probe when the delta changed clusters."""
        clusters, memo = self._resolving
        if not clusters or not buf[2] & fmt.F_CLUSTER:
            return None
        try:
            return memo[buf]
        except KeyError:
            pass
        cid = int.from_bytes(buf[fmt.OFF_CLUSTER_ID : fmt.OFF_CLUSTER_ID + 8], "little")
        live = clusters.get(cid)
        out = None
        worst, size, _ = fmt.CLUSTER.unpack_from(buf, fmt.OFF_CLUSTER_WORST)
        # unchanged; or corrupt: left for the decoder to refuse, never re-sealed
        if live is not None and live != (cid, size, worst) and fmt.record_intact(buf):
            out = recluster(buf, live)
        if len(memo) >= RESOLVE_CACHE_SIZE:
            memo.clear()
        memo[bytes(buf)] = out
        return out

    def live_record(self, buf: bytes) -> bytes:
        """``buf`` with its live cluster (:meth:`resolve`), or ``buf`` itself."""
        return self.resolve(buf) or buf

    def live_cluster(self, cid: int) -> int:
        """The live cluster id the cluster id ``cid`` answers as (``cid`` when unchanged)."""
        live = self.clusters.get(cid)
        return cid if live is None else live[0]

    def cluster_sources(self, cluster: int) -> list[int]:
        """The base cluster ids whose untouched members are in the live cluster ``cluster``
        (``cluster`` itself when it is a base id the delta did not change)."""
        generation, stored, index = self._sources
        if generation != self.generation:
            index = {}
            for cid, live in self.clusters.items():
                if cid < DELTA_CLUSTER_BIT:
                    index.setdefault(live[0], []).append(cid)
            self._sources = (self.generation, stored, index)
        found = index.get(cluster)
        if found is not None:
            return found
        return [] if cluster in self.clusters or cluster >= DELTA_CLUSTER_BIT else [cluster]

    def hashes(self) -> LiveHashes:
        """The delta's full hashes (private lookups): made from every record on the first
        call, then kept up to date by :meth:`update`, which stores its records before it
        hands them over under the lock this copies them under (then the append-only string
        table, which decodes every record copied): no take-in lost, at worst one taken twice."""
        live = self._hashes
        if live is not None:  # made: no wait for a take-in (the search takes its own lock)
            return live
        with self._hash_lock:
            if self._hashes is None:
                records = self.records.copy()
                live = LiveHashes()
                live.take(records, self._strings)
                self._hashes = live
            return self._hashes

    def cluster_keys(self, cluster: int) -> list[bytes]:
        """The keys of the delta's records in cluster ``cluster`` (``related`` and cluster
        listings add them to the base's members): one pass over the records per generation
        asked about, none on the lookup path."""
        generation, index = self._clusters
        if generation != self.generation:
            generation = self.generation
            index = {}
            for key, buf in self.records.copy().items():
                if buf and buf[2] & fmt.F_CLUSTER:
                    cid = int.from_bytes(buf[fmt.OFF_CLUSTER_ID : fmt.OFF_CLUSTER_ID + 8], "little")
                    index.setdefault(self.live_cluster(cid), []).append(key)
            self._clusters = (generation, index)
        return index.get(cluster, [])

    def _take_ranges(self, ranges: Mapping[bytes, bytes]) -> None:
        """Take in range counts: the counts first, then their blocks' prefixes (a lookup on
        another thread reads the counts once a prefix is in :attr:`range_blocks`)."""
        self.ranges.update(ranges)
        span = self.range_span
        blocks = set()
        for rkey in ranges:
            colon = rkey.index(b":")
            prefix = rkey[colon + 1 :].decode("ascii")
            blocks.add(prefix[: len(prefix) - (span - int(rkey[:colon]))])
        if not blocks <= self.range_blocks:
            self.range_blocks = self.range_blocks | blocks

    def range_hits(self, number: str, base: BaseRanges) -> dict[str, tuple[int, bytes]]:
        """``number`` -> (digits, stored count) of its first listed block, as
        ``NearRules.range_hits`` gives the base's (empty: in no listed block): the delta's
        count of a block it holds one of (listed from the policy's threshold on), else the
        base's entry (``base``: range key -> the base's ``phone_ranges`` value)."""
        ranges = self.ranges
        for d in self.range_digits:
            rkey = f"{d}:{number[:-d]}".encode("ascii")
            n = ranges.get(rkey)
            if n is None:
                n = base(rkey)
                if n is not None:
                    return {number: (d, n)}
            elif fmt.U32.unpack(n)[0] >= self._range_min:
                return {number: (d, n)}
        return {}

    def probe_ranges(self) -> tuple[tuple[int, frozenset[str]], ...]:
        """The recounted span blocks as ``KeyProbe.extra_ranges`` takes them."""
        return ((self.range_span, self.range_blocks),) if self.range_blocks else ()

    @property
    def shape(self) -> tuple[frozenset[Kind], bool, bool, bool]:
        """What decides the layered rule table: the exact kinds held, whether any URL /
        domain listing expression or allow record is, whether near-match answers consult
        the overlay, and whether the delta changed any cluster (then every kind is layered:
        a base record of any kind may carry one)."""
        return self.kinds, bool(self.exprs or self.allows), self.near_active, bool(self.clusters)

    def _near_entry(
        self, kind: Kind, canonical: str, expr: str | None
    ) -> tuple[bytes, str, str] | None:
        """(namespace, text, stored value) of a record's near-match entry, exactly when the
        builder writes one (``SnapshotBuilder._add_near``), else ``None``."""
        p = self._policy
        if p is None:
            return None
        if kind is Kind.PLATFORM_ACCOUNT:
            platform, _, handle = canonical.partition(":")
            out = (handle_namespace(platform), handle, handle)
        else:
            e = _expression(kind, canonical, expr)
            host = None if e is None else host_of_expression(e)
            reg = None if host is None else registrable_domain(host)
            if reg is None or reg in p.near_exempt_domains:
                return None
            out = (NS_DOMAIN, split_registrable(reg)[0], reg)
        return out if len(out[1]) >= p.near_min_length else None

    def _renear(self, key: bytes, entry: tuple[bytes, str, str] | None) -> bool:
        """Move ``key``'s near-match entries to ``entry``'s variants; whether any changed."""
        old = self._near_of.pop(key, None)
        near = self.near
        for vk in old or ():
            kept = {k: v for k, v in near.get(vk, {}).items() if k != key}
            if kept:
                near[vk] = kept
            else:
                near.pop(vk, None)
        if entry is None or self._policy is None:
            return old is not None
        namespace, text, stored = entry
        p = self._policy
        k = allowed_distance(
            len(text), p.near_max_distance, p.near_distance2_min_length, p.near_distance2_max_length
        )
        vks = variant_keys(namespace, text, k)
        for vk in vks:
            near[vk] = {**near.get(vk, {}), key: stored}
        self._near_of[key] = vks
        return True

    def near_candidates(self, namespace: bytes, text: str, deletions: int) -> dict[bytes, str]:
        """The delta's listed values sharing a deletion variant (up to ``deletions``) with
        ``text``: record key -> value (as ``NearRules.candidates`` reads the base's ``near``;
        memoised until the delta's near entries change)."""
        cache = self._near_cache
        out = cache.get((namespace, text))
        if out is not None:
            return out
        out = {}
        near = self.near
        if near:
            for vk in variant_keys(namespace, text, deletions):
                hit = near.get(vk)
                if hit is not None:
                    out.update(hit)
        if len(cache) >= NEAR_CACHE_SIZE:
            cache.clear()
        cache[(namespace, text)] = out
        return out

    def _relist(self, key: bytes, record: bytes, expr: str | None) -> None:
        """Move ``key``'s expression entries to ``expr`` (lists replaced, never mutated)."""
        old = self._expr_of.pop(key, None)
        if old is not None:
            for e in listing_expressions(old):
                self.exprs[e] = [t for t in self.exprs.get(e, ()) if t[0] != key]
        if expr:
            self._expr_of[key] = expr
            for e in listing_expressions(expr):
                self.exprs[e] = [*self.exprs.get(e, ()), (key, record, expr)]

    def __len__(self) -> int:
        return len(self.records)


class LayeredRules:
    """A snapshot's rules with an overlay checked first (see the module docstring)."""

    def __init__(
        self,
        overlay: Overlay,
        exact: ExactRules,
        base: Mapping[Kind, Rule],
        miss: HostMiss,
        reader: SnapshotReader | None = None,
        *,
        urls: UrlRules | None = None,
        near: NearRules | None = None,
        assemble: VerdictAssembler | None = None,
    ) -> None:
        """``reader``: the snapshot's (its phone ranges); ``urls``: its URL rules (the allow
        entries a delta's allow records stand in for; ``None``: the base's allow answers);
        ``near`` and ``assemble``: its near-match rules and verdict assembler, with which,
        once the delta changed a cluster, the base's exact and URL rules are made again
        decoding every record through :meth:`Overlay.resolve` (a base member the delta did
        not touch answers with its live cluster). Those answer a verdict of the base's own
        rules that has a cluster (and every identifier the delta holds): a verdict without
        one costs a single test more."""
        self._answer = exact.answer
        self._base_record = exact.record
        self._base_finish = exact.finish
        self._base = base
        #: Whether the delta changed a cluster: then ``_live_base`` and ``_answer_live`` are
        #: the base's rules decoding through :meth:`Overlay.resolve`.
        self._relink = False
        if overlay.clusters and reader is not None and near is not None and assemble is not None:
            shim = cast(VerdictAssembler, _Reclustering(assemble, overlay))
            exact = ExactRules(reader, shim, near)
            urls = UrlRules(reader, shim, near)
            self._relink = True
        self._live_base = {k: exact.answer for k in base if k not in _EXPR_KINDS}
        if urls is not None:
            self._live_base[Kind.URL], self._live_base[Kind.DOMAIN] = (
                urls.answer_url, urls.answer_domain,
            )  # fmt: skip
        self._answer_live = exact.answer
        self._overlay = overlay
        self._urls = urls
        #: The base's phone ranges (``reader``: the snapshot's; ``None``: none).
        self._base_ranges: BaseRanges = _no_ranges if reader is None else _ranges_of(reader)
        self._records = overlay.records
        self._values = overlay.values
        self._exprs = overlay.exprs
        self._exact = exact
        self._miss = miss

    def rules(self) -> dict[Kind, Rule]:
        """The layered rule of every kind."""
        out: dict[Kind, Rule] = dict(self._base)
        overlay = self._overlay
        # once a cluster changed, a base record of any kind may carry it
        kinds = out.keys() - _EXPR_KINDS if overlay.clusters else overlay.kinds & out.keys()
        answer = self.answer_exact_relinked if self._relink else self.answer_exact
        for kind in kinds:
            out[kind] = answer
        if self._exprs or overlay.allows or overlay.clusters:
            out[Kind.URL] = self.answer_url
            out[Kind.DOMAIN] = self.answer_domain
        else:  # nothing of the delta's can match a URL or a domain: the base's own rules
            out[Kind.URL] = self._base[Kind.URL]
            out[Kind.DOMAIN] = self._base[Kind.DOMAIN]
        return out

    def answer_exact(self, raw: str, ident: Identifier, context: CheckContext | None) -> Verdict:
        overlay = self._overlay
        value = ident.value
        if value not in self._values and not overlay.removals:
            # The delta holds no record of it (one set probe, no key hashed): the base
            # answers, unless it is a number in a block whose range count the delta moved.
            blocks = overlay.range_blocks
            if (
                not blocks
                or value[: -overlay.range_span] not in blocks
                or (ident.kind is not Kind.PHONE)
            ):
                return self._answer(raw, ident, context)
        return self._from_delta(raw, ident, context)

    def answer_exact_relinked(
        self, raw: str, ident: Identifier, context: CheckContext | None
    ) -> Verdict:
        """:meth:`answer_exact` once the delta changed a cluster: a base answer with a
        cluster is answered again with its live cluster (written out again, so that the
        answer of a delta that changed none pays no test for it)."""
        overlay = self._overlay
        value = ident.value
        if value not in self._values and not overlay.removals:
            blocks = overlay.range_blocks
            if (
                not blocks
                or value[: -overlay.range_span] not in blocks
                or (ident.kind is not Kind.PHONE)
            ):
                v = self._answer(raw, ident, context)
                if v.cluster_size:  # its cluster may be a changed one
                    return self._relinked(raw, ident, context, v)
                return v
        return self._from_delta(raw, ident, context)

    def _relinked(
        self, raw: str, ident: Identifier, context: CheckContext | None, v: Verdict
    ) -> Verdict:
        """``v``, the base's answer from a record with a cluster, with the live cluster:
        the record read again and finished as the base's rule finishes it."""
        key = ident.key
        buf = self._base_record(key, ident.value)
        live = None if buf is None else self._overlay.resolve(buf)
        if live is None:
            return v
        return self._base_finish(raw, ident, key, live, context)

    def _from_delta(self, raw: str, ident: Identifier, context: CheckContext | None) -> Verdict:
        """An identifier the delta may hold a record, a removal or a range count of."""
        overlay = self._overlay
        value = ident.value
        blocks = overlay.range_blocks
        ranged = bool(blocks) and ident.kind is Kind.PHONE
        ranged = ranged and value[: -overlay.range_span] in blocks
        key = ident.key
        buf = self._records.get(key)
        if buf and record_canonical(buf) != value:  # 64-bit key collision: not this one
            buf = None
        if buf is None:
            if not ranged:
                return self._answer_live(raw, ident, context)
            # a number in a block whose range count the delta moved: its range answer, when
            # it has no record, is live
            base = self._exact.record(key, value)
            hits = None if base is not None else overlay.range_hits(value, self._base_ranges)
            return self._exact.finish(raw, ident, key, base, context, ranges=hits)
        if not buf:  # the record fell out: answered as if the base had none
            gone = overlay.range_hits(value, self._base_ranges) if ranged else None
            return self._exact.finish(raw, ident, key, None, context, ranges=gone)
        decode = overlay.assemble.from_record
        if buf[1] == _VERIFIED_CODE:  # the allow record a full build writes (reported official)
            return self._exact.in_context(decode(raw, buf, allowed=True), ident, context)
        buf = overlay.live_record(buf)  # its cluster as it is now
        return self._exact.finish(raw, ident, key, buf, context, from_record=decode)

    def answer_url(self, raw: str, ident: Identifier, context: CheckContext | None) -> Verdict:
        exprs = expressions_for_canonical(ident.value)
        return self._layered(raw, ident, context, exprs, Kind.URL)

    def answer_domain(self, raw: str, ident: Identifier, context: CheckContext | None) -> Verdict:
        exprs = [*expressions_for_canonical(f"http://{ident.value}/"), ident.value + "/"]
        return self._layered(raw, ident, context, exprs, Kind.DOMAIN)

    def _layered(
        self,
        raw: str,
        ident: Identifier,
        context: CheckContext | None,
        exprs: list[str],
        kind: Kind,
    ) -> Verdict:
        """What :class:`~scameter.index.urlmatch.UrlRules` answers over the base's and the
        delta's entries under ``exprs`` together, as it answers a full build's:

        * the listing: under each expression the worst, then most reported, then smallest
          key of the delta's listings and the base's (unless the delta holds its key), as
          the builder's ``urlexpr`` keeps one; across expressions the worst, the first
          weighed winning ties (:meth:`_listing`);
        * the allow entry: the base's (the allowlist is the base's), answered with the
          delta's allow record of that key when it holds one (the official identifier was
          reported live: the new counts and ``SPOOF_ADVICE``), unless a HIGH RISK path
          listing outranks it, as in a build;
        * no listing and no allow entry: the base's answer (a near match, a brand: the
          delta's near entries included), or the host's near-match answer when the base's
          answer was a listing the delta removed.

        Only the inputs the delta holds an entry or an allow expression under come past the
        first test; they pay the base's listings read again (:meth:`UrlRules.listings`)."""
        overlay = self._overlay
        exprs_of = self._exprs
        allow_exprs = overlay.allow_exprs
        order = list(dict.fromkeys(exprs))
        touched = [e for e in order if e in exprs_of]
        base = self._base_answer(raw, ident, context, kind)
        if not touched and not (allow_exprs and base.matched in allow_exprs):
            return base
        listing = self._listing(raw, ident, kind, order, base) if touched else None
        if listing is None and base.level is not Level.VERIFIED and not touched:
            listing = base if base.matched is not None else None
        allowed: Verdict | None = None
        if base.level is Level.VERIFIED:
            allowed = self._allowed(raw, ident, kind, base)
        elif path_listing_wins(base.level, base.matched) and base.matched in touched:
            # the path listing the delta changed may have outranked the base's allow entry
            allowed = self._allowed(raw, ident, kind, None)
        if allowed is not None and not (
            listing is not None and path_listing_wins(listing.level, listing.matched)
        ):
            return allowed
        if listing is not None:
            return listing
        if base.matched is None:
            return base  # the miss, delta near included
        # the delta removed the listing the base matched
        canonical = ident.value
        host = canonical.partition("://")[2].partition("/")[0] if kind is Kind.URL else canonical
        return self._miss(raw, kind.value, canonical, host)

    def _base_answer(
        self, raw: str, ident: Identifier, context: CheckContext | None, kind: Kind
    ) -> Verdict:
        """The base's answer, with its live cluster when it has one."""
        base = self._base[kind](raw, ident, context)
        if base.cluster_size and self._relink:  # its cluster may be a changed one
            return self._live_base[kind](raw, ident, context)
        return base

    def _listing(
        self, raw: str, ident: Identifier, kind: Kind, order: list[str], base: Verdict
    ) -> Verdict | None:
        """The listing a build of the base's and the delta's records answers ``ident`` with
        (``None``: none), weighed as :meth:`UrlRules._answer` weighs ``urlexpr``'s."""
        held = self._overlay.records
        canonical = ident.value
        slots: dict[str, list[tuple[Verdict, bytes]]] = {e: [] for e in order}
        own: list[tuple[Verdict, bytes]] = []
        decode = self._overlay.assemble.from_record
        if self._urls is not None:
            listed, mine = self._urls.listings(raw, canonical, kind)
            for e, key, v in listed:
                if key not in held and e in slots:
                    slots[e].append((v, key))
            if mine is not None:
                key, v = mine
                buf = held.get(key)
                if buf is None:
                    own.append((v, key))
                elif buf:  # a domain's own record, changed by the delta
                    buf = self._overlay.live_record(buf)
                    own.append((decode(raw, buf, canonical=canonical, kind=kind.value,
                                       matched=v.matched), key))  # fmt: skip
        elif (
            base.matched in slots
            and base.level is not Level.VERIFIED
            and base.matched not in self._exprs
        ):
            slots[base.matched].append((base, b""))  # without the rules: the base's answer
        for e, slot in slots.items():
            for key, held_buf, _ in self._exprs.get(e, ()):
                if held_buf:
                    buf = self._overlay.live_record(held_buf)
                    v = decode(raw, buf, canonical=canonical, kind=kind.value, matched=e)
                    slot.append((v, key))
        best: Verdict | None = None
        for slot in (*slots.values(), own):
            if not slot:
                continue
            v = max(slot, key=_urlexpr_rank)[0]
            if best is None or SEVERITY[v.level] > SEVERITY[best.level]:
                best = v
        return best

    def _allowed(
        self, raw: str, ident: Identifier, kind: Kind, base: Verdict | None
    ) -> Verdict | None:
        """The base's allow answer of ``ident`` (``base``: the base's verdict, when it is
        that answer), with the delta's allow record of its key when it holds one."""
        overlay = self._overlay
        if base is not None and base.matched not in overlay.allow_exprs:
            return base  # no allow record of the delta answers under that expression
        entry = None if self._urls is None else self._urls.allowed_entry(raw, ident.value, kind)
        if entry is None:
            return base
        key, v = entry
        live = overlay.allows.get(key)
        if live is None:
            return v
        return overlay.assemble.from_record(
            raw, live, canonical=ident.value, kind=kind.value, matched=v.matched, allowed=True
        )


class _Reclustering:
    """A verdict assembler that decodes every record with its live cluster
    (:meth:`Overlay.resolve`): the base rules a :class:`LayeredRules` answers through once
    the delta changed a cluster."""

    __slots__ = ("_from_record", "_resolve", "no_record")

    def __init__(self, assemble: VerdictAssembler, overlay: Overlay) -> None:
        self._from_record = assemble.from_record
        self._resolve = overlay.resolve
        self.no_record = assemble.no_record

    def from_record(self, raw: str, buf: bytes, **kw: Any) -> Verdict:
        return self._from_record(raw, self._resolve(buf) or buf, **kw)


def _urlexpr_rank(entry: tuple[Verdict, bytes]) -> tuple[int, int, bytes]:
    """The order the builder's ``urlexpr`` keeps one listing of an expression by: the worst,
    then the most reported, then the smallest key (``writers.write_urlexpr``)."""
    v, key = entry
    return SEVERITY[v.level], v.report_count, bytes(255 - b for b in key)


def _no_ranges(rkey: bytes) -> bytes | None:
    return None


def _ranges_of(reader: SnapshotReader) -> BaseRanges:
    db = reader.ranges

    def get(rkey: bytes) -> bytes | None:
        value: bytes | None = reader.txn().get(rkey, db=db)
        return value

    return get


class DeltaFollower:
    """A worker's view of the delta at ``path``: :meth:`poll` gives the overlay to install
    on a snapshot (``None``: none applies). Cheap when nothing changed (one read of meta)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._env: Any = None
        self._dbs: dict[bytes, Any] = {}
        self._epoch: str | None = None
        self._overlay: Overlay | None = None
        self._generation = -1
        #: The base snapshot id the delta was last seen folded over (None: no delta yet).
        self.base: str | None = None

    def _open(self) -> bool:
        if self._env is None:
            if not (self.path / "data.mdb").is_file():
                return False
            try:
                self._env, self._dbs = open_delta(self.path, readonly=True)
            except lmdb.NotFoundError:
                return False  # a delta an older folder wrote: until this version's opens it
        return True

    def poll(self, base_id: str, policy: IndexPolicy | None = None) -> Overlay | None:
        """The overlay for the snapshot ``base_id`` at the delta's latest generation (the
        same object, updated in place, until the delta is reset); ``policy``: the base's
        index policy, for the overlay's near-match entries."""
        if not self._open():
            return None
        with self._env.begin(buffers=False) as txn:
            meta = {bytes(k).decode(): json.loads(v) for k, v in txn.cursor(db=self._dbs[DB_META])}
            self.base = meta.get("base")
            if self.base != base_id:
                return None
            generation = int(meta.get("generation", 0))
            overlay = self._overlay
            if meta.get("epoch") != self._epoch or overlay is None or overlay.base_id != base_id:
                self._epoch = meta.get("epoch")
                overlay = self._overlay = Overlay(base_id, self.path, policy)
                values = {bytes(k): bytes(v) for k, v in txn.cursor(db=self._dbs[DB_RECORDS])}
                ranges = {bytes(k): bytes(v) for k, v in txn.cursor(db=self._dbs[DB_RANGES])}
                clusters = {bytes(k): bytes(v) for k, v in txn.cursor(db=self._dbs[DB_CLUSTERS])}
            elif generation == overlay.generation:
                return overlay if len(overlay) else None
            else:
                since = overlay.generation
                values = self._changed(txn, DB_LOG, DB_RECORDS, since, generation)
                ranges = self._changed_ranges(txn, since, generation)
                clusters = self._changed(txn, DB_CLOG, DB_CLUSTERS, since, generation)
            strings = tuple(meta.get("strings", ()))
            overlay.update(generation, values, strings, ranges, clusters)
        return overlay if len(overlay) else None

    def _logged(self, txn: Any, log: bytes, since: int, generation: int) -> Iterator[bytes]:
        """The entries of the generation log ``log`` (``DB_LOG``, ``DB_RLOG``, ``DB_CLOG``)
        written by the generations after ``since`` up to ``generation``, in generation order."""
        cur = txn.cursor(db=self._dbs[log])
        if not cur.set_range(GEN_KEY.pack(since + 1)):
            return
        for k, entry in cur:
            if GEN_KEY.unpack(k)[0] > generation:
                return
            yield entry

    def _changed(
        self, txn: Any, log: bytes, db: bytes, since: int, generation: int
    ) -> dict[bytes, bytes]:
        """The values in ``db`` (records, clusters) of the 8-byte keys that the generations
        after ``since`` logged in ``log``."""
        out: dict[bytes, bytes] = {}
        table = self._dbs[db]
        for changed in self._logged(txn, log, since, generation):
            for i in range(0, len(changed), 8):
                key = bytes(changed[i : i + 8])
                value = txn.get(key, db=table)
                if value is not None:
                    out[key] = bytes(value)
        return out

    def _changed_ranges(self, txn: Any, since: int, generation: int) -> dict[bytes, bytes]:
        """The range entries the generations after ``since`` wrote."""
        out: dict[bytes, bytes] = {}
        ranges = self._dbs[DB_RANGES]
        for written in self._logged(txn, DB_RLOG, since, generation):
            for rkey in bytes(written).split(b"\n"):
                value = txn.get(rkey, db=ranges)
                if value is not None:
                    out[rkey] = bytes(value)
        return out

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None


__all__ = [
    "CLUSTER_ENTRY",
    "DB_CATOMS",
    "DB_CLOG",
    "DB_CLUSTERS",
    "DB_CMEMBERS",
    "DB_DOMAINS",
    "DB_EVENTS",
    "DB_LOG",
    "DB_META",
    "DB_RANGES",
    "DB_RECORDS",
    "DB_RLOG",
    "DELTA_CLUSTER_BIT",
    "GEN_KEY",
    "HIST_LEVELS",
    "LISTED",
    "NEAR_KINDS",
    "REMOVED",
    "SPLIT_DBS",
    "DeltaFollower",
    "LayeredRules",
    "Overlay",
    "cluster_stats",
    "listing_expressions",
    "open_delta",
    "recluster",
]
