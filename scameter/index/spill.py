"""External sort of (key, value) byte pairs for the snapshot builder.

Responsibility: let :class:`SnapshotBuilder` accept records in any order with bounded memory.
Pairs are buffered up to ``chunk`` items, sorted, and spilled to a run file in the builder's
temporary directory; :meth:`ExternalSorter.sorted` k-way merges the runs (``heapq.merge``).

Invariants: the merged stream is ordered by key bytes, then by insertion order among equal
keys (runs are written in insertion order and merged stably), so callers can group equal keys.
Run files are length-prefixed: ``u32 key length, u32 value length, key, value``.
"""

from __future__ import annotations

import heapq
import itertools
import struct
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

_LEN = struct.Struct("<II")
_KEY = itemgetter(0)


class ExternalSorter:
    """Sort an unbounded stream of ``(key, value)`` pairs, spilling sorted runs to disk."""

    def __init__(self, workdir: Path, name: str, *, chunk: int = 500_000) -> None:
        self._dir = workdir
        self._name = name
        self._chunk = chunk
        self._buf: list[tuple[bytes, bytes]] = []
        self._runs: list[Path] = []
        self._spilled = 0

    @property
    def count(self) -> int:
        """Pairs added so far."""
        return self._spilled + len(self._buf)

    def add(self, key: bytes, value: bytes) -> None:
        buf = self._buf
        buf.append((key, value))
        if len(buf) >= self._chunk:
            self._spill()

    def _spill(self) -> None:
        # Sorting on the key alone is stable (list.sort), so equal keys keep insertion
        # order without a sequence number, and no value bytes are ever compared.
        self._buf.sort(key=_KEY)
        path = self._dir / f"{self._name}.{len(self._runs)}.run"
        pack = _LEN.pack
        with path.open("wb") as f:
            f.write(b"".join([pack(len(k), len(v)) + k + v for k, v in self._buf]))
        self._spilled += len(self._buf)
        self._runs.append(path)
        self._buf = []

    def sorted(self) -> Iterator[tuple[bytes, bytes]]:
        """Every pair added, in key order (stable for equal keys). Consumes the sorter."""
        if not self._runs:
            self._spilled += len(self._buf)
            self._buf.sort(key=_KEY)
            buf, self._buf = self._buf, []
            return iter(buf)
        if self._buf:
            self._spill()
        return self._merge()

    def _merge(self) -> Iterator[tuple[bytes, bytes]]:
        files = [p.open("rb") for p in self._runs]
        try:
            # heapq.merge breaks ties between equal keys by stream position, so equal keys
            # keep insertion order across runs (runs are spilled in insertion order).
            yield from heapq.merge(*(_read_run(f) for f in files), key=_KEY)
        finally:
            for f in files:
                f.close()
            for p in self._runs:
                p.unlink(missing_ok=True)


def _read_run(f: BinaryIO) -> Iterator[tuple[bytes, bytes]]:
    read = f.read
    size = _LEN.size
    unpack = _LEN.unpack
    while True:
        head = read(size)
        if not head:
            return
        kl, vl = unpack(head)
        yield read(kl), read(vl)


def grouped(stream: Iterator[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, list[bytes]]]:
    """Group a key-ordered stream: ``(key, [values in order])``."""
    for key, items in itertools.groupby(stream, key=lambda kv: kv[0]):
        yield key, [v for _, v in items]


class BytesSorter:
    """External sort of plain byte strings (at most 65 535 bytes each), no tie-breaking.

    Used for the near-match variants, by far the most numerous items: ``bytes`` sort in C,
    and runs are spilled as ``u16 length + item``.
    """

    def __init__(self, workdir: Path, name: str, *, chunk: int = 2_000_000) -> None:
        self._dir = workdir
        self._name = name
        self._chunk = chunk
        self._buf: list[bytes] = []
        self._runs: list[Path] = []
        self._spilled = 0

    @property
    def count(self) -> int:
        """Items added so far."""
        return self._spilled + len(self._buf)

    def add(self, item: bytes) -> None:
        buf = self._buf
        buf.append(item)
        if len(buf) >= self._chunk:
            self._spill()

    def extend(self, items: list[bytes]) -> None:
        self._buf += items
        if len(self._buf) >= self._chunk:
            self._spill()

    def _spill(self) -> None:
        self._buf.sort()
        path = self._dir / f"{self._name}.{len(self._runs)}.run"
        with path.open("wb") as f:
            f.write(b"".join([len(b).to_bytes(2, "little") + b for b in self._buf]))
        self._spilled += len(self._buf)
        self._runs.append(path)
        self._buf = []

    def sorted(self) -> Iterator[bytes]:
        """Every item, in byte order. Consumes the sorter."""
        if not self._runs:
            self._spilled += len(self._buf)
            self._buf.sort()
            buf, self._buf = self._buf, []
            return iter(buf)
        if self._buf:
            self._spill()
        return self._merge()

    def _merge(self) -> Iterator[bytes]:
        files = [p.open("rb") for p in self._runs]
        try:
            yield from heapq.merge(*(_read_items(f) for f in files))
        finally:
            for f in files:
                f.close()
            for p in self._runs:
                p.unlink(missing_ok=True)


def _read_items(f: BinaryIO) -> Iterator[bytes]:
    read = f.read
    while True:
        head = read(2)
        if not head:
            return
        yield read(int.from_bytes(head, "little"))
