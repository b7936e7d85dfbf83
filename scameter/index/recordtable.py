"""The ``records`` table of a snapshot, whole or sharded by key range: every read routed by key.

Responsibility: :class:`RecordTable` is what lookups, batches, export, diff and the live fold
read ``records`` through: :meth:`~RecordTable.get` one key, :meth:`~RecordTable.items` every
entry in key order, :meth:`~RecordTable.key_sources` for the batch key array,
:meth:`~RecordTable.entries` the count. A single-file snapshot (format 3.x) has one
(:class:`SingleTable`, the ``records`` database of ``data.mdb``); a sharded one (4.0) has a
:class:`ShardedTable` over ``shard-000/data.mdb``... (the manifest's ``shards``).

Invariants:

* Shard ``i`` holds exactly the keys ``lo <= key < hi`` of its manifest entry; the ranges are
  contiguous and in key order, so :func:`bisect.bisect_right` over the upper shards' first keys
  names the one shard a key can be in, and concatenating the shards in order is the sorted table.
* A shard's LMDB environment is opened on the first read routed to it (lazily: ``scameter check``
  of one value maps one shard), read-only and lock-free like ``data.mdb``; every shard file's
  size is checked against the manifest when the snapshot opens, so a missing or truncated shard
  fails there with a one-line error naming the file, never with SIGBUS on first touch.
* Each thread keeps one read transaction per opened shard (``threading.local``), as the reader
  does for ``data.mdb``. Lookups of the single-file table read ``data.mdb`` directly (the hot
  paths test :attr:`RecordTable.sharded` once at construction, not per lookup).
"""

from __future__ import annotations

import hashlib
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import lmdb

from scameter.errors import SnapshotCorrupt, SnapshotNotFound
from scameter.index import format as fmt

_ACTION = "rebuild it with `scameter ingest` (or `scameter demo`) or publish another snapshot"

#: ``acquire(directory, data file)`` -> an open read-only environment; ``release(env)``.
Acquire = Callable[[Path, Path], Any]
Release = Callable[[Any], None]


class RecordTable:
    """``records`` of one open snapshot (see the module)."""

    sharded = False

    def get(self, key: bytes) -> bytes | None:
        """The packed record stored under ``key``, or ``None``."""
        raise NotImplementedError

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every ``(key, packed record)``, in key order."""
        raise NotImplementedError

    def key_sources(self) -> list[tuple[Any, Any]]:
        """``(read transaction, database)`` of every part of the table, in key order (opens
        every shard: for whole-table reads such as the batch key array)."""
        raise NotImplementedError

    def entries(self) -> int:
        """How many records the table holds (without opening a shard)."""
        raise NotImplementedError

    def opened(self) -> int:
        """How many LMDB environments this table has opened (a single table: 0, it reads
        ``data.mdb``)."""
        return 0

    def digest(self) -> str:
        """The records' content hash, the same whatever the layout: SHA-256 over every entry
        in key order, each as its 8-byte key, its value's length (u32, big-endian) and the
        value (the packed record as stored, ordinal and CRC-32 included)."""
        h = hashlib.sha256()
        for key, value in self.items():
            h.update(key)
            h.update(len(value).to_bytes(4, "big"))
            h.update(value)
        return h.hexdigest()

    def close(self) -> None:
        """Release the environments this table opened."""


class SingleTable(RecordTable):
    """The ``records`` database of ``data.mdb`` (a 3.x snapshot)."""

    def __init__(self, txn: Callable[[], Any], begin: Callable[[], Any], db: Any) -> None:
        self._txn = txn
        self._begin = begin
        self.db = db

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._txn().get(key, db=self.db)
        return value

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        with self._begin() as txn:
            yield from txn.cursor(db=self.db)

    def key_sources(self) -> list[tuple[Any, Any]]:
        return [(self._txn(), self.db)]

    def entries(self) -> int:
        return int(self._txn().stat(self.db)["entries"])


class _Shard:
    """One shard: its file, its range, and (once opened) its environment and database."""

    __slots__ = ("data", "db", "dir", "env", "local", "lock", "records")

    def __init__(self, snapshot: Path, entry: dict[str, Any]) -> None:
        self.data = snapshot / str(entry["file"])
        self.dir = self.data.parent
        self.records = int(entry["records"])
        self.env: Any = None
        self.db: Any = None
        self.local = threading.local()
        self.lock = threading.Lock()


class ShardedTable(RecordTable):
    """``records`` split over the shard files of a 4.0 snapshot (see the module)."""

    sharded = True

    def __init__(
        self,
        path: Path,
        shards: list[dict[str, Any]],
        files: dict[str, dict[str, Any]],
        acquire: Acquire,
        release: Release,
    ) -> None:
        self._acquire = acquire
        self._release = release
        self._closed = False
        self._shards = [_Shard(path, e) for e in shards]
        #: First key of shards 1..n-1: ``bisect_right`` of a key is its shard's index.
        self._bounds = [bytes.fromhex(str(e["lo"])) for e in shards[1:]]
        for i, (shard, entry) in enumerate(zip(self._shards, shards, strict=True)):
            _check_range(path, i, entry, shards)
            _check_size(shard.data, files.get(str(entry["file"])))

    def _txn(self, shard: _Shard) -> Any:
        try:
            return shard.local.txn
        except AttributeError:
            pass
        with shard.lock:
            if self._closed:
                raise SnapshotNotFound(shard.data, "snapshot is closed")
            if shard.env is None:
                env = self._acquire(shard.dir, shard.data)
                try:
                    shard.db = env.open_db(fmt.DB_RECORDS, create=False)
                except lmdb.Error as e:
                    self._release(env)
                    raise SnapshotCorrupt(
                        shard.data, f"shard has no readable records table ({e}); {_ACTION}"
                    ) from e
                shard.env = env
            txn = shard.local.txn = shard.env.begin(buffers=False)
        return txn

    def get(self, key: bytes) -> bytes | None:
        shard = self._shards[bisect_right(self._bounds, key)]
        try:
            txn = shard.local.txn
        except AttributeError:
            txn = self._txn(shard)
        value: bytes | None = txn.get(key, db=shard.db)
        return value

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        for shard in self._shards:
            self._txn(shard)  # opens the shard
            with shard.env.begin(db=shard.db, buffers=False) as txn:
                yield from txn.cursor()

    def key_sources(self) -> list[tuple[Any, Any]]:
        return [(self._txn(s), s.db) for s in self._shards]

    def entries(self) -> int:
        return sum(s.records for s in self._shards)

    def opened(self) -> int:
        return sum(1 for s in self._shards if s.env is not None)

    def close(self) -> None:
        for shard in self._shards:
            with shard.lock:
                self._closed = True
                env, shard.env = shard.env, None
            if env is not None:
                self._release(env)


def _check_range(path: Path, i: int, entry: dict[str, Any], shards: list[dict[str, Any]]) -> None:
    """Shard ``i``'s range starts where the previous one ended (the manifest is checksummed,
    so this guards against a writer bug, not an edit)."""
    prev_hi = None if i == 0 else shards[i - 1].get("hi")
    if (i == 0 and entry.get("lo") != "00" * 8) or (i > 0 and entry.get("lo") != prev_hi):
        raise SnapshotCorrupt(
            path / fmt.MANIFEST_FILE, f"shard {i}'s key range does not follow the previous one"
        )


def _check_size(data: Path, info: dict[str, Any] | None) -> None:
    try:
        size = data.stat().st_size
    except FileNotFoundError:
        # Corrupt, not "not found": the snapshot is there, a file the manifest names is not.
        raise SnapshotCorrupt(data, f"snapshot shard file missing; {_ACTION}") from None
    expected = None if info is None else info.get("size")
    if size != expected:
        raise SnapshotCorrupt(
            data,
            f"shard file is {size} bytes but the manifest says {expected} "
            f"(truncated or replaced); {_ACTION}",
        )


__all__ = ["RecordTable", "ShardedTable", "SingleTable"]
