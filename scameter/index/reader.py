"""Reading snapshots: :class:`SnapshotReader` opens one directory and owns its database.

Responsibility: open and validate a snapshot (manifest, version, sizes, checksums), hold its
LMDB environment, sub-database handles and ``meta`` (string table, brands, diff parent), and
give raw access to them: one read transaction per thread, records by table and key or by
ordinal, bitmaps, whole-table iteration. The ``records`` table is read through :attr:`table`
(:mod:`scameter.index.recordtable`), which routes a key to its shard in a sharded snapshot.
It knows nothing of verdicts: the lookup rules
(``exact.py``, ``urlmatch.py``, ``nearmatch.py``, ``assembly.py``) read through it, and
:class:`~scameter.index.snapshot.Snapshot` puts the two together.

Invariants:
* The LMDB environment is opened ``readonly=True, lock=False``: snapshots are immutable once
  published, so readers need no lock table. Each thread keeps one long-lived read
  transaction per snapshot (``threading.local``), so a lookup costs no ``begin``.
* The data file's size is always checked against the manifest before mapping: a truncated
  file would otherwise fault (SIGBUS) on first touch instead of raising.
* Everything a lookup needs from ``meta`` and the ``near_filter`` bitmap is read and checked
  at open: a snapshot that opens does not fail on its first lookup.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import lmdb
from pyroaring import BitMap, FrozenBitMap

from scameter.errors import SnapshotCorrupt, SnapshotNotFound, UnsupportedSnapshotVersion
from scameter.identifiers import Identifier
from scameter.index import format as fmt
from scameter.index.chunks import verify_file
from scameter.index.format import IndexPolicy, Manifest
from scameter.index.near import Brand
from scameter.index.popular import PopularSet
from scameter.index.publish import hold_in_use, release_in_use
from scameter.index.record import Record
from scameter.index.recordtable import RecordTable, ShardedTable, SingleTable
from scameter.times import parse_iso_utc
from scameter.verdict import ReasonCode

_ACTION = "rebuild it with `scameter ingest` (or `scameter demo`) or publish another snapshot"


def read_manifest(path: Path, *, verify: bool = True) -> Manifest:
    """Parse and check ``manifest.json`` (version, fields, and with ``verify`` the checksum)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnapshotNotFound(path, f"manifest missing; {_ACTION}") from None
    except (OSError, UnicodeError) as e:
        raise SnapshotCorrupt(path, f"manifest unreadable ({e}); {_ACTION}") from e
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        version = data.get("format_version")
        if not isinstance(version, str):
            raise ValueError("no format_version")
    except ValueError as e:
        raise SnapshotCorrupt(path, f"manifest is not valid ({e}); {_ACTION}") from e
    if fmt.major_of(version) not in fmt.SUPPORTED_MAJORS:
        raise UnsupportedSnapshotVersion(
            path,
            f"format version {version} is not supported by this reader (supports "
            f"{', '.join(f'{m}.x' for m in sorted(fmt.SUPPORTED_MAJORS))}); "
            + fmt.REBUILD_HINT.get(
                fmt.major_of(version), "upgrade scameter or rebuild the snapshot with this version"
            ),
        )
    try:
        manifest = Manifest.from_dict(data)
        parse_iso_utc(manifest.as_of)  # the reader keeps it as a datetime (SnapshotReader.as_of)
    except (TypeError, ValueError, AttributeError) as e:
        raise SnapshotCorrupt(path, f"manifest is not valid ({e}); {_ACTION}") from e
    if verify and manifest.expected_checksum() != manifest.checksum:
        raise SnapshotCorrupt(path, f"manifest checksum mismatch (edited?); {_ACTION}")
    return manifest


class _EnvRegistry:
    """One LMDB environment per snapshot directory per process, reference counted.

    LMDB forbids opening one environment twice in a process (py-lmdb refuses it), yet a
    server may reopen a snapshot it still holds: CURRENT can flip back to a snapshot whose
    old :class:`Snapshot` is still serving in-flight lookups. Snapshots share the
    environment and it closes when the last one does.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: dict[str, tuple[Any, int]] = {}
        self._path_of: dict[int, str] = {}
        self._in_use: dict[str, int | None] = {}

    def acquire(self, path: Path, data: Path, *, subdir: bool = True) -> Any:
        """The environment of snapshot directory ``path`` (``subdir``) or of the LMDB file
        ``path`` (the side file), opened read-only on first use."""
        real = os.path.realpath(path)
        with self._lock:
            entry = self._by_path.get(real)
            if entry is not None:
                self._by_path[real] = (entry[0], entry[1] + 1)
                return entry[0]
            try:
                env = lmdb.open(
                    real,
                    subdir=subdir,
                    readonly=True,
                    lock=False,
                    max_dbs=fmt.MAX_DBS,
                    readahead=False,  # random point lookups: read-ahead evicts useful pages
                )
            except lmdb.Error as e:
                raise SnapshotCorrupt(data, f"not a readable LMDB file ({e}); {_ACTION}") from e
            self._by_path[real] = (env, 1)
            self._path_of[id(env)] = real
            self._in_use[real] = hold_in_use(data)
            return env

    def release(self, env: Any) -> None:
        with self._lock:
            real = self._path_of[id(env)]
            env_, refs = self._by_path[real]
            if refs > 1:
                self._by_path[real] = (env_, refs - 1)
                return
            del self._by_path[real]
            del self._path_of[id(env)]
            release_in_use(self._in_use.pop(real, None))
            # Close under the lock: py-lmdb refuses to open a path it still holds, so an
            # acquire of the same snapshot racing with a close outside the lock would fail
            # with "already open in this process" (seen in the swap stress test).
            env.close()


_ENVS = _EnvRegistry()


class SnapshotReader:
    """The database of one open, immutable snapshot. Thread-safe; :meth:`close` it when done.

    Attributes the lookup rules read on their hot paths are plain attributes: the
    sub-database handles (``records``, ``allow``, ``urlexpr``, ``near``, ``ranges``,
    ``ordinals``), ``local`` (its ``txn`` is this thread's read transaction once :meth:`txn`
    has run here), ``strings`` (the string table), ``allow_keys`` (every allowlist key, in
    memory), ``brands`` and ``near_filter``.
    """

    def __init__(self, path: Path, manifest: Manifest, env: Any) -> None:
        self.path = path
        self.manifest = manifest
        self.id = manifest.snapshot_id
        self.policy = IndexPolicy.from_dict(manifest.policy)
        self._env = env
        self.local = threading.local()
        self._bitmaps: dict[str, BitMap] = {}
        self._bitmap_lock = threading.Lock()
        #: The data's reference time ("now" for the ingest that built it), aware UTC;
        #: :func:`read_manifest` has checked that it parses.
        self.as_of: datetime = parse_iso_utc(manifest.as_of)
        try:
            dbs = {n: env.open_db(n, create=False) for n in fmt.ALL_DBS}
            self._bitmaps_db = dbs[fmt.DB_BITMAPS]
            meta = self._load_meta(dbs[fmt.DB_META])
            self.near_filter = self._load_near_filter()
            self.strings: tuple[str, ...] = tuple(meta["strings"])
            self.brands = tuple(Brand(label, reg, owner) for label, reg, owner in meta["brands"])
            self.allow_keys = self._load_allow_keys(dbs[fmt.DB_ALLOW])
        except (lmdb.Error, ValueError, KeyError, TypeError) as e:
            raise SnapshotCorrupt(path / fmt.DATA_FILE, f"unreadable index ({e}); {_ACTION}") from e
        #: ``records`` of ``data.mdb``: the whole table in a single-file snapshot, empty in a
        #: sharded one. Read records through :attr:`table` (or :meth:`get`), which routes.
        self.records = dbs[fmt.DB_RECORDS]
        self.table: RecordTable = (
            ShardedTable(path, manifest.shards, manifest.files, _ENVS.acquire, _ENVS.release)
            if manifest.shards
            else SingleTable(self.txn, lambda: env.begin(buffers=False), self.records)
        )
        self._get_record = self.table.get
        self.allow = dbs[fmt.DB_ALLOW]
        self.urlexpr = dbs[fmt.DB_URLEXPR]
        self.near = dbs[fmt.DB_NEAR]
        self.ranges = dbs[fmt.DB_PHONE_RANGES]
        self.ordinals = dbs[fmt.DB_ORDINALS]
        #: The hash-prefix table of private lookups; ``None`` in a snapshot built before it.
        self.hashes = self._open_optional(fmt.DB_HASHES)
        self._popular_db: Any = self._open_optional(fmt.DB_POPULAR)
        self._popular: PopularSet | None = None
        #: The side file (evidence, case ids), opened on first use: lookups never map it.
        self._side: tuple[Any, Any, Any, Any] | None = None
        self._side_lock = threading.Lock()
        #: Intake log (resolved path) -> the last sequence number this build read from it.
        self.intake_cursors: dict[str, int] = dict(meta.get(fmt.META_INTAKE_CURSORS) or {})
        #: The parent the ``added`` / ``changed`` / ``removed`` bitmaps are relative to.
        self.diff_parent: str | None = meta.get("diff_parent")

    # -- opening and closing --------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, verify: bool = True) -> SnapshotReader:
        """Open the snapshot directory ``path``.

        Always checks the manifest's version and the data file's size; with ``verify`` also
        the manifest checksum. :meth:`verify` does the full sha256 of the data file.
        """
        path = Path(path)
        if not path.is_dir():
            raise SnapshotNotFound(path, f"no snapshot directory here; {_ACTION}")
        manifest = read_manifest(path / fmt.MANIFEST_FILE, verify=verify)
        data = path / fmt.DATA_FILE
        try:
            size = data.stat().st_size
        except FileNotFoundError:
            raise SnapshotNotFound(data, f"snapshot data file missing; {_ACTION}") from None
        expected = manifest.files.get(fmt.DATA_FILE, {}).get("size")
        if expected is not None and size != expected:
            raise SnapshotCorrupt(
                data,
                f"data file is {size} bytes but the manifest says {expected} "
                f"(truncated or replaced); {_ACTION}",
            )
        env = _ENVS.acquire(path, data)
        try:
            return cls(path, manifest, env)
        except BaseException:
            _ENVS.release(env)
            raise

    def _open_optional(self, name: bytes) -> Any:
        try:
            return self._env.open_db(name, create=False)
        except lmdb.NotFoundError:
            return None

    def _load_meta(self, db: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        with self._env.begin(db=db) as txn:
            for k, v in txn.cursor():
                out[bytes(k).decode("utf-8")] = json.loads(bytes(v))
        if fmt.major_of(str(out.get("format_version", ""))) not in fmt.SUPPORTED_MAJORS:
            raise ValueError("format version in the index does not match a supported one")
        return out

    def _load_near_filter(self) -> FrozenBitMap | None:
        """The ``near`` pre-filter (format 1.1+), deserialised once; ``None`` for a 1.0
        snapshot, whose near probes then all go to LMDB as before."""
        with self._env.begin(db=self._bitmaps_db) as txn:
            raw = txn.get(fmt.NEAR_FILTER.encode("ascii"))
            return None if raw is None else FrozenBitMap.deserialize(raw)

    def _load_allow_keys(self, db: Any) -> frozenset[bytes]:
        with self._env.begin(db=db) as txn:
            return frozenset(bytes(k) for k in txn.cursor().iternext(keys=True, values=False))

    def popular_digests(self) -> dict[str, str] | None:
        """Digests of the warninglist files the ``popular`` set was compiled from (None:
        the snapshot has no popular set)."""
        if self._popular_db is None:
            return None
        with self._env.begin(db=self._popular_db) as txn:
            raw = txn.get(fmt.POPULAR_DIGESTS)
        return None if raw is None else dict(json.loads(bytes(raw)))

    @property
    def popular(self) -> PopularSet:
        """The popular-site set (empty without one), read on first use (16 MB for the two
        top-1M lists: only the look-alike rules and the next build need it)."""
        got = self._popular
        if got is None:
            blobs: list[tuple[str, bytes]] = []
            if self._popular_db is not None:
                with self._env.begin(db=self._popular_db) as txn:
                    for k, v in txn.cursor():
                        key = bytes(k)
                        if key != fmt.POPULAR_DIGESTS:
                            blobs.append((key[1:].decode("utf-8"), bytes(v)))
            got = self._popular = PopularSet.from_blobs(blobs)
        return got

    def verify(self, threads: int | None = None) -> int:
        """Full verification: the manifest checksum, then every data file against its hashes:
        the 32 MiB chunks in parallel on ``threads`` threads (format 2.2; default one per
        core, at most 8), or the whole-file sha256 of a 2.0 or 2.1 manifest. Returns the number of
        chunks hashed; :class:`SnapshotCorrupt` names the first chunk that differs."""
        read_manifest(self.path / fmt.MANIFEST_FILE, verify=True)
        hashed = 0
        for name, info in self.manifest.files.items():
            f = self.path / name
            if not f.is_file():
                raise SnapshotNotFound(f, f"snapshot file missing; {_ACTION}")
            hashed += verify_file(f, info, threads)
        return hashed

    def warm(self) -> None:
        """Touch the pages every lookup needs (bitmap index, tree roots) before serving."""
        self.bitmap("all")
        txn = self.txn()
        dbs = (self.urlexpr, self.near, self.ranges)
        # A sharded snapshot's shards stay unopened until a lookup routes to them.
        for db in dbs if self.table.sharded else (self.records, *dbs):
            with contextlib.suppress(lmdb.Error):
                txn.get(b"\x00" * 8, db=db)

    def close(self) -> None:
        self.table.close()
        env, self._env = self._env, None
        if env is not None:
            _ENVS.release(env)
        with self._side_lock:
            side, self._side = self._side, None
        if side is not None and side[0] is not None:
            _ENVS.release(side[0])

    @property
    def closed(self) -> bool:
        return self._env is None

    # -- reads ----------------------------------------------------------------------------

    def txn(self) -> Any:
        """This thread's read transaction on the snapshot (begun on first use)."""
        try:
            return self.local.txn
        except AttributeError:
            if self._env is None:
                raise SnapshotNotFound(self.path, "snapshot is closed") from None
            txn = self.local.txn = self._env.begin(buffers=False)
            return txn

    def _side_dbs(self) -> tuple[Any, Any, Any, Any]:
        """``(environment, evidence db or None, cases db or None, domlinks db or None)`` of
        the side file, opened on first use (lookups never need it)."""
        side = self._side
        if side is not None:
            return side
        with self._side_lock:
            if self._side is not None:
                return self._side
            path = self.path / fmt.SIDE_FILE
            info = self.manifest.files.get(fmt.SIDE_FILE)
            if info is None:
                self._side = (None, None, None, None)
                return self._side
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                raise SnapshotNotFound(path, f"snapshot side file missing; {_ACTION}") from None
            if size != info.get("size"):
                raise SnapshotCorrupt(
                    path,
                    f"side file is {size} bytes but the manifest says {info.get('size')} "
                    f"(truncated or replaced); {_ACTION}",
                )
            env = _ENVS.acquire(path, path, subdir=False)
            dbs = []
            for name in (fmt.DB_EVIDENCE, fmt.DB_CASES, fmt.DB_DOMLINKS):
                try:
                    dbs.append(env.open_db(name, create=False))
                except lmdb.NotFoundError:
                    dbs.append(None)
            self._side = (env, dbs[0], dbs[1], dbs[2])
            return self._side

    def _side_txn(self) -> Any:
        env = self._side_dbs()[0]
        try:
            return self.local.side_txn
        except AttributeError:
            if self._env is None:
                raise SnapshotNotFound(self.path, "snapshot is closed") from None
            txn = self.local.side_txn = env.begin(buffers=False)
            return txn

    @property
    def evidence(self) -> Any:
        """The side file's ``evidence`` database (opening the side file on first use), or
        ``None`` in a snapshot built without evidence (the live fold is then off)."""
        return self._side_dbs()[1]

    def evidence_of(self, key: bytes) -> bytes | None:
        """The ``evidence`` value (JSON array of events) of identifier key ``key``, or
        ``None`` (no evidence, or a snapshot without the sub-database)."""
        db = self.evidence
        if db is None:
            return None
        value: bytes | None = self._side_txn().get(key, db=db)
        return value

    @property
    def has_domain_links(self) -> bool:
        """Whether the side file holds the ``domlinks`` index (not in a snapshot built
        before it or without evidence: the live fold then links domains as it did before)."""
        return self._side_dbs()[3] is not None

    def domain_links(self, expr_key: bytes) -> bytes | None:
        """The ``domlinks`` entry (:mod:`scameter.index.domlinks`) of the expression key
        ``expr_key``, or ``None`` (no identifier on it, or no index)."""
        db = self._side_dbs()[3]
        if db is None:
            return None
        value: bytes | None = self._side_txn().get(expr_key, db=db)
        return value

    def cases(self, table: int, key: bytes, buf: bytes) -> tuple[tuple[str, ...], int]:
        """``(case ids, case count)`` of the record ``buf`` stored under ``key`` in ``table``:
        inline (a live fold's record) or in the side file's ``cases`` (a built one, flag
        :data:`fmt.F_SIDE_CASES`); ``((), 0)`` without case ids. A case block that fails its
        CRC-32 raises :class:`SnapshotCorrupt`."""
        if not buf[2] & fmt.F_SIDE_CASES:
            return fmt.record_cases(buf)
        db = self._side_dbs()[2]
        block = None if db is None else self._side_txn().get(key + bytes((table,)), db=db)
        if block is None or not fmt.record_intact(block):
            ordinal = fmt.U32.unpack_from(buf, fmt.OFF_ORDINAL)[0]
            raise SnapshotCorrupt(
                self.path / fmt.SIDE_FILE,
                f"the case ids of the record with ordinal {ordinal} are missing or fail "
                f"their CRC-32 check; {_ACTION}",
            )
        return fmt.decode_cases(block)

    def get(self, table: int, key: bytes) -> bytes | None:
        """The packed record under ``key`` in ``table`` (:data:`fmt.TABLE_RECORDS` or
        :data:`fmt.TABLE_ALLOW`), or ``None``."""
        if table != fmt.TABLE_ALLOW:
            return self._get_record(key)
        value: bytes | None = self.txn().get(key, db=self.allow)
        return value

    def by_ordinal(self, ordinal: int) -> tuple[int, bytes, bytes] | None:
        """``(table, key, packed record)`` of the record with this ordinal, or ``None``."""
        if ordinal < 0:
            return None
        chunk, i = divmod(ordinal, fmt.ORDINALS_PER_CHUNK)
        ref = self.txn().get(fmt.ORDINAL_KEY.pack(chunk), db=self.ordinals)
        at = i * fmt.ORDINAL_ENTRY
        if ref is None or at >= len(ref):
            return None
        table, key = ref[at], ref[at + 1 : at + 9]
        buf = self.get(table, key)
        return None if buf is None else (table, key, buf)

    def bitmap(self, name: str) -> BitMap:
        """The named bitmap (``level:high_risk``, ``kind:phone``, ``cluster:7``, ``added``...);
        empty if the snapshot has none of that name. Cached; treat as read-only."""
        bm = self._bitmaps.get(name)
        if bm is None:
            raw = self.txn().get(name.encode("utf-8"), db=self._bitmaps_db)
            bm = BitMap() if raw is None else BitMap.deserialize(raw)
            with self._bitmap_lock:
                self._bitmaps[name] = bm
        return bm

    def bitmap_names(self, prefix: str = "") -> list[str]:
        cur = self.txn().cursor(db=self._bitmaps_db)
        p = prefix.encode("utf-8")
        out: list[str] = []
        if not cur.set_range(p):
            return out
        for k in cur.iternext(keys=True, values=False):
            if not bytes(k).startswith(p):
                break
            out.append(bytes(k).decode("utf-8"))
        return out

    def iter_table(self, table: int) -> Iterator[tuple[bytes, bytes]]:
        """Every ``(key, packed record)`` of ``table``, in key order."""
        if table != fmt.TABLE_ALLOW:
            yield from self.table.items()
            return
        with self._env.begin(db=self.allow, buffers=False) as txn:
            yield from txn.cursor()

    def to_record(self, buf: bytes, table: int | None = None, key: bytes | None = None) -> Record:
        """A stored record back as the :class:`Record` ingest handed in (CRC-checked; the
        level checked against ``table`` when given; its case ids read from the side file
        when ``key`` and ``table`` are given)."""
        r = fmt.decode_record(buf, self.strings, table)
        if key is not None and table is not None and buf[2] & fmt.F_SIDE_CASES:
            ids, count = self.cases(table, key, buf)
            r = dataclasses.replace(r, case_ids=ids, case_count=count)
        codes = tuple(ReasonCode(c) for c in r.reasons if c in ReasonCode.__members__.values())
        return Record(
            identifier=Identifier(r.kind, r.canonical, r.valid),
            level=r.level,
            reasons=codes,
            categories=r.categories,
            sources=r.sources,
            report_count=r.report_count,
            reporters=r.reporters,
            first_reported=r.first,
            last_reported=r.last,
            cluster=r.cluster,
            listing=r.listing,
            owner=r.owner,
            case_ids=r.case_ids,
            case_count=r.case_count,
        )
