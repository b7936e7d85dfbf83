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
therefore conservative for us. Rates are single-threaded, per core. The Redis per-core rate
divides the operations by the CPU seconds of client *and* server, because a Redis lookup
spends two processes' time. Latencies are per call, measured with ``perf_counter_ns`` around
each call (which adds ~0.05 us).

Invariants: missing optional parts (``redis-server``, the index before it lands) give a
``skipped`` figure with the reason, never an exception; every server started is stopped.
"""

from __future__ import annotations

import importlib
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

from benchmarks import datagen, stores
from benchmarks.core import BenchContext, Figure, percentile, rate_figure, skipped, time_runs
from scameter.identifiers.model import Identifier, Kind, identifier_key
from scameter.index.record import Record
from scameter.verdict import Level, ReasonCode

NAME = "baselines"
PROBES = 100_000  # hit probes (and as many miss probes) per size
REDIS_ONE_BY_ONE_PROBES = 20_000  # ~1 s per run at redis-py's ~20k round trips/s
BULK_ROWS = 20_000
QUICK_PROBES = 2_000

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
    # headline numbers by name, for the ratios at the end
    got: dict[str, float] = field(default_factory=dict)


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


def _rate(
    ctx: BenchContext,
    data: Data,
    what: str,
    fn: Callable[[], object],
    n: int,
    *,
    note: str = "",
    unit: str = "lookups/s",
) -> Figure:
    fig = rate_figure(f"{NAME}.{what}", fn, n, ctx, size=data.size, note=note, unit=unit)
    data.got[what] = fig.value
    return fig


def _latency(
    ctx: BenchContext, data: Data, what: str, call: Callable[[Any], object], items: Sequence[Any]
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
    out = []
    for q, metric in ((50, "p50_us"), (99, "p99_us"), (99.9, "p999_us")):
        out.append(Figure(f"{NAME}.{what}", metric, percentile(lat, q), "us", size=data.size))
    return out


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


# -- (1) the floor ----------------------------------------------------------------------------


def bench_floor(ctx: BenchContext, data: Data, workdir: Path) -> list[Figure]:
    figs: list[Figure] = []
    table = dict(data.pairs)
    dget = table.get
    hk, mk = data.hit_keys, data.miss_keys

    def dict_hits() -> None:
        for k in hk:
            dget(k)

    figs.append(_rate(ctx, data, "dict.get.hit", dict_hits, len(hk)))
    del table

    used = stores.build_lmdb(workdir / "floor.lmdb", data.pairs)
    figs.append(_bytes(data, "lmdb.bytes", used, "used pages x page size"))
    env = stores.open_lmdb(workdir / "floor.lmdb")
    try:
        with env.begin() as txn:
            get = txn.get

            def lmdb_hits() -> None:
                for k in hk:
                    get(k)

            def lmdb_misses() -> None:
                for k in mk:
                    get(k)

            def lmdb_key_and_get() -> None:
                key = identifier_key
                phone = Kind.PHONE
                for v in data.hits:
                    get(key(phone, v))

            figs.append(
                _rate(ctx, data, "lmdb.get.hit", lmdb_hits, len(hk), note="precomputed keys")
            )
            figs.append(_rate(ctx, data, "lmdb.get.miss", lmdb_misses, len(mk)))
            figs.append(
                _rate(
                    ctx,
                    data,
                    "lmdb.key+get.hit",
                    lmdb_key_and_get,
                    len(hk),
                    note="xxh3 key of the canonical string + get",
                )
            )
            figs += _latency(ctx, data, "lmdb.get.hit", get, hk)
    finally:
        env.close()
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
    note = f"redis-server {h.version}, INFO used_memory growth"
    figs.append(_bytes(data, "redis.memory", mem, note))

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
    figs += _latency(ctx, data, "redis.get.hit", rget, one_keys)

    batch = stores.REDIS_BATCH
    keys = data.hit_keys

    def pipelined() -> None:
        pipe = r.pipeline(transaction=False)
        for i in range(0, len(keys), batch):
            for k in keys[i : i + batch]:
                pipe.get(k)
            pipe.execute()

    figs.append(
        _rate(ctx, data, "redis.pipeline.hit", pipelined, len(keys), note=f"batches of {batch}")
    )

    def mget() -> None:
        for i in range(0, len(keys), batch):
            r.mget(keys[i : i + batch])

    figs.append(_rate(ctx, data, "redis.mget.hit", mget, len(keys), note=f"MGET of {batch} keys"))
    return figs


# -- (3) SQLite -------------------------------------------------------------------------------


def bench_sqlite(ctx: BenchContext, data: Data, workdir: Path) -> list[Figure]:
    path = workdir / "ids.sqlite"
    size = stores.build_sqlite(path, data.pairs)
    figs = [_bytes(data, "sqlite.bytes", size, "WITHOUT ROWID, BLOB primary key; file size")]
    con = stores.open_sqlite(path)
    try:
        execute = con.execute
        sql = "SELECT v FROM ids WHERE k = ?"

        def one(k: bytes) -> object:
            return execute(sql, (k,)).fetchone()

        def hits() -> None:
            for k in data.hit_keys:
                execute(sql, (k,)).fetchone()

        def misses() -> None:
            for k in data.miss_keys:
                execute(sql, (k,)).fetchone()

        figs.append(_rate(ctx, data, "sqlite.select.hit", hits, len(data.hit_keys)))
        figs.append(_rate(ctx, data, "sqlite.select.miss", misses, len(data.miss_keys)))
        figs += _latency(ctx, data, "sqlite.select.hit", one, data.hit_keys)
    finally:
        con.close()
    return figs


# -- (4) ours ---------------------------------------------------------------------------------


def _index() -> Any:
    """``scameter.index`` with the builder/reader API, or ``None`` while it has not landed."""
    try:
        mod = importlib.import_module("scameter.index")
    except ImportError:
        return None
    needed = ("SnapshotBuilder", "Snapshot", "publish")
    return mod if all(hasattr(mod, n) for n in needed) else None


def records(stored: Sequence[str]) -> list[Record]:
    """The same identifiers as the baselines, as SUSPICIOUS public reports."""
    return [
        Record(
            Identifier(Kind.PHONE, v),
            Level.SUSPICIOUS,
            reasons=(ReasonCode.PUBLIC_REPORTS,),
            categories=("investment",),
            sources=("public",),
            report_count=3 + i % 11,
            reporters=3 + i % 7,
            first_reported=1_730_000_000 + (i * 7919) % 31_000_000,
            last_reported=1_730_086_400 + (i * 7919) % 31_000_000,
        )
        for i, v in enumerate(stored)
    ]


def build_snapshot(index: Any, root: Path, stored: Sequence[str]) -> Any:
    """Build and publish a snapshot of ``stored``; returns the open ``Snapshot``."""
    builder = index.SnapshotBuilder(root, as_of=int(time.time()))
    for rec in records(stored):
        builder.add(rec)
    manifest = builder.build()
    index.publish(root, manifest.snapshot_id)
    return index.Snapshot.open_current(root)


def bench_ours(ctx: BenchContext, data: Data, workdir: Path) -> list[Figure]:
    index = _index()
    if index is None:
        return [
            skipped(
                f"{NAME}.ours",
                "scameter.index has no SnapshotBuilder/Snapshot/publish yet (issue 3)",
                size=data.size,
            )
        ]
    root = workdir / "snapshots"
    t0 = time.perf_counter()
    snap = build_snapshot(index, root, data.stored)
    build_s = time.perf_counter() - t0
    figs = [
        Figure(
            f"{NAME}.ours.build",
            "seconds",
            build_s,
            "s",
            size=data.size,
            note="SnapshotBuilder.add x N + build + publish + open (one run)",
        ),
    ]
    snap_dir = root / str(snap.snapshot_id) if hasattr(snap, "snapshot_id") else root
    figs.append(_bytes(data, "ours.bytes", stores.disk_bytes(snap_dir), "snapshot directory"))
    try:
        idents = [Identifier(Kind.PHONE, v) for v in data.hits]
        miss_idents = [Identifier(Kind.PHONE, v) for v in data.misses]
        check_identifier = getattr(snap, "check_identifier", None)
        if check_identifier is not None:

            def ours_hits() -> None:
                for ident in idents:
                    check_identifier(ident)

            def ours_misses() -> None:
                for ident in miss_idents:
                    check_identifier(ident)

            note = "Identifier -> Verdict: key, get, decode, verdict"
            figs.append(
                _rate(ctx, data, "ours.check_identifier.hit", ours_hits, len(idents), note=note)
            )
            figs.append(_rate(ctx, data, "ours.check_identifier.miss", ours_misses, len(idents)))
            figs += _latency(ctx, data, "ours.check_identifier.hit", check_identifier, idents)
        check = snap.check
        phone = Kind.PHONE

        def check_hits() -> None:
            for v in data.hits:
                check(v, kind=phone)

        figs.append(
            _rate(
                ctx,
                data,
                "ours.check.hit",
                check_hits,
                len(data.hits),
                note="check(canonical, kind=phone): normalise + lookup + verdict",
            )
        )
        figs += _latency(ctx, data, "ours.check.hit", lambda v: check(v, kind=phone), data.hits)
        figs += bench_bulk(ctx, data, snap)
    finally:
        close = getattr(snap, "close", None)
        if close is not None:
            close()
    return figs


# -- (5) naive bulk vs check_many -------------------------------------------------------------


def bulk_rows(ctx: BenchContext, data: Data) -> list[str]:
    """Half stored, half not, spelled as people type them."""
    n = min(data.size, QUICK_PROBES if ctx.quick else BULK_ROWS) // 2
    return datagen.raw_phone_forms([*data.hits[:n], *data.misses[:n]], ctx.seed)


def bench_naive(ctx: BenchContext, data: Data) -> list[Figure]:
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

    return [
        _rate(
            ctx,
            data,
            "naive_bulk.phonenumbers+set",
            naive,
            len(rows),
            note="phonenumbers.parse + format E.164 + set lookup per raw row",
            unit="rows/s",
        )
    ]


def bench_bulk(ctx: BenchContext, data: Data, snap: Any) -> list[Figure]:
    check_many = getattr(snap, "check_many", None)
    if check_many is None:
        return [skipped(f"{NAME}.ours.check_many", "Snapshot.check_many is missing")]
    rows = bulk_rows(ctx, data)
    return [
        _rate(
            ctx,
            data,
            "ours.check_many.raw_rows",
            lambda: check_many(rows, kind=Kind.PHONE),
            len(rows),
            note="same raw rows as the naive baseline; verdicts with details",
            unit="rows/s",
        )
    ]


# -- ratios -----------------------------------------------------------------------------------


def ratios(data: Data) -> list[Figure]:
    g = data.got
    ours = g.get("ours.check_identifier.hit") or g.get("ours.check.hit")
    if ours is None:
        return []
    which = "check_identifier" if "ours.check_identifier.hit" in g else "check"
    specs: list[tuple[str, float | None, float | None, str | None, str]] = [
        ("lmdb_floor_over_ours", g.get("lmdb.get.hit"), ours, TARGET_FLOOR,
         f"bare LMDB get rate / our {which} rate (how many times slower than the floor)"),
        ("dict_over_ours", g.get("dict.get.hit"), ours, None, "dict.get rate / ours"),
        ("ours_over_redis_per_core", ours, g.get("redis.get.hit.per_core"), TARGET_REDIS,
         "ours (1 core) / Redis one-by-one per core (client + server CPU)"),
        ("ours_over_redis_one_by_one", ours, g.get("redis.get.hit"), None, "wall-clock rates"),
        ("ours_over_redis_pipelined", ours, g.get("redis.pipeline.hit"), None, "wall-clock"),
        ("ours_over_sqlite", ours, g.get("sqlite.select.hit"), None, "wall-clock rates"),
        ("snapshot_bytes_over_redis_memory", g.get("ours.bytes"), g.get("redis.memory"),
         TARGET_BYTES, "snapshot disk bytes / Redis used_memory, per identifier"),
        ("snapshot_bytes_over_sqlite_bytes", g.get("ours.bytes"), g.get("sqlite.bytes"), None,
         "per identifier"),
        ("check_many_over_naive_bulk", g.get("ours.check_many.raw_rows"),
         g.get("naive_bulk.phonenumbers+set"), None, "rows/s on the same raw rows"),
    ]  # fmt: skip
    out = []
    for name, num, den, target, note in specs:
        if num is None or den is None or den == 0:
            continue
        out.append(
            Figure(
                f"{NAME}.ratio.{name}",
                "ratio",
                num / den,
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
        figs += bench_floor(ctx, data, workdir)
        figs += bench_sqlite(ctx, data, workdir)
        figs += bench_redis(ctx, data, workdir)
        figs += bench_ours(ctx, data, workdir)
        figs += bench_naive(ctx, data)
        figs += ratios(data)
    return figs
