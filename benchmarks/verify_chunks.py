"""Time snapshot verification by chunk hashes (format 2.1); figures in docs/benchmarks.md.

Run: ``.venv/bin/python -m benchmarks.verify_chunks [--ids 1000000] [--sparse-gib 30]``.

1. Builds a snapshot of ``--ids`` identifiers from the index benchmark's seeded records and
   times ``Snapshot.verify()`` (what ``serve`` does before it serves or swaps to a snapshot)
   with 1 thread and with the default (one per core, at most 8), and the 2.0 path (one
   whole-file sha256) on the same file: medians of ``--repeats``. The file is in the page
   cache (just written): this is the hashing cost, not the disk's.
2. Times the same chunk-hashing code (:func:`scameter.index.chunks.hash_chunks`) over a sparse
   file of ``--sparse-gib`` GiB (the size of a 10^8-identifier ``data.mdb``, extrapolated
   linearly from step 1): reading a hole costs no disk I/O, so this too is the CPU cost of
   hashing; a cold read from storage adds size / disk bandwidth, split over the threads.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import datagen
from benchmarks.bench_index import records
from scameter.index import Snapshot
from scameter.index import format as fmt
from scameter.index.chunks import CHUNK_SIZE, default_threads, hash_chunks, hash_range


def _medians(fn: object, repeats: int) -> tuple[float, float]:
    """Median wall time and median CPU time (every thread of this process) of ``fn()``: on a
    loaded machine the CPU time still says what the hashing costs, and wall time on ``k``
    idle cores is about CPU time / ``k``."""
    walls, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()  # type: ignore[operator]
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", type=int, default=1_000_000, help="0: only the sparse file")
    ap.add_argument("--sparse-gib", type=float, default=None, help="default: 100x --ids' file")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    threads = default_threads()
    with tempfile.TemporaryDirectory(prefix="scameter-verify-") as tmp:
        if args.ids:
            size = _snapshot(Path(tmp), args.ids, args.repeats, threads)
        else:
            size = int(args.sparse_gib * 2**30 / 100)
        gib = args.sparse_gib if args.sparse_gib is not None else size * 100 / 2**30
        sparse = Path(tmp) / "sparse.mdb"
        with open(sparse, "wb") as f:
            f.truncate(int(gib * 2**30))
        n = os.stat(sparse).st_size
        for k in (1, threads):
            wall, cpu = _medians(lambda k=k: hash_chunks(sparse, n, CHUNK_SIZE, k), args.repeats)
            print(f"sparse {gib:.1f} GiB ({-(-n // CHUNK_SIZE)} chunks), {k} thread(s), median "
                  f"of {args.repeats}: {wall:.1f} s wall ({n / wall / 2**30:.2f} GiB/s), "
                  f"{cpu:.1f} s CPU ({n / cpu / 2**30:.2f} GiB per CPU-second)")  # fmt: skip


def _snapshot(root: Path, ids: int, repeats: int, threads: int) -> int:
    """Step 1: build ``ids`` identifiers, time their verification; the data file's size."""
    t = time.perf_counter()
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    manifest = datagen.publish_records(root, records(ids, 42), as_of=as_of)
    build_s = time.perf_counter() - t
    snap_dir = root / manifest.snapshot_id
    data = snap_dir / fmt.DATA_FILE
    size = data.stat().st_size
    chunks = len(manifest.files[fmt.DATA_FILE]["chunks"])
    print(f"{ids:,} ids: data.mdb {size / 2**20:,.0f} MiB, {chunks} chunks, "
          f"built in {build_s:.1f} s; {threads} threads by default")  # fmt: skip
    with Snapshot.open(snap_dir) as snap:
        one = _medians(lambda: snap.verify(1), repeats)
        many = _medians(lambda: snap.verify(threads), repeats)
    whole = _medians(lambda: hash_range(data, 0, size), repeats)
    print(f"verify, median of {repeats} (wall / CPU s): 1 thread {one[0]:.2f} / {one[1]:.2f}, "
          f"{threads} threads {many[0]:.2f} / {many[1]:.2f}; 2.0 whole-file sha256 "
          f"{whole[0]:.2f} / {whole[1]:.2f}")  # fmt: skip
    shutil.rmtree(snap_dir)
    return size


if __name__ == "__main__":
    main()
