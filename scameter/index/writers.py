"""The snapshot builder's writers: sorted streams appended into LMDB sub-databases.

Responsibility: turn the builder's externally sorted streams (records, URL expressions,
near-match variants, phone-range prefixes, bitmaps) into the key-ordered entries of
``records``/``allow``/``ordinals``, ``urlexpr``, ``near``, ``phone_ranges`` and ``bitmaps``
(format: docs/snapshot-format.md).

Invariants: entries are appended in key order (``MDB_APPEND``: pages packed full) in
transactions of at most ``BATCH`` entries; every choice between entries sharing a key is made
by value, never by arrival order, so the bytes written do not depend on how many processes fed
the builder.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import operator
import os
import pickle
import re
import signal
import struct
import sys
import traceback
import zlib
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeAlias

import lmdb
import numpy as np
from pyroaring import BitMap

from scameter.errors import SnapshotError
from scameter.index import format as fmt
from scameter.index.reader import SnapshotReader
from scameter.index.spill import (
    BUCKETS,
    BytesSorter,
    ExternalSorter,
    GroupingSorter,
    grouped,
)
from scameter.processes import die_with_parent
from scameter.verdict import SEVERITY

BATCH = 50_000  # entries per write transaction: bounds LMDB's dirty-page list
_VARIANT_KEY = operator.itemgetter(slice(0, 8))  # near entries: 8-byte variant key first
_LEVEL_BY_SEVERITY = {v: k for k, v in SEVERITY.items()}
_BYTE = [bytes((i,)) for i in range(256)]
#: A bitmap as the build collects it: ascending ordinals (an array) or a roaring bitmap.
Bitmap: TypeAlias = "array[int] | BitMap"


def write_records(  # noqa: PLR0917 - one call site, the builder
    env: Any,
    dbs: dict[bytes, Any],
    sorter: ExternalSorter,
    strings: list[str],
    clusters: dict[int, list[int]],
    parent: SnapshotReader | None,
    side: tuple[Any, Any],
    shards: ShardSinks | None = None,
) -> tuple[dict[str, dict[str, int]], int, dict[str, Bitmap], int]:
    """Write ``records``, ``allow`` and ``ordinals`` from the sorted records, in key order,
    and the records' case ids into ``side`` (the side file's environment and its ``cases``
    database); return the counts per kind and level, the total, the ordinal bitmaps (with
    ``added``, ``changed`` and ``removed`` against ``parent``, an open parent snapshot or
    None) and the number of 64-bit key collisions (the smallest value keeps the key).
    With ``shards`` the ``records`` entries go to the shard files instead (by key range).

    The per-record work is :func:`pack_records` (compiled where built, :data:`RECORDS_PATH`)
    over each sorted run, ``BATCH`` records at a time; what stays here is per batch: the
    LMDB writes (:class:`_RecordSink`), the bitmaps (one update per shape, label block and
    cluster met in the batch) and the diff against the parent."""
    maps = _OrdinalBitmaps(strings, clusters)
    diff = None if parent is None else _ParentDiff(parent)
    dbmap = {fmt.TABLE_RECORDS: dbs[fmt.DB_RECORDS], fmt.TABLE_ALLOW: dbs[fmt.DB_ALLOW]}
    out = _RecordSink(env, dbs[fmt.DB_ORDINALS], dbmap, side, shards)
    pending = _Pending(keep_values=diff is not None)
    state: list[Any] = [0, None, 0]  # next ordinal, last sort key kept, collisions
    for run in sorter.sorted_runs():
        i, n = 0, len(run)
        while i < n:
            i = pack_records(
                run, i, n, BATCH - len(pending.keyed), state, pending, clusters, _WORST_CODES
            )
            if len(pending.keyed) >= BATCH:
                _file_batch(pending, state[0], maps, diff, out)
        del run
    _file_batch(pending, state[0], maps, diff, out, last=True)
    bitmaps: dict[str, Bitmap] = dict(maps.arrays)
    if diff is not None:
        bitmaps.update(diff.bitmaps())
    return maps.counts(), state[0], bitmaps, state[2]


def _file_batch(  # noqa: PLR0917 - write_records' own step
    pending: _Pending,
    end: int,
    maps: _OrdinalBitmaps,
    diff: _ParentDiff | None,
    out: _RecordSink,
    last: bool = False,
) -> None:
    """Write one pending batch (its records end before ordinal ``end``) and empty it."""
    first = end - len(pending.keyed)
    maps.add_batch(pending)
    if diff is not None:
        tables, values = pending.tables, pending.values or ()
        for j, (key, _) in enumerate(pending.keyed):
            diff.see(tables[j], key, values[j], first + j)
    out.flush(pending, last)
    pending.clear()


class _Pending:
    """The records packed since the last write (:func:`pack_records`): what the LMDB writes
    take (``keyed``: ``(key, sealed record)``, ``tables``: one table byte per record,
    ``ents``: the ordinal-chunk entries, ``cases``: ``(key + table byte, sealed case
    block)``), the original records for the parent diff (``values``, or None), and each
    record's ordinal (u32, little-endian) appended under its shape (kind tag << 8 | level
    code), its label block (category count + category and source ids) and its cluster id."""

    __slots__ = ("cases", "clusters", "ents", "keyed", "labels", "shapes", "tables", "values")

    def __init__(self, *, keep_values: bool) -> None:
        self.keyed: list[tuple[bytes, bytes]] = []
        self.tables = bytearray()
        self.ents = bytearray()
        self.cases: list[tuple[bytes, bytes]] = []
        self.values: list[bytes] | None = [] if keep_values else None
        self.shapes: dict[int, bytearray] = {}
        self.labels: dict[bytes, bytearray] = {}
        self.clusters: dict[int, bytearray] = {}

    def clear(self) -> None:
        self.keyed.clear()
        self.tables.clear()
        self.ents.clear()
        self.cases.clear()
        if self.values is not None:
            self.values.clear()
        self.shapes.clear()
        self.labels.clear()
        self.clusters.clear()


def pack_records_python(  # noqa: PLR0917 - the compiled function's signature
    items: list[tuple[bytes, bytes]],
    i: int,
    stop: int,
    limit: int,
    state: list[Any],
    pending: _Pending,
    clusters: dict[int, list[int]],
    codes: bytes,
) -> int:
    """Pack the sorted ``(sort key, record)`` pairs ``items[i:stop]`` into ``pending``, at
    most ``limit`` records; return the index of the first pair not read. ``state`` is
    ``[next ordinal, last sort key kept or None, collisions]``, updated; ``codes`` maps a
    cluster's worst severity to its level code. The reference of the compiled
    ``_recordsfast.pack_records``.

    A sort key is the 8-byte key, the table byte and the canonical value's UTF-8 bytes: two
    records with the same first 9 bytes are a 64-bit key collision (the first, the smallest
    value, keeps the key), two with the same sort key an ingest error."""
    ordinal, prev, collisions = state
    produced = 0
    o32 = fmt.U32
    try:
        while i < stop and produced < limit:
            skey, value = items[i]
            i += 1
            if prev is not None and skey[:9] == prev[:9]:
                if skey == prev:
                    raise ValueError(
                        f"the same identifier was added twice (key {skey[:8].hex()}); "
                        "ingest must aggregate one record per identifier and table"
                    )
                collisions += 1
                continue
            prev = skey
            _pack_one(skey, value, o32.pack(ordinal), pending, clusters, codes)
            ordinal += 1
            produced += 1
    finally:
        state[:] = [ordinal, prev, collisions]
    return i


def _pack_one(  # noqa: PLR0917
    skey: bytes,
    value: bytes,
    ord4: bytes,
    pending: _Pending,
    clusters: dict[int, list[int]],
    codes: bytes,
) -> None:
    if value[2] & fmt.F_CASES:
        body, cases = fmt.split_cases(value)
        buf = bytearray(body)
    else:
        buf, cases = bytearray(value), None
    buf[fmt.OFF_ORDINAL : fmt.OFF_ORDINAL + 4] = ord4
    flags = buf[2]
    if flags & fmt.F_CLUSTER:
        cluster = int.from_bytes(buf[fmt.OFF_CLUSTER_ID : fmt.OFF_CLUSTER_ID + 8], "little")
        size, worst = clusters[cluster]
        fmt.U32.pack_into(buf, fmt.OFF_CLUSTER_SIZE, size)
        buf[fmt.OFF_CLUSTER_WORST] = codes[worst]
        pending.clusters.setdefault(cluster, bytearray()).extend(ord4)
    pending.shapes.setdefault(buf[0] << 8 | buf[1], bytearray()).extend(ord4)
    nr, nc, ns = buf[3], buf[4], buf[5]
    if nc or ns:
        start = fmt.body_start(flags) + 2 * nr
        label = _BYTE[nc] + value[start : start + 2 * (nc + ns)]
        pending.labels.setdefault(label, bytearray()).extend(ord4)
    buf += zlib.crc32(buf).to_bytes(fmt.CRC_SIZE, "little")
    key, table = skey[:8], skey[8:9]
    pending.keyed.append((key, bytes(buf)))
    pending.tables += table
    pending.ents += table + key
    if cases is not None:
        pending.cases.append((key + table, fmt.seal(cases)))
    if pending.values is not None:
        pending.values.append(value)


#: A cluster's worst severity -> the level code its members' records hold.
_WORST_CODES = bytes(
    fmt.LEVEL_CODES[_LEVEL_BY_SEVERITY[s]] if s in _LEVEL_BY_SEVERITY else 0 for s in range(256)
)


#: The compiled loops (None: built without a compiler, or from another record layout).
_loops = fmt.compiled_loops()
_compiled_pack: Callable[..., int] | None = None if _loops is None else _loops.pack_records
_compiled_group: Callable[[list[bytes]], list[tuple[bytes, bytes]] | None] | None = (
    None if _loops is None else _loops.group_pairs
)
#: Which implementation packs a build's records: ``"compiled"``
#: (``scameter/index/_recordsfast.c``) or ``"python"`` (:func:`pack_records_python`).
RECORDS_PATH = "python" if _compiled_pack is None else "compiled"
#: The record loop of :func:`write_records` (see :data:`RECORDS_PATH`).
pack_records: Callable[..., int] = _compiled_pack or pack_records_python


def group_pairs(flat: list[bytes]) -> list[tuple[bytes, bytes]]:
    """:func:`group_pairs_python`, in C where built (:data:`RECORDS_PATH`) and every key
    is 8 bytes (the evidence's: identifier keys)."""
    if _compiled_group is not None:
        got = _compiled_group(flat)
        if got is not None:
            return got
    return group_pairs_python(flat)


class _OrdinalBitmaps:
    """The ordinal bitmaps of a build (``all``, ``level:*``, ``kind:*``, ``category:*``,
    ``source:*``, ``cluster:*``), and which of them a record's ordinal goes to, resolved once
    per distinct record shape (kind and level), label block (category and source ids) and
    cluster: never through per-record f-strings or enum lookups.

    Ordinals go straight into roaring bitmaps (``BitMap.add`` costs what ``array.append``
    does): ascending ordinals compress to a few bits each, where arrays of u32 held about 24
    bytes a record until the end of the build (1.7 GB at 7x10^7 records)."""

    def __init__(self, strings: list[str], clusters: dict[int, list[int]]) -> None:
        self.arrays: dict[str, BitMap] = {}
        #: kind tag << 8 | level code -> (all, level, kind, [records of that shape]).
        self.shapes: dict[int, tuple[BitMap, BitMap, BitMap, list[int]]] = {}
        #: count of categories + category and source ids (raw bytes) -> their bitmaps.
        self.labels: dict[bytes, list[BitMap]] = {}
        self._strings = strings
        self._clusters = clusters
        self._by_cluster: dict[int, BitMap] = {}

    def named(self, name: str) -> BitMap:
        a = self.arrays.get(name)
        if a is None:
            a = self.arrays[name] = BitMap()
        return a

    def new_shape(self, tag: int, level_code: int) -> tuple[BitMap, BitMap, BitMap, list[int]]:
        kind = fmt.KIND_BY_TAG[tag].value
        level = fmt.LEVEL_BY_CODE[level_code].value
        shape = (self.named("all"), self.named(f"level:{level}"), self.named(f"kind:{kind}"), [0])
        self.shapes[tag << 8 | level_code] = shape
        return shape

    def new_label(self, label: bytes, nc: int, ns: int) -> list[BitMap]:
        ids = struct.unpack_from(f"<{nc + ns}H", label, 1)
        names = [f"category:{self._strings[i]}" for i in ids[:nc]]
        names += [f"source:{self._strings[i]}" for i in ids[nc:]]
        targets = self.labels[label] = [self.named(n) for n in names]
        return targets

    def add_batch(self, pending: _Pending) -> None:
        """Add the ordinals of one packed batch to their bitmaps: one update per shape,
        label block and cluster met in it (a roaring bitmap takes an array in C)."""
        for shape_id, ords in pending.shapes.items():
            shape = self.shapes.get(shape_id)
            if shape is None:
                shape = self.new_shape(shape_id >> 8, shape_id & 0xFF)
            a_all, a_level, a_kind, tally = shape
            got = array("I", ords)
            tally[0] += len(got)
            a_all.update(got)
            a_level.update(got)
            a_kind.update(got)
        for label, ords in pending.labels.items():
            targets = self.labels.get(label)
            if targets is None:
                targets = self.new_label(label, label[0], (len(label) - 1) // 2 - label[0])
            got = array("I", ords)
            for a in targets:
                a.update(got)
        for cluster, ords in pending.clusters.items():
            members = self._by_cluster.get(cluster)
            if members is None:
                members = self._by_cluster[cluster] = self.named(f"cluster:{cluster}")
            members.update(array("I", ords))

    def counts(self) -> dict[str, dict[str, int]]:
        """Records per kind and level (the manifest's ``counts``)."""
        out: dict[str, dict[str, int]] = {}
        for shape_id, (*_, tally) in self.shapes.items():
            kind = fmt.KIND_BY_TAG[shape_id >> 8].value
            level = fmt.LEVEL_BY_CODE[shape_id & 0xFF].value
            out.setdefault(kind, {})[level] = tally[0]
        return out


class _ParentDiff:
    """The ``added``, ``changed`` and ``removed`` bitmaps against the parent snapshot."""

    def __init__(self, parent: SnapshotReader) -> None:
        self._parent = parent
        self._added = array("I")
        self._changed = array("I")
        self._seen = BitMap()  # parent ordinals still present

    def see(self, table: int, key: bytes, value: bytes, ordinal: int) -> None:
        old = self._parent.get(table, key)
        if old is None or fmt.record_canonical(old) != fmt.record_canonical(value):
            self._added.append(ordinal)
            return
        self._seen.add(fmt.U32.unpack_from(old, fmt.OFF_ORDINAL)[0])
        if old[1] != value[1]:  # the level code
            self._changed.append(ordinal)

    def bitmaps(self) -> dict[str, array[int]]:
        removed = array("I", self._parent.bitmap("all") - self._seen)
        return {"added": self._added, "changed": self._changed, "removed": removed}


class _RecordSink:
    """Appends records to ``records`` / ``allow``, their case blocks to the side file's
    ``cases`` (key + table byte) and the ordinal chunks (:data:`fmt.ORDINALS_PER_CHUNK`
    entries of table byte + key per value) to ``ordinals``."""

    def __init__(
        self,
        env: Any,
        ordinals: Any,
        dbmap: dict[int, Any],
        side: tuple[Any, Any],
        shards: ShardSinks | None = None,
    ) -> None:
        self._shards = shards
        if shards is not None:
            dbmap = {t: db for t, db in dbmap.items() if t != fmt.TABLE_RECORDS}
        self._env = env
        self._ordinals = ordinals
        self._dbmap = dbmap
        self._side_env, self._cases = side
        self._chunk = bytearray()
        self._chunk_no = 0

    def flush(self, pending: _Pending, last: bool = False) -> None:
        # The LMDB operations are those of one put per record with an ordinals chunk put
        # whenever a chunk fills (the bytes depend on their order), issued as one putmulti per
        # run of one table between two chunk puts: the per-record loop runs in C.
        per_chunk = fmt.ORDINALS_PER_CHUNK * fmt.ORDINAL_ENTRY
        pack = fmt.ORDINAL_KEY.pack
        entry = fmt.ORDINAL_ENTRY
        keyed, tables, ents = pending.keyed, pending.tables, pending.ents
        sharded: list[tuple[bytes, bytes]] = []
        with self._env.begin(write=True) as txn:
            cursors: dict[int, Any] = {t: txn.cursor(db) for t, db in self._dbmap.items()}
            if self._shards is not None:
                cursors[fmt.TABLE_RECORDS] = _Collect(sharded)
            ocur = txn.cursor(self._ordinals)
            chunk = self._chunk
            i, n = 0, len(keyed)
            while i < n:
                j = min(n, i + (per_chunk - len(chunk)) // entry)
                for run in _RUNS.finditer(tables, i, j):
                    a, b = run.span()
                    items = keyed[a:b]
                    if cursors[tables[a]].putmulti(items, append=True)[1] != len(items):
                        raise RuntimeError("LMDB refused an appended record key")
                chunk += ents[i * entry : j * entry]
                i = j
                if len(chunk) == per_chunk:
                    ocur.put(pack(self._chunk_no), bytes(chunk), append=True)
                    self._chunk_no += 1
                    chunk.clear()
            if last and chunk:
                ocur.put(pack(self._chunk_no), bytes(chunk), append=True)
                chunk.clear()
        if pending.cases:
            # records and allow interleave in key order, so (key, table) keys stay sorted
            put_batch(self._side_env, self._cases, pending.cases)
        if sharded:
            self._shards.append(sharded)  # type: ignore[union-attr] # set when sharded fills


#: A run of one table byte in :attr:`_Pending.tables` (one putmulti each).
_RUNS = re.compile(rb"(.)\1*", re.DOTALL)


class _Collect:
    """Stands in for the ``records`` cursor of a sharded build: keeps the entries for
    :class:`ShardSinks` (written after the ``data.mdb`` transaction)."""

    __slots__ = ("_out",)

    def __init__(self, out: list[tuple[bytes, bytes]]) -> None:
        self._out = out

    def putmulti(self, items: list[tuple[bytes, bytes]], append: bool = True) -> tuple[int, int]:
        self._out += items
        return len(items), len(items)


def open_build_env(path: Path, *, subdir: bool, max_dbs: int) -> Any:
    """An LMDB environment a build writes alone (no lock) and syncs once at the end (no sync
    per commit): the snapshot's data file, its side file and its shards."""
    return lmdb.open(
        str(path),
        subdir=subdir,
        map_size=1 << 38,  # address space only; the file grows as pages are written
        max_dbs=max_dbs,
        lock=False,
        sync=False,
        metasync=False,
    )


class ShardSinks:
    """The shard files of a sharded build (format 4.0): ``records`` entries, arriving in key
    order, appended to the shard whose key range holds them (:func:`fmt.shard_bounds`)."""

    def __init__(self, root: Path, n: int) -> None:
        self.bounds = fmt.shard_bounds(n)
        self.counts = [0] * n
        self.envs: list[Any] = []
        self.dbs: list[Any] = []
        self._readers: dict[int, Any] = {}
        for i in range(n):
            d = (root / fmt.SHARD_FILE.format(i)).parent
            d.mkdir()
            env = open_build_env(d, subdir=True, max_dbs=2)
            self.envs.append(env)
            self.dbs.append(env.open_db(fmt.DB_RECORDS))

    def append(self, entries: list[tuple[bytes, bytes]]) -> None:
        """Append ``entries`` (sorted, after every earlier call's) to their shards."""
        start = 0
        while start < len(entries):
            i = bisect.bisect_right(self.bounds, entries[start][0])
            end = (
                len(entries)
                if i == len(self.bounds)
                else bisect.bisect_left(entries, (self.bounds[i],), start)
            )
            with self.envs[i].begin(write=True, db=self.dbs[i]) as txn:
                if txn.cursor().putmulti(entries[start:end], append=True)[1] != end - start:
                    raise RuntimeError("LMDB refused an appended record key")
            self.counts[i] += end - start
            start = end

    def get(self, key: bytes) -> bytes | None:
        """The record written under ``key`` (after the last :meth:`append`), or ``None``."""
        i = bisect.bisect_right(self.bounds, key)
        txn = self._readers.get(i)
        if txn is None:
            txn = self._readers[i] = self.envs[i].begin(db=self.dbs[i])
        value: bytes | None = txn.get(key)
        return value

    def entries(self) -> list[dict[str, Any]]:
        """The manifest's ``shards`` (without sizes: those are in ``files``)."""
        edges = [b"\x00" * 8, *self.bounds]
        return [
            {
                "file": fmt.SHARD_FILE.format(i),
                "lo": edges[i].hex(),
                "hi": edges[i + 1].hex() if i + 1 < len(edges) else None,
                "records": n,
            }
            for i, n in enumerate(self.counts)
        ]

    def close(self, sync: bool) -> None:
        for txn in self._readers.values():
            txn.abort()
        self._readers.clear()
        for env in self.envs:
            if sync:
                env.sync(True)
            env.close()
        self.envs = []


def write_urlexpr(env: Any, db: Any, sorter: ExternalSorter) -> None:
    """Write ``urlexpr``: per expression key, the worst listed record and the allowlisted one."""

    def items() -> Iterator[tuple[bytes, bytes]]:
        # Ties are settled by value, never by insertion order, so that a build fed from
        # several processes writes the same bytes as a serial one.
        for ekey, values in grouped(sorter.sorted()):
            # expression-key collision (64-bit): the smallest expression keeps the key
            expr = values[0][14:] if len(values) == 1 else min(v[14:] for v in values)
            best: tuple[int, int, bytes] | None = None
            allow: bytes | None = None
            for v in values:
                if v[14:] != expr:
                    continue
                table, sev = v[0], v[1]
                (count,) = fmt.U32.unpack_from(v, 2)
                rkey = v[6:14]
                if table == fmt.TABLE_ALLOW:
                    allow = rkey if allow is None else min(allow, rkey)
                elif (
                    best is None
                    or (sev, count) > best[:2]
                    or ((sev, count) == best[:2] and rkey < best[2])
                ):
                    best = (sev, count, rkey)
            flags = (1 if best else 0) | (2 if allow else 0)
            out = bytes((flags,)) + (best[2] if best else b"") + (allow or b"") + expr
            yield ekey, out

    append_all(env, db, items())


def _near_groups(
    stream: Iterator[bytes], cap: int, prefixes: bytearray
) -> Iterator[tuple[bytes, bytes]]:
    """``(variant key, entries)`` of a sorted stream of near items; appends each variant
    key's :data:`fmt.NEAR_PREFIX` bytes to ``prefixes`` (the ``near_filter`` values)."""
    keep = prefixes.extend
    # Grouping on the 8-byte variant key runs in C (groupby + itemgetter); most groups hold
    # one entry, so the Python loop body runs once per variant key.
    for vkey, group in itertools.groupby(stream, key=_VARIANT_KEY):
        keep(vkey[:4])
        entries = [next(group)[8:]]
        for item in group:  # noqa: B031 - the rest of the group, once
            entry = item[8:]
            if entry != entries[-1] and len(entries) < cap:
                entries.append(entry)  # sorted, so duplicates are adjacent
        yield vkey, entries[0] if len(entries) == 1 else b"".join(entries)


def _filter_values(prefixes: bytes) -> array[int]:
    out = array("I")
    out.frombytes(prefixes)  # 4 big-endian bytes per key, read as native u32
    if sys.byteorder == "little":
        out.byteswap()
    return out


def write_near(env: Any, db: Any, sorter: BytesSorter, cap: int) -> array[int]:
    """Write ``near``; return the pre-filter's values (:data:`fmt.NEAR_PREFIX` of each
    distinct variant key, ascending) for the ``near_filter`` bitmap."""
    prefixes = bytearray()
    append_all(env, db, _near_groups(sorter.sorted(), cap, prefixes))
    return _filter_values(bytes(prefixes))


class NearJob:
    """:func:`write_near`'s sorting and grouping, shared by forked processes and this one.

    The near variants are the most numerous items of a build (tens per listed domain) and
    their sort and grouping cost more than writing every record. ``children`` forked
    processes each sort and group one key range (:meth:`BytesSorter.sorted`) while this
    process writes the other sub-databases; then, in :meth:`finish`, it sorts the last range
    itself (``own_share`` of the key space, sized so that both sides end at about the same
    time), and appends everything in key order. A child writes pickled batches of groups and
    then its prefix bytes to its own file; it touches neither LMDB nor any other file. A
    variant key's entries all fall in one range, so the ranges' groups, in order, are the
    serial groups.
    """

    def __init__(
        self, sorter: BytesSorter, cap: int, out: Path, children: int = 1, own_share: float = 0.0
    ) -> None:
        self.sorter = sorter
        self.cap = cap
        own = min(BUCKETS - 1, max(0, round(BUCKETS * own_share)))
        cuts = [(BUCKETS - own) * k // children for k in range(children + 1)]
        self.own = range(BUCKETS - own, BUCKETS)
        self.outs = [out.with_name(f"{out.name}.{k}") for k in range(children)]
        self.pids: list[int] = []
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        for k, path in enumerate(self.outs):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
                try:
                    die_with_parent(parent)
                    _near_child(sorter.sorted(range(cuts[k], cuts[k + 1])), cap, path)
                finally:
                    os._exit(1)  # _near_child exits itself; this catches what fails before
            self.pids.append(pid)

    def finish(self, env: Any, db: Any) -> array[int]:
        """Sort this process's range, wait for the children, append every group to ``db``
        in key order; returns the ``near_filter`` values."""
        own_prefixes = bytearray()
        own = list(_near_groups(self.sorter.sorted(self.own), self.cap, own_prefixes))
        failed = []
        for pid in self.pids:
            _, status = os.waitpid(pid, 0)
            failed.append(os.waitstatus_to_exitcode(status))
        self.pids = []
        if any(failed):
            raise SnapshotError(
                self.outs[0], f"near-match build process failed (exit {max(failed)})"
            )
        prefixes = bytearray()

        def groups() -> Iterator[tuple[bytes, bytes]]:
            for path in self.outs:
                with path.open("rb") as f:
                    while True:
                        batch = pickle.load(f)
                        if isinstance(batch, bytes):  # the prefixes come last
                            prefixes.extend(batch)
                            break
                        yield from batch
                path.unlink()
            prefixes.extend(own_prefixes)
            yield from own

        # Re-batched exactly as the serial path batches them: transaction boundaries shape
        # the pages of data.mdb, and the snapshot's checksum covers its bytes.
        append_all(env, db, groups())
        return _filter_values(bytes(prefixes))

    def cancel(self) -> None:
        """Stop the children (the build failed elsewhere)."""
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        self.pids = []


def _near_child(stream: Iterator[bytes], cap: int, out: Path) -> NoReturn:  # pragma: no cover
    code = 1
    try:
        prefixes = bytearray()
        groups = _near_groups(stream, cap, prefixes)
        with out.open("wb") as f:
            while batch := list(itertools.islice(groups, BATCH)):
                pickle.dump(batch, f, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(bytes(prefixes), f, protocol=pickle.HIGHEST_PROTOCOL)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def write_ranges(env: Any, db: Any, sorter: GroupingSorter, threshold: int) -> None:
    """Write ``phone_ranges``: every prefix with at least ``threshold`` listed numbers."""
    append_all(env, db, _range_items(sorter, threshold))


def _range_items(sorter: GroupingSorter, threshold: int) -> Iterator[tuple[bytes, bytes]]:
    """``(range key, count)`` of the prefixes kept, in key order: counted over the sorter's
    hash buckets (equal keys adjacent), then the kept ones sorted (an :class:`ExternalSorter`
    beside it: they arrive in hash order, so its key ranges are drawn from a fair sample)."""
    pack = fmt.U32.pack
    kept = ExternalSorter(sorter.directory, "ranges-kept")
    for rkey, same in itertools.groupby(sorter.grouped()):
        n = len(list(same))  # counted in C; a group is one prefix's numbers
        if n >= threshold:
            kept.add(rkey, pack(n))
    return kept.sorted()


def write_hashes(
    env: Any, dbs: dict[bytes, Any], sorter: BytesSorter, shards: ShardSinks | None = None
) -> None:
    """Write ``hashes``: one entry per 2-byte hash prefix, the 6-byte entries (hash bytes
    2..3, the record's u32 ordinal, little-endian) of every record hashed under it, in hash
    order. Runs after :func:`write_records`: a record's ordinal is its position in
    ``ordinals`` (table byte + key per ordinal, in (key, table) order), found for a whole
    batch of hash items at once by binary search (numpy) instead of one record read each.
    ``shards`` is accepted for the call sites' sake: ``ordinals`` lists sharded records too.
    """
    del shards  # ordinals cover every record, wherever its bytes are
    keys, tables = _ordinal_keys(env, dbs[fmt.DB_ORDINALS])
    append_all(env, dbs[fmt.DB_HASHES], _hash_groups(sorter.sorted(), keys, tables))


#: A ``hashes`` sorter item: 4 hash bytes (2 bucket + 2 entry), table byte, 8-byte key.
_HASH_ITEM = np.dtype([("b", ">u2"), ("lo", "V2"), ("t", "u1"), ("k", ">u8")])
#: A ``hashes`` value entry: 2 hash bytes and the record's ordinal, little-endian.
_HASH_ENTRY = np.dtype([("lo", "V2"), ("o", "<u4")])
#: Hash items handled per numpy batch (about 13 MB).
_HASH_BATCH = 1 << 20


def _ordinal_keys(env: Any, db: Any) -> tuple[Any, Any]:
    """Every record's key (native u64: the big-endian key read as a number, so that numeric
    order is byte order) and table byte, indexed by ordinal: 9 bytes a record, filled chunk
    by chunk (no list of chunks joined afterwards, which held the table three times over)."""
    entry = np.dtype([("t", "u1"), ("k", ">u8")])
    with env.begin(db=db) as txn:
        most = txn.stat(db)["entries"] * fmt.ORDINALS_PER_CHUNK
        keys, tables = np.empty(most, dtype=np.uint64), np.empty(most, dtype=np.uint8)
        n = 0
        for _, value in txn.cursor():
            chunk = np.frombuffer(value, dtype=entry)
            keys[n : n + len(chunk)] = chunk["k"]
            tables[n : n + len(chunk)] = chunk["t"]
            n += len(chunk)
    return keys[:n], tables[:n]


def _hash_groups(stream: Iterator[bytes], keys: Any, tables: Any) -> Iterator[tuple[bytes, bytes]]:
    """``(2-byte bucket, entries)`` of the sorted hash items, as the per-item loop wrote them:
    duplicates dropped, items whose (key, table) was not written (none today) skipped."""
    carry: tuple[bytes, bytes] | None = None
    last = b""
    while batch := list(itertools.islice(stream, _HASH_BATCH)):
        if any(len(item) != _HASH_ITEM.itemsize for item in (batch[0], batch[-1])):
            raise ValueError("hashes items must be 13 bytes (4 hash bytes, table, key)")
        raw = b"".join(batch)
        if len(raw) != len(batch) * _HASH_ITEM.itemsize:
            raise ValueError("hashes items must be 13 bytes (4 hash bytes, table, key)")
        items = np.frombuffer(raw, dtype=_HASH_ITEM)
        flat = np.frombuffer(raw, dtype="V13")
        new = np.ones(len(items), dtype=bool)
        new[1:] = flat[1:] != flat[:-1]
        new[0] = batch[0] != last  # sorted: a duplicate of the previous batch's last item
        last = batch[-1]
        items = items[new]
        ordinals, found = _ordinals_of(items["k"].astype(np.uint64), items["t"], keys, tables)
        items, ordinals = items[found], ordinals[found]
        entries = np.empty(len(items), dtype=_HASH_ENTRY)
        entries["lo"] = items["lo"]
        entries["o"] = ordinals
        buckets = items["b"]
        cuts = np.flatnonzero(buckets[1:] != buckets[:-1]) + 1
        starts = [0, *cuts.tolist()]
        ends = [*cuts.tolist(), len(items)]
        blob = entries.tobytes()
        size = _HASH_ENTRY.itemsize
        for lo, hi in zip(starts, ends, strict=True):
            if lo == hi:
                continue
            bucket = int(buckets[lo]).to_bytes(2, "big")
            value = blob[lo * size : hi * size]
            if carry is not None:
                if carry[0] == bucket:
                    carry = (bucket, carry[1] + value)
                    continue
                yield carry
            carry = (bucket, value)
    if carry is not None:
        yield carry


def _ordinals_of(qkeys: Any, qtables: Any, keys: Any, tables: Any) -> tuple[Any, Any]:
    """Positions of the (key, table) pairs in the sorted ``keys`` / ``tables`` and which
    were found: a key is there at most once per table, so at most two positions match.
    The queries are looked up in key order (and the answers put back in theirs): numpy's
    binary search starts each search where the last ended, so the table is read forwards
    instead of at random, 7x faster over a 7x10^7-key table (measured, 1M queries)."""
    n = len(keys)
    if n == 0:
        return np.zeros(len(qkeys), dtype=np.int64), np.zeros(len(qkeys), dtype=bool)
    order = np.argsort(qkeys, kind="stable")
    sk, st = qkeys[order], qtables[order]
    pos = np.searchsorted(keys, sk, side="left")
    p0 = np.minimum(pos, n - 1)
    p1 = np.minimum(pos + 1, n - 1)
    hit0 = (keys[p0] == sk) & (tables[p0] == st)
    hit1 = ~hit0 & (keys[p1] == sk) & (tables[p1] == st)
    ordinals = np.empty(len(qkeys), dtype=np.int64)
    found = np.empty(len(qkeys), dtype=bool)
    ordinals[order] = np.where(hit0, p0, p1)
    found[order] = hit0 | hit1
    return ordinals, found


def _serialized(values: Bitmap) -> bytes:
    """The stored bytes of a bitmap: the same whether built from an array or added to one
    value at a time (``BitMap(values)`` runs ``run_optimize``; a test pins the equality)."""
    if isinstance(values, BitMap):
        values.run_optimize()
        return bytes(values.serialize())
    return bytes(BitMap(values).serialize())


def write_bitmaps(env: Any, db: Any, bitmaps: dict[str, Bitmap]) -> None:
    names = sorted(bitmaps, key=lambda n: n.encode("utf-8"))
    items = ((n.encode("utf-8"), _serialized(bitmaps[n])) for n in names)
    append_all(env, db, items)


def append_all(env: Any, db: Any, items: Iterator[tuple[bytes, bytes]]) -> None:
    """Append key-ordered items in transactions of at most ``BATCH`` entries."""
    while batch := list(itertools.islice(items, BATCH)):
        put_batch(env, db, batch)


def put_batch(env: Any, db: Any, batch: list[tuple[bytes, bytes]]) -> None:
    with env.begin(write=True) as txn:
        _, added = txn.cursor(db).putmulti(batch, append=True)
        if added != len(batch):
            raise RuntimeError("LMDB refused appended keys (input not sorted?)")


__all__ = [
    "BATCH",
    "EvidenceJob",
    "ForkedStream",
    "NearJob",
    "RangesJob",
    "ShardSinks",
    "append_all",
    "open_build_env",
    "put_batch",
    "write_bitmaps",
    "write_evidence",
    "write_hashes",
    "write_near",
    "write_ranges",
    "write_records",
    "write_urlexpr",
]


def _evidence_items(evidence: ExternalSorter) -> Iterator[tuple[bytes, bytes]]:
    """``(key, JSON array of its values in the order added)`` in key order."""
    for flat in evidence.flat_runs():
        yield from group_pairs(flat)
        del flat


def group_pairs_python(flat: list[bytes]) -> list[tuple[bytes, bytes]]:
    """The pairs of ``flat`` (``[key, value, key, value, ...]``) grouped by key, in key
    order: ``(key, b"[" + the key's values joined by "," in the order given + b"]")``.
    The reference of the compiled ``_recordsfast.group_pairs``."""
    it = iter(flat)
    pairs = sorted(zip(it, it, strict=True), key=_FIRST)  # stable: values stay in order
    return [
        (key, b"[" + b",".join([v for _, v in same]) + b"]")
        for key, same in itertools.groupby(pairs, key=_FIRST)
    ]


_FIRST = operator.itemgetter(0)


def _put_all(env: Any, db: Any, batches: Iterator[list[tuple[bytes, bytes]]]) -> int:
    """Append every batch to ``db``, one write transaction each (a transaction holds its
    dirty pages in memory: one for the whole evidence held about 380 MiB at 10^7 reports);
    returns the entries put."""
    n = 0
    for batch in batches:
        put_batch(env, db, batch)
        n += len(batch)
    return n


def write_evidence(env: Any, db: Any, evidence: ExternalSorter) -> int:
    """Write the ``evidence`` sub-database: the values of each key (in the order added)
    joined into one JSON array; returns the number of keys. Appended in key order."""
    items = _evidence_items(evidence)
    return _put_all(env, db, iter(lambda: list(itertools.islice(items, BATCH)), []))


class ForkedStream:
    """Key-ordered ``(key, value)`` items made in a forked process while this one writes.

    The child (forked before LMDB is opened, like :class:`NearJob`'s) runs ``make()`` and
    writes each batch of :data:`BATCH` items pickled to its own file (``out.0``, ``out.1``,
    ...; an empty batch ends them) and touches nothing else. :meth:`batches` waits for it and
    yields the batches, removing each file once read: what the child reads from its sorter
    is removed as it goes (:mod:`scameter.index.spill`), so the disk holds the items once.
    """

    def __init__(
        self, make: Callable[[], Iterator[tuple[bytes, bytes]]], out: Path, what: str
    ) -> None:
        self.out = out
        self.what = what
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
            try:
                die_with_parent(parent)
                _stream_child(make, out)
            finally:
                os._exit(1)
        self.pid: int | None = pid

    def batches(self) -> Iterator[list[tuple[bytes, bytes]]]:
        """Wait for the child, then its batches in order."""
        pid, self.pid = self.pid, None
        if pid is not None:
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            if code:
                raise SnapshotError(self.out, f"{self.what} build process failed (exit {code})")
        for k in itertools.count():
            path = self.out.with_name(f"{self.out.name}.{k}")
            with path.open("rb") as f:
                batch = pickle.load(f)
            path.unlink()
            if not batch:
                return
            yield batch

    def cancel(self) -> None:
        """Stop the child (the build failed elsewhere)."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        self.pid = None


class EvidenceJob(ForkedStream):
    """:func:`write_evidence`'s merge, in a forked process while this one writes the records.

    Merging the evidence's sorted runs and joining each key's values is Python work of about
    2 s per 10^6 reports; it needs nothing the record writer produces. :meth:`finish`
    appends the merged batches into the side file in the serial path's transactions, so the
    bytes are the same. Forked, not spawned: a spawned interpreter imports the caller's
    ``__main__`` again (``multiprocessing``'s rule), which re-ran a whole ingest from a script
    without a ``__main__`` guard. The child maps this process copy-on-write, counted twice in
    the tree's RssAnon: about 480 MiB at 10^8 reports, once the feed has ended.
    """

    def __init__(self, evidence: ExternalSorter, out: Path) -> None:
        super().__init__(lambda: _evidence_items(evidence), out, "evidence")

    def finish(self, env: Any, db: Any) -> int:
        """Wait for the child, append what it wrote to ``db``; returns the number of keys."""
        return _put_all(env, db, self.batches())


class RangesJob(ForkedStream):
    """:func:`write_ranges`'s sort and count, in a forked process while this one writes the
    records; :meth:`finish` appends the counts in the serial path's transactions."""

    def __init__(self, sorter: GroupingSorter, threshold: int, out: Path) -> None:
        super().__init__(lambda: _range_items(sorter, threshold), out, "phone-range")

    def finish(self, env: Any, db: Any) -> None:
        append_all(env, db, itertools.chain.from_iterable(self.batches()))


def _stream_child(
    make: Callable[[], Iterator[tuple[bytes, bytes]]], out: Path
) -> NoReturn:  # pragma: no cover
    code = 1
    try:
        items = make()
        for k in itertools.count():
            batch = list(itertools.islice(items, BATCH))
            tmp = out.with_name(f"{out.name}.{k}.part")
            with tmp.open("wb") as f:
                pickle.dump(batch, f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.rename(out.with_name(f"{out.name}.{k}"))
            if not batch:  # the end
                break
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)
