"""Sharded snapshots (issue 21 item 3): the scale mix ingested into one file and into N shards.

For each size, the input of :mod:`benchmarks.bench_scale` (``datagen.write_scale_reports``) is
ingested by a ``scameter ingest`` subprocess with ``--shards 1`` and with ``--shards N``
(``--shards`` of ``python -m benchmarks``, default 4), alternating, ``repeats`` times each
(at most 3). Then, on the last snapshot of each: warm single-check p50 / p99 and the cold p99
(``bench_scale._lookups``, every shard file's pages dropped), the full verification time
(``Snapshot.verify``: what a server does before it swaps), and the first answer of a
``scameter check`` subprocess on the cold snapshot. Ratios against the one-file arm of the
same run are what count on this shared machine.

Run: ``.venv/bin/python -m benchmarks --only shards --size 1000000 --repeats 3 --shards 4``.
"""

from __future__ import annotations

import random
import shutil
import statistics
import time
from pathlib import Path

from benchmarks import bench_scale as scale
from benchmarks import datagen
from benchmarks.core import BenchContext, Figure

_LOOKUPS = 20_000


def _verify_seconds(snaps: Path) -> float:
    from scameter.index import Snapshot

    with Snapshot.open_current(snaps) as snap:
        scale._drop_cache(snap.path / "data.mdb")
        t0 = time.perf_counter()
        snap.verify()
        return time.perf_counter() - t0


def run(ctx: BenchContext) -> list[Figure]:
    figures: list[Figure] = []
    arms = (1, int(ctx.extras.get("shards") or 4))
    repeats = 1 if ctx.quick else max(1, min(ctx.repeats, 3))
    for n in ctx.sizes:
        data = datagen.write_scale_reports(
            ctx.workdir / f"shards-{n}.jsonl", n, ctx.seed, as_of=scale.AS_OF
        )
        secs: dict[int, list[float]] = {k: [] for k in arms}
        snaps: dict[int, Path] = {}
        for r in range(repeats):
            for k in arms:  # alternate, so load drifts hit both arms alike
                if k in snaps:
                    shutil.rmtree(snaps[k])
                snaps[k] = ctx.workdir / f"shards-{n}-{k}-{r}"
                s, _, _ = scale._ingest(data, snaps[k], shards=k)
                secs[k].append(s)
        data.unlink()
        rng = random.Random(ctx.seed)
        sample = [scale._e164(datagen._scale_phone(rng.randrange(max(1, n * 7 // 10)), ctx.seed))
                  for _ in range(min(_LOOKUPS, n))]  # fmt: skip
        for k in arms:
            figures += _arm(n, k, snaps[k], secs[k], sample=sample, repeats=repeats)
    return figures


def _arm(
    n: int, k: int, snaps: Path, secs: list[float], *, sample: list[str], repeats: int
) -> list[Figure]:
    current = (snaps / "CURRENT").read_text(encoding="ascii").strip()
    data_mdb = snaps / current / "data.mdb"
    rounds = [scale._lookups(snaps, sample, data_mdb) for _ in range(repeats)]
    p50s, p99s, cold99s = (tuple(r[i] for r in rounds) for i in range(3))
    verifies = tuple(_verify_seconds(snaps) for _ in range(repeats))
    firsts = tuple(scale._first_answer(snaps, v, data_mdb) for v in sample[:repeats])
    name = f"shards.{k}"
    note = f"ingest --shards {k}; median of {repeats}"
    med = statistics.median
    return [
        Figure(name, "ingest_wall", med(secs), "s", n, tuple(secs), note=note),
        Figure(name, "p50_warm", med(p50s), "us", n, p50s, note="Snapshot.check, warm"),
        Figure(name, "p99_warm", med(p99s), "us", n, p99s),
        Figure(name, "p99_cold", med(cold99s), "us", n, cold99s,
               note="after posix_fadvise(DONTNEED) on every data file"),
        Figure(name, "verify", med(verifies), "s", n, verifies,
               note="Snapshot.verify (chunk hashes of every file), cold cache"),
        Figure(name, "first_answer", med(firsts), "s", n, firsts, target="< 1",
               note="scameter check subprocess on a cold snapshot, incl. interpreter start"),
    ]  # fmt: skip
