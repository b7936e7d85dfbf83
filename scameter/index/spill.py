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
from pathlib import Path
from typing import BinaryIO

_LEN = struct.Struct("<II")


class ExternalSorter:
    """Sort an unbounded stream of ``(key, value)`` pairs, spilling sorted runs to disk."""

    def __init__(self, workdir: Path, name: str, *, chunk: int = 500_000) -> None:
        self._dir = workdir
        self._name = name
        self._chunk = chunk
        self._buf: list[tuple[bytes, int, bytes]] = []
        self._runs: list[Path] = []
        self._seq = itertools.count()
        self.count = 0

    def add(self, key: bytes, value: bytes) -> None:
        self._buf.append((key, next(self._seq), value))
        self.count += 1
        if len(self._buf) >= self._chunk:
            self._spill()

    def _spill(self) -> None:
        self._buf.sort()
        path = self._dir / f"{self._name}.{len(self._runs)}.run"
        with path.open("wb") as f:
            write = f.write
            pack = _LEN.pack
            for key, _, value in self._buf:
                write(pack(len(key), len(value)))
                write(key)
                write(value)
        self._runs.append(path)
        self._buf = []

    def sorted(self) -> Iterator[tuple[bytes, bytes]]:
        """Every pair added, in key order (stable for equal keys). Consumes the sorter."""
        if not self._runs:
            self._buf.sort()
            buf, self._buf = self._buf, []
            return ((k, v) for k, _, v in buf)
        if self._buf:
            self._spill()
        return self._merge()

    def _merge(self) -> Iterator[tuple[bytes, bytes]]:
        files = [p.open("rb") for p in self._runs]
        try:
            # The run index breaks ties so equal keys keep insertion order across runs.
            streams = [_read_run(f, i) for i, f in enumerate(files)]
            for key, _, value in heapq.merge(*streams):
                yield key, value
        finally:
            for f in files:
                f.close()
            for p in self._runs:
                p.unlink(missing_ok=True)


def _read_run(f: BinaryIO, run: int) -> Iterator[tuple[bytes, int, bytes]]:
    read = f.read
    size = _LEN.size
    unpack = _LEN.unpack
    while True:
        head = read(size)
        if not head:
            return
        kl, vl = unpack(head)
        key = read(kl)
        yield key, run, read(vl)


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
        self.count = 0

    def extend(self, items: list[bytes]) -> None:
        self._buf += items
        self.count += len(items)
        if len(self._buf) >= self._chunk:
            self._spill()

    def _spill(self) -> None:
        self._buf.sort()
        path = self._dir / f"{self._name}.{len(self._runs)}.run"
        with path.open("wb") as f:
            f.write(b"".join(len(b).to_bytes(2, "little") + b for b in self._buf))
        self._runs.append(path)
        self._buf = []

    def sorted(self) -> Iterator[bytes]:
        """Every item, in byte order. Consumes the sorter."""
        if not self._runs:
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
