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


def _median(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", type=int, default=1_000_000)
    ap.add_argument("--sparse-gib", type=float, default=None, help="default: 100x --ids' file")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    threads = default_threads()
    with tempfile.TemporaryDirectory(prefix="scameter-verify-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        as_of = datetime(2026, 11, 1, tzinfo=UTC)
        manifest = datagen.publish_records(root, records(args.ids, 42), as_of=as_of)
        build_s = time.perf_counter() - t
        snap_dir = root / manifest.snapshot_id
        data = snap_dir / fmt.DATA_FILE
        size = data.stat().st_size
        chunks = len(manifest.files[fmt.DATA_FILE]["chunks"])
        print(f"{args.ids:,} ids: data.mdb {size / 2**20:,.0f} MiB, {chunks} chunks, "
              f"built in {build_s:.1f} s; {threads} threads by default")  # fmt: skip
        with Snapshot.open(snap_dir) as snap:
            one = _median(lambda: snap.verify(1), args.repeats)
            many = _median(lambda: snap.verify(threads), args.repeats)
        whole = _median(lambda: hash_range(data, 0, size), args.repeats)
        print(f"verify, median of {args.repeats}: 1 thread {one:.2f} s, {threads} threads "
              f"{many:.2f} s; 2.0 whole-file sha256 {whole:.2f} s")  # fmt: skip
        gib = args.sparse_gib if args.sparse_gib is not None else size * 100 / 2**30
        sparse = root / "sparse.mdb"
        with open(sparse, "wb") as f:
            f.truncate(int(gib * 2**30))
        n = os.stat(sparse).st_size
        for k in (1, threads):
            s = _median(lambda k=k: hash_chunks(sparse, n, CHUNK_SIZE, k), args.repeats)
            print(f"sparse {gib:.1f} GiB ({-(-n // CHUNK_SIZE)} chunks), {k} thread(s): "
                  f"{s:.1f} s median of {args.repeats} ({n / s / 2**30:.2f} GiB/s)")  # fmt: skip


if __name__ == "__main__":
    main()
