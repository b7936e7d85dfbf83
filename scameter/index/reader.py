"""Reading snapshots: :class:`Snapshot` opens one directory and answers lookups.

Responsibility: open and validate a snapshot (manifest, version, sizes, checksums), and turn
identifiers into :class:`Verdict` values following design section 5 (see ``lookup.py`` for
the per-kind rules, which this class hosts as methods via :class:`LookupMixin`).

Invariants:
* The LMDB environment is opened ``readonly=True, lock=False``: snapshots are immutable once
  published, so readers need no lock table. Each thread keeps one long-lived read
  transaction per snapshot (``threading.local``), so a lookup costs no ``begin``.
* The data file's size is always checked against the manifest before mapping: a truncated
  file would otherwise fault (SIGBUS) on first touch instead of raising.
* A record whose stored canonical value differs from the queried one (a 64-bit key
  collision) is treated as absent, never answered.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import lmdb
from pyroaring import BitMap, FrozenBitMap

from scameter.errors import SnapshotCorrupt, SnapshotNotFound, UnsupportedSnapshotVersion
from scameter.identifiers import Identifier, Kind
from scameter.index import format as fmt
from scameter.index.format import IndexPolicy, Manifest
from scameter.index.lookup import LookupMixin
from scameter.index.near import Brand, BrandIndex
from scameter.index.publish import current_id, sha256_file
from scameter.index.record import Record
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
            f"{', '.join(f'{m}.x' for m in sorted(fmt.SUPPORTED_MAJORS))}); upgrade scameter "
            "or rebuild the snapshot with this version",
        )
    try:
        manifest = Manifest.from_dict(data)
    except (TypeError, ValueError) as e:
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

    def acquire(self, path: Path, data: Path) -> Any:
        real = os.path.realpath(path)
        with self._lock:
            entry = self._by_path.get(real)
            if entry is not None:
                self._by_path[real] = (entry[0], entry[1] + 1)
                return entry[0]
            try:
                env = lmdb.open(
                    real,
                    subdir=True,
                    readonly=True,
                    lock=False,
                    max_dbs=fmt.MAX_DBS,
                    readahead=False,  # random point lookups: read-ahead evicts useful pages
                )
            except lmdb.Error as e:
                raise SnapshotCorrupt(data, f"not a readable LMDB file ({e}); {_ACTION}") from e
            self._by_path[real] = (env, 1)
            self._path_of[id(env)] = real
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
            # Close under the lock: py-lmdb refuses to open a path it still holds, so an
            # acquire of the same snapshot racing with a close outside the lock would fail
            # with "already open in this process" (seen in the swap stress test).
            env.close()


_ENVS = _EnvRegistry()


class Snapshot(LookupMixin):
    """One open, immutable snapshot. Thread-safe; close it (or use ``with``) when done."""

    def __init__(self, path: Path, manifest: Manifest, env: Any) -> None:
        self.path = path
        self.manifest = manifest
        self.id = manifest.snapshot_id
        self.policy = IndexPolicy.from_dict(manifest.policy)
        self._env = env
        self._local = threading.local()
        self._bitmaps: dict[str, BitMap] = {}
        self._bitmap_lock = threading.Lock()
        try:
            self._db = {n: env.open_db(n, create=False) for n in fmt.ALL_DBS}
            meta = self._load_meta()
            near_filter = self._load_near_filter()
        except (lmdb.Error, ValueError, KeyError, TypeError) as e:
            raise SnapshotCorrupt(path / fmt.DATA_FILE, f"unreadable index ({e}); {_ACTION}") from e
        self._records = self._db[fmt.DB_RECORDS]
        self._allow = self._db[fmt.DB_ALLOW]
        self._urlexpr = self._db[fmt.DB_URLEXPR]
        self._near = self._db[fmt.DB_NEAR]
        self._ranges = self._db[fmt.DB_PHONE_RANGES]
        self._ordinals = self._db[fmt.DB_ORDINALS]
        self._strings: tuple[str, ...] = tuple(meta["strings"])
        self._diff_parent: str | None = meta.get("diff_parent")
        self._allow_keys = self._load_allow_keys()
        brands = [Brand(label, reg, owner) for label, reg, owner in meta["brands"]]
        p = self.policy
        self._brands = BrandIndex(
            brands,
            brand_words=p.brand_words,
            min_length=p.brand_min_length,
            max_distance=p.near_max_distance,
            d2_min_length=p.near_distance2_min_length,
        )
        self._near_exempt = frozenset(p.near_exempt_domains) | self._brands.official
        self._near_filter = near_filter
        self._init_lookup()

    # -- opening --------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, verify: bool = True) -> Snapshot:
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

    @classmethod
    def open_current(cls, root: Path) -> Snapshot:
        """Open the snapshot ``root/CURRENT`` names."""
        return cls.open(Path(root) / current_id(Path(root)))

    def _load_meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        with self._env.begin(db=self._db[fmt.DB_META]) as txn:
            for k, v in txn.cursor():
                out[bytes(k).decode("utf-8")] = json.loads(bytes(v))
        if fmt.major_of(str(out.get("format_version", ""))) not in fmt.SUPPORTED_MAJORS:
            raise ValueError("format version in the index does not match a supported one")
        return out

    def _load_near_filter(self) -> FrozenBitMap | None:
        """The ``near`` pre-filter (format 1.1+), deserialised once; ``None`` for a 1.0
        snapshot, whose near probes then all go to LMDB as before."""
        with self._env.begin(db=self._db[fmt.DB_BITMAPS]) as txn:
            raw = txn.get(fmt.NEAR_FILTER.encode("ascii"))
            return None if raw is None else FrozenBitMap.deserialize(raw)

    def _load_allow_keys(self) -> frozenset[bytes]:
        with self._env.begin(db=self._allow) as txn:
            return frozenset(bytes(k) for k in txn.cursor().iternext(keys=True, values=False))

    def verify(self) -> None:
        """Full verification: manifest checksum and sha256 of every data file."""
        read_manifest(self.path / fmt.MANIFEST_FILE, verify=True)
        for name, info in self.manifest.files.items():
            f = self.path / name
            if not f.is_file():
                raise SnapshotNotFound(f, f"snapshot file missing; {_ACTION}")
            if f.stat().st_size != info.get("size") or sha256_file(f) != info.get("sha256"):
                raise SnapshotCorrupt(f, f"checksum mismatch; {_ACTION}")

    def close(self) -> None:
        env, self._env = self._env, None
        if env is not None:
            _ENVS.release(env)

    @property
    def closed(self) -> bool:
        return self._env is None

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Snapshot({self.id!r}, total={self.manifest.total})"

    # -- low-level access (also used by builder, diff and export) -------------------------

    def _txn(self) -> Any:
        try:
            return self._local.txn
        except AttributeError:
            if self._env is None:
                raise SnapshotNotFound(self.path, "snapshot is closed") from None
            txn = self._local.txn = self._env.begin(buffers=False)
            return txn

    def _get(self, table: int, key: bytes) -> bytes | None:
        db = self._allow if table == fmt.TABLE_ALLOW else self._records
        value: bytes | None = self._txn().get(key, db=db)
        return value

    def _by_ordinal(self, ordinal: int) -> tuple[int, bytes, bytes] | None:
        txn = self._txn()
        ref = txn.get(fmt.ORDINAL_KEY.pack(ordinal), db=self._ordinals)
        if ref is None:
            return None
        table, key = ref[0], ref[1:9]
        buf = self._get(table, key)
        return None if buf is None else (table, key, buf)

    def bitmap(self, name: str) -> BitMap:
        """The named bitmap (``level:high_risk``, ``kind:phone``, ``cluster:7``, ``added``...);
        empty if the snapshot has none of that name. Cached; treat as read-only."""
        bm = self._bitmaps.get(name)
        if bm is None:
            raw = self._txn().get(name.encode("utf-8"), db=self._db[fmt.DB_BITMAPS])
            bm = BitMap() if raw is None else BitMap.deserialize(raw)
            with self._bitmap_lock:
                self._bitmaps[name] = bm
        return bm

    def bitmap_names(self, prefix: str = "") -> list[str]:
        txn = self._txn()
        cur = txn.cursor(db=self._db[fmt.DB_BITMAPS])
        p = prefix.encode("utf-8")
        out: list[str] = []
        if not cur.set_range(p):
            return out
        for k in cur.iternext(keys=True, values=False):
            if not bytes(k).startswith(p):
                break
            out.append(bytes(k).decode("utf-8"))
        return out

    def _iter_table(self, table: int) -> Iterator[tuple[bytes, bytes]]:
        db = self._allow if table == fmt.TABLE_ALLOW else self._records
        with self._env.begin(db=db, buffers=False) as txn:
            yield from txn.cursor()

    def to_record(self, buf: bytes) -> Record:
        """A stored record back as the :class:`Record` ingest handed in."""
        r = fmt.decode_record(buf, self._strings)
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
        )

    # -- bitmaps-based views --------------------------------------------------------------

    def export(self, *, level: Any = None, kind: Kind | str | None = None) -> Iterator[Record]:
        """Records by ordinal, filtered by level and/or kind through bitmap algebra."""
        bm = self.bitmap("all")
        if level is not None:
            bm = bm & self.bitmap(f"level:{getattr(level, 'value', level)}")
        if kind is not None:
            bm = bm & self.bitmap(f"kind:{Kind(kind).value}")
        for ordinal in bm:
            hit = self._by_ordinal(ordinal)
            if hit is not None:
                yield self.to_record(hit[2])

    def stats(self) -> dict[str, Any]:
        """Counts from the manifest plus category and source sizes from the bitmaps."""
        m = self.manifest
        return {
            "snapshot": self.id,
            "parent": m.parent_id,
            "as_of": m.as_of,
            "built_at": m.built_at,
            "format_version": m.format_version,
            "total": m.total,
            "counts": m.counts,
            "categories": {
                n.split(":", 1)[1]: len(self.bitmap(n)) for n in self.bitmap_names("category:")
            },
            "sources": {
                n.split(":", 1)[1]: len(self.bitmap(n)) for n in self.bitmap_names("source:")
            },
            "clusters": len(self.bitmap_names("cluster:")),
            "bytes": sum(int(f.get("size", 0)) for f in m.files.values()),
        }
