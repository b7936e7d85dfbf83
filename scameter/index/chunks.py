"""Chunked content hashes of a snapshot's data file (format 2.2): hashed and verified in parallel.

Responsibility: :func:`file_entry` computes a data file's ``files`` entry of the manifest (its
size, the SHA-256 of each fixed-size chunk, the root hash over them, and the whole-file SHA-256
that 2.0 readers check); :func:`verify_file` checks a file against its entry, the chunks in a
thread pool, and names the first chunk that does not match.

Invariants:

* Chunk ``i`` is bytes ``[i * chunk_size, min((i + 1) * chunk_size, size))``; a file of ``size``
  bytes has ``ceil(size / chunk_size)`` chunks (none when empty). ``root`` is the SHA-256 of
  the chunk digests' raw bytes, concatenated in order: one value names the whole content.
* ``hashlib`` releases the GIL while it hashes a buffer larger than 2 KiB, and ``readinto``
  while it reads, so threads hash chunks in parallel on as many cores as there are threads;
  memory is one 1 MiB buffer per thread whatever the file's size.
* A 2.0 or 2.1 entry (``sha256`` only, no ``chunks``) is verified as before: one whole-file hash.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from scameter.errors import SnapshotCorrupt

#: Bytes per chunk: 32 MiB. About 300 chunks for a 10 GB file (a few KB of manifest), and
#: enough chunks for every core already at a few hundred MB.
CHUNK_SIZE = 32 << 20
_BUFFER = 1 << 20
_ACTION = "rebuild it with `scameter ingest` or publish another snapshot"


def default_threads() -> int:
    """Threads to hash with: one per core, at most 8 (storage is the limit past that)."""
    return max(1, min(os.cpu_count() or 1, 8))


def hash_range(path: Path, start: int, length: int) -> str:
    """SHA-256 (hex) of ``length`` bytes of ``path`` from ``start`` (fewer at end of file)."""
    h = hashlib.sha256()
    buf = memoryview(bytearray(min(_BUFFER, max(length, 1))))
    with open(path, "rb", buffering=0) as f:
        f.seek(start)
        left = length
        while left > 0:
            n = f.readinto(buf[: min(left, len(buf))])
            if not n:
                break
            h.update(buf[:n])
            left -= n
    return h.hexdigest()


def root_hash(chunks: list[str]) -> str:
    """The content hash of a chunk list: SHA-256 of the digests' bytes, in order."""
    return hashlib.sha256(b"".join(bytes.fromhex(c) for c in chunks)).hexdigest()


def _spans(size: int, chunk_size: int) -> list[tuple[int, int]]:
    return [(start, min(chunk_size, size - start)) for start in range(0, size, chunk_size)]


def hash_chunks(
    path: Path, size: int, chunk_size: int = CHUNK_SIZE, threads: int | None = None
) -> list[str]:
    """The SHA-256 of every ``chunk_size`` chunk of ``path`` (``size`` bytes), in parallel."""
    spans = _spans(size, chunk_size)
    with ThreadPoolExecutor(threads or default_threads()) as pool:
        return list(pool.map(lambda s: hash_range(path, *s), spans))


def file_entry(
    path: Path, chunk_size: int = CHUNK_SIZE, threads: int | None = None
) -> dict[str, Any]:
    """The manifest's ``files`` entry of ``path``: size, chunk hashes and root, and the
    whole-file SHA-256 (for 2.0 readers), hashed in one pool: the whole-file hash runs on one
    thread while the others take the chunks."""
    size = path.stat().st_size
    spans = _spans(size, chunk_size)
    with ThreadPoolExecutor((threads or default_threads()) + 1) as pool:
        whole = pool.submit(hash_range, path, 0, size)
        chunks = list(pool.map(lambda s: hash_range(path, *s), spans))
        sha256 = whole.result()
    return {
        "size": size,
        "sha256": sha256,
        "chunk_size": chunk_size,
        "chunks": chunks,
        "root": root_hash(chunks),
    }


def verify_file(
    path: Path,
    info: Mapping[str, Any],
    threads: int | None = None,
) -> int:
    """Check ``path`` against its manifest entry; returns the number of chunks hashed (0 for a
    2.0 or 2.1 entry, checked whole). :class:`SnapshotCorrupt` names the first chunk (lowest index)
    whose hash differs, with its byte range."""
    size = path.stat().st_size
    if size != info.get("size"):
        raise SnapshotCorrupt(path, f"size {size} differs from the manifest's; {_ACTION}")
    chunks = info.get("chunks")
    if chunks is None:  # format 2.0, 2.1: the whole-file hash only
        if hash_range(path, 0, size) != info.get("sha256"):
            raise SnapshotCorrupt(path, f"checksum mismatch; {_ACTION}")
        return 0
    chunk_size = info.get("chunk_size")
    if not isinstance(chunk_size, int) or chunk_size <= 0 or not isinstance(chunks, list):
        raise SnapshotCorrupt(path, f"manifest has no usable chunk list; {_ACTION}")
    spans = _spans(size, chunk_size)
    if len(spans) != len(chunks) or root_hash(chunks) != info.get("root"):
        raise SnapshotCorrupt(path, f"chunk list does not match the root hash; {_ACTION}")

    def check(i: int) -> bool:
        return hash_range(path, *spans[i]) == str(chunks[i])

    with ThreadPoolExecutor(threads or default_threads()) as pool:
        results = list(pool.map(check, range(len(spans))))
    bad = [i for i, ok in enumerate(results) if not ok]
    if bad:
        start, length = spans[bad[0]]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise SnapshotCorrupt(
            path,
            f"checksum mismatch: chunk {bad[0]} of {len(spans)} (bytes {start}-"
            f"{start + length - 1}) does not match its hash{more}, tampered or damaged; {_ACTION}",
        )
    return len(spans)


__all__ = [
    "CHUNK_SIZE",
    "default_threads",
    "file_entry",
    "hash_chunks",
    "hash_range",
    "root_hash",
    "verify_file",
]
