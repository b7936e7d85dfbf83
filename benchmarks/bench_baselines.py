"""Side by side: our lookup against what users would otherwise pick, same data, same run.

Responsibility: for each size in ``ctx.sizes``, store the same N canonical HK phone numbers
(:func:`benchmarks.datagen.hits_and_misses`) in

1. the floor: a bare LMDB ``get`` loop and a Python ``dict``, over the same 8-byte keys;
2. Redis (a private ``redis-server`` on loopback, :func:`benchmarks.stores.redis_server`),
   queried with redis-py one by one and pipelined in batches of 1,000;
3. SQLite, a ``WITHOUT ROWID`` table whose primary key is the 8-byte key;
4. our snapshot (:mod:`scameter.index`), through ``Snapshot.check_identifier`` (lookup only)
   and ``Snapshot.check(value, kind)`` (normalise + lookup + verdict);

and report throughput, latency percentiles, bytes per identifier, and our ratio to each.
Finally (5) the naive bulk path most scripts take, ``phonenumbers.parse`` + a set lookup per
row, beside our ``check_many`` on the same raw rows.

What the figures mean (see ``docs/benchmarks.md``): the baselines get *precomputed* keys, so
they measure only the store; ours starts from the canonical string and includes hashing the
key, decoding the record and building a :class:`~scameter.verdict.Verdict`. The ratios are
therefore conservative for us. Rates are single-threaded, per core.

The in-process loops (dict, LMDB, SQLite, ours) are measured *interleaved*: each round runs
every loop once, so that a burst of load from other processes on a shared machine hits all of
them alike, and each ratio is the median of the per-round ratios. The Redis per-core rate
divides the operations by the CPU seconds of client *and* server, because a Redis lookup
spends two processes' time. Latencies are per call, measured with ``perf_counter_ns`` around
each call (which adds ~0.05 us).

Invariants: missing optional parts (``redis-server``, the index before it lands) give a
``skipped`` figure with the reason, never an exception; every server started is stopped.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

from benchmarks import datagen, stores
from benchmarks.core import BenchContext, Figure, percentile, skipped, time_runs
from scameter.identifiers.model import Identifier, Kind, identifier_key
from scameter.index import Record, Snapshot
from scameter.verdict import Level, ReasonCode

NAME = "baselines"
PROBES = 100_000  # hit probes (and as many miss probes) per size
REDIS_ONE_BY_ONE_PROBES = 20_000  # ~1 s per run at redis-py's ~20k round trips/s
BULK_ROWS = 20_000
QUICK_PROBES = 2_000

AS_OF = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)  # fixed, so snapshots are reproducible
TARGET_FLOOR = "<= 3 (issue 7)"
TARGET_REDIS = ">= 5 (issue 7)"
TARGET_BYTES = "< 1 (issue 7)"


@dataclass(slots=True)
class Data:
    """One size's data set: stored values with their keys and payloads, and the probes."""

    size: int
    stored: tuple[str, ...]
    hits: tuple[str, ...]
    misses: tuple[str, ...]
    pairs: list[tuple[bytes, bytes]]
    hit_keys: list[bytes]
    miss_keys: list[bytes]
    # medians by name (rates, bytes per identifier) and per-round rates, for the ratios
    got: dict[str, float] = field(default_factory=dict)
    rounds: dict[str, list[float]] = field(default_factory=dict)


def make_data(ctx: BenchContext, size: int) -> Data:
    n_probe = min(size, QUICK_PROBES if ctx.quick else PROBES)
    stored, hits, misses = datagen.hits_and_misses(Kind.PHONE, size, n_probe, ctx.seed)
    pairs = [(identifier_key(Kind.PHONE, v), stores.payload(v, i)) for i, v in enumerate(stored)]
    return Data(
        size=size,
        stored=stored,
        hits=hits,
        misses=misses,
        pairs=pairs,
        hit_keys=[identifier_key(Kind.PHONE, v) for v in hits],
        miss_keys=[identifier_key(Kind.PHONE, v) for v in misses],
    )


@dataclass(frozen=True, slots=True)
class Loop:
    """One timed loop: ``fn`` processes ``items`` items per call."""

    fn: Callable[[], object]
    items: int
    note: str = ""
    unit: str = "lookups/s"
    show_cpu: bool = False  # also report the CPU-time rate as a figure (used in the ratios)


def interleaved(ctx: BenchContext, data: Data, loops: dict[str, Loop]) -> list[Figure]:
    """Rates of several loops measured round-robin: warm-up each, then ``ctx.repeats`` rounds
    in which every loop runs once.

    Each run is timed twice: wall clock (``rate``) and this thread's CPU time
    (``rate_per_core``; a run that was preempted by another process does not look slower).
    Medians go to ``data.got[name]`` / ``data.got[name + ".per_core"]``, the per-round rates to
    ``data.rounds`` under the same names, for :func:`ratios`.
    """
    for loop in loops.values():
        for _ in range(ctx.warmup):
            loop.fn()
    wall: dict[str, list[float]] = {name: [] for name in loops}
    cpu: dict[str, list[float]] = {name: [] for name in loops}
    clock, cpu_clock = time.perf_counter, time.thread_time
    for _ in range(ctx.repeats):
        for name, loop in loops.items():
            t0, c0 = clock(), cpu_clock()
            loop.fn()
            c1, t1 = cpu_clock(), clock()
            wall[name].append(loop.items / (t1 - t0))
            # thread_time ticks in ns on Linux; guard a zero anyway (a tiny --size)
            cpu[name].append(loop.items / max(c1 - c0, 1e-9))
    figs = []
    for name, loop in loops.items():
        for suffix, metric, unit, rates in (
            ("", "rate", loop.unit, wall[name]),
            (".per_core", "rate_per_core", f"{loop.unit}/core", cpu[name]),
        ):
            median = statistics.median(rates)
            data.got[name + suffix] = median
            data.rounds[name + suffix] = rates
            if suffix and not loop.show_cpu:
                continue
            note = loop.note if not suffix else "items / thread CPU seconds"
            figs.append(
                Figure(
                    f"{NAME}.{name}",
                    metric,
                    median,
                    unit,
                    size=data.size,
                    samples=tuple(rates),
                    note=note,
                )
            )
    return figs


def _latency(
    data: Data, what: str, call: Callable[[Any], object], items: Sequence[Any]
) -> list[Figure]:
    """p50 / p99 / p99.9 of single calls (one pass after a warm-up pass)."""
    ns = time.perf_counter_ns
    for x in items[: min(len(items), 1000)]:
        call(x)
    lat: list[float] = []
    append = lat.append
    for x in items:
        t0 = ns()
        call(x)
        append((ns() - t0) / 1000.0)
    lat.sort()
    return [
        Figure(f"{NAME}.{what}", metric, percentile(lat, q), "us", size=data.size)
        for q, metric in ((50, "p50_us"), (99, "p99_us"), (99.9, "p999_us"))
    ]


def _bytes(data: Data, what: str, total: int, note: str) -> Figure:
    per = total / data.size
    data.got[what] = per
    return Figure(
        f"{NAME}.{what}",
        "bytes_per_identifier",
        per,
        "B",
        size=data.size,
        note=note,
        params={"total_bytes": total},
    )


# -- (1) floor, (3) SQLite, (4) ours: in process, interleaved -------------------------------


def bench_in_process(ctx: BenchContext, data: Data, workdir: Path) -> list[Figure]:
    """Build every in-process store, then time their lookups round-robin."""
    figs: list[Figure] = []
    hk, mk = data.hit_keys, data.miss_keys

    lmdb_path, sqlite_path = workdir / "floor.lmdb", workdir / "ids.sqlite"
    figs.append(
        _bytes(
            data, "lmdb.bytes", stores.build_lmdb(lmdb_path, data.pairs), "used pages x page size"
        )
    )
    figs.append(
        _bytes(
            data,
            "sqlite.bytes",
            stores.build_sqlite(sqlite_path, data.pairs),
            "WITHOUT ROWID, BLOB primary key; file size",
        )
    )
    snap, ours_figs = open_ours(data, workdir)
    figs += ours_figs

    table = dict(data.pairs)
    env = stores.open_lmdb(lmdb_path)
    con = stores.open_sqlite(sqlite_path)
    txn = env.begin()
    try:
        dget, get, execute = table.get, txn.get, con.execute
        sql = "SELECT v FROM ids WHERE k = ?"
        key, phone = identifier_key, Kind.PHONE

        def loop(fn: Callable[[Any], object], items: Sequence[Any]) -> Callable[[], None]:
            def run_all() -> None:
                for x in items:
                    fn(x)

            return run_all

        def sqlite_one(k: bytes) -> object:
            return execute(sql, (k,)).fetchone()

        loops = {
            "dict.get.hit": Loop(loop(dget, hk), len(hk), "precomputed keys"),
            "lmdb.get.hit": Loop(
                loop(get, hk), len(hk), "precomputed keys; the floor", show_cpu=True
            ),
            "lmdb.get.miss": Loop(loop(get, mk), len(mk)),
            "lmdb.key+get.hit": Loop(
                loop(lambda v: get(key(phone, v)), data.hits),
                len(hk),
                "xxh3 key of the canonical string + get",
            ),
            "sqlite.select.hit": Loop(loop(sqlite_one, hk), len(hk)),
            "sqlite.select.miss": Loop(loop(sqlite_one, mk), len(mk)),
        }
        latency: list[tuple[str, Callable[[Any], object], Sequence[Any]]] = [
            ("lmdb.get.hit", get, hk),
            ("sqlite.select.hit", sqlite_one, hk),
        ]
        idents = [Identifier(phone, v) for v in data.hits]
        miss_idents = [Identifier(phone, v) for v in data.misses]
        check_identifier, check = snap.check_identifier, snap.check

        def check_phone(v: str) -> object:
            return check(v, phone)

        note = "Identifier -> Verdict: key, get, collision check, decode, verdict"
        loops["ours.check_identifier.hit"] = Loop(
            loop(check_identifier, idents), len(hk), note, show_cpu=True
        )
        loops["ours.check_identifier.miss"] = Loop(loop(check_identifier, miss_idents), len(mk))
        loops["ours.check.hit"] = Loop(
            loop(check_phone, data.hits),
            len(hk),
            "check(canonical, kind=phone): normalise + lookup + verdict",
            show_cpu=True,
        )
        latency += [
            ("ours.check_identifier.hit", check_identifier, idents),
            ("ours.check.hit", check_phone, data.hits),
        ]
        figs += interleaved(ctx, data, loops)
        for what, call, items in latency:
            figs += _latency(data, what, call, items)
        figs += bench_bulk(ctx, data, snap)
    finally:
        txn.abort()
        env.close()
        con.close()
        snap.close()
    return figs


# -- (2) Redis --------------------------------------------------------------------------------


def bench_redis(ctx: BenchContext, data: Data, workdir: Path) -> list[Figure]:
    try:
        with stores.redis_server(workdir / "redis") as handle:
            return _bench_redis(ctx, data, handle)
    except stores.RedisUnavailable as exc:
        return [skipped(f"{NAME}.redis", str(exc), size=data.size)]


def _bench_redis(ctx: BenchContext, data: Data, h: stores.RedisHandle) -> list[Figure]:
    figs: list[Figure] = []
    r = h.client
    mem = stores.load_redis(r, data.pairs)
    figs.append(_bytes(data, "redis.memory", mem, f"redis-server {h.version}, used_memory growth"))

    n1 = min(len(data.hit_keys), QUICK_PROBES if ctx.quick else REDIS_ONE_BY_ONE_PROBES)
    one_keys = data.hit_keys[:n1]
    rget = r.get

    def one_by_one() -> None:
        for k in one_keys:
            rget(k)

    # Per core: the same runs, divided by the CPU seconds of both processes (client + server).
    cpu0, srv0 = stores.process_cpu_seconds(), stores.redis_cpu_seconds(r)
    secs = time_runs(one_by_one, repeats=ctx.repeats, warmup=ctx.warmup)
    cpu = stores.process_cpu_seconds() - cpu0 + stores.redis_cpu_seconds(r) - srv0
    rates = tuple(n1 / s for s in secs)
    wall = statistics.median(rates)
    data.got["redis.get.hit"] = wall
    runs = ctx.repeats + ctx.warmup
    per_core = n1 * runs / cpu if cpu > 0 else float("nan")
    data.got["redis.get.hit.per_core"] = per_core
    figs.append(
        Figure(
            f"{NAME}.redis.get.hit",
            "rate",
            wall,
            "lookups/s",
            size=data.size,
            samples=rates,
            note="redis-py, one round trip per lookup",
        )
    )
    figs.append(
        Figure(
            f"{NAME}.redis.get.hit",
            "rate_per_core",
            per_core,
            "lookups/s/core",
            size=data.size,
            note=f"lookups / (client + server CPU s) over {runs} runs",
            params={"cpu_seconds": cpu},
        )
    )
    figs += _latency(data, "redis.get.hit", rget, one_keys)

    batch = stores.REDIS_BATCH
    keys = data.hit_keys

    def pipelined() -> None:
        pipe = r.pipeline(transaction=False)
        for i in range(0, len(keys), batch):
            for k in keys[i : i + batch]:
                pipe.get(k)
            pipe.execute()

    def mget() -> None:
        for i in range(0, len(keys), batch):
            r.mget(keys[i : i + batch])

    figs += interleaved(
        ctx,
        data,
        {
            "redis.pipeline.hit": Loop(pipelined, len(keys), f"GETs pipelined {batch} at a time"),
            "redis.mget.hit": Loop(mget, len(keys), f"MGET of {batch} keys"),
        },
    )
    return figs


# -- (4) ours ---------------------------------------------------------------------------------


def records(stored: Sequence[str]) -> Iterator[Record]:
    """The same identifiers as the baselines, as SUSPICIOUS public reports (a generator, so
    10^7 records are never all in memory at once)."""
    for i, v in enumerate(stored):
        first = 1_730_000_000 + (i * 7919) % 31_000_000
        yield Record(
            Identifier(Kind.PHONE, v),
            Level.SUSPICIOUS,
            reasons=(ReasonCode.PUBLIC_REPORTS,),
            categories=("investment",),
            sources=("public",),
            report_count=3 + i % 11,
            reporters=3 + i % 7,
            first_reported=first,
            last_reported=first + 86_400,
        )


def open_ours(data: Data, workdir: Path) -> tuple[Snapshot, list[Figure]]:
    """Build, publish and open our snapshot of the stored set, with its build time and size."""
    root = workdir / "snapshots"
    t0 = time.perf_counter()
    datagen.publish_records(root, records(data.stored), as_of=AS_OF)
    snap = Snapshot.open_current(root)
    build_s = time.perf_counter() - t0
    figs = [
        Figure(
            f"{NAME}.ours.build",
            "seconds",
            build_s,
            "s",
            size=data.size,
            note="Record x N + SnapshotBuilder.add + build + publish + open (one run)",
        ),
        _bytes(
            data,
            "ours.bytes",
            stores.disk_bytes(snap.path),
            "snapshot directory",
        ),
    ]
    return snap, figs


# -- (5) naive bulk vs check_many -------------------------------------------------------------


def bulk_rows(ctx: BenchContext, data: Data) -> list[str]:
    """Half stored, half not, spelled as people type them."""
    n = min(data.size, QUICK_PROBES if ctx.quick else BULK_ROWS) // 2
    return datagen.raw_phone_forms([*data.hits[:n], *data.misses[:n]], ctx.seed)


def bench_bulk(ctx: BenchContext, data: Data, snap: Snapshot) -> list[Figure]:
    """The naive script (``phonenumbers`` + a set) beside our ``check_many``, interleaved."""
    rows = bulk_rows(ctx, data)
    known = set(data.stored)
    parse, fmt, e164 = phonenumbers.parse, phonenumbers.format_number, 0  # PhoneNumberFormat.E164

    def naive() -> int:
        found = 0
        for row in rows:
            # try/except, not contextlib.suppress: a context manager per row would slow the
            # baseline down and flatter our ratio.
            try:  # noqa: SIM105
                found += fmt(parse(row, "HK"), e164) in known
            except phonenumbers.NumberParseException:
                pass
        return found

    loops = {
        "naive_bulk.phonenumbers+set": Loop(
            naive, len(rows), "phonenumbers.parse + format E.164 + set lookup per raw row", "rows/s"
        )
    }
    loops["ours.check_many.raw_rows"] = Loop(
        lambda: snap.check_many(rows, kind=Kind.PHONE),
        len(rows),
        "same raw rows as the naive baseline; verdicts with details",
        "rows/s",
    )
    return interleaved(ctx, data, loops)


# -- ratios -----------------------------------------------------------------------------------


def _ratio(data: Data, num: str, den: str) -> float | None:
    """Median of per-round ratios when both were measured in the same rounds, else the ratio
    of medians (Redis: measured apart, in its own server's rounds)."""
    a, b = data.rounds.get(num), data.rounds.get(den)
    if a and b and len(a) == len(b):
        return statistics.median(x / y for x, y in zip(a, b, strict=True))
    x, y = data.got.get(num), data.got.get(den)
    if x is None or y is None or y == 0 or math.isnan(x) or math.isnan(y):
        return None
    return x / y


def ratios(data: Data) -> list[Figure]:
    """Our ratios to each baseline. In-process ratios use CPU-time rates (``.per_core``) per
    round, so preemption by other processes on a shared machine does not skew them."""
    g = data.got
    specs: list[tuple[str, str, str, str | None, str]] = []
    for ours, short in (
        ("ours.check_identifier.hit", "check_identifier"),
        ("ours.check.hit", "check"),
    ):
        if ours not in g:
            continue
        cpu = f"{ours}.per_core"
        specs += [
            (
                f"lmdb_floor_over_{short}",
                "lmdb.get.hit.per_core",
                cpu,
                TARGET_FLOOR,
                f"bare LMDB get / our {short}, CPU-time rates (times slower than the floor)",
            ),
            (
                f"{short}_over_redis_per_core",
                cpu,
                "redis.get.hit.per_core",
                TARGET_REDIS,
                "ours (thread CPU) / Redis one by one (client + server CPU)",
            ),
        ]
    ours = "ours.check_identifier.hit" if "ours.check_identifier.hit" in g else "ours.check.hit"
    if ours not in g:
        return []
    cpu = f"{ours}.per_core"
    specs += [
        ("lmdb_key_get_over_ours", "lmdb.key+get.hit.per_core", cpu, None,
         "LMDB get with the key hashed in the loop / ours, CPU-time rates"),
        ("dict_over_ours", "dict.get.hit.per_core", cpu, None, "CPU-time rates"),
        ("ours_over_sqlite", cpu, "sqlite.select.hit.per_core", None, "CPU-time rates"),
        ("ours_over_redis_one_by_one", ours, "redis.get.hit", None, "wall-clock rates"),
        ("ours_over_redis_pipelined", ours, "redis.pipeline.hit", None, "wall-clock rates"),
        ("snapshot_bytes_over_redis_memory", "ours.bytes", "redis.memory", TARGET_BYTES,
         "snapshot disk bytes / Redis used_memory, per identifier"),
        ("snapshot_bytes_over_sqlite_bytes", "ours.bytes", "sqlite.bytes", None,
         "per identifier"),
        ("check_many_over_naive_bulk", "ours.check_many.raw_rows.per_core",
         "naive_bulk.phonenumbers+set.per_core", None, "same raw rows, CPU-time rates"),
    ]  # fmt: skip
    out = []
    for name, num, den, target, note in specs:
        value = _ratio(data, num, den)
        if value is None and target is not None:
            # A target that could not be checked stays visible in the report's targets table.
            missing = " and ".join(k for k in (num, den) if k not in g)
            out.append(
                Figure(f"{NAME}.ratio.{name}", "skipped", 0.0, "", size=data.size,
                       target=target, note=f"not measured: no {missing} figure")
            )  # fmt: skip
        if value is not None:
            out.append(
                Figure(
                    f"{NAME}.ratio.{name}",
                    "ratio",
                    value,
                    "x",
                    size=data.size,
                    target=target,
                    note=note,
                )
            )
    return out


def run(ctx: BenchContext) -> list[Figure]:
    figs: list[Figure] = []
    for size in ctx.sizes:
        data = make_data(ctx, size)
        workdir = ctx.workdir / f"n{size}"
        workdir.mkdir(parents=True, exist_ok=True)
        figs += bench_in_process(ctx, data, workdir)
        figs += bench_redis(ctx, data, workdir)
        figs += ratios(data)
    return figs
