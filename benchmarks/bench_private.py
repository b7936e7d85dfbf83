"""Private lookups (issue 19): device database size, deltas, apply + verify, device probes,
end-to-end device checks, ``SearchHashes`` latency, and what the ``hashes`` table costs.

Method, at each size ``n`` (listed HK mobile numbers from the shared generator; levels 10 %
HIGH RISK, 20 % SUSPICIOUS, 70 % POSSIBLE, fixed per number):

* ``private.device_bytes_per_id``: bytes of ``snapshot export --format device`` / n.
  Target <= 2.0 (Rice-coded 32-bit prefixes at this density need about 1.7).
* ``private.delta_percent``: a second snapshot replaces 1 % of the numbers (0.5 % removed,
  0.5 % added, so 1 % of the list changes); the delta's size as % of the full database.
  Target <= 3 %.
* ``private.apply_verify_s``: decode the delta, apply it to the loaded base and verify every
  list's sha256 (one core). Target < 1 s.
* ``private.device_probes``: :meth:`DeviceDatabase.contains` of precomputed 32-bit prefixes,
  half hits and half misses, one Python call each. Target >= 500,000/s.
* ``private.device_probes_batch``: the same prefixes in one :meth:`DeviceDatabase.contains_many`
  call (numpy), for an app that checks a whole call log or message at once.
* ``private.device_checks``: :meth:`DeviceDatabase.check` of raw typed numbers (``9123 4567``):
  canonicalisation + SHA-256 + probe, end to end.
* ``private.search_hashes_p50_us`` / ``_p99_us``: sequential ``SearchHashes`` calls of one
  2-byte phone prefix each from a Python client to a real ``python -m scameter.rpc`` on
  loopback (1 worker); the figure includes the Python client's own cost (~0.2 ms).
* ``private.hashes_table_bytes_per_id`` and ``private.hashes_build_us_per_id``: the LMDB pages
  of the ``hashes`` sub-database / n, and the build time with the table minus the build time
  of the same records with the table's feeding switched off, per record.

Run: ``.venv/bin/python -m benchmarks --only private --size 1e6 --repeats 3``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import lmdb
import numpy as np

from benchmarks import datagen
from benchmarks.bench_rpc import server
from benchmarks.core import BenchContext, Figure, percentile, rate_figure, time_runs
from scameter.device import DeviceDatabase
from scameter.device.export import export_since
from scameter.identifiers import Identifier, Kind
from scameter.index import Record, SnapshotBuilder, publish
from scameter.index.hashes import identifier_hash
from scameter.index.reader import SnapshotReader
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.rpc.v1 import scameter_pb2_grpc as pb_grpc
from scameter.verdict import Level

NAME = "private"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
PROBES = 200_000
QUICK_PROBES = 5_000
RPC_CALLS = 2_000
QUICK_RPC_CALLS = 100


def _level(phone: str) -> Level:
    d = int(phone[-2:])
    return Level.HIGH_RISK if d < 10 else Level.SUSPICIOUS if d < 30 else Level.POSSIBLE


def _records(phones: Sequence[str]) -> Iterator[Record]:
    for p in phones:
        yield Record(Identifier(Kind.PHONE, p), _level(p), report_count=3, reporters=3)


class _NoHashes(SnapshotBuilder):
    """The same build with the ``hashes`` table left empty: the table's own build cost."""

    def _add_hashes(self, *args: object) -> None:
        return None


def _build(root: Path, phones: Sequence[str], hours: int, cls: type[SnapshotBuilder]) -> str:
    with cls(root, as_of=AS_OF + timedelta(hours=hours), parent=None) as b:
        for r in _records(phones):
            b.add(r)
        manifest = b.build()
    publish(root, manifest.snapshot_id)
    return manifest.snapshot_id


def _table_bytes(root: Path, sid: str) -> int:
    env = lmdb.open(str(root / sid), subdir=True, readonly=True, lock=False, max_dbs=32)
    try:
        st = env.stat()
        db = env.open_db(b"hashes", create=False)
        with env.begin() as txn:
            s = txn.stat(db)
        pages: int = s["branch_pages"] + s["leaf_pages"] + s["overflow_pages"]
        return pages * int(st["psize"])
    finally:
        env.close()


def _fig(bench: str, metric: str, value: float, unit: str, n: int, samples: Sequence[float],  # noqa: PLR0917
         target: str | None = None, note: str = "") -> Figure:  # fmt: skip
    return Figure(bench, metric, value, unit, n, tuple(samples), target, note)


def _search_latency(root: Path, phones: Sequence[str], calls: int, n: int) -> list[Figure]:
    prefixes = [identifier_hash(Kind.PHONE, p)[:2] for p in phones[:calls]]
    with server(root, 1) as target, grpc.insecure_channel(target) as ch:
        stub = pb_grpc.ScameterStub(ch)
        for p in prefixes[:50]:  # warm-up
            stub.SearchHashes(pb.SearchHashesRequest(hash_prefixes=[p]))
        lat: list[float] = []
        for p in prefixes:
            t0 = time.perf_counter()
            stub.SearchHashes(pb.SearchHashesRequest(hash_prefixes=[p]))
            lat.append((time.perf_counter() - t0) * 1e6)
    lat.sort()
    note = f"{calls} sequential calls, one 2-byte prefix each, Python client, 1 worker"
    return [
        _fig(f"{NAME}.search_hashes", "p50_us", percentile(lat, 50), "us", n, lat, None, note),
        _fig(f"{NAME}.search_hashes", "p99_us", percentile(lat, 99), "us", n, lat, None, note),
    ]


def _device(ctx: BenchContext, root: Path, old: str, new: str, n: int) -> list[Figure]:
    r0, r1 = SnapshotReader.open(root / old), SnapshotReader.open(root / new)
    try:
        full0, _ = export_since(r0, root, "")
        full1, _ = export_since(r1, root, "")
        delta, is_full = export_since(r1, root, old)
    finally:
        r0.close()
        r1.close()
    assert not is_full
    base = DeviceDatabase.from_bytes(full0)
    secs = time_runs(lambda: base.apply(delta), repeats=ctx.repeats, warmup=ctx.warmup)
    assert base.apply(delta).to_bytes() == full1
    figs = [
        _fig(f"{NAME}.device", "bytes_per_identifier", len(full1) / n, "B", n, [len(full1) / n],
             "<= 2.0", f"{len(full1):,} bytes"),
        _fig(f"{NAME}.delta", "percent_of_full", 100 * len(delta) / len(full1), "%", n,
             [100 * len(delta) / len(full1)], "<= 3", f"1% churn: {len(delta):,} bytes"),
        _fig(f"{NAME}.apply_verify", "seconds", statistics.median(secs), "s", n, secs, "< 1",
             "decode delta + apply + sha256 of every list, one core"),
    ]  # fmt: skip
    db = base.apply(delta)
    k = QUICK_PROBES if ctx.quick else PROBES
    hits, misses = datagen.hits_and_misses(Kind.PHONE, n, k, ctx.seed)[1:]
    ints = [int.from_bytes(identifier_hash(Kind.PHONE, p)[:4], "big") for p in hits + misses]
    contains = db.contains
    figs.append(rate_figure(f"{NAME}.device_probes", lambda: [contains(x) for x in ints],
                            len(ints), ctx, size=n, target=">= 500000",
                            note="precomputed 32-bit prefixes, half hits"))  # fmt: skip
    arr = np.array(ints, dtype=np.uint32)
    figs.append(rate_figure(f"{NAME}.device_probes_batch", lambda: db.contains_many(arr),
                            len(ints), ctx, size=n, note="contains_many: one call"))  # fmt: skip
    raw = [f"{p[4:8]} {p[8:]}" for p in (hits + misses)[: k // 4]]
    check = db.check
    figs.append(rate_figure(f"{NAME}.device_checks", lambda: [check(x, "phone") for x in raw],
                            len(raw), ctx, size=n, note="raw '9123 4567' -> canonical, sha256, "
                            "probe"))  # fmt: skip
    hit_rate = float(np.mean([contains(x) for x in ints[: len(hits)]]))
    assert hit_rate > 0.9  # the probes are really hits
    return figs


def run(ctx: BenchContext) -> list[Figure]:
    figures: list[Figure] = []
    for n in ctx.sizes:
        work = ctx.workdir / f"private-{n}"
        root = work / "snapshots"
        phones = datagen.phones(n + n // 200, ctx.seed)
        old_list, extra = list(phones[:n]), list(phones[n:])
        gone = set(old_list[::200])  # 0.5 % removed ...
        new_list = [p for p in old_list if p not in gone] + extra  # ... and 0.5 % added
        t0 = time.process_time()
        old = _build(root, old_list, 0, SnapshotBuilder)
        with_table = time.process_time() - t0
        new = _build(root, new_list, 6, SnapshotBuilder)
        t0 = time.process_time()
        _build(work / "plain", old_list, 0, _NoHashes)
        without = time.process_time() - t0
        tb = _table_bytes(root, old)
        figures += [
            _fig(f"{NAME}.hashes_table", "bytes_per_identifier", tb / n, "B", n, [tb / n]),
            _fig(f"{NAME}.hashes_build", "us_per_identifier", (with_table - without) / n * 1e6,
                 "us", n, [with_table, without], None,
                 f"build CPU {with_table:.1f} s with the table, {without:.1f} s without"),
        ]  # fmt: skip
        figures += _device(ctx, root, old, new, n)
        calls = QUICK_RPC_CALLS if ctx.quick else RPC_CALLS
        figures += _search_latency(root, new_list, calls, n)
    return figures
